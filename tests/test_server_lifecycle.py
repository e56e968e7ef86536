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
