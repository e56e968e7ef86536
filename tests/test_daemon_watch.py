"""Watching snippets end to end: ``bbsnippets/didChange`` and ``window/showMessage`` for what others do,
silence for what we do ourselves, and a poller that keeps within its request budget.

The real daemon over stdio (as VS Code and as Neovim) against the real sandbox; "another writer"
is a direct client (``make_client``), as a colleague or a browser tab would be.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from snippet_daemon.sandbox import Sandbox
from tests.conftest import make_client
from tests.daemon import CLIENTS, Daemon, start_daemon

TEAM = "sandbox-team"  # shared workspace: demo (the daemon's user) and alice both write there
INTERVAL = 0.5
WATCH_OPTIONS: dict[str, Any] = {"pollIntervalSeconds": INTERVAL, "pollBudgetPerHour": 100000}
SLACK = 3.0
COMMENT_CYCLES = 5  # comments are polled every 5th cycle


@pytest.fixture(params=CLIENTS)
def capabilities(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def daemon(sandbox: Sandbox, capabilities: str) -> AsyncIterator[Daemon]:
    started = await start_daemon(sandbox, capabilities=capabilities, options=WATCH_OPTIONS)
    try:
        yield started
    finally:
        await started.stop()


async def alice_creates(sandbox: Sandbox, files: dict[str, bytes]) -> tuple[str, str | None]:
    async with make_client(sandbox, 1) as alice:
        snippet = await alice.create_snippet(TEAM, files, title="shared")
    return snippet.id, snippet.revision


def about(snippet_id: str, kind: str) -> Any:
    return lambda notification: notification["id"] == snippet_id and notification["kind"] == kind


async def test_a_commit_by_someone_else_is_notified_and_shown(daemon: Daemon, sandbox: Sandbox) -> None:
    snippet_id, first = await alice_creates(sandbox, {"app.py": b"v = 1\n"})
    assert await daemon.command("bbsnippets.watch", workspace=TEAM, id=snippet_id) == {"watching": True}

    async with make_client(sandbox, 1) as alice:
        changed = await alice.update_snippet(TEAM, snippet_id, files={"app.py": b"v = 2\n"})
    assert changed.revision != first
    started = time.monotonic()
    notification = await daemon.wait_for_change(about(snippet_id, "commit"), timeout=2 * INTERVAL + SLACK)

    assert time.monotonic() - started <= 2 * INTERVAL + SLACK
    assert notification == {"workspace": TEAM, "id": snippet_id, "kind": "commit", "revision": changed.revision}
    await asyncio.sleep(0.2)  # the showMessage follows the notification on the same channel
    assert any(snippet_id in message and "changed" in message for message in daemon.shown_messages)
    # Reading the file now gives what alice wrote.
    read = await daemon.request("bbsnippets/readFile", uri=f"bbsnippet://{TEAM}/{snippet_id}/app.py")
    assert read["text"] == "v = 2\n"
    assert [n for n in daemon.notifications if n["id"] == snippet_id and n["kind"] == "commit"] == [notification]


async def test_watching_goes_on_after_the_editor_restarts(daemon: Daemon, sandbox: Sandbox, capabilities: str) -> None:
    snippet_id, _ = await alice_creates(sandbox, {"app.py": b"v = 1\n"})
    await daemon.command("bbsnippets.watch", workspace=TEAM, id=snippet_id)
    await daemon.stop()

    restarted = await start_daemon(sandbox, capabilities=capabilities, options=WATCH_OPTIONS)
    try:
        await asyncio.sleep(2 * INTERVAL)  # the first poll after a restart is the baseline
        async with make_client(sandbox, 1) as alice:
            changed = await alice.update_snippet(TEAM, snippet_id, files={"app.py": b"v = 2\n"})
        notification = await restarted.wait_for_change(about(snippet_id, "commit"), timeout=2 * INTERVAL + SLACK)
        assert notification["revision"] == changed.revision
        await restarted.command("bbsnippets.unwatch", workspace=TEAM, id=snippet_id)
    finally:
        await restarted.stop()

    # Unwatched is remembered too: a third start polls nothing at all.
    third = await start_daemon(sandbox, capabilities=capabilities, options=WATCH_OPTIONS)
    try:
        sandbox.clear_requests()
        await asyncio.sleep(3 * INTERVAL)
        assert sandbox.requests == []
    finally:
        await third.stop()


async def test_an_open_snippet_changed_elsewhere_is_notified_without_a_popup(daemon: Daemon, sandbox: Sandbox) -> None:
    snippet_id, _ = await alice_creates(sandbox, {"a.txt": b"a\n"})
    opened = await daemon.command("bbsnippets.open", workspace=TEAM, id=snippet_id)

    async with make_client(sandbox, 1) as alice:
        changed = await alice.update_snippet(TEAM, snippet_id, files={"a.txt": b"a\nb\n"})
    notification = await daemon.wait_for_change(about(snippet_id, "commit"), timeout=2 * INTERVAL + SLACK)

    assert notification["revision"] == changed.revision != opened["revision"]
    assert not [message for message in daemon.shown_messages if snippet_id in message]  # not watched: no popup
    read = await daemon.request("bbsnippets/readFile", uri=opened["files"][0]["uri"])
    assert read["text"] == "a\nb\n"


async def test_a_comment_by_someone_else_is_notified(daemon: Daemon, sandbox: Sandbox) -> None:
    snippet_id, _ = await alice_creates(sandbox, {"a.txt": b"a\n"})
    await daemon.command("bbsnippets.watch", workspace=TEAM, id=snippet_id)

    async with make_client(sandbox, 1) as alice:
        comment = await alice.create_comment(TEAM, snippet_id, "Have a look at line 1")
    notification = await daemon.wait_for_change(about(snippet_id, "comment"), timeout=COMMENT_CYCLES * INTERVAL + SLACK)

    assert notification["workspace"] == TEAM and "revision" not in notification
    await asyncio.sleep(0.2)
    assert any(snippet_id in message and "comment" in message for message in daemon.shown_messages)
    listed = await daemon.command("bbsnippets.comments.list", workspace=TEAM, id=snippet_id)
    assert [c["id"] for c in listed["comments"]] == [comment.id]

    # An edit of that comment is news too.
    def comment_notifications() -> int:
        return len([n for n in daemon.notifications if about(snippet_id, "comment")(n)])

    before = comment_notifications()
    async with make_client(sandbox, 1) as alice:
        await alice.update_comment(TEAM, snippet_id, comment.id, "Have a look at line 2")
    await daemon.wait_for_change(lambda _: comment_notifications() > before, timeout=COMMENT_CYCLES * INTERVAL + SLACK)


async def test_our_own_saves_and_comments_are_not_reported_back(daemon: Daemon, sandbox: Sandbox) -> None:
    snippet_id, _ = await alice_creates(sandbox, {"a.txt": b"a\n", "b.txt": b"b\n"})
    ref = {"workspace": TEAM, "id": snippet_id}
    opened = await daemon.command("bbsnippets.open", **ref)
    await daemon.command("bbsnippets.watch", **ref)

    saved = await daemon.request("bbsnippets/writeFile", uri=opened["files"][0]["uri"], text="a, edited by us\n")
    await daemon.command("bbsnippets.comments.add", **ref, raw="our own remark")
    await daemon.command("bbsnippets.update", **ref, title="renamed by us")
    await daemon.request(
        "bbsnippets/rename", oldUri=opened["files"][1]["uri"], newUri=f"bbsnippet://{TEAM}/{snippet_id}/c.txt"
    )
    own = await daemon.command("bbsnippets.comments.add", **ref, raw="second remark")
    await daemon.command("bbsnippets.comments.edit", **ref, commentId=own["id"], raw="second remark, edited")
    await asyncio.sleep((COMMENT_CYCLES + 1) * INTERVAL + 0.5)  # every poll, comments included, ran meanwhile

    assert [n for n in daemon.notifications if n["id"] == snippet_id] == []
    assert not [message for message in daemon.shown_messages if snippet_id in message]
    assert saved["revision"]

    # The poller was alive all along: a change by someone else does arrive.
    async with make_client(sandbox, 1) as alice:
        theirs = await alice.update_snippet(TEAM, snippet_id, files={"a.txt": b"a, edited by alice\n"})
    notification = await daemon.wait_for_change(about(snippet_id, "commit"), timeout=2 * INTERVAL + SLACK)
    assert notification["revision"] == theirs.revision

    # Our own deletion is not news to us either.
    await daemon.command("bbsnippets.delete", **ref)
    await asyncio.sleep(3 * INTERVAL)
    assert [n["kind"] for n in daemon.notifications if n["id"] == snippet_id] == ["commit"]


async def test_a_deletion_by_someone_else_is_notified_and_polling_stops(daemon: Daemon, sandbox: Sandbox) -> None:
    snippet_id, _ = await alice_creates(sandbox, {"a.txt": b"a\n"})
    await daemon.command("bbsnippets.watch", workspace=TEAM, id=snippet_id)

    async with make_client(sandbox, 1) as alice:
        await alice.delete_snippet(TEAM, snippet_id)
    notification = await daemon.wait_for_change(about(snippet_id, "deleted"), timeout=2 * INTERVAL + SLACK)

    assert notification == {"workspace": TEAM, "id": snippet_id, "kind": "deleted"}
    await asyncio.sleep(0.2)
    assert any(snippet_id in message and "deleted" in message for message in daemon.shown_messages)
    # Nothing is left to watch: the poller goes quiet.
    await asyncio.sleep(INTERVAL)
    sandbox.clear_requests()
    await asyncio.sleep(3 * INTERVAL)
    assert sandbox.requests == []
    assert len([n for n in daemon.notifications if n["id"] == snippet_id]) == 1


# --------------------------------------------------------------------------- the request budget


async def test_polling_stays_within_a_tiny_budget(sandbox: Sandbox, capabilities: str) -> None:
    # 36 requests an hour: a burst of at most 3, then one every 100 s.
    daemon = await start_daemon(
        sandbox, capabilities=capabilities, options={"pollIntervalSeconds": 0.1, "pollBudgetPerHour": 36}
    )
    try:
        created = await daemon.command("bbsnippets.create", files=[{"name": "a.txt", "text": "a"}])
        await daemon.command("bbsnippets.watch", workspace="demo", id=created["id"])
        sandbox.clear_requests()
        await asyncio.sleep(2.0)  # twenty poll intervals
        polled = [(r.method, r.path) for r in sandbox.requests]
    finally:
        await daemon.stop()
    lists = [path for method, path in polled if method == "GET" and path == "/2.0/snippets/demo"]
    assert 1 <= len(lists) <= 4, polled
    assert len(polled) <= 4, polled


async def test_an_unchanged_poll_is_one_list_per_workspace_whatever_the_number_of_snippets(
    sandbox: Sandbox, capabilities: str
) -> None:
    daemon = await start_daemon(
        sandbox, capabilities=capabilities, options={"pollIntervalSeconds": 0.25, "pollBudgetPerHour": 100000}
    )
    try:
        ids: dict[str, list[str]] = {"demo": [], TEAM: []}
        for workspace, count in (("demo", 4), (TEAM, 3)):
            for number in range(count):
                files = [{"name": f"f{number}.txt", "text": str(number)}]
                ids[workspace].append(
                    (await daemon.command("bbsnippets.create", workspace=workspace, files=files))["id"]
                )
        for workspace in ids:  # one watched in each workspace; the others are open
            await daemon.command("bbsnippets.watch", workspace=workspace, id=ids[workspace][0])
        await asyncio.sleep(0.6)
        sandbox.clear_requests()
        await asyncio.sleep(2.5)  # about ten poll cycles in which nothing changes
        polled = [(r.method, r.path) for r in sandbox.requests]
    finally:
        await daemon.stop()
    lists = {workspace: polled.count(("GET", f"/2.0/snippets/{workspace}")) for workspace in ids}
    comment_lists = [path for method, path in polled if path.endswith("/comments")]
    assert 7 <= lists["demo"] <= 12 and abs(lists["demo"] - lists[TEAM]) <= 1, polled
    # Nothing else but the comments of the two watched snippets, every fifth cycle.
    assert len(polled) == sum(lists.values()) + len(comment_lists), polled
    assert len(comment_lists) <= 2 * (lists["demo"] // 5 + 1), polled


async def test_nothing_open_or_watched_costs_nothing(sandbox: Sandbox, capabilities: str) -> None:
    daemon = await start_daemon(
        sandbox, capabilities=capabilities, options={"pollIntervalSeconds": 0.1, "pollBudgetPerHour": 100000}
    )
    try:
        async with make_client(sandbox) as client:
            snippet = await client.create_snippet("demo", {"a.txt": b"a"})
        sandbox.clear_requests()
        await asyncio.sleep(1.0)
        assert sandbox.requests == []

        # Listing does not open anything; watching then unwatching leaves nothing to poll.
        await daemon.command("bbsnippets.list")
        await daemon.command("bbsnippets.watch", workspace="demo", id=snippet.id)
        await asyncio.sleep(0.5)
        assert any(r.path == "/2.0/snippets/demo" for r in sandbox.requests)  # it did poll while watching
        await daemon.command("bbsnippets.unwatch", workspace="demo", id=snippet.id)
        await asyncio.sleep(0.3)  # a poll already under way may finish
        sandbox.clear_requests()
        await asyncio.sleep(1.0)
        assert sandbox.requests == []
    finally:
        await daemon.stop()


async def test_rate_limited_polling_backs_off(sandbox: Sandbox, capabilities: str) -> None:
    daemon = await start_daemon(
        sandbox, capabilities=capabilities, options={"pollIntervalSeconds": 0.2, "pollBudgetPerHour": 100000}
    )
    try:
        snippet_id, _ = await alice_creates(sandbox, {"a.txt": b"a\n"})
        await daemon.command("bbsnippets.watch", workspace=TEAM, id=snippet_id)
        sandbox.faults.rate_limit_next = 10_000
        sandbox.clear_requests()
        await asyncio.sleep(3.0)  # 15 intervals; backing off 0.2, 0.4, 0.8, 1.6 s leaves room for about 4
        refused = len(sandbox.requests)
        sandbox.faults.rate_limit_next = 0
        assert 1 <= refused <= 5, [(r.method, r.path, r.status) for r in sandbox.requests]
        assert all(r.status == 429 for r in sandbox.requests)

        # Once Bitbucket answers again, changes are noticed again.
        async with make_client(sandbox, 1) as alice:
            changed = await alice.update_snippet(TEAM, snippet_id, files={"a.txt": b"b\n"})
        notification = await daemon.wait_for_change(about(snippet_id, "commit"), timeout=3.2 + 2 * 0.2 + SLACK)
        assert notification["revision"] == changed.revision
    finally:
        sandbox.faults.rate_limit_next = 0
        await daemon.stop()


async def test_watching_again_starts_from_now(daemon: Daemon, sandbox: Sandbox) -> None:
    snippet_id, _ = await alice_creates(sandbox, {"a.txt": b"a\n"})
    ref = {"workspace": TEAM, "id": snippet_id}
    await daemon.command("bbsnippets.watch", **ref)
    await daemon.command("bbsnippets.unwatch", **ref)
    async with make_client(sandbox, 1) as alice:
        await alice.update_snippet(TEAM, snippet_id, files={"a.txt": b"changed while not watched\n"})
        await alice.create_comment(TEAM, snippet_id, "said while not watched")

    await daemon.command("bbsnippets.watch", **ref)
    await asyncio.sleep((COMMENT_CYCLES + 1) * INTERVAL + 0.5)
    assert [n for n in daemon.notifications if n["id"] == snippet_id] == []

    async with make_client(sandbox, 1) as alice:
        await alice.create_comment(TEAM, snippet_id, "said while watched")
    await daemon.wait_for_change(about(snippet_id, "comment"), timeout=COMMENT_CYCLES * INTERVAL + SLACK)


async def test_a_server_that_ignores_sort_still_has_changes_found(sandbox: Sandbox, capabilities: str) -> None:
    # 105 snippets listed oldest first: the one we watch, the newest, is on the second page.
    sandbox.faults.ignore_sort = 1
    async with make_client(sandbox, 1) as alice:
        for number in range(104):
            await alice.create_snippet(TEAM, {f"f{number}.txt": b"x"})
    watched_id, _ = await alice_creates(sandbox, {"app.py": b"v = 1\n"})
    daemon = await start_daemon(sandbox, capabilities=capabilities, options=WATCH_OPTIONS)
    try:
        await daemon.command("bbsnippets.watch", workspace=TEAM, id=watched_id)
        await asyncio.sleep(2 * INTERVAL)
        async with make_client(sandbox, 1) as alice:
            changed = await alice.update_snippet(TEAM, watched_id, files={"app.py": b"v = 2\n"})
        notification = await daemon.wait_for_change(about(watched_id, "commit"), timeout=2 * INTERVAL + SLACK)
        assert notification["revision"] == changed.revision
    finally:
        await daemon.stop()
