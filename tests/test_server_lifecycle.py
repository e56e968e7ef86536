"""Shutting the server down: polling stops and is awaited, a save on its way lands first, every other task
is cancelled and awaited, and every connection to Bitbucket is closed."""

from __future__ import annotations

import asyncio

from snippet_daemon.app import create_server
from snippet_daemon.sandbox import Sandbox
from tests.daemon import user_env


async def test_close_awaits_its_tasks_and_closes_every_client(sandbox: Sandbox) -> None:
    server = create_server({"BITBUCKET_API_URL": sandbox.base_url, **user_env(sandbox)})
    server.configure({"pollIntervalSeconds": 0.05, "workspace": "demo"})
    assert server.watcher is not None
    created = await server.client().create_snippet("demo", {"a.txt": b"a\n"})
    await server.documents.head("demo", created.id)  # open: the poller now has something to poll
    server.watcher.start()
    await asyncio.sleep(0.2)  # a few polls: the poller has its own connection now (the server's background one)
    poll_client = server._background_client
    main_client = server._client
    assert poll_client is not None and main_client is not None
    slow = server.run_task(asyncio.sleep(3600), "something slow")
    save = asyncio.ensure_future(server.documents.write("demo", created.id, {"a.txt": b"b\n"}, base=None))

    await server.close()

    assert await save is not None  # the save on its way landed before the connections closed
    assert slow.cancelled() and server._tasks == set()
    assert server.watcher._task is None and server._background_client is None
    assert poll_client._http.is_closed and main_client._http.is_closed
    async with server.client() as fresh:  # a client made anew after close works: nothing was left half-shut
        assert (await fresh.get_snippet_content("demo", created.id)).files == {"a.txt": b"b\n"}


# --------------------------------------------------------------------------- #19 item 10: how the process ends

import base64  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from snippet_daemon.uri import snippet_uri  # noqa: E402
from tests.conftest import make_client  # noqa: E402
from tests.daemon import daemon_env  # noqa: E402
from tests.test_daemon_start import _frame  # noqa: E402


@pytest.mark.parametrize(("shutdown_first", "code"), [(True, 0), (False, 1)], ids=["shutdown+exit", "exit-alone"])
def test_exit_codes_follow_the_spec(sandbox: Sandbox, shutdown_first: bool, code: int) -> None:
    daemon = subprocess.Popen(
        [sys.executable, "-m", "snippet_daemon", "--stdio"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=daemon_env(sandbox, user_env(sandbox), None),
    )
    assert daemon.stdin is not None
    messages: list[dict[str, Any]] = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
    ]
    if shutdown_first:
        messages.append({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
    messages.append({"jsonrpc": "2.0", "method": "exit"})
    try:
        daemon.stdin.write(b"".join(_frame(message) for message in messages))
        daemon.stdin.flush()
        assert daemon.wait(timeout=15) == code
    finally:
        if daemon.poll() is None:
            daemon.kill()


async def _read_frames(stream: asyncio.StreamReader, messages: list[dict[str, Any]]) -> None:
    """Every message the daemon writes, into ``messages``, until it closes stdout."""
    import json

    while True:
        try:
            header = await stream.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return  # the end of the output
        length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
        messages.append(json.loads(await stream.readexactly(length)))


@pytest.mark.parametrize("how", ["SIGTERM", "stdin closed"])
async def test_a_save_in_its_batch_window_lands_when_the_daemon_is_stopped(sandbox: Sandbox, how: str) -> None:
    """SIGTERM, and the client's end of stdin closing, get the grace shutdown gets: the save is sent and answered."""
    async with make_client(sandbox) as other:
        created = await other.create_snippet("demo", {"a.txt": b"a1\n"})
    uri = snippet_uri("demo", created.id, "a.txt")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "snippet_daemon",
        "--stdio",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=daemon_env(sandbox, user_env(sandbox), None),
    )
    assert process.stdin is not None and process.stdout is not None
    received: list[dict[str, Any]] = []
    reading = asyncio.ensure_future(_read_frames(process.stdout, received))
    options = {"workspace": "demo", "pollIntervalSeconds": 0, "indexing": False, "writeBatchMilliseconds": 1500}
    written = base64.b64encode(b"a2\n").decode()
    for message in (
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"capabilities": {}, "initializationOptions": options},
        },
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "id": 2, "method": "bbsnippets/readFile", "params": {"uri": uri}},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "bbsnippets/writeFile",
            "params": {"uri": uri, "base64": written, "overwrite": True},
        },
        {"jsonrpc": "2.0", "id": 4, "method": "bbsnippets/stat", "params": {"uri": uri}},
    ):
        process.stdin.write(_frame(message))
    await process.stdin.drain()
    while not any(message.get("id") == 4 for message in received):  # answered in order: the save is queued now
        assert not reading.done(), received
        await asyncio.sleep(0.02)
    async with make_client(sandbox) as other:  # the save waits in its 1.5 s window: nothing has landed yet
        assert (await other.get_snippet_content("demo", created.id)).files == {"a.txt": b"a1\n"}
    if how == "SIGTERM":
        process.send_signal(signal.SIGTERM)
    else:
        process.stdin.close()
    assert await asyncio.wait_for(process.wait(), timeout=10) == (0 if how == "SIGTERM" else 1)
    await asyncio.wait_for(reading, timeout=10)
    answers = {message.get("id"): message for message in received}
    assert answers[3].get("result", {}).get("revision"), answers[3]  # answered: saved, with its revision
    async with make_client(sandbox) as other:
        assert (await other.get_snippet_content("demo", created.id)).files == {"a.txt": b"a2\n"}
