"""End to end: writes whose answer was lost, through the real daemon, against the sandbox.

Bitbucket applied the write, and then the connection broke (or a proxy answered 502). A save
(compare-and-swap PUT) is sent again and meets 405; the daemon reads HEAD once and recognises its
own write. A create (POST) is never sent twice: the daemon finds what it made, or says that nothing
was made. Either way: exactly one commit, or one snippet, and the next edit saves as usual. A real
other writer still gets ``conflict``. Every test runs once per client capability set (VS Code,
Neovim); commits and snippets are counted on the sandbox, requests from its log.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest

from snippet_daemon.bitbucket import NotFound
from snippet_daemon.sandbox import Sandbox
from snippet_daemon.uri import snippet_uri
from tests.conftest import LOST_ANSWERS, make_client, served
from tests.daemon import CLIENTS, Daemon, start_daemon
from tests.test_daemon_files import b64, create, fails, read, remote, rename, write


@pytest.fixture(params=CLIENTS)
async def daemon(request: pytest.FixtureRequest, sandbox: Sandbox) -> AsyncIterator[Daemon]:
    started = await start_daemon(sandbox, capabilities=request.param)
    try:
        yield started
    finally:
        await started.stop()


@pytest.fixture(params=sorted(LOST_ANSWERS))
def lost_answer(request: pytest.FixtureRequest) -> str:
    fault: str = request.param
    return fault


async def commits(sandbox: Sandbox, workspace: str, snippet_id: str) -> int:
    async with make_client(sandbox) as client:
        return len(await client.list_commits(workspace, snippet_id))


async def snippets(sandbox: Sandbox) -> list[str]:
    async with make_client(sandbox) as client:
        return [snippet.id for snippet in await client.list_snippets(sandbox.users[0].nickname)]


# --------------------------------------------------------------------------- the sandbox's knobs


async def test_the_sandbox_applies_then_loses_the_answer(sandbox: Sandbox, lost_answer: str) -> None:
    async with make_client(sandbox) as client:
        made = await client.create_snippet("demo", {"a.txt": b"a\n"}, title="knob")
        sandbox.clear_requests()
        setattr(sandbox.faults, lost_answer, 1)
        await client.get_snippet("demo", made.id)  # reads pass: only a write is "applied"
        saved = await client.update_snippet("demo", made.id, files={"a.txt": b"b\n"})  # sent again: no CAS
        assert getattr(sandbox.faults, lost_answer) == 0
    assert served(sandbox) == [("GET", 200), ("PUT", LOST_ANSWERS[lost_answer]), ("PUT", 200)]
    assert saved.revision is not None
    assert await commits(sandbox, "demo", made.id) == 2  # applied once: the second PUT changed nothing


# --------------------------------------------------------------------------- saves


async def test_a_save_whose_answer_was_lost_lands_once_and_the_next_edit_saves(
    daemon: Daemon, sandbox: Sandbox, lost_answer: str
) -> None:
    ws, sid = await create(daemon, {"a.txt": b"a1\n", "b.txt": b"b1\n"})
    uri = snippet_uri(ws, sid, "a.txt")
    assert await read(daemon, uri) == b"a1\n"
    await read(daemon, snippet_uri(ws, sid, "b.txt"))
    before = await commits(sandbox, ws, sid)

    sandbox.clear_requests()
    setattr(sandbox.faults, lost_answer, 1)
    saved = (await write(daemon, uri, b"a2\n"))["revision"]
    # The first PUT landed without an answer, the second met 405 (HEAD had moved to it), and one
    # read of HEAD showed that HEAD is exactly this save.
    assert served(sandbox) == [("PUT", LOST_ANSWERS[lost_answer]), ("PUT", 405), ("GET", 200)]
    assert await remote(sandbox, ws, sid) == (saved, {"a.txt": b"a2\n", "b.txt": b"b1\n"})
    assert await commits(sandbox, ws, sid) == before + 1

    # The daemon now holds a.txt at that revision: the next, different edits save, one PUT each.
    sandbox.clear_requests()
    third = (await write(daemon, uri, b"a3\n"))["revision"]
    other = (await write(daemon, snippet_uri(ws, sid, "b.txt"), b"b2\n"))["revision"]
    assert served(sandbox) == [("PUT", 200), ("PUT", 200)]
    assert await remote(sandbox, ws, sid) == (other, {"a.txt": b"a3\n", "b.txt": b"b2\n"})
    assert third != saved
    assert await commits(sandbox, ws, sid) == before + 3


async def test_a_rename_whose_answer_was_lost_lands_once(daemon: Daemon, sandbox: Sandbox, lost_answer: str) -> None:
    ws, sid = await create(daemon, {"a.txt": b"a1\n", "k.txt": b"k\n"})
    await daemon.command("bbsnippets.open", workspace=ws, id=sid)
    before = await commits(sandbox, ws, sid)

    sandbox.clear_requests()
    setattr(sandbox.faults, lost_answer, 1)
    await rename(daemon, snippet_uri(ws, sid, "a.txt"), snippet_uri(ws, sid, "moved.txt"))
    assert served(sandbox) == [("PUT", LOST_ANSWERS[lost_answer]), ("PUT", 405), ("GET", 200)]
    assert (await remote(sandbox, ws, sid))[1] == {"moved.txt": b"a1\n", "k.txt": b"k\n"}
    assert await commits(sandbox, ws, sid) == before + 1

    sandbox.clear_requests()
    await write(daemon, snippet_uri(ws, sid, "moved.txt"), b"a2\n")
    await write(daemon, snippet_uri(ws, sid, "k.txt"), b"k2\n")
    assert served(sandbox) == [("PUT", 200), ("PUT", 200)]
    assert (await remote(sandbox, ws, sid))[1] == {"moved.txt": b"a2\n", "k.txt": b"k2\n"}


async def test_another_writer_still_conflicts_when_the_save_was_sent_again(daemon: Daemon, sandbox: Sandbox) -> None:
    ws, sid = await create(daemon, {"a.txt": b"a1\n", "b.txt": b"b1\n"})
    uri = snippet_uri(ws, sid, "a.txt")
    await read(daemon, uri)
    async with make_client(sandbox) as other:
        theirs = await other.update_snippet(ws, sid, files={"b.txt": b"their b\n"})

    sandbox.clear_requests()
    sandbox.faults.drop_next = 1  # the first try never arrives; the second meets 405: theirs, not ours
    error = await fails("conflict", write(daemon, uri, b"my a\n"))
    assert served(sandbox) == [("PUT", 0), ("PUT", 405), ("GET", 200)]
    assert error.data["remoteRevision"] == theirs.revision
    assert await remote(sandbox, ws, sid) == (theirs.revision, {"a.txt": b"a1\n", "b.txt": b"their b\n"})


# --------------------------------------------------------------------------- creates


async def test_a_create_whose_answer_was_lost_is_adopted_not_repeated(
    daemon: Daemon, sandbox: Sandbox, lost_answer: str
) -> None:
    sandbox.clear_requests()
    setattr(sandbox.faults, lost_answer, 1)
    created = await daemon.command(
        "bbsnippets.create",
        files=[{"name": "lost.txt", "text": "made once\n"}, {"name": "bin.dat", "base64": b64(b"\x00\xff")}],
        title="a lost answer",
    )
    # One POST, then the newest snippets (one page), then the candidate's bytes.
    assert served(sandbox) == [("POST", LOST_ANSWERS[lost_answer]), ("GET", 200), ("GET", 200)]
    assert await snippets(sandbox) == [created["id"]]
    assert created["title"] == "a lost answer" and created["isPrivate"] is True
    assert created["uri"] == snippet_uri(created["workspace"], created["id"])

    # The daemon holds what it adopted: reading costs nothing, saving one PUT.
    uri = snippet_uri(created["workspace"], created["id"], "lost.txt")
    sandbox.clear_requests()
    assert await read(daemon, uri) == b"made once\n"
    await write(daemon, uri, b"edited\n")
    assert served(sandbox) == [("PUT", 200)]
    assert (await remote(sandbox, created["workspace"], created["id"]))[1] == {
        "lost.txt": b"edited\n",
        "bin.dat": b"\x00\xff",
    }


async def test_a_lost_create_that_made_nothing_says_so(daemon: Daemon, sandbox: Sandbox) -> None:
    files = [{"name": "a.txt", "text": "same\n"}]
    first = await daemon.command("bbsnippets.create", files=files, title="twice")

    # The same title and bytes again, and the POST never arrives: the snippet made before is not
    # mistaken for it (this daemon made that one), and the user learns that nothing was created.
    sandbox.clear_requests()
    sandbox.faults.drop_next = 1
    error = await fails("network", daemon.command("bbsnippets.create", files=files, title="twice"))
    assert "nothing was created" in error.message
    assert served(sandbox) == [("POST", 0), ("GET", 200)]
    assert await snippets(sandbox) == [first["id"]]

    # Once more, and this time it lands without an answer: that one is adopted, not the first.
    sandbox.clear_requests()
    sandbox.faults.drop_after_apply_next = 1
    second = await daemon.command("bbsnippets.create", files=files, title="twice")
    assert served(sandbox) == [("POST", 0), ("GET", 200), ("GET", 200)]
    assert second["id"] != first["id"]
    assert sorted(await snippets(sandbox)) == sorted([first["id"], second["id"]])
    content = await daemon.request("bbsnippets/readFile", uri=snippet_uri(second["workspace"], second["id"], "a.txt"))
    assert base64.b64decode(content["base64"]) == b"same\n"


async def test_a_duplicate_whose_answer_was_lost_is_adopted_not_repeated(daemon: Daemon, sandbox: Sandbox) -> None:
    ws, source = await create(daemon, {"a.txt": b"a\n"})
    sandbox.clear_requests()
    sandbox.faults.drop_after_apply_next = 1
    copy = await daemon.command("bbsnippets.duplicate", workspace=ws, id=source, title="the copy")
    assert served(sandbox) == [("POST", 0), ("GET", 200), ("GET", 200)]  # the source came from the cache
    assert sorted(await snippets(sandbox)) == sorted([source, copy["id"]])
    assert (await remote(sandbox, ws, copy["id"]))[1] == {"a.txt": b"a\n"}


async def test_a_lost_create_is_found_past_the_first_page_of_a_server_that_ignores_sort(sandbox: Sandbox) -> None:
    store = sandbox._open()  # 105 snippets straight into storage: quicker than 105 POSTs
    seeded = {
        store.create_snippet("demo", sandbox.users[0], title=f"s{number}", is_private=True, files={"f.txt": b"x"}).id
        for number in range(105)
    }
    sandbox.faults.ignore_sort = 1  # oldest first: what the lost create made is on the second page
    sandbox.clear_requests()
    sandbox.faults.drop_after_apply_next = 1
    async with make_client(sandbox) as client:
        # The same title and bytes as a snippet made moments before (by someone else): that one is not it.
        made = await client.create_snippet("demo", {"f.txt": b"x"}, title="s7")
    assert served(sandbox) == [("POST", 0), ("GET", 200), ("GET", 200), ("GET", 200)]
    assert made.id not in seeded and made.title == "s7"
    assert sandbox.requests[-1].path == f"/2.0/snippets/demo/{made.id}"  # the nearest candidate was read first
    assert set(await snippets(sandbox)) == {*seeded, made.id}


# --------------------------------------------------------------------------- deleting a snippet


async def test_a_delete_whose_answer_was_lost_is_done(daemon: Daemon, sandbox: Sandbox) -> None:
    ws, sid = await create(daemon, {"a.txt": b"a\n"})
    await read(daemon, snippet_uri(ws, sid, "a.txt"))
    sandbox.clear_requests()
    sandbox.faults.drop_after_apply_next = 1
    assert await daemon.command("bbsnippets.delete", workspace=ws, id=sid) == {"deleted": True}
    # Sent again (a compare-and-swap DELETE is idempotent), it found the snippet gone: its own doing.
    assert served(sandbox) == [("DELETE", 0), ("DELETE", 404)]
    async with make_client(sandbox) as other:
        with pytest.raises(NotFound):
            await other.get_snippet(ws, sid)
    await fails("notFound", daemon.request("bbsnippets/stat", uri=snippet_uri(ws, sid)))


# --------------------------------------------------------------------------- #19 item 9: comments


async def test_a_comment_whose_answer_was_lost_is_adopted_not_posted_twice(
    daemon: Daemon, sandbox: Sandbox, lost_answer: str
) -> None:
    ws, sid = await create(daemon, {"a.txt": b"a\n"})
    setattr(sandbox.faults, lost_answer, 1)  # Bitbucket posts it; its answer never arrives
    posted = await daemon.command("bbsnippets.comments.add", workspace=ws, id=sid, raw="looks good to me")
    assert posted["raw"] == "looks good to me" and posted["id"]
    async with make_client(sandbox) as other:
        comments = [comment for comment in await other.list_comments(ws, sid) if not comment.deleted]
    assert [(comment.id, comment.raw) for comment in comments] == [(posted["id"], "looks good to me")]  # once

    setattr(sandbox.faults, lost_answer, 1)  # deleted; its answer never arrives
    assert await daemon.command("bbsnippets.comments.delete", workspace=ws, id=sid, commentId=posted["id"]) == {
        "deleted": True
    }
    async with make_client(sandbox) as other:
        assert [comment for comment in await other.list_comments(ws, sid) if not comment.deleted] == []
