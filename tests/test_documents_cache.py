"""The documents service in-process, with a host of its own (what it uses of the server, and nothing else).

The snippet cache's memory cap (least recently used go first), and a save interrupted by shutdown:
a cancelled flush fails the writes it holds (their editors keep the text), sends nothing more and
stays cancelled. Writes go to the real sandbox through the real client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from snippet_daemon import documents
from snippet_daemon.bitbucket import Conflict, NetworkError, Snippet, SnippetsClient
from snippet_daemon.documents import DocumentsHost, ForgetsSnippets, IndexesContent, SnippetDocuments
from snippet_daemon.protocol import InitializationOptions
from snippet_daemon.sandbox import Sandbox
from tests.conftest import make_client


class Unheeded:
    """Watching and searching are not what these tests are about: what documents tells them is dropped."""

    def saw_content(self, snippet: Snippet, files: Mapping[str, bytes]) -> None:
        pass

    def forget(self, workspace: str, snippet_id: str) -> None:
        pass


@dataclass
class Host:
    """A :class:`DocumentsHost` for tests: options, a client (when given), and the tasks it ran."""

    options: InitializationOptions = field(default_factory=InitializationOptions)
    bitbucket: SnippetsClient | None = None
    watcher: ForgetsSnippets = field(default_factory=Unheeded)
    search_index: IndexesContent = field(default_factory=Unheeded)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def client(self) -> SnippetsClient:
        assert self.bitbucket is not None, "this test makes no requests"
        return self.bitbucket

    def run_task(
        self, coroutine: Coroutine[Any, Any, Any], name: str, *, finish_on_shutdown: bool = False
    ) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine, name=name)
        self.tasks.append(task)
        return task


def _host(**kwargs: Any) -> DocumentsHost:
    return Host(**kwargs)


def _snippet(snippet_id: str) -> Snippet:
    return Snippet(snippet_id, "ws", "", True, None, None, "rev-" + snippet_id, (), None, None, None, raw={})


def test_the_least_recently_used_snippets_go_once_the_cache_is_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_CACHED_BYTES", 3000)
    cache = SnippetDocuments(_host())
    for snippet_id in ("a", "b", "c"):
        cache.refreshed("ws", snippet_id, _snippet(snippet_id), {"f.txt": b"x" * 1000})
    cache.remember_read("ws", "a", "f.txt", "rev-a")
    cache._heads.move_to_end(("ws", "a"))  # "a" was just read again
    cache.refreshed("ws", "d", _snippet("d"), {"f.txt": b"x" * 1000})
    assert [key[1] for key in cache._heads] == ["c", "a", "d"]  # "b" was the least recently used
    # A forgotten snippet is read again when needed; what the client read stays known, so saves stay safe.
    assert cache.read_revision("ws", "a", "f.txt") == "rev-a"
    # One snippet bigger than the cap is still kept (it is the one in use).
    cache.refreshed("ws", "huge", _snippet("huge"), {"f.txt": b"x" * 5000})
    assert [key[1] for key in cache._heads] == ["huge"]


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[SnippetsClient]:
    async with make_client(sandbox) as opened:
        yield opened


async def test_a_snippet_the_cache_forgot_still_saves_at_the_revision_the_client_read(
    sandbox: Sandbox, client: SnippetsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A forgotten snippet is read again when needed; what the client read stays known, so a save made after
    # someone else's change is still refused, not written over theirs.
    monkeypatch.setattr(documents, "MAX_CACHED_BYTES", 3000)
    created = await client.create_snippet("demo", {"f.txt": b"x" * 1000}, title="forgotten")
    cache = SnippetDocuments(_host(bitbucket=client))
    read = await cache.head("demo", created.id)
    cache.remember_read("demo", created.id, "f.txt", read.revision)
    for snippet_id in ("b", "c", "d"):
        cache.refreshed("ws", snippet_id, _snippet(snippet_id), {"f.txt": b"x" * 1000})
    assert cache.cached("demo", created.id) is None  # forgotten
    await client.update_snippet("demo", created.id, files={"f.txt": b"theirs\n"})

    with pytest.raises(Conflict):
        await cache.write("demo", created.id, {"f.txt": b"mine\n"})
    assert (await client.get_snippet_content("demo", created.id)).files == {"f.txt": b"theirs\n"}


# --------------------------------------------------------------------------- cancelled flushes


async def _in_flight(sandbox: Sandbox) -> None:
    """Until the sandbox is serving a request (it waits ``latency_ms`` before answering)."""
    server = sandbox._server
    assert server is not None
    for _ in range(500):
        if server._busy:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no request reached the sandbox")


async def _settled(sandbox: Sandbox) -> None:
    server = sandbox._server
    assert server is not None
    for _ in range(1000):
        if not server._busy:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the sandbox is still serving")


def _puts(sandbox: Sandbox) -> int:
    return sum(1 for request in sandbox.requests if request.method == "PUT")


async def test_a_flush_cancelled_during_its_first_put_fails_every_write_and_sends_no_other(
    sandbox: Sandbox, client: SnippetsClient
) -> None:
    created = await client.create_snippet("demo", {"a.txt": b"a1\n", "b.txt": b"b1\n"}, title="cancel")
    host = Host(bitbucket=client)
    cache = SnippetDocuments(host)
    await cache.head("demo", created.id)
    sandbox.clear_requests()
    sandbox.faults.latency_ms = 1500  # the first PUT is still on its way when the flush is cancelled

    # A normal and a forced save in one batch: two PUTs, the one at HEAD first.
    normal = asyncio.create_task(cache.write("demo", created.id, {"b.txt": b"b2\n"}))
    forced = asyncio.create_task(cache.write("demo", created.id, {"a.txt": b"a2\n"}, force=True))
    await _in_flight(sandbox)
    (flush,) = host.tasks
    flush.cancel()
    with pytest.raises(asyncio.CancelledError):
        await flush
    assert flush.cancelled()  # cancellation is not swallowed

    with pytest.raises(NetworkError) as on_its_way:
        await normal
    assert "may or may not have landed" in on_its_way.value.message
    with pytest.raises(NetworkError) as not_sent:
        await forced
    assert "nothing was saved" in not_sent.value.message
    assert "editor still has the text" in not_sent.value.message

    await _settled(sandbox)
    sandbox.faults.latency_ms = 0
    assert _puts(sandbox) == 1  # the forced save was never sent
    # Nothing is left behind: the next save of the file goes out (1 PUT, after reading HEAD again).
    sandbox.clear_requests()
    await cache.write("demo", created.id, {"a.txt": b"a3\n"}, force=True)
    assert _puts(sandbox) == 1


async def test_a_flush_cancelled_in_its_batch_window_fails_its_writes_unsent(
    sandbox: Sandbox, client: SnippetsClient
) -> None:
    created = await client.create_snippet("demo", {"a.txt": b"a1\n"}, title="cancel early")
    host = Host(options=InitializationOptions(write_batch_milliseconds=10_000), bitbucket=client)
    cache = SnippetDocuments(host)
    await cache.head("demo", created.id)
    sandbox.clear_requests()
    saving = asyncio.create_task(cache.write("demo", created.id, {"a.txt": b"a2\n"}))
    await asyncio.sleep(0.05)
    (flush,) = host.tasks
    flush.cancel()
    with pytest.raises(NetworkError, match="nothing was saved"):
        await saving
    assert flush.cancelled()
    assert sandbox.requests == []
    # The next write starts a flush of its own rather than joining the cancelled one.
    again = asyncio.create_task(cache.write("demo", created.id, {"a.txt": b"a2\n"}))
    await asyncio.sleep(0.05)
    assert len(host.tasks) == 2
    host.tasks[1].cancel()
    with pytest.raises(NetworkError):
        await again
