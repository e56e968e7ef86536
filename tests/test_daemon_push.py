"""A folder tied to a snippet, end to end: pull links it, status compares, push sends it back in one
compare-and-swap PUT (the real daemon over stdio against the real sandbox, requests counted from its log).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from snippet_daemon.sandbox import Sandbox
from tests.conftest import LOST_ANSWERS, make_client, served
from tests.daemon import Daemon, DaemonError, start_daemon


async def create(sandbox: Sandbox, files: dict[str, bytes]) -> tuple[str, str | None]:
    async with make_client(sandbox) as client:
        snippet = await client.create_snippet("demo", files, title="linked")
        return snippet.id, snippet.revision


async def remote_files(sandbox: Sandbox, snippet_id: str) -> dict[str, bytes]:
    async with make_client(sandbox) as client:
        return dict((await client.get_snippet_content("demo", snippet_id)).files)


async def remote_update(sandbox: Sandbox, snippet_id: str, files: dict[str, bytes | None]) -> str | None:
    async with make_client(sandbox) as client:
        return (await client.update_snippet("demo", snippet_id, files=files)).revision


def states(result: dict[str, object]) -> dict[str, str]:
    files = result["files"]
    assert isinstance(files, list)
    return {entry["name"]: entry["state"] for entry in files}


async def test_pull_edit_status_push_sends_one_put_and_nothing_else(
    daemon: Daemon, sandbox: Sandbox, tmp_path: Path
) -> None:
    snippet_id, _ = await create(sandbox, {"a.txt": b"a1\n", "b.txt": b"b1\n", "lib/c.txt": b"c1\n"})
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "project.py").write_text("print('the project, not the snippet')\n")
    pulled = await daemon.command("bbsnippets.pull", workspace="demo", id=snippet_id, targetDir=str(folder))
    assert len(pulled["written"]) == 3

    sandbox.clear_requests()
    clean = await daemon.command("bbsnippets.status", folder=str(folder))
    assert states(clean) == {"a.txt": "unchanged", "b.txt": "unchanged", "lib/c.txt": "unchanged"}
    assert clean["workspace"] == "demo" and clean["id"] == snippet_id and "remoteRevision" not in clean
    assert len(sandbox.requests) <= 1

    (folder / "a.txt").write_bytes(b"a2 edited\r\n")
    (folder / "b.txt").unlink()
    (folder / "notes.md").write_text("added on purpose\n")
    (folder / "stray.log").write_text("never sent\n")
    sandbox.clear_requests()
    edited = await daemon.command("bbsnippets.status", folder=str(folder))
    assert states(edited) == {"a.txt": "modified", "b.txt": "deleted", "lib/c.txt": "unchanged"}
    assert {entry["name"]: entry["path"] for entry in edited["files"]}["a.txt"] == str(folder / "a.txt")
    assert len(sandbox.requests) <= 1

    sandbox.clear_requests()
    pushed = await daemon.command("bbsnippets.push", folder=str(folder), add=["notes.md"])
    assert [(request.method, request.status) for request in sandbox.requests] == [("PUT", 200)]
    assert sandbox.requests[0].path.endswith(f"/{clean['revision']}")  # compare-and-swap at the linked revision
    assert pushed["files"] == [
        {"name": "a.txt", "status": "sent"},
        {"name": "b.txt", "status": "deleted"},
        {"name": "notes.md", "status": "sent"},
    ]
    assert await remote_files(sandbox, snippet_id) == {
        "a.txt": b"a2 edited\r\n",
        "lib/c.txt": b"c1\n",
        "notes.md": b"added on purpose\n",
    }

    sandbox.clear_requests()
    after = await daemon.command("bbsnippets.status", folder=str(folder))
    assert after["revision"] == pushed["revision"] != clean["revision"]
    assert states(after) == {"a.txt": "unchanged", "lib/c.txt": "unchanged", "notes.md": "unchanged"}
    nothing = await daemon.command("bbsnippets.push", folder=str(folder))
    assert nothing == {"revision": pushed["revision"], "files": []}
    assert len(sandbox.requests) <= 1  # the status; the no-op push sent nothing
    assert all(request.method == "GET" for request in sandbox.requests)


async def test_a_push_over_a_remote_change_conflicts_keeps_both_sides_and_force_sends(
    daemon: Daemon, sandbox: Sandbox, tmp_path: Path
) -> None:
    snippet_id, _ = await create(sandbox, {"a.txt": b"a1\n", "b.txt": b"b1\n"})
    folder = tmp_path / "linked"
    await daemon.command("bbsnippets.pull", workspace="demo", id=snippet_id, targetDir=str(folder))
    (folder / "a.txt").write_bytes(b"mine\n")
    theirs = await remote_update(sandbox, snippet_id, {"b.txt": b"theirs\n"})

    sandbox.clear_requests()
    moved = await daemon.command("bbsnippets.status", folder=str(folder))
    assert moved["remoteRevision"] == theirs
    assert states(moved) == {"a.txt": "modified", "b.txt": "unchanged"}
    assert len(sandbox.requests) == 1

    sandbox.clear_requests()
    with pytest.raises(DaemonError) as caught:
        await daemon.command("bbsnippets.push", folder=str(folder))
    assert caught.value.kind == "conflict"
    assert caught.value.data["remoteRevision"] == theirs
    assert "nothing was sent" in caught.value.message and "force" in caught.value.message
    assert [method for method, status in served(sandbox) if method == "PUT"] == ["PUT"]
    assert ("PUT", 405) in served(sandbox)
    # Both sides are kept: my edit on disk, their change on Bitbucket.
    assert (folder / "a.txt").read_bytes() == b"mine\n" and (folder / "b.txt").read_bytes() == b"b1\n"
    assert await remote_files(sandbox, snippet_id) == {"a.txt": b"a1\n", "b.txt": b"theirs\n"}

    sandbox.clear_requests()
    forced = await daemon.command("bbsnippets.push", folder=str(folder), force=True)
    assert served(sandbox) == [("PUT", 200)]
    assert forced["files"] == [{"name": "a.txt", "status": "sent"}]
    # Only what changed locally is sent: their b.txt survives a forced push.
    assert await remote_files(sandbox, snippet_id) == {"a.txt": b"mine\n", "b.txt": b"theirs\n"}


async def test_a_single_linked_file_pushes_alone(daemon: Daemon, sandbox: Sandbox, tmp_path: Path) -> None:
    snippet_id, _ = await create(sandbox, {"deploy.sh": b"echo v1\n", "README.md": b"docs\n"})
    script = tmp_path / "scripts" / "deploy.sh"
    script.parent.mkdir()
    script.write_bytes(b"echo v1\n")
    (tmp_path / "scripts" / "README.md").write_text("a different readme, not linked\n")

    sandbox.clear_requests()
    linked = await daemon.command("bbsnippets.link", folder=str(script), workspace="demo", id=snippet_id)
    assert served(sandbox) == [("GET", 200)]
    assert linked["files"] == [{"name": "deploy.sh", "path": str(script), "state": "unchanged"}]

    script.write_bytes(b"echo v2\n")
    sandbox.clear_requests()
    pushed = await daemon.command("bbsnippets.push", folder=str(script))
    assert served(sandbox) == [("PUT", 200)]
    assert pushed["files"] == [{"name": "deploy.sh", "status": "sent"}]
    assert await remote_files(sandbox, snippet_id) == {"deploy.sh": b"echo v2\n", "README.md": b"docs\n"}
    with pytest.raises(DaemonError) as caught:
        await daemon.command("bbsnippets.push", folder=str(script), add=["README.md"])
    assert caught.value.kind == "invalidArgument" and "Link a folder" in caught.value.message


async def test_unlinked_folders_bad_names_and_links_per_account(
    daemon: Daemon, sandbox: Sandbox, tmp_path: Path
) -> None:
    with pytest.raises(DaemonError) as caught:
        await daemon.command("bbsnippets.status", folder=str(tmp_path))
    assert caught.value.kind == "invalidArgument"
    assert "not linked" in caught.value.message and "link" in caught.value.message
    with pytest.raises(DaemonError) as caught:
        await daemon.command("bbsnippets.push", folder="relative/folder")
    assert caught.value.kind == "invalidArgument" and "absolute" in caught.value.message

    snippet_id, _ = await create(sandbox, {"a.txt": b"a\n"})
    folder = tmp_path / "f"
    await daemon.command("bbsnippets.pull", workspace="demo", id=snippet_id, targetDir=str(folder))
    for name, kind in (
        ("../outside.txt", "unsafePath"),
        (".git/config", "unsafePath"),
        ("missing.txt", "invalidArgument"),
    ):
        with pytest.raises(DaemonError) as caught:
            await daemon.command("bbsnippets.push", folder=str(folder), add=[name])
        assert caught.value.kind == kind, (name, caught.value.message)

    # The link is kept in the daemon's data folder, privately, never in the user's tree.
    data = sandbox.data_dir.parent / "xdg-data" / "snippet-daemon" / "links"
    (store,) = data.glob("*.json")
    assert store.stat().st_mode & 0o777 == 0o600 and data.stat().st_mode & 0o777 == 0o700
    assert sorted(path.name for path in folder.iterdir()) == ["a.txt"]
    assert snippet_id in store.read_text()

    # Another account has links of its own: this folder is not linked for it.
    other = await start_daemon(sandbox, user=1)
    try:
        with pytest.raises(DaemonError) as caught:
            await other.command("bbsnippets.status", folder=str(folder))
        assert caught.value.kind == "invalidArgument"
    finally:
        await other.stop()


@pytest.mark.parametrize("lost_answer", sorted(LOST_ANSWERS))
async def test_a_push_whose_answer_was_lost_lands_once(sandbox: Sandbox, tmp_path: Path, lost_answer: str) -> None:
    """A daemon that has not read the snippet (started after the pull) tells its own landed push by digests."""
    snippet_id, _ = await create(sandbox, {"a.txt": b"a1\n", "b.txt": b"b1\n"})
    folder = tmp_path / "linked"
    first = await start_daemon(sandbox)
    try:
        await first.command("bbsnippets.pull", workspace="demo", id=snippet_id, targetDir=str(folder))
    finally:
        await first.stop()
    (folder / "a.txt").write_bytes(b"a2\n")
    daemon = await start_daemon(sandbox)
    try:
        sandbox.clear_requests()
        setattr(sandbox.faults, lost_answer, 1)
        pushed = await daemon.command("bbsnippets.push", folder=str(folder))
        assert served(sandbox) == [("PUT", LOST_ANSWERS[lost_answer]), ("PUT", 405), ("GET", 200)]
        assert pushed["files"] == [{"name": "a.txt", "status": "sent"}]
        assert await remote_files(sandbox, snippet_id) == {"a.txt": b"a2\n", "b.txt": b"b1\n"}
        status = await daemon.command("bbsnippets.status", folder=str(folder))
        assert status["revision"] == pushed["revision"] and "remoteRevision" not in status
        async with make_client(sandbox) as client:
            assert len(await client.list_commits("demo", snippet_id)) == 2  # created, pushed: landed once
    finally:
        await daemon.stop()


async def test_links_are_listed_under_a_folder_and_unlinked(daemon: Daemon, sandbox: Sandbox, tmp_path: Path) -> None:
    snippet_id, _ = await create(sandbox, {"a.txt": b"a\n"})
    inside, elsewhere = tmp_path / "workspace" / "pulled", tmp_path / "elsewhere"
    for folder in (inside, elsewhere):
        await daemon.command("bbsnippets.pull", workspace="demo", id=snippet_id, targetDir=str(folder))
    (tmp_path / "workspace" / "single.txt").write_text("a\n")
    await daemon.command(
        "bbsnippets.link", folder=str(tmp_path / "workspace" / "single.txt"), workspace="demo", id=snippet_id
    )

    sandbox.clear_requests()
    listed = await daemon.command("bbsnippets.links", under=str(tmp_path / "workspace"))
    assert [(entry["folder"], entry.get("file")) for entry in listed["links"]] == [
        (str(inside), None),
        (str(tmp_path / "workspace" / "single.txt"), "a.txt"),
    ]
    assert {entry["id"] for entry in listed["links"]} == {snippet_id}
    everything = await daemon.command("bbsnippets.links")
    assert len(everything["links"]) == 3
    assert await daemon.command("bbsnippets.unlink", folder=str(inside)) == {"unlinked": True}
    assert await daemon.command("bbsnippets.unlink", folder=str(inside)) == {"unlinked": False}
    assert served(sandbox) == []
    with pytest.raises(DaemonError) as caught:
        await daemon.command("bbsnippets.status", folder=str(inside))
    assert caught.value.kind == "invalidArgument"
    assert (inside / "a.txt").read_bytes() == b"a\n"  # unlinking touches no file


async def test_an_open_document_saved_after_a_push_conflicts_instead_of_undoing_it(
    daemon: Daemon, sandbox: Sandbox, tmp_path: Path
) -> None:
    snippet_id, _ = await create(sandbox, {"a.txt": b"a1\n", "b.txt": b"b1\n"})
    folder = tmp_path / "linked"
    await daemon.command("bbsnippets.pull", workspace="demo", id=snippet_id, targetDir=str(folder))
    uri = f"bbsnippet://demo/{snippet_id}/a.txt"
    opened = await daemon.request("bbsnippets/readFile", uri=uri)  # the editor holds a.txt as a1
    assert opened["text"] == "a1\n"
    (folder / "a.txt").write_bytes(b"pushed\n")
    await daemon.command("bbsnippets.push", folder=str(folder))
    with pytest.raises(DaemonError) as caught:
        await daemon.request("bbsnippets/writeFile", uri=uri, text="a1, edited in the editor\n")
    assert caught.value.kind == "conflict"
    assert (await remote_files(sandbox, snippet_id))["a.txt"] == b"pushed\n"
    # The other file, not pushed, still saves as usual.
    await daemon.request("bbsnippets/readFile", uri=f"bbsnippet://demo/{snippet_id}/b.txt")
    await daemon.request("bbsnippets/writeFile", uri=f"bbsnippet://demo/{snippet_id}/b.txt", text="b2\n")
    assert await remote_files(sandbox, snippet_id) == {"a.txt": b"pushed\n", "b.txt": b"b2\n"}


FAKE_GITHUB_TOKEN = "gh" + "p_" + ("aB3dE5fG7hJ9kL2mN4pQ6rS8tU" * 2)[:36]  # its shape, split so no scanner flags it


async def test_a_push_to_a_public_snippet_is_secret_scanned(daemon: Daemon, sandbox: Sandbox, tmp_path: Path) -> None:
    async with make_client(sandbox) as client:
        public = await client.create_snippet("demo", {"config.env": b"A=1\n"}, title="public", is_private=False)
    folder = tmp_path / "public"
    await daemon.command("bbsnippets.pull", workspace="demo", id=public.id, targetDir=str(folder))
    (folder / "config.env").write_text(f"A=1\nTOKEN={FAKE_GITHUB_TOKEN}\n")
    sandbox.clear_requests()
    with pytest.raises(DaemonError) as caught:
        await daemon.command("bbsnippets.push", folder=str(folder))
    assert caught.value.kind == "secretDetected" and served(sandbox) == []
    assert caught.value.data["findings"][0]["path"] == "config.env"
    pushed = await daemon.command("bbsnippets.push", folder=str(folder), allowSecrets=True)
    assert pushed["files"] == [{"name": "config.env", "status": "sent"}] and served(sandbox) == [("PUT", 200)]


async def test_a_shared_file_kept_linked_costs_no_request_more(
    daemon: Daemon, sandbox: Sandbox, tmp_path: Path
) -> None:
    script = tmp_path / "tool.py"
    script.write_text("print('v1')\n")
    sandbox.clear_requests()
    created = await daemon.command("bbsnippets.create", files=[{"name": "tool.py", "text": script.read_text()}])
    linked = await daemon.command(
        "bbsnippets.link", folder=str(script), workspace=created["workspace"], id=created["id"]
    )
    assert served(sandbox) == [("POST", 201)]  # the share; keeping it linked reads nothing
    assert linked["files"] == [{"name": "tool.py", "path": str(script), "state": "unchanged"}]
    script.write_text("print('v2')\n")
    pushed = await daemon.command("bbsnippets.push", folder=str(script))
    assert pushed["files"] == [{"name": "tool.py", "status": "sent"}]
    assert served(sandbox) == [("POST", 201), ("PUT", 200)]
