"""bbsnippets.restore end to end: one file, or the whole snippet, as it was at a revision, as one new commit in
the sandbox's real git history; at most 1 GET (the old files) + 1 PUT."""

from __future__ import annotations

import pytest

from snippet_daemon.sandbox import Sandbox
from tests.conftest import make_client, served
from tests.daemon import Daemon, DaemonError


async def three_revisions(sandbox: Sandbox) -> tuple[str, str, str]:
    """A snippet at r1 {a: v1, b}, then r2 {a: v2, b, c}; (id, r1, r2)."""
    async with make_client(sandbox) as client:
        made = await client.create_snippet("demo", {"a.txt": b"v1\n", "b.txt": b"b\n"}, title="restore me")
        assert made.revision
        later = await client.update_snippet("demo", made.id, files={"a.txt": b"v2\n", "c.txt": b"new\n"})
        assert later.revision
        return made.id, made.revision, later.revision


async def remote(sandbox: Sandbox, snippet_id: str) -> dict[str, bytes]:
    async with make_client(sandbox) as client:
        return dict((await client.get_snippet_content("demo", snippet_id)).files)


async def test_restore_one_file_then_the_whole_snippet(daemon: Daemon, sandbox: Sandbox) -> None:
    snippet_id, first, second = await three_revisions(sandbox)
    await daemon.command("bbsnippets.open", workspace="demo", id=snippet_id)  # the editor has it open

    sandbox.clear_requests()
    one = await daemon.command("bbsnippets.restore", workspace="demo", id=snippet_id, revision=first, path="a.txt")
    assert served(sandbox) == [("GET", 200), ("PUT", 200)]  # the old files, then one compare-and-swap PUT
    assert sandbox.requests[1].path.endswith(f"/{second}")
    assert one["files"] == ["a.txt"] and one["revision"] not in (first, second)
    assert await remote(sandbox, snippet_id) == {"a.txt": b"v1\n", "b.txt": b"b\n", "c.txt": b"new\n"}

    history = await daemon.command("bbsnippets.history", workspace="demo", id=snippet_id)
    assert [commit["hash"] for commit in history["commits"]][:3] == [one["revision"], second, first]

    sandbox.clear_requests()
    whole = await daemon.command("bbsnippets.restore", workspace="demo", id=snippet_id, revision=first)
    assert served(sandbox) == [("PUT", 200)]  # the old files are cached now
    assert whole["files"] == ["c.txt"]  # a.txt already holds v1; c.txt came later, so it goes
    assert await remote(sandbox, snippet_id) == {"a.txt": b"v1\n", "b.txt": b"b\n"}

    sandbox.clear_requests()
    again = await daemon.command("bbsnippets.restore", workspace="demo", id=snippet_id, revision=first)
    assert again == {"revision": whole["revision"], "files": []} and served(sandbox) == []

    restored_later = await daemon.command("bbsnippets.restore", workspace="demo", id=snippet_id, revision=second)
    assert restored_later["files"] == ["a.txt", "c.txt"]
    assert await remote(sandbox, snippet_id) == {"a.txt": b"v2\n", "b.txt": b"b\n", "c.txt": b"new\n"}
    history = await daemon.command("bbsnippets.history", workspace="demo", id=snippet_id)
    assert len(history["commits"]) == 5  # every restore is a new commit; nothing was rewritten


async def test_restore_of_a_snippet_someone_moved_conflicts_and_writes_nothing(
    daemon: Daemon, sandbox: Sandbox
) -> None:
    snippet_id, first, _ = await three_revisions(sandbox)
    await daemon.command("bbsnippets.open", workspace="demo", id=snippet_id)
    async with make_client(sandbox) as client:
        await client.update_snippet("demo", snippet_id, files={"b.txt": b"theirs\n"})
    with pytest.raises(DaemonError) as caught:
        await daemon.command("bbsnippets.restore", workspace="demo", id=snippet_id, revision=first, path="a.txt")
    assert caught.value.kind == "conflict" and "nothing was restored" in caught.value.message
    assert await remote(sandbox, snippet_id) == {"a.txt": b"v2\n", "b.txt": b"theirs\n", "c.txt": b"new\n"}
    with pytest.raises(DaemonError) as caught:
        await daemon.command("bbsnippets.restore", workspace="demo", id=snippet_id, revision=first, path="nope.txt")
    assert caught.value.kind == "notFound"


async def test_an_open_document_saved_after_a_restore_conflicts_instead_of_undoing_it(
    daemon: Daemon, sandbox: Sandbox
) -> None:
    snippet_id, first, _ = await three_revisions(sandbox)
    uri = f"bbsnippet://demo/{snippet_id}/a.txt"
    assert (await daemon.request("bbsnippets/readFile", uri=uri))["text"] == "v2\n"
    await daemon.command("bbsnippets.restore", workspace="demo", id=snippet_id, revision=first, path="a.txt")
    with pytest.raises(DaemonError) as caught:
        await daemon.request("bbsnippets/writeFile", uri=uri, text="v2, edited in the editor\n")
    assert caught.value.kind == "conflict"
    assert (await remote(sandbox, snippet_id))["a.txt"] == b"v1\n"
    # Read again (as an editor does when told what the restore changed), it saves.
    assert (await daemon.request("bbsnippets/readFile", uri=uri))["text"] == "v1\n"
    await daemon.request("bbsnippets/writeFile", uri=uri, text="v1, then edited\n")
    assert (await remote(sandbox, snippet_id))["a.txt"] == b"v1, then edited\n"
