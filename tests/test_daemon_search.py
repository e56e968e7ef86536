"""Searching every snippet by title, file name and content, from the daemon's local index: end to end over
stdio against the sandbox, with the request counts that make it affordable."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from snippet_daemon.sandbox import Sandbox
from tests.conftest import make_client
from tests.daemon import CLIENTS, Daemon, DaemonError, start_daemon

INDEXING: dict[str, Any] = {"indexing": True, "indexRefreshSeconds": 0.3}


@pytest.fixture
async def daemon(sandbox: Sandbox) -> AsyncIterator[Daemon]:
    # The index does not depend on the editor: one capability set is enough, but for workspace/symbol.
    started = await start_daemon(sandbox, options=INDEXING)
    try:
        yield started
    finally:
        await started.stop()


def cache_dir(sandbox: Sandbox) -> Path:
    return sandbox.data_dir.parent / "xdg-cache" / "snippet-daemon"  # tests.daemon points XDG_CACHE_HOME there


async def search(daemon: Daemon, query: str, **arguments: Any) -> dict[str, Any]:
    result: dict[str, Any] = await daemon.command("bbsnippets.search", query=query, **arguments)
    return result


async def search_until(daemon: Daemon, query: str, wanted: Any, timeout: float = 10.0) -> dict[str, Any]:
    """Search again (each refresh takes indexRefreshSeconds) until ``wanted(result)``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await search(daemon, query)
        if wanted(result):
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"search {query!r} never gave what was wanted: {result}")
        await asyncio.sleep(0.1)


def where(result: dict[str, Any]) -> list[tuple[str, str, int | None]]:
    return [(hit["id"], hit["name"], hit.get("line")) for hit in result["results"]]


async def test_a_substring_in_the_middle_of_a_word_is_found_at_its_line(daemon: Daemon, sandbox: Sandbox) -> None:
    async with make_client(sandbox) as elsewhere:
        helper = await elsewhere.create_snippet(
            "demo", {"retry.py": b"import time\n\ndef retry_helper(times):\n    return times\n"}, title="Backoff"
        )
        await elsewhere.create_snippet("demo", {"other.txt": b"nothing to see\n"}, title="Other")

    found = await search_until(daemon, "y_hel", lambda result: result["complete"])

    assert found["results"] == [
        {
            "workspace": "demo",
            "id": helper.id,
            "title": "Backoff",
            "name": "retry.py",
            "line": 3,
            "preview": "def retry_helper(times):",
            "uri": f"bbsnippet://demo/{helper.id}/retry.py#L3",
        }
    ]
    # The hit opens: its URI is a file of the virtual file system (the #L3 only says where to look).
    read = await daemon.request("bbsnippets/readFile", uri=found["results"][0]["uri"])
    assert "retry_helper" in read["text"]
    # Case does not matter, and every word must match.
    assert where(await search(daemon, "RETRY_helper")) == [(helper.id, "retry.py", 3)]
    assert (await search(daemon, "retry nothing"))["results"] == []


async def test_title_and_file_name_hits_rank_above_content_hits(daemon: Daemon, sandbox: Sandbox) -> None:
    async with make_client(sandbox) as elsewhere:
        in_text = await elsewhere.create_snippet("demo", {"a.sql": b"select * from invoices;\n"}, title="A query")
        in_title = await elsewhere.create_snippet("demo", {"b.txt": b"totals\n"}, title="Invoices report")
        in_name = await elsewhere.create_snippet("demo", {"invoices.csv": b"1,2\n"}, title="Data")

    found = await search_until(daemon, "invoice", lambda result: result["complete"])

    order = where(found)
    assert {order[0][0], order[1][0]} == {in_title.id, in_name.id}  # titles and names first...
    assert order[2] == (in_text.id, "a.sql", 1)  # ...then content
    title_hit = next(hit for hit in found["results"] if hit["id"] == in_title.id)
    assert title_hit["uri"] == f"bbsnippet://demo/{in_title.id}/b.txt" and "line" not in title_hit


async def test_first_index_and_refresh_cost_what_changed(sandbox: Sandbox) -> None:
    store = sandbox._open()  # 105 snippets straight into storage: quicker than 105 POSTs
    ids = [
        store.create_snippet(
            "demo", sandbox.users[0], title=f"s{n}", is_private=True, files={f"f{n}.txt": f"body {n}\n".encode()}
        ).id
        for n in range(105)
    ]
    sandbox.clear_requests()
    daemon = await start_daemon(sandbox, options=INDEXING)
    try:
        first = await search_until(daemon, "body 104", lambda result: result["complete"])
        assert where(first) == [(ids[104], "f104.txt", 1)]
        # The editor was shown the filling as work-done progress, from begin to end.
        titles = {
            report.title: [r.kind for r in reports]
            for reports in daemon.client.progress_reports.values()
            for report in reports[:1]
            if report.kind == "begin"
        }
        assert titles["Indexing 105 snippets for search"][-1] == "end"
        lists = [r for r in sandbox.requests if r.path == "/2.0/snippets/demo"]
        reads = [r for r in sandbox.requests if r.path.startswith("/2.0/snippets/demo/")]
        assert (len(lists), len(reads)) == (2, 105)  # ⌈N/100⌉ + N

        sandbox.clear_requests()
        async with make_client(sandbox) as elsewhere:
            for snippet_id in ids[:3]:
                await elsewhere.update_snippet("demo", snippet_id, files={f"f{ids.index(snippet_id)}.txt": b"edited\n"})
        sandbox.clear_requests()
        await search_until(daemon, "edited", lambda result: len(result["results"]) == 3 and result["complete"])
        await asyncio.sleep(1.0)  # a few more refreshes: with nothing new they cost one list request each
        refreshes = [r for r in sandbox.requests if r.path == "/2.0/snippets/demo"]
        reads = [r for r in sandbox.requests if r.path.startswith("/2.0/snippets/demo/")]
        assert len(reads) == 3 and all(r.query.startswith("sort=-updated_on") for r in refreshes)
        assert len(refreshes) >= 2 and all("page=2" not in r.query for r in refreshes)  # 1 page each
    finally:
        await daemon.stop()


async def test_another_writers_edit_becomes_searchable_and_the_old_text_stops_matching(
    daemon: Daemon, sandbox: Sandbox
) -> None:
    async with make_client(sandbox) as elsewhere:
        created = await elsewhere.create_snippet("demo", {"conf.ini": b"colour = blue\n"}, title="settings")
    assert where(await search_until(daemon, "blue", lambda result: result["results"])) == [(created.id, "conf.ini", 1)]

    async with make_client(sandbox) as elsewhere:
        await elsewhere.update_snippet("demo", created.id, files={"conf.ini": b"colour = green\n"})

    await search_until(daemon, "green", lambda result: result["results"])
    assert (await search(daemon, "blue"))["results"] == []


async def test_deleted_snippets_leave_the_results(daemon: Daemon, sandbox: Sandbox) -> None:
    async with make_client(sandbox) as elsewhere:
        mine = await elsewhere.create_snippet("demo", {"a.txt": b"zebra one\n"}, title="z1")
        theirs = await elsewhere.create_snippet("demo", {"b.txt": b"zebra two\n"}, title="z2")
    await search_until(daemon, "zebra", lambda result: len(result["results"]) == 2 and result["complete"])

    await daemon.command("bbsnippets.delete", workspace="demo", id=mine.id)  # through the daemon: at once
    assert where(await search(daemon, "zebra")) == [(theirs.id, "b.txt", 1)]

    async with make_client(sandbox) as elsewhere:  # elsewhere: the next refresh's list is shorter
        await elsewhere.delete_snippet("demo", theirs.id)
    await search_until(daemon, "zebra", lambda result: result["results"] == [])


@pytest.mark.parametrize("capabilities", CLIENTS)
async def test_workspace_symbol_finds_snippets_with_bbsnippet_locations(sandbox: Sandbox, capabilities: str) -> None:
    daemon = await start_daemon(sandbox, capabilities=capabilities, options=INDEXING)
    try:
        await _symbols_are_found(daemon, sandbox)
    finally:
        await daemon.stop()


async def _symbols_are_found(daemon: Daemon, sandbox: Sandbox) -> None:
    async with make_client(sandbox) as elsewhere:
        created = await elsewhere.create_snippet("demo", {"deploy.sh": b"#!/bin/sh\nkubectl rollout restart\n"})
    await search_until(daemon, "rollout", lambda result: result["complete"] and result["results"])

    symbols = await daemon.client.workspace_symbol_async(types.WorkspaceSymbolParams(query="rollout"))

    assert symbols is not None and len(symbols) == 1
    symbol = symbols[0]
    assert isinstance(symbol, types.SymbolInformation)
    assert symbol.location.uri == f"bbsnippet://demo/{created.id}/deploy.sh"
    assert symbol.location.range.start.line == 1  # 0-based: the second line
    assert symbol.name == "kubectl rollout restart" and symbol.kind == types.SymbolKind.String
    assert await daemon.client.workspace_symbol_async(types.WorkspaceSymbolParams(query="")) == []


async def test_the_index_is_private_and_indexing_off_writes_nothing(sandbox: Sandbox) -> None:
    async with make_client(sandbox) as elsewhere:
        await elsewhere.create_snippet("demo", {"a.txt": b"quokka\n"})
    off = await start_daemon(sandbox, options={**INDEXING, "indexing": False})
    try:
        refused = await off.client.workspace_symbol_async(types.WorkspaceSymbolParams(query="quokka"))
        assert refused == []
        with pytest.raises(DaemonError) as caught:
            await search(off, "quokka")
        assert caught.value.kind == "invalidArgument" and "indexing" in caught.value.message
    finally:
        await off.stop()
    assert not cache_dir(sandbox).exists()

    on = await start_daemon(sandbox, options=INDEXING)
    try:
        await search_until(on, "quokka", lambda result: result["results"])
    finally:
        await on.stop()
    files = sorted(cache_dir(sandbox).iterdir())
    assert [path.suffix for path in files if path.name.endswith(".sqlite3")] == [".sqlite3"]
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files), [
        (path.name, oct(path.stat().st_mode)) for path in files
    ]
    assert stat.S_IMODE(cache_dir(sandbox).stat().st_mode) == 0o700


async def test_contents_wait_for_the_budget_but_names_are_searchable_at_once(sandbox: Sandbox) -> None:
    async with make_client(sandbox) as elsewhere:
        for n in range(6):
            await elsewhere.create_snippet("demo", {f"n{n}.txt": b"platypus\n"}, title=f"numbat {n}")
    sandbox.clear_requests()
    daemon = await start_daemon(sandbox, options={**INDEXING, "indexBudgetPerHour": 3})
    try:
        titles = await search(daemon, "numbat")
        assert len(titles["results"]) == 6 and titles["complete"] is False
        contents = await search(daemon, "platypus")
        assert len(contents["results"]) == 2  # 1 list + 2 contents: the budget of 3 is spent
        assert len(sandbox.requests) == 3
    finally:
        await daemon.stop()


def test_indexing_follows_the_option_then_the_environment() -> None:
    from snippet_daemon.app import create_server

    server = create_server({"SNIPPET_DAEMON_INDEXING": "off"})
    server.configure({})
    assert server.options.indexing is False and not server.search_index.enabled
    server.configure({"indexing": True})
    assert server.options.indexing is True
    fresh = create_server({})
    fresh.configure({})
    assert fresh.options.indexing is True  # on by default


async def test_a_refresh_reuses_the_list_page_the_poller_just_read(sandbox: Sandbox, tmp_path: Path) -> None:
    from snippet_daemon.app import create_server
    from tests.daemon import user_env

    server = create_server(
        {"BITBUCKET_API_URL": sandbox.base_url, "XDG_CACHE_HOME": str(tmp_path / "cache"), **user_env(sandbox)}
    )
    server.configure({"workspace": "demo", "pollIntervalSeconds": 60, "indexing": True})
    async with make_client(sandbox) as elsewhere:
        created = await elsewhere.create_snippet("demo", {"a.txt": b"first words\n"})
        assert await server.search_index.refresh()  # the first index: the whole list, the contents
        await server.documents.head("demo", created.id)  # open: the poller now lists demo every cycle
        await elsewhere.update_snippet("demo", created.id, files={"a.txt": b"second words\n"})
    try:
        sandbox.clear_requests()
        await server.watcher.poll_once()  # lists demo (and reads the changed snippet: the index gets it free)
        assert await server.search_index.refresh()
        lists = [r for r in sandbox.requests if r.path == "/2.0/snippets/demo"]
        assert len(lists) == 1  # the poller's: the index's refresh read no list of its own
        hits, complete = await server.search_index.search("second", None, 10)
        assert [(hit.id, hit.line) for hit in hits] == [(created.id, 1)] and complete
    finally:
        await server.close()


async def test_what_the_daemon_saves_is_searchable_at_once_and_binary_files_by_name_only(
    daemon: Daemon, sandbox: Sandbox
) -> None:
    async with make_client(sandbox) as elsewhere:
        created = await elsewhere.create_snippet(
            "demo", {"notes.txt": b"old words\n", "logo.png": b"\x89PNG\x00 hidden wombat text"}, title="assets"
        )
    await search_until(daemon, "old words", lambda result: result["complete"] and result["results"])
    assert (await search(daemon, "wombat"))["results"] == []  # not the bytes of a binary file...
    assert where(await search(daemon, "logo")) == [(created.id, "logo.png", None)]  # ...but its name

    await daemon.request("bbsnippets/writeFile", uri=f"bbsnippet://demo/{created.id}/notes.txt", text="new words\n")
    sandbox.clear_requests()
    assert where(await search(daemon, "new words")) == [(created.id, "notes.txt", 1)]  # the save fed the index
    assert (await search(daemon, "old words"))["results"] == []
    assert [r for r in sandbox.requests if r.path.startswith("/2.0/snippets/demo/")] == []  # for free


# --------------------------------------------------------------------------- #19 item 11: search input


@pytest.mark.parametrize(
    ("query", "reason"),
    [("retry\x00helper", "NUL"), ("retry \ud800", "surrogate"), (" ".join(["ab"] * 2000), "2,000 words")],
    ids=["nul", "lone-surrogate", "2000-short-words"],
)
async def test_search_text_that_cannot_be_searched_is_an_invalid_argument_with_a_reason(
    daemon: Daemon, query: str, reason: str
) -> None:
    with pytest.raises(DaemonError) as refused:
        await search(daemon, query)
    assert refused.value.kind == "invalidArgument" and reason in str(refused.value)

    with pytest.raises(Exception) as symbol_refused:
        await daemon.client.workspace_symbol_async(types.WorkspaceSymbolParams(query=query))
    assert reason in str(symbol_refused.value) and "bug" not in str(symbol_refused.value)
    assert (await search(daemon, "retry"))["results"] == []  # the daemon is fine


# --------------------------------------------------------------------------- #19 item 3: an index per identity


async def test_tokens_that_cannot_read_the_account_never_share_an_index(tmp_path: Path) -> None:
    """Two OAuth tokens without read:user (GET /user is 403): each daemon's index is its own; Bob's search never
    returns a line of Alice's private snippet."""
    from snippet_daemon.sandbox.accounts import ALL_SCOPES, SCOPE_READ_USER, new_user
    from tests.daemon import user_env

    scopes = set(ALL_SCOPES) - {SCOPE_READ_USER}
    users = [new_user("alice", "Alice", scopes), new_user("bob", "Bob", scopes)]
    with Sandbox(data_dir=tmp_path / "data", users=users) as sandbox:
        async with make_client(sandbox, 0, kind="accessToken") as alice_client:
            await alice_client.create_snippet("alice", {"notes.txt": b"quartz-lantern 4711\n"}, title="mine")
        options = {**INDEXING, "workspace": "alice"}
        alice = await start_daemon(sandbox, user=0, credentials=user_env(sandbox, 0, "accessToken"), options=options)
        try:
            found = await search_until(alice, "quartz-lantern", lambda result: result["results"])
            assert found["results"][0]["preview"] == "quartz-lantern 4711"
        finally:
            await alice.stop()
        bob = await start_daemon(sandbox, user=1, credentials=user_env(sandbox, 1, "accessToken"), options=options)
        try:
            try:
                seen = (await search(bob, "quartz-lantern"))["results"]
            except DaemonError as error:  # he may not list her workspace at all
                seen = []
                assert error.kind in ("forbidden", "notFound"), error
            assert seen == []
        finally:
            await bob.stop()
        assert len(list(cache_dir(sandbox).glob("index-*.sqlite3"))) == 2


# --------------------------------------------------------------------------- #19 item 4: a full disk


def _index_files(sandbox: Sandbox) -> list[Path]:
    return [path for path in cache_dir(sandbox).glob("index-*") if path.is_file()]


async def test_a_full_disk_leaves_search_incomplete_and_is_retried(sandbox: Sandbox) -> None:
    import resource

    daemon = await start_daemon(sandbox, options=INDEXING)
    try:
        async with make_client(sandbox) as elsewhere:
            await elsewhere.create_snippet("demo", {"small.txt": b"tiny-alpha\n"}, title="small")
            await search_until(daemon, "tiny-alpha", lambda result: result["complete"] and result["results"])
            pid = daemon.client._server.pid  # type: ignore[union-attr]
            largest = max(path.stat().st_size for path in _index_files(sandbox))
            # The disk is full: no index file may grow (SQLite sees EFBIG, as with ENOSPC).
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (largest + 4096, resource.RLIM_INFINITY))
            big = "".join(f"line {n} of the huge-bravo text, padding padding padding\n" for n in range(20_000))
            await elsewhere.create_snippet("demo", {"big.txt": big.encode()}, title="big")
        deadline = asyncio.get_running_loop().time() + 15
        while not any("could not store" in message for message in daemon.log_messages):
            assert asyncio.get_running_loop().time() < deadline, daemon.log_messages
            await search(daemon, "tiny-alpha")  # searches keep refreshing the index
            await asyncio.sleep(0.1)
        result = await search(daemon, "huge-bravo")
        assert result["complete"] is False  # its text is not in, so the answer does not claim to be complete

        resource.prlimit(pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        found = await search_until(daemon, "huge-bravo", lambda result: result["complete"] and result["results"])
        assert found["results"][0]["name"] == "big.txt"
    finally:
        await daemon.stop()


# --------------------------------------------------------------------------- #19 item 5: a damaged index


def _damage(path: Path, how: str) -> None:
    from snippet_daemon.index import IndexStore

    path.parent.mkdir(parents=True, exist_ok=True)
    if how == "garbage":
        path.write_bytes(b"this is not a database\n" * 500)
    elif how == "truncated":
        index = IndexStore(path)
        for number in range(200):
            index._db.execute(
                "INSERT INTO texts (workspace, id, name, body) VALUES (?, ?, ?, ?)",
                ("demo", str(number), "f", f"filler text number {number} " * 40),
            )
        index.close()
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif how == "directory":
        (path / "inside").mkdir(parents=True)
    else:  # a cache folder nothing can be written in: read-only (that does not stop root), and in fact a file
        path.parent.rmdir()
        path.parent.write_bytes(b"")
        path.parent.chmod(0o400)


@pytest.mark.parametrize("how", ["garbage", "truncated", "directory", "unwritable folder"])
async def test_a_damaged_index_is_set_aside_and_rebuilt(sandbox: Sandbox, how: str) -> None:
    from snippet_daemon.index import index_path

    path = index_path(cache_dir(sandbox), sandbox.base_url, sandbox.users[0].email)
    _damage(path, how)
    async with make_client(sandbox) as elsewhere:
        await elsewhere.create_snippet("demo", {"kept.txt": b"marble-comet\n"}, title="kept")
    daemon = await start_daemon(sandbox, options=INDEXING)
    try:
        found = await search_until(daemon, "marble-comet", lambda result: result["complete"] and result["results"])
        assert found["results"][0]["name"] == "kept.txt"
        await search(daemon, "marble-comet")
        warnings = [message for message in daemon.shown_messages if "search index" in message]
        if how == "unwritable folder":
            assert len(warnings) == 1 and "cannot be written" in warnings[0]  # said once, why, and what to do
            assert not path.exists()
        else:
            assert warnings == []
            assert path.is_file() and list(path.parent.glob(path.name + ".damaged-*"))  # the old one kept aside
    finally:
        await daemon.stop()


# --------------------------------------------------------------------------- #19 item 13: fresh on search


async def test_a_search_older_than_the_poll_interval_refreshes_once_and_says_so(sandbox: Sandbox) -> None:
    options = {"indexing": True, "indexRefreshSeconds": 300, "pollIntervalSeconds": 0.5}
    daemon = await start_daemon(sandbox, options=options)
    try:
        first = await search(daemon, "violet")  # the first search of a session waits for the list
        assert first["results"] == [] and first["complete"]
        async with make_client(sandbox) as colleague:
            shared = await colleague.create_snippet("demo", {"plan.txt": b"violet-harbor\n"}, title="shared")
        await asyncio.sleep(0.6)  # older than the poll interval (the refresh period is 5 minutes)
        sandbox.clear_requests()
        sandbox.faults.latency_ms = 200  # the refresh is still on its way while these searches answer
        answers = await asyncio.gather(*(search(daemon, "violet") for _ in range(3)))
        assert all(answer["complete"] is False for answer in answers)
        found = await search_until(daemon, "violet-harbor", lambda result: result["complete"] and result["results"])
        sandbox.faults.latency_ms = 0
        assert found["results"][0]["id"] == shared.id
        lists = [r for r in sandbox.requests if r.method == "GET" and r.path == "/2.0/snippets/demo"]
        assert len(lists) == 1, lists  # one list request, shared by the searches of that moment
    finally:
        await daemon.stop()
