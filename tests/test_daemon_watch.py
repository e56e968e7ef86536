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
from tests.test_watcher import documented_comment_bound  # the bound docs/protocol.md gives

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
    assert notification == {
        "workspace": TEAM,
        "id": snippet_id,
        "kind": "commit",
        "revision": changed.revision,
        "watched": True,
    }
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

    sandbox.clear_requests()
    restarted = await start_daemon(sandbox, capabilities=capabilities, options=WATCH_OPTIONS)
    try:
        # The first poll after a restart is the baseline: the change comes after it (awaited, not slept: a
        # loaded machine starts the daemon late).
        deadline = asyncio.get_running_loop().time() + SLACK + 2 * INTERVAL
        while not any(r.path == f"/2.0/snippets/{TEAM}" and r.status == 200 for r in sandbox.requests):
            assert asyncio.get_running_loop().time() < deadline, "the restarted daemon never polled"
            await asyncio.sleep(0.05)
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


async def test_an_open_snippet_stays_tracked_after_a_refused_save(daemon: Daemon, sandbox: Sandbox) -> None:
    """A save refused as a conflict, or forced over one, drops the daemon's copy but not the snippet: the
    editor still has it open, so a later change or deletion by someone else is still reported, and the
    steady polls stay one list request each (no request of its own per poll), our forced save not reported."""
    import base64

    from snippet_daemon.lsp_client import DaemonError

    snippet_id, first = await alice_creates(sandbox, {"a.txt": b"a\n"})
    uri = f"bbsnippet://{TEAM}/{snippet_id}/a.txt"
    assert (await daemon.request("bbsnippets/readFile", uri=uri))["text"] == "a\n"

    async with make_client(sandbox, 1) as alice:
        theirs = await alice.update_snippet(TEAM, snippet_id, files={"a.txt": b"theirs\n"})
    mine = {"uri": uri, "base64": base64.b64encode(b"mine\n").decode()}
    with pytest.raises(DaemonError) as refused:
        await daemon.request("bbsnippets/writeFile", **mine)
    assert refused.value.kind == "conflict"
    await daemon.wait_for_change(about(snippet_id, "commit"), timeout=2 * INTERVAL + SLACK)  # theirs, at last

    async with make_client(sandbox, 1) as alice:
        again = await alice.update_snippet(TEAM, snippet_id, files={"a.txt": b"theirs again\n"})
    assert again.revision not in (first, theirs.revision)
    notification = await daemon.wait_for_change(
        lambda n: about(snippet_id, "commit")(n) and n["revision"] == again.revision, timeout=2 * INTERVAL + SLACK
    )
    assert notification["watched"] is False

    # "Overwrite": a forced save, which also drops the copy (it landed on what we never read back).
    forced = await daemon.request("bbsnippets/writeFile", **mine, force=True)
    await asyncio.sleep(3 * INTERVAL)  # polls that see our own forced save
    sandbox.clear_requests()
    await asyncio.sleep(3 * INTERVAL)
    assert sandbox.requests and {(r.method, r.path) for r in sandbox.requests} == {("GET", f"/2.0/snippets/{TEAM}")}
    commits = [n for n in daemon.notifications if about(snippet_id, "commit")(n)]
    assert forced["revision"] not in [n["revision"] for n in commits]  # our own save is not news

    async with make_client(sandbox, 1) as alice:
        await alice.delete_snippet(TEAM, snippet_id)
    await daemon.wait_for_change(about(snippet_id, "deleted"), timeout=2 * INTERVAL + SLACK)


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

    assert notification == {"workspace": TEAM, "id": snippet_id, "kind": "deleted", "watched": True}
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
        sandbox.clear_requests()
        created = await daemon.command("bbsnippets.create", files=[{"name": "a.txt", "text": "a"}])
        await daemon.command("bbsnippets.watch", workspace="demo", id=created["id"])
        await asyncio.sleep(2.0)  # twenty poll intervals (the first poll may come between the create and the watch)
        polled = [(r.method, r.path) for r in sandbox.requests]
    finally:
        await daemon.stop()
    setup = {("POST", "/2.0/snippets/demo"), ("PUT", f"/2.0/snippets/demo/{created['id']}/watch")}
    polled = [request for request in polled if request not in setup]
    polled.remove(("GET", f"/2.0/snippets/demo/{created['id']}/comments"))  # the watch's baseline
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
        await asyncio.sleep(0.3)  # a list poll already on its way (watching brings one forward) lands first
        sandbox.clear_requests()
        await asyncio.sleep(3.0)  # 15 intervals; backing off 0.4, 0.8, 1.6, 3.2 s leaves room for about 4
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


# --------------------------------------------------------------------------- the cost of watching, and many watched


async def test_watching_costs_the_put_and_the_comment_list(sandbox: Sandbox, capabilities: str) -> None:
    # No poll cycle runs meanwhile (the first is 30 s away): every request seen is the watch's own.
    daemon = await start_daemon(
        sandbox, capabilities=capabilities, options={"pollIntervalSeconds": 30, "pollBudgetPerHour": 100000}
    )
    try:
        first, _ = await alice_creates(sandbox, {"a.txt": b"a\n"})
        second, _ = await alice_creates(sandbox, {"b.txt": b"b\n"})
        watch, comments, listing = (
            ("PUT", f"/2.0/snippets/{TEAM}/{first}/watch"),
            ("GET", f"/2.0/snippets/{TEAM}/{first}/comments"),
            ("GET", f"/2.0/snippets/{TEAM}"),
        )
        sandbox.clear_requests()
        await daemon.command("bbsnippets.watch", workspace=TEAM, id=first)
        # The first watched snippet of a workspace nothing else is polled in: its updated_on baseline is
        # that workspace's list poll, brought forward (a poll request, within pollBudgetPerHour).
        assert [(r.method, r.path) for r in sandbox.requests] == [watch, comments, listing]

        sandbox.clear_requests()
        await daemon.command("bbsnippets.watch", workspace=TEAM, id=second)
        # The next one: two requests, and its baseline comes from that list (no GET of the snippet).
        assert [(r.method, r.path) for r in sandbox.requests] == [
            ("PUT", f"/2.0/snippets/{TEAM}/{second}/watch"),
            ("GET", f"/2.0/snippets/{TEAM}/{second}/comments"),
        ]
    finally:
        await daemon.stop()


async def test_the_list_says_which_snippets_are_watched_without_a_request_per_snippet(
    sandbox: Sandbox, capabilities: str
) -> None:
    daemon = await start_daemon(
        sandbox, capabilities=capabilities, options={"pollIntervalSeconds": 30, "pollBudgetPerHour": 100000}
    )
    try:
        ids = [(await alice_creates(sandbox, {f"{index}.txt": b"x\n"}))[0] for index in range(3)]
        await daemon.command("bbsnippets.watch", workspace=TEAM, id=ids[1])
        sandbox.clear_requests()
        listed = await daemon.command("bbsnippets.list", workspace=TEAM)
        assert [(r.method, r.path) for r in sandbox.requests] == [("GET", f"/2.0/snippets/{TEAM}")]
        watching = {row["id"]: row["watching"] for row in listed["snippets"] if row["id"] in ids}
        assert watching == {ids[0]: False, ids[1]: True, ids[2]: False}

        await daemon.command("bbsnippets.unwatch", workspace=TEAM, id=ids[1])
        listed = await daemon.command("bbsnippets.list", workspace=TEAM)
        assert not any(row["watching"] for row in listed["snippets"] if row["id"] in ids)
    finally:
        await daemon.stop()


MANY_INTERVAL = 0.5
MANY_BUDGET = 1_000_000  # a budget that affords a list per workspace every interval, and comments to spare
MANY_OPTIONS: dict[str, Any] = {"pollIntervalSeconds": MANY_INTERVAL, "pollBudgetPerHour": MANY_BUDGET}


async def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("count", [20, 200])
async def test_many_watched_snippets_commits_come_within_two_intervals_and_comments_within_the_bound(
    sandbox: Sandbox, count: int
) -> None:
    # Half in the user's workspace, half in the shared one (alice's), then newer ones there, so that the
    # shared workspace's oldest watched snippet is beyond the first page of its list.
    store = sandbox._open()
    demo, alice = sandbox.users[0], sandbox.users[1]
    keys: list[tuple[str, str]] = []
    for number in range(count):
        workspace, creator = ("demo", demo) if number % 2 == 0 else (TEAM, alice)
        record = store.create_snippet(workspace, creator, title=f"w{number}", is_private=True, files={"a.txt": b"1"})
        keys.append((workspace, record.id))
    for number in range(101 - count // 2):
        store.create_snippet(TEAM, alice, title=f"newer {number}", is_private=True, files={"n.txt": b"n"})
    oldest_shared = next(key for key in keys if key[0] == TEAM)

    # Watched in one session; the editor restarts (the first poll after a restart is the baseline).
    first = await start_daemon(sandbox, options={"pollIntervalSeconds": 0})
    try:
        await asyncio.gather(*(first.command("bbsnippets.watch", workspace=ws, id=sid) for ws, sid in keys))
    finally:
        await first.stop()
    sandbox.clear_requests()
    daemon = await start_daemon(sandbox, options=MANY_OPTIONS)
    try:

        def comment_lists() -> list[tuple[str, str]]:
            return [
                (parts[3], parts[4])
                for r in list(sandbox.requests)
                if r.method == "GET" and len(parts := r.path.split("/")) == 6 and parts[5] == "comments"
            ]

        await wait_until(lambda: set(comment_lists()) >= set(keys), 30, "every watched snippet's comments read")

        # A commit by another writer to any one of them, to the last in sort order, and to the last in the
        # list's order (beyond its first page): each told within two intervals.
        async with make_client(sandbox, 0) as demo_tab, make_client(sandbox, 1) as alice_client:
            for workspace, snippet_id in [keys[count // 2], max(keys), oldest_shared]:
                writer = alice_client if workspace == TEAM else demo_tab
                changed = await writer.update_snippet(workspace, snippet_id, files={"a.txt": b"2"})
                notification = await daemon.wait_for_change(
                    about(snippet_id, "commit"), timeout=2 * MANY_INTERVAL + SLACK
                )
                assert notification["revision"] == changed.revision

            # A comment on the snippet whose comments were read last (the worst case) and on the last in
            # sort order: each told within the documented bound.
            bound = documented_comment_bound(MANY_INTERVAL, MANY_BUDGET, 2, count)
            for workspace, snippet_id in [comment_lists()[-1], max(keys)]:
                writer = alice_client if workspace == TEAM else demo_tab
                await writer.create_comment(workspace, snippet_id, "have a look")
                await daemon.wait_for_change(about(snippet_id, "comment"), timeout=bound + SLACK)
    finally:
        await daemon.stop()


# --------------------------------------------------------------------------- #19 item 7: watching.json


def watching_file(sandbox: Sandbox) -> Any:
    return sandbox.data_dir.parent / "xdg-data" / "snippet-daemon" / "watching.json"  # tests.daemon's XDG_DATA_HOME


async def test_two_editors_on_one_account_keep_both_watches_and_sign_out_keeps_them(sandbox: Sandbox) -> None:
    import json

    path = watching_file(sandbox)
    path.parent.mkdir(parents=True, exist_ok=True)
    # What an older daemon wrote (no account level), and another account's entry that must survive.
    path.write_text(json.dumps({sandbox.base_url: [f"{TEAM}/old1"], "http://elsewhere/2.0": ["x/y"]}))
    first, _ = await alice_creates(sandbox, {"a.txt": b"a\n"})
    second, _ = await alice_creates(sandbox, {"b.txt": b"b\n"})
    one = await start_daemon(sandbox, options={"pollIntervalSeconds": 0})
    two = await start_daemon(sandbox, options={"pollIntervalSeconds": 0})
    try:
        assert await one.command("bbsnippets.watch", workspace=TEAM, id=first) == {"watching": True}
        assert await two.command("bbsnippets.watch", workspace=TEAM, id=second) == {"watching": True}
        email = sandbox.users[0].email
        expected = {
            sandbox.base_url: {email: sorted([f"{TEAM}/old1", f"{TEAM}/{first}", f"{TEAM}/{second}"])},
            "http://elsewhere/2.0": {email: ["x/y"]},  # the old shape is migrated to the account that read it
        }
        assert json.loads(path.read_text()) == expected
        await one.command("bbsnippets.logout")
        assert json.loads(path.read_text()) == expected  # Bitbucket still watches them: so does the file

        path.write_text('{"damaged": ')  # damaged: set aside, not overwritten
        assert await two.command("bbsnippets.unwatch", workspace=TEAM, id=second) == {"watching": False}
        aside = list(path.parent.glob("watching.json.damaged-*"))
        assert len(aside) == 1 and aside[0].read_text() == '{"damaged": '
    finally:
        await one.stop()
        await two.stop()


async def test_a_watch_that_could_not_be_saved_says_so(sandbox: Sandbox) -> None:
    data = sandbox.data_dir.parent / "xdg-data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "snippet-daemon").write_bytes(b"")  # the data folder cannot hold files (a read-only one, even for root)
    snippet_id, _ = await alice_creates(sandbox, {"a.txt": b"a\n"})
    daemon = await start_daemon(sandbox, options={"pollIntervalSeconds": 0})
    try:
        answer = await daemon.command("bbsnippets.watch", workspace=TEAM, id=snippet_id)
        assert answer["watching"] is True and answer["saved"] is False
        assert "could not remember" in answer["message"] and "restart" in answer["message"]
    finally:
        await daemon.stop()


# --------------------------------------------------------------------------- #19 item 6: a workspace out of reach


async def test_a_workspace_out_of_reach_is_skipped_and_offered_for_unwatching(sandbox: Sandbox) -> None:
    import json

    from lsprotocol import types

    sandbox.add_workspace("doomed", "Doomed", ["demo", "alice"])
    async with make_client(sandbox, 1) as alice:
        doomed = await alice.create_snippet("doomed", {"d.txt": b"d\n"}, title="doomed")
    kept, _ = await alice_creates(sandbox, {"k.txt": b"k\n"})
    daemon = await start_daemon(sandbox, options=WATCH_OPTIONS)
    questions: list[str] = []

    @daemon.client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def answer(params: types.ShowMessageRequestParams) -> types.MessageActionItem:
        questions.append(params.message)
        return types.MessageActionItem(title="Unwatch")

    try:
        await daemon.command("bbsnippets.watch", workspace="doomed", id=doomed.id)
        await daemon.command("bbsnippets.watch", workspace=TEAM, id=kept)
        sandbox.remove_workspace("doomed")  # gone: its list answers 404 from now on

        await daemon.wait_for_change(about(doomed.id, "unreachable"), timeout=2 * INTERVAL + SLACK)
        async with make_client(sandbox, 1) as alice:
            await alice.update_snippet(TEAM, kept, files={"k.txt": b"k2\n"})
        await daemon.wait_for_change(about(kept, "commit"), timeout=2 * INTERVAL + SLACK)  # the others on time
        while not questions:
            await asyncio.sleep(0.05)
        assert len(questions) == 1 and doomed.id in questions[0] and "Stop watching" in questions[0]
        path = sandbox.data_dir.parent / "xdg-data" / "snippet-daemon" / "watching.json"
        email = sandbox.users[0].email
        while json.loads(path.read_text())[sandbox.base_url][email] != [f"{TEAM}/{kept}"]:  # unwatched, as chosen
            await asyncio.sleep(0.05)
        assert [n for n in daemon.notifications if n["kind"] == "unreachable"] == [
            {"workspace": "doomed", "id": doomed.id, "kind": "unreachable", "watched": True}
        ]

        # A revoked token pauses polling, with one message.
        sandbox.users[0].api_token = "revoked"
        deadline = asyncio.get_running_loop().time() + 2 * INTERVAL + SLACK
        while not [m for m in daemon.shown_messages if "no longer accepts" in m]:
            assert asyncio.get_running_loop().time() < deadline, daemon.shown_messages
            await asyncio.sleep(0.05)
        sandbox.clear_requests()
        await asyncio.sleep(4 * INTERVAL)  # several intervals: nothing is sent, nothing more is said
        assert sandbox.requests == []
        assert len([m for m in daemon.shown_messages if "no longer accepts" in m]) == 1
    finally:
        await daemon.stop()
