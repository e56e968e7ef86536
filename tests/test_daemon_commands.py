"""Every ``bbsnippets.*`` command and every error kind, end to end: the real daemon over stdio
(pytest-lsp, as VS Code and as Neovim) against the real sandbox, checked as a user would notice.

Watching and ``bbsnippets/didChange`` are in ``test_daemon_watch.py``.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any, ClassVar

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from snippet_daemon.bitbucket import KeyringStore, NotFound
from snippet_daemon.sandbox import Sandbox
from snippet_daemon.sandbox.store import Store
from tests.conftest import make_client
from tests.daemon import CLIENTS, Daemon, DaemonError, start_daemon

TEAM = "sandbox-team"  # the sandbox's shared workspace: demo, alice and reader are members
READER = 2  # sandbox.users[2]: read:snippet:bitbucket only
BINARY = bytes(range(256)) + b"\r\n\x00\xff"
# A GitHub personal access token by its documented shape, assembled so no scanner flags this file.
FAKE_GITHUB_TOKEN = "gh" + "p_" + ("aB3dE5fG7hJ9kL2mN4pQ6rS8tU" * 2)[:36]


@pytest.fixture(params=CLIENTS)
def capabilities(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def daemon(sandbox: Sandbox, capabilities: str) -> AsyncIterator[Daemon]:
    started = await start_daemon(sandbox, capabilities=capabilities)
    try:
        yield started
    finally:
        await started.stop()


def store(sandbox: Sandbox) -> Store:
    """The sandbox's storage, to set up what the API would refuse or what would take long over HTTP."""
    return sandbox._open()


def api_requests(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [(request.method, request.path) for request in sandbox.requests]


async def expect_error(daemon: Daemon, kind: str, command: str, /, **arguments: Any) -> DaemonError:
    with pytest.raises(DaemonError) as caught:
        await daemon.command(command, **arguments)
    assert caught.value.kind == kind, (caught.value.kind, caught.value.message)
    assert caught.value.data["kind"] == kind
    return caught.value


def files_under(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file() or path.is_symlink())


# --------------------------------------------------------------------------- create / list / open


async def test_create_sends_every_file_in_one_post_privately_and_byte_exact(daemon: Daemon, sandbox: Sandbox) -> None:
    files: list[dict[str, str]] = [{"name": f"notes/{index:02}.md", "text": f"# note {index}\n"} for index in range(10)]
    files.append({"name": "blob.bin", "base64": base64.b64encode(BINARY).decode("ascii")})
    files.append({"name": "crlf.txt", "text": "a\r\nb\r\n\u00e9\n"})
    tokens_before = set(daemon.client.progress_reports)
    sandbox.clear_requests()

    created = await daemon.command("bbsnippets.create", title="Twelve", files=files)

    assert api_requests(sandbox) == [("POST", "/2.0/snippets/demo")]
    assert created["workspace"] == "demo" and created["title"] == "Twelve"
    assert created["isPrivate"] is True  # private unless asked otherwise
    assert created["uri"] == f"bbsnippet://demo/{created['id']}/"
    assert created["htmlUrl"].endswith(f"/snippets/demo/{created['id']}")
    async with make_client(sandbox) as client:
        content = await client.get_snippet_content("demo", created["id"])
    assert content.snippet.is_private is True and content.snippet.title == "Twelve"
    assert content.files["blob.bin"] == BINARY
    assert content.files["crlf.txt"] == "a\r\nb\r\n\u00e9\n".encode()
    assert content.files["notes/07.md"] == b"# note 7\n"
    assert len(content.files) == 12

    # Both clients announce window.workDoneProgress: a multi-file create shows progress.
    new_tokens = set(daemon.client.progress_reports) - tokens_before
    assert len(new_tokens) == 1
    reports = daemon.client.progress_reports[new_tokens.pop()]
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and "12 files" in reports[0].title
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)

    # A single file: no progress bar, no title given -> the file name.
    tokens_before = set(daemon.client.progress_reports)
    single = await daemon.command("bbsnippets.create", files=[{"name": "one.py", "text": "print(1)\n"}])
    assert single["title"] == "one.py" and single["isPrivate"] is True
    assert set(daemon.client.progress_reports) == tokens_before


async def test_create_refuses_bad_input_without_sending_anything(daemon: Daemon, sandbox: Sandbox) -> None:
    sandbox.clear_requests()
    await expect_error(daemon, "invalidArgument", "bbsnippets.create", files=[])
    error = await expect_error(
        daemon, "invalidArgument", "bbsnippets.create", files=[{"name": "a.bin", "base64": "%%"}]
    )
    assert "base64" in error.message
    await expect_error(
        daemon, "invalidArgument", "bbsnippets.create", files=[{"name": "a.txt", "text": "x", "base64": "eA=="}]
    )
    await expect_error(
        daemon,
        "invalidArgument",
        "bbsnippets.create",
        files=[{"name": "a.txt", "text": "1"}, {"name": "a.txt", "text": "2"}],
    )
    for name in ("../up.txt", "/abs.txt", ".git/config", "a\\b.txt", "new\nline.txt", "rtl\u202etxt.exe"):
        error = await expect_error(daemon, "unsafePath", "bbsnippets.create", files=[{"name": name, "text": "x"}])
        assert "relative name" in error.message and "Malformed" not in error.message
    error = await expect_error(daemon, "invalidArgument", "bbsnippets.create", files=[{"name": 3, "text": "x"}])
    assert "name" in error.message
    await expect_error(daemon, "invalidArgument", "bbsnippets.create", title="no files")
    assert sandbox.requests == []


async def test_list_of_205_snippets_takes_three_requests(daemon: Daemon, sandbox: Sandbox) -> None:
    demo = sandbox.users[0]
    ids = {
        store(sandbox).create_snippet("demo", demo, title=f"s{index}", is_private=index % 2 == 0, files={}).id
        for index in range(205)
    }
    tokens_before = set(daemon.client.progress_reports)
    sandbox.clear_requests()

    listed = await daemon.command("bbsnippets.list", workspace="demo")

    assert [method for method, _ in api_requests(sandbox)] == ["GET"] * 3
    assert {path for _, path in api_requests(sandbox)} == {"/2.0/snippets/demo"}
    snippets = listed["snippets"]
    assert len(snippets) == 205 and {row["id"] for row in snippets} == ids
    first = next(row for row in snippets if row["title"] == "s0")
    assert first["workspace"] == "demo" and first["isPrivate"] is True
    assert first["createdOn"] and first["updatedOn"] and first["htmlUrl"].endswith(f"/snippets/demo/{first['id']}")
    assert next(row for row in snippets if row["title"] == "s1")["isPrivate"] is False
    # More than one page: the list shows progress.
    assert len(set(daemon.client.progress_reports) - tokens_before) == 1

    # No workspace given: the configured one.
    assert len((await daemon.command("bbsnippets.list"))["snippets"]) == 205
    # role=owner in the shared workspace: only what demo created there.
    store(sandbox).create_snippet(TEAM, sandbox.users[1], title="alice's", is_private=True, files={})
    mine = await daemon.command("bbsnippets.create", workspace=TEAM, files=[{"name": "m.txt", "text": "m"}])
    owned = await daemon.command("bbsnippets.list", workspace=TEAM, role="owner")
    assert [row["id"] for row in owned["snippets"]] == [mine["id"]]
    assert len((await daemon.command("bbsnippets.list", workspace=TEAM))["snippets"]) == 2
    await expect_error(daemon, "invalidArgument", "bbsnippets.list", role="boss")


async def test_open_lists_files_in_one_request_and_at_a_revision(daemon: Daemon, sandbox: Sandbox) -> None:
    async with make_client(sandbox) as client:
        first = await client.create_snippet("demo", {"a.txt": b"one\n", "b.bin": BINARY}, title="T")
        second = await client.update_snippet("demo", first.id, files={"a.txt": b"one\ntwo\n", "c/d.txt": b"d"})
    sandbox.clear_requests()

    opened = await daemon.command("bbsnippets.open", workspace="demo", id=first.id)

    assert len(sandbox.requests) == 1
    assert opened["title"] == "T" and opened["isPrivate"] is True and opened["revision"] == second.revision
    assert opened["htmlUrl"].endswith(f"/snippets/demo/{first.id}")
    assert opened["files"] == [
        {"name": "a.txt", "uri": f"bbsnippet://demo/{first.id}/a.txt", "binary": False, "size": 8},
        {"name": "b.bin", "uri": f"bbsnippet://demo/{first.id}/b.bin", "binary": True, "size": len(BINARY)},
        {"name": "c/d.txt", "uri": f"bbsnippet://demo/{first.id}/c/d.txt", "binary": False, "size": 1},
    ]
    # Every file is then read from what open fetched.
    for entry in opened["files"]:
        read = await daemon.request("bbsnippets/readFile", uri=entry["uri"])
        assert base64.b64decode(read["base64"]) in (b"one\ntwo\n", BINARY, b"d")
    assert len(sandbox.requests) == 1

    old = await daemon.command("bbsnippets.open", workspace="demo", id=first.id, revision=first.revision)
    assert old["revision"] == first.revision
    assert [(f["name"], f["size"]) for f in old["files"]] == [("a.txt", 4), ("b.bin", len(BINARY))]
    assert old["files"][0]["uri"] == f"bbsnippet://demo/{first.id}/a.txt?rev={first.revision}"
    read = await daemon.request("bbsnippets/readFile", uri=old["files"][0]["uri"])
    assert read["text"] == "one\n"

    await expect_error(daemon, "notFound", "bbsnippets.open", workspace="demo", id="nope1")
    await expect_error(daemon, "invalidArgument", "bbsnippets.open", workspace="demo")


# --------------------------------------------------------------------------- update / delete


async def test_update_title_and_visibility_and_the_secret_gate(daemon: Daemon, sandbox: Sandbox) -> None:
    created = await daemon.command(
        "bbsnippets.create",
        title="config",
        files=[{"name": "deploy.sh", "text": f"export GITHUB_TOKEN={FAKE_GITHUB_TOKEN}\n"}],
    )
    ref = {"workspace": "demo", "id": created["id"]}
    # A private snippet is not scanned: the create above went through.
    assert created["isPrivate"] is True

    renamed = await daemon.command("bbsnippets.update", **ref, title="Deploy config")
    assert renamed["title"] == "Deploy config" and renamed["isPrivate"] is True
    assert [f["name"] for f in renamed["files"]] == ["deploy.sh"]

    sandbox.clear_requests()
    refused = await expect_error(daemon, "secretDetected", "bbsnippets.update", **ref, isPrivate=False)
    assert "deploy.sh line 1" in refused.message and "allowSecrets" in refused.message
    assert FAKE_GITHUB_TOKEN not in refused.message and FAKE_GITHUB_TOKEN not in str(refused.data)
    assert refused.data["findings"] == [{"path": "deploy.sh", "line": 1, "rule": "GitHub token"}]
    assert not [r for r in sandbox.requests if r.method == "PUT"]

    async with make_client(sandbox) as client:
        remote = await client.get_snippet("demo", created["id"])
        assert remote.is_private is True and remote.title == "Deploy config"

        published = await daemon.command("bbsnippets.update", **ref, isPrivate=False, allowSecrets=True)
        assert published["isPrivate"] is False and published["title"] == "Deploy config"
        assert (await client.get_snippet("demo", created["id"])).is_private is False

    # Back to private needs no scan; nothing given changes nothing.
    assert (await daemon.command("bbsnippets.update", **ref, isPrivate=True))["isPrivate"] is True
    assert (await daemon.command("bbsnippets.update", **ref))["title"] == "Deploy config"
    await expect_error(daemon, "notFound", "bbsnippets.update", workspace="demo", id="nope1", title="x")
    await expect_error(daemon, "invalidArgument", "bbsnippets.update", **ref, isPrivate="no")


async def test_duplicate_copies_every_file_privately_in_one_post_when_cached(daemon: Daemon, sandbox: Sandbox) -> None:
    async with make_client(sandbox, 1) as alice:
        source = await alice.create_snippet(
            TEAM, {"a.py": b"print(1)\r\n", "bin/blob.bin": BINARY}, title="alice's helper", is_private=False
        )
    ref = {"workspace": TEAM, "id": source.id}
    await daemon.command("bbsnippets.open", **ref)  # the source is now cached
    sandbox.clear_requests()

    copy = await daemon.command("bbsnippets.duplicate", **ref, toWorkspace="demo")

    assert api_requests(sandbox) == [("POST", "/2.0/snippets/demo")]  # cached source: 1 POST
    assert copy["workspace"] == "demo" and copy["id"] != source.id
    assert copy["title"] == "alice's helper" and copy["isPrivate"] is True  # private by default, even from public
    assert copy["uri"] == f"bbsnippet://demo/{copy['id']}/" and copy["htmlUrl"]
    async with make_client(sandbox) as client:
        content = await client.get_snippet_content("demo", copy["id"])
    assert content.files == {"a.py": b"print(1)\r\n", "bin/blob.bin": BINARY}  # byte-exact
    # Opening the copy costs nothing more: its content is known.
    sandbox.clear_requests()
    await daemon.request("bbsnippets/readFile", uri=f"bbsnippet://demo/{copy['id']}/a.py")
    assert sandbox.requests == []


async def test_duplicate_of_an_uncached_snippet_costs_two_requests_and_scans_public_copies(
    daemon: Daemon, sandbox: Sandbox
) -> None:
    async with make_client(sandbox, 1) as alice:
        source = await alice.create_snippet(TEAM, {"deploy.sh": f"TOKEN={FAKE_GITHUB_TOKEN}\n".encode()}, title="ci")
        other = await alice.create_snippet(TEAM, {"notes.md": b"# notes\n"}, title="notes")
    sandbox.clear_requests()

    renamed = await daemon.command("bbsnippets.duplicate", workspace=TEAM, id=other.id, title="my copy")
    assert api_requests(sandbox) == [("GET", f"/2.0/snippets/{TEAM}/{other.id}"), ("POST", f"/2.0/snippets/{TEAM}")]
    assert renamed["workspace"] == TEAM and renamed["title"] == "my copy" and renamed["isPrivate"] is True

    sandbox.clear_requests()
    ref = {"workspace": TEAM, "id": source.id}
    refused = await expect_error(daemon, "secretDetected", "bbsnippets.duplicate", **ref, isPrivate=False)
    assert refused.data["findings"] == [{"path": "deploy.sh", "line": 1, "rule": "GitHub token"}]
    assert [method for method, _ in api_requests(sandbox)] == ["GET"]  # read, scanned, nothing created
    published = await daemon.command("bbsnippets.duplicate", **ref, isPrivate=False, allowSecrets=True)
    assert published["isPrivate"] is False

    await expect_error(daemon, "notFound", "bbsnippets.duplicate", workspace="demo", id="nope1")


async def test_delete_removes_the_snippet(daemon: Daemon, sandbox: Sandbox) -> None:
    created = await daemon.command("bbsnippets.create", files=[{"name": "gone.txt", "text": "bye\n"}])
    ref = {"workspace": "demo", "id": created["id"]}
    await daemon.command("bbsnippets.open", **ref)

    assert await daemon.command("bbsnippets.delete", **ref) == {"deleted": True}

    async with make_client(sandbox) as client:
        with pytest.raises(NotFound):
            await client.get_snippet("demo", created["id"])
    await expect_error(daemon, "notFound", "bbsnippets.open", **ref)
    await expect_error(daemon, "notFound", "bbsnippets.delete", **ref)
    listed = await daemon.command("bbsnippets.list")
    assert created["id"] not in {row["id"] for row in listed["snippets"]}


async def test_delete_of_a_snippet_changed_elsewhere_asks_first(daemon: Daemon, sandbox: Sandbox) -> None:
    created = await daemon.command("bbsnippets.create", files=[{"name": "a.txt", "text": "a\n"}])
    ref = {"workspace": "demo", "id": created["id"]}
    async with make_client(sandbox) as client:
        changed = await client.update_snippet("demo", created["id"], files={"a.txt": b"changed elsewhere\n"})

        conflict = await expect_error(daemon, "conflict", "bbsnippets.delete", **ref)
        assert conflict.data["remoteRevision"] == changed.revision
        assert "again" in conflict.message
        assert (await client.get_snippet("demo", created["id"])).revision == changed.revision  # still there

        # Told, the user deletes again: that is deliberate.
        assert await daemon.command("bbsnippets.delete", **ref) == {"deleted": True}
        with pytest.raises(NotFound):
            await client.get_snippet("demo", created["id"])


# --------------------------------------------------------------------------- comments


async def test_comments_with_replies_and_line_anchors(daemon: Daemon, sandbox: Sandbox) -> None:
    created = await daemon.command(
        "bbsnippets.create",
        workspace=TEAM,
        files=[{"name": "app.py", "text": "a = 1\nb = 2\nc = 3\n"}, {"name": "dir/notes [draft].md", "text": "x\n"}],
    )
    ref = {"workspace": TEAM, "id": created["id"]}

    top = await daemon.command("bbsnippets.comments.add", **ref, raw="Looks good overall")
    assert top["raw"] == "Looks good overall" and top["author"] == "Demo User"
    assert "path" not in top and "line" not in top and "parentId" not in top
    reply = await daemon.command("bbsnippets.comments.add", **ref, raw="Agreed", parentId=top["id"])
    assert reply["parentId"] == top["id"]
    anchored = await daemon.command("bbsnippets.comments.add", **ref, raw="Why 2?", path="app.py", line=2)
    assert (anchored["path"], anchored["line"], anchored["raw"]) == ("app.py", 2, "Why 2?")
    # Spaces and brackets in a file name keep the anchor (and the link still reads well on the web).
    spaced = await daemon.command("bbsnippets.comments.add", **ref, raw="odd name", path="dir/notes [draft].md", line=1)
    assert (spaced["path"], spaced["line"], spaced["raw"]) == ("dir/notes [draft].md", 1, "odd name")

    async with make_client(sandbox, 1) as alice:
        # On bitbucket.org the anchor is a plain Markdown link to the line.
        stored = await alice.get_comment(TEAM, created["id"], anchored["id"])
        assert stored.raw.startswith("[app.py, line 2](") and "#file-app.py-L2)" in stored.raw
        assert stored.raw.endswith("\n\nWhy 2?")
        # Someone writing that form by hand on the website anchors a comment too.
        by_hand = await alice.create_comment(
            TEAM, created["id"], f"[app.py, line 3]({created['htmlUrl']}#file-app.py-L3)\n\nFrom the web", top["id"]
        )
        plain_link = await alice.create_comment(TEAM, created["id"], "[docs](https://example.com/docs) are here")

    listed = (await daemon.command("bbsnippets.comments.list", **ref))["comments"]
    assert [c["id"] for c in listed] == [
        top["id"],
        reply["id"],
        anchored["id"],
        spaced["id"],
        by_hand.id,
        plain_link.id,
    ]
    by_id = {c["id"]: c for c in listed}
    assert by_id[anchored["id"]]["path"] == "app.py" and by_id[anchored["id"]]["line"] == 2
    assert by_id[anchored["id"]]["raw"] == "Why 2?"
    assert "#file-app.py-L2" in by_id[anchored["id"]]["html"]
    hand = by_id[by_hand.id]
    assert (hand["path"], hand["line"], hand["raw"], hand["parentId"]) == ("app.py", 3, "From the web", top["id"])
    assert hand["author"] == "Alice Example"
    assert (
        "path" not in by_id[plain_link.id]
        and by_id[plain_link.id]["raw"] == "[docs](https://example.com/docs) are here"
    )
    assert by_id[reply["id"]]["parentId"] == top["id"] and "parentId" not in by_id[top["id"]]

    # Editing an anchored comment keeps its anchor.
    edited = await daemon.command("bbsnippets.comments.edit", **ref, commentId=anchored["id"], raw="Why two, not 3?")
    assert (edited["path"], edited["line"], edited["raw"]) == ("app.py", 2, "Why two, not 3?")
    relisted = {c["id"]: c for c in (await daemon.command("bbsnippets.comments.list", **ref))["comments"]}
    assert (relisted[anchored["id"]]["path"], relisted[anchored["id"]]["line"]) == ("app.py", 2)
    assert relisted[anchored["id"]]["raw"] == "Why two, not 3?"
    plain_edit = await daemon.command("bbsnippets.comments.edit", **ref, commentId=top["id"], raw="Looks great")
    assert plain_edit["raw"] == "Looks great" and "path" not in plain_edit

    assert await daemon.command("bbsnippets.comments.delete", **ref, commentId=anchored["id"]) == {"deleted": True}
    remaining = (await daemon.command("bbsnippets.comments.list", **ref))["comments"]
    assert anchored["id"] not in [c["id"] for c in remaining] and len(remaining) == 5

    # Anchors must name a file of the snippet and a line from 1, with both given.
    await expect_error(daemon, "invalidArgument", "bbsnippets.comments.add", **ref, raw="x", path="nope.py", line=1)
    await expect_error(daemon, "invalidArgument", "bbsnippets.comments.add", **ref, raw="x", path="app.py")
    await expect_error(daemon, "invalidArgument", "bbsnippets.comments.add", **ref, raw="x", line=3)
    await expect_error(daemon, "invalidArgument", "bbsnippets.comments.add", **ref, raw="x", path="app.py", line=0)
    await expect_error(daemon, "invalidArgument", "bbsnippets.comments.add", **ref, raw="  ")
    await expect_error(daemon, "invalidArgument", "bbsnippets.comments.edit", **ref, commentId=reply["id"], raw="")
    # Someone else's comment cannot be edited; a deleted one is gone.
    await expect_error(daemon, "forbidden", "bbsnippets.comments.edit", **ref, commentId=by_hand.id, raw="mine now")
    await expect_error(daemon, "notFound", "bbsnippets.comments.edit", **ref, commentId=anchored["id"], raw="x")

    # Deleting a comment that has a reply keeps the thread: the parent stays, empty and marked deleted.
    await daemon.command("bbsnippets.comments.delete", **ref, commentId=top["id"])
    listed = {c["id"]: c for c in (await daemon.command("bbsnippets.comments.list", **ref))["comments"]}
    assert listed[top["id"]]["deleted"] is True and listed[top["id"]]["raw"] == ""
    assert listed[reply["id"]]["parentId"] == top["id"] and listed[reply["id"]]["raw"] == "Agreed"
    assert "deleted" not in listed[reply["id"]]


# --------------------------------------------------------------------------- watch commands


async def test_watch_unwatch_status_and_watchers(daemon: Daemon, sandbox: Sandbox) -> None:
    created = await daemon.command("bbsnippets.create", workspace=TEAM, files=[{"name": "w.txt", "text": "w"}])
    ref = {"workspace": TEAM, "id": created["id"]}
    assert await daemon.command("bbsnippets.watchStatus", **ref) == {"watching": False}
    assert await daemon.command("bbsnippets.watchers", **ref) == {"watchers": []}

    assert await daemon.command("bbsnippets.watch", **ref) == {"watching": True}
    assert await daemon.command("bbsnippets.watchStatus", **ref) == {"watching": True}
    async with make_client(sandbox, 1) as alice:
        await alice.watch(TEAM, created["id"])
        assert await alice.is_watching(TEAM, created["id"])
    demo, alice_user = sandbox.users[0], sandbox.users[1]
    watchers = (await daemon.command("bbsnippets.watchers", **ref))["watchers"]
    assert watchers == [
        {"displayName": demo.display_name, "uuid": demo.uuid},
        {"displayName": alice_user.display_name, "uuid": alice_user.uuid},
    ]

    assert await daemon.command("bbsnippets.unwatch", **ref) == {"watching": False}
    assert await daemon.command("bbsnippets.watchStatus", **ref) == {"watching": False}
    assert [w["displayName"] for w in (await daemon.command("bbsnippets.watchers", **ref))["watchers"]] == [
        alice_user.display_name
    ]
    await expect_error(daemon, "notFound", "bbsnippets.watch", workspace=TEAM, id="nope1")


# --------------------------------------------------------------------------- history / diff


async def test_history_newest_first_and_diff(daemon: Daemon, sandbox: Sandbox) -> None:
    created = await daemon.command("bbsnippets.create", files=[{"name": "a.txt", "text": "alpha\n"}])
    ref = {"workspace": "demo", "id": created["id"]}
    opened = await daemon.command("bbsnippets.open", **ref)
    first_revision = opened["revision"]
    uri = opened["files"][0]["uri"]
    second = (await daemon.request("bbsnippets/writeFile", uri=uri, text="alpha\nbeta\n"))["revision"]
    async with make_client(sandbox) as client:
        third = (await client.update_snippet("demo", created["id"], files={"b.txt": b"bee\n"})).revision

    commits = (await daemon.command("bbsnippets.history", **ref))["commits"]

    assert [c["hash"] for c in commits] == [third, second, first_revision]
    assert commits[-1]["message"] == "Initial commit"
    assert all(c["author"] == "Demo User" and c["date"] for c in commits)
    diff = (await daemon.command("bbsnippets.diff", **ref, revision=second))["diff"]
    assert "+beta" in diff and "a.txt" in diff and "b.txt" not in diff
    only_b = (await daemon.command("bbsnippets.diff", **ref, revision=third, path="b.txt"))["diff"]
    assert "+bee" in only_b and "a.txt" not in only_b
    assert "+bee" not in (await daemon.command("bbsnippets.diff", **ref, revision=third, path="a.txt"))["diff"]
    await expect_error(daemon, "notFound", "bbsnippets.diff", **ref, revision="0" * 40)
    await expect_error(daemon, "invalidArgument", "bbsnippets.diff", **ref)
    await expect_error(daemon, "notFound", "bbsnippets.history", workspace="demo", id="nope1")


# --------------------------------------------------------------------------- pull


async def test_pull_is_byte_exact_and_keeps_local_changes_unless_overwrite(
    daemon: Daemon, sandbox: Sandbox, tmp_path: Path
) -> None:
    async with make_client(sandbox) as client:
        first = await client.create_snippet("demo", {"a.txt": b"remote\r\n", "bin/blob.bin": BINARY})
        second = await client.update_snippet("demo", first.id, files={"a.txt": b"remote v2\n"})
    ref = {"workspace": "demo", "id": first.id}
    target = tmp_path / "pulled"
    tokens_before = set(daemon.client.progress_reports)

    pulled = await daemon.command("bbsnippets.pull", **ref, targetDir=str(target))

    # A pull shows work-done progress from begin to end.
    (token,) = set(daemon.client.progress_reports) - tokens_before
    kinds = [report.kind for report in daemon.client.progress_reports[token]]
    assert kinds[0] == "begin" and kinds[-1] == "end" and "report" in kinds
    assert sorted(pulled["written"]) == [str(target / "a.txt"), str(target / "bin" / "blob.bin")]
    assert pulled["skipped"] == []
    assert (target / "a.txt").read_bytes() == b"remote v2\n"
    assert (target / "bin" / "blob.bin").read_bytes() == BINARY
    assert second.revision

    assert [(entry["name"], entry["status"]) for entry in pulled["files"]] == [
        ("a.txt", "written"),
        ("bin/blob.bin", "written"),
    ]

    (target / "a.txt").write_bytes(b"my local edit\n")
    kept = await daemon.command("bbsnippets.pull", **ref, targetDir=str(target))
    assert kept["skipped"] == ["a.txt"] and kept["written"] == []
    assert "overwrite" in kept["reasons"]["a.txt"]
    assert kept["unchanged"] == [str(target / "bin" / "blob.bin")]
    assert (target / "a.txt").read_bytes() == b"my local edit\n"
    # Per file: what an overwrite would replace (kind "exists") is told apart from what it would not.
    assert kept["files"] == [
        {
            "name": "a.txt",
            "path": str(target / "a.txt"),
            "status": "kept",
            "kind": "exists",
            "message": kept["reasons"]["a.txt"],
        },
        {"name": "bin/blob.bin", "path": str(target / "bin" / "blob.bin"), "status": "unchanged"},
    ]

    replaced = await daemon.command("bbsnippets.pull", **ref, targetDir=str(target), overwrite=True)
    assert replaced["written"] == [str(target / "a.txt")] and replaced["skipped"] == []
    assert (target / "a.txt").read_bytes() == b"remote v2\n"

    # An older revision, into another folder.
    old_dir = tmp_path / "old"
    at_first = await daemon.command("bbsnippets.pull", **ref, targetDir=str(old_dir), revision=first.revision)
    assert len(at_first["written"]) == 2 and (old_dir / "a.txt").read_bytes() == b"remote\r\n"

    assert files_under(tmp_path / "pulled") == ["a.txt", "bin/blob.bin"]
    error = await expect_error(daemon, "invalidArgument", "bbsnippets.pull", **ref, targetDir="relative/dir")
    assert "absolute" in error.message
    assert not Path("relative").exists()
    await expect_error(daemon, "invalidArgument", "bbsnippets.pull", **ref, targetDir=str(target / "a.txt"))
    await expect_error(daemon, "notFound", "bbsnippets.pull", workspace="demo", id="nope1", targetDir=str(target))


HOSTILE_IN_SANDBOX = ["../evil.txt", ".git/config", "a\\b.txt", "C:evil.txt", "sub/../../up.txt", "./dot.txt"]


async def test_pull_reports_hostile_names_skipped_and_writes_nothing_outside(
    daemon: Daemon, sandbox: Sandbox, tmp_path: Path
) -> None:
    # Names Bitbucket's API would refuse, put straight into storage; and one it accepts (a backslash),
    # sent as a raw multipart body.
    record = store(sandbox).create_snippet(
        "demo",
        sandbox.users[0],
        title="hostile",
        is_private=True,
        files={**{name: b"evil" for name in HOSTILE_IN_SANDBOX}, "ok.txt": b"fine\n"},
    )
    async with make_client(sandbox) as client:
        await client.update_snippet("demo", record.id, files={"back\\slash.txt": b"evil"})
    outer = tmp_path / "outer"
    target = outer / "chosen"

    pulled = await daemon.command("bbsnippets.pull", workspace="demo", id=record.id, targetDir=str(target))

    assert pulled["written"] == [str(target / "ok.txt")]
    assert sorted(pulled["skipped"]) == sorted([*HOSTILE_IN_SANDBOX, "back\\slash.txt"])
    assert set(pulled["reasons"]) == set(pulled["skipped"])
    refused = [entry for entry in pulled["files"] if entry["status"] == "refused"]
    assert sorted(entry["name"] for entry in refused) == sorted(pulled["skipped"])
    assert all(entry["kind"] == "unsafePath" and entry["message"] and "path" not in entry for entry in refused)
    assert files_under(outer) == ["chosen/ok.txt"]
    assert not (tmp_path / "up.txt").exists()


def hostile_body(files: dict[str, bytes]) -> tuple[bytes, str]:
    """A well-formed multipart/related snippet whatever the names hold: each name travels RFC 2231-encoded
    in Content-Disposition (which wins over Content-ID), so even a newline or a NUL arrives intact."""
    boundary = "hostile-boundary-7d1e"
    parts = [b'Content-Type: application/json\r\nContent-ID: snippet\r\n\r\n{"id": "evil", "title": "evil"}']
    for number, (name, data) in enumerate(files.items()):
        disposition = "attachment; filename*=utf-8''" + urllib.parse.quote(name, safe="")
        headers = (
            f"Content-Disposition: {disposition}\r\nContent-ID: <file-{number}>\r\nContent-Transfer-Encoding: base64"
        )
        parts.append(headers.encode("ascii") + b"\r\n\r\n" + base64.b64encode(data))
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    return body + b"--" + boundary.encode() + b"--\r\n", f'multipart/related; start="snippet"; boundary="{boundary}"'


class _HostileHandler(BaseHTTPRequestHandler):
    """A "Bitbucket" that answers every read with file names meant to escape the folder."""

    files: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        body, content_type = hostile_body(self.files)
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(files: dict[str, bytes]) -> Iterator[str]:
    """A hostile "Bitbucket" on loopback whose every snippet holds ``files``; its API URL."""
    handler = type("Handler", (_HostileHandler,), {"files": files})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/2.0"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def hostile_api(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    absolute = tmp_path / "absolute-victim.txt"
    with serving({str(absolute): b"x", "../escape.txt": b"x", ".git/config": b"x", "ok.txt": b"fine"}) as url:
        yield url, absolute


async def pull_from(api_url: str, sandbox: Sandbox, capabilities: str, target: Path) -> dict[str, Any]:
    """``bbsnippets.pull`` of the hostile server's snippet into ``target``, by a daemon pointed at it."""
    daemon = await start_daemon(
        sandbox,
        capabilities=capabilities,
        credentials={"BITBUCKET_ACCESS_TOKEN": "t0ken-x"},
        env={"BITBUCKET_API_URL": api_url},
    )
    try:
        pulled: dict[str, Any] = await daemon.command(
            "bbsnippets.pull", workspace="ws", id="evil", targetDir=str(target)
        )
    finally:
        await daemon.stop()
    return pulled


async def test_pull_refuses_absolute_names_from_a_malicious_server(
    sandbox: Sandbox, capabilities: str, hostile_api: tuple[str, Path], tmp_path: Path
) -> None:
    url, absolute = hostile_api
    target = tmp_path / "work" / "chosen"
    pulled = await pull_from(url, sandbox, capabilities, target)
    assert pulled["written"] == [str(target / "ok.txt")]
    assert sorted(pulled["skipped"]) == sorted([str(absolute), "../escape.txt", ".git/config"])
    assert not absolute.exists()
    assert files_under(tmp_path / "work") == ["chosen/ok.txt"]


LONG_NAME = "n" * 296 + ".txt"  # a 300-byte component: every common file system refuses it (ENAMETOOLONG)
DISGUISED = ["new\nline.txt", "nul\x00byte.txt", "tab\tname.txt", "invoice\u202etxt.exe", "iso\u2066late.txt"]


async def test_pull_reports_each_file_the_os_refuses_and_goes_on(
    sandbox: Sandbox, capabilities: str, tmp_path: Path
) -> None:
    files = {LONG_NAME: b"long", "clash": b"a file", "clash/inner.txt": b"under it", "ok.txt": b"fine\n"}
    files.update(dict.fromkeys(DISGUISED, b"fooled"))
    target = tmp_path / "outer" / "chosen"
    with serving(files) as url:
        pulled = await pull_from(url, sandbox, capabilities, target)
    by_name = {entry["name"]: entry for entry in pulled["files"]}
    assert sorted(by_name) == sorted(files)
    # The others were written; the file system's refusals are reported on their files with the OS's reason.
    assert by_name["ok.txt"]["status"] == "written" and (target / "ok.txt").read_bytes() == b"fine\n"
    assert by_name["clash"]["status"] == "written" and (target / "clash").read_bytes() == b"a file"
    for name in (LONG_NAME, "clash/inner.txt"):
        assert by_name[name]["status"] == "failed" and by_name[name]["kind"] == "fileSystem", by_name[name]
        assert by_name[name]["message"].startswith("the system refused to write it: ")
    assert "too long" in by_name[LONG_NAME]["message"].lower()
    # Names that would fool the user or the terminal are refused, never written.
    for name in DISGUISED:
        assert by_name[name]["status"] == "refused" and by_name[name]["kind"] == "unsafePath", by_name[name]
    assert sorted(pulled["written"]) == [str(target / "clash"), str(target / "ok.txt")]
    assert sorted(pulled["skipped"]) == sorted(set(files) - {"clash", "ok.txt"})
    assert files_under(tmp_path / "outer") == ["chosen/clash", "chosen/ok.txt"]


# --------------------------------------------------------------------------- account


async def test_whoami_with_environment_credentials(daemon: Daemon, sandbox: Sandbox) -> None:
    demo = sandbox.users[0]
    account = (await daemon.command("bbsnippets.whoami"))["account"]
    assert account == {"displayName": demo.display_name, "nickname": "demo", "uuid": demo.uuid, "username": demo.email}


@pytest.fixture
def daemon_keyring(sandbox: Sandbox, secret_service: KeyringStore) -> Iterator[KeyringStore]:
    """The daemon's own keyring service ("bitbucket-snippets", one entry per API URL), emptied afterwards."""
    keyring = KeyringStore()
    assert keyring.load(sandbox.base_url) is None
    try:
        yield keyring
    finally:
        keyring.delete(sandbox.base_url)


async def test_login_stores_in_the_keyring_and_logout_forgets(
    sandbox: Sandbox, capabilities: str, daemon_keyring: KeyringStore, capfd: pytest.CaptureFixture[str]
) -> None:
    url = sandbox.base_url
    demo, alice = sandbox.users[0], sandbox.users[1]
    log_text = ""
    daemon = await start_daemon(sandbox, capabilities=capabilities, credentials=False)
    try:
        error = await expect_error(daemon, "notAuthenticated", "bbsnippets.whoami")
        assert "snippet-daemon login" in error.message

        wrong = await expect_error(
            daemon, "notAuthenticated", "bbsnippets.login", kind="apiToken", username=demo.email, secret="ATATT-wrong-1"
        )
        assert "ATATT-wrong-1" not in wrong.message
        assert daemon_keyring.load(url) is None  # a rejected token is not stored
        await expect_error(daemon, "invalidArgument", "bbsnippets.login", kind="apiToken", secret=demo.api_token)
        await expect_error(daemon, "invalidArgument", "bbsnippets.login", kind="password", secret="x" * 10)

        logged_in = await daemon.command(
            "bbsnippets.login", kind="apiToken", username=demo.email, secret=demo.api_token
        )
        assert logged_in["account"]["displayName"] == demo.display_name
        assert logged_in["account"]["username"] == demo.email
        stored = daemon_keyring.load(url)
        assert stored is not None and stored.secret == demo.api_token and stored.username == demo.email
        assert (await daemon.command("bbsnippets.whoami"))["account"]["nickname"] == "demo"
        created = await daemon.command("bbsnippets.create", files=[{"name": "k.txt", "text": "k"}])
        assert created["workspace"] == "demo"
    finally:
        log_text += "\n".join(daemon.log_messages + daemon.shown_messages)
        await daemon.stop()

    # A new daemon, nothing in its environment: the keyring logs it in.
    again = await start_daemon(sandbox, capabilities=capabilities, credentials=False)
    try:
        assert (await again.command("bbsnippets.whoami"))["account"]["displayName"] == demo.display_name
        # Another account (an OAuth access token) replaces the first.
        switched = await again.command("bbsnippets.login", kind="accessToken", secret=alice.access_token)
        assert switched["account"]["nickname"] == "alice"
        assert (await again.command("bbsnippets.whoami"))["account"]["displayName"] == alice.display_name
        stored = daemon_keyring.load(url)
        assert stored is not None and stored.kind == "accessToken" and stored.secret == alice.access_token

        assert await again.command("bbsnippets.logout") == {}
        assert daemon_keyring.load(url) is None
        error = await expect_error(again, "notAuthenticated", "bbsnippets.list")
        assert "snippet-daemon login" in error.message
    finally:
        log_text += "\n".join(again.log_messages + again.shown_messages)
        await again.stop()

    stderr = capfd.readouterr().err
    assert "credentials from the keyring" in stderr and "credentials from the keyring" in log_text
    for secret in (demo.api_token, alice.access_token, "ATATT-wrong-1"):
        assert secret not in stderr and secret not in log_text


async def test_without_a_keyring_login_explains_and_logout_still_works(sandbox: Sandbox, capabilities: str) -> None:
    demo = sandbox.users[0]
    daemon = await start_daemon(
        sandbox, capabilities=capabilities, env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    )
    try:
        error = await expect_error(
            daemon, "credentialStore", "bbsnippets.login", kind="apiToken", username=demo.email, secret=demo.api_token
        )
        assert "No OS keyring" in error.message and "BITBUCKET_API_TOKEN" in error.message
        assert demo.api_token not in error.message
        # Nothing to forget in a keyring that does not exist; the environment's credentials still apply.
        assert await daemon.command("bbsnippets.logout") == {}
        assert (await daemon.command("bbsnippets.whoami"))["account"]["nickname"] == "demo"
    finally:
        await daemon.stop()


# --------------------------------------------------------------------------- error kinds


async def test_not_authenticated_says_how_to_log_in(sandbox: Sandbox, capabilities: str) -> None:
    daemon = await start_daemon(sandbox, capabilities=capabilities, credentials=False)
    try:
        sandbox.clear_requests()
        for command, arguments in (
            ("bbsnippets.list", {}),
            ("bbsnippets.open", {"workspace": "demo", "id": "abc12"}),
            ("bbsnippets.create", {"files": [{"name": "a", "text": "a"}]}),
            ("bbsnippets.whoami", {}),
        ):
            error = await expect_error(daemon, "notAuthenticated", command, **arguments)
            assert "snippet-daemon login" in error.message
            for scope in ("read:snippet:bitbucket", "write:snippet:bitbucket", "delete:snippet:bitbucket"):
                assert scope in error.message
        assert sandbox.requests == []  # nothing is sent without credentials
    finally:
        await daemon.stop()

    rejected = await start_daemon(
        sandbox,
        capabilities=capabilities,
        credentials={"BITBUCKET_USERNAME": sandbox.users[0].email, "BITBUCKET_API_TOKEN": "ATATT-not-the-token"},
    )
    try:
        error = await expect_error(rejected, "notAuthenticated", "bbsnippets.list")
        assert "BITBUCKET_API_TOKEN" in error.message and "ATATT-not-the-token" not in error.message
    finally:
        await rejected.stop()


async def test_forbidden_names_the_missing_scope(sandbox: Sandbox, capabilities: str) -> None:
    async with make_client(sandbox) as client:
        team_snippet = await client.create_snippet(TEAM, {"t.txt": b"team\n"})
    daemon = await start_daemon(sandbox, user=READER, capabilities=capabilities)
    try:
        # Without read:user:bitbucket, whoami still answers with the login name.
        reader = sandbox.users[READER]
        assert (await daemon.command("bbsnippets.whoami"))["account"] == {
            "displayName": reader.email,
            "username": reader.email,
        }
        # Reading works...
        opened = await daemon.command("bbsnippets.open", workspace=TEAM, id=team_snippet.id)
        assert [f["name"] for f in opened["files"]] == ["t.txt"]
        # ...writing does not.
        error = await expect_error(daemon, "forbidden", "bbsnippets.create", files=[{"name": "r.txt", "text": "r"}])
        assert "lacks the scope write:snippet:bitbucket" in error.message and "BITBUCKET_API_TOKEN" in error.message
        assert "write:snippet:bitbucket" in error.data["missingScopes"]
        await expect_error(daemon, "forbidden", "bbsnippets.update", workspace=TEAM, id=team_snippet.id, title="mine")
        await expect_error(daemon, "forbidden", "bbsnippets.delete", workspace=TEAM, id=team_snippet.id)
        await expect_error(
            daemon, "forbidden", "bbsnippets.comments.add", workspace=TEAM, id=team_snippet.id, raw="hello"
        )
    finally:
        await daemon.stop()
    async with make_client(sandbox) as client:
        still = await client.get_snippet(TEAM, team_snippet.id)
    assert still.title == team_snippet.title


async def test_rate_limited_after_backing_off(daemon: Daemon, sandbox: Sandbox) -> None:
    sandbox.faults.rate_limit_next = 10_000
    try:
        sandbox.clear_requests()
        error = await expect_error(daemon, "rateLimited", "bbsnippets.list")
        assert "Wait" in error.message or "wait" in error.message
        assert len(sandbox.requests) > 1  # it backed off and tried again before giving up
    finally:
        sandbox.faults.rate_limit_next = 0
    assert (await daemon.command("bbsnippets.list"))["snippets"] == []


async def test_server_error_after_bounded_retries(daemon: Daemon, sandbox: Sandbox) -> None:
    sandbox.faults.server_error_next = 10_000
    try:
        sandbox.clear_requests()
        error = await expect_error(daemon, "server", "bbsnippets.list")
        assert "HTTP 500" in error.message and "Try again later" in error.message
        assert 1 < len(sandbox.requests) <= 3  # a read is retried, a bounded number of times
        sandbox.clear_requests()
        await expect_error(daemon, "server", "bbsnippets.create", files=[{"name": "a", "text": "a"}])
        # A POST is never repeated: it may have been applied (what it made is looked for instead).
        assert [request.method for request in sandbox.requests].count("POST") == 1
    finally:
        sandbox.faults.server_error_next = 0


async def test_network_error_when_bitbucket_cannot_be_reached(sandbox: Sandbox, capabilities: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # nothing listens once the socket closes
    url = f"http://127.0.0.1:{closed_port}/2.0"
    daemon = await start_daemon(sandbox, capabilities=capabilities, env={"BITBUCKET_API_URL": url})
    try:
        error = await expect_error(daemon, "network", "bbsnippets.list")
        assert "BITBUCKET_API_URL" in error.message and url in error.message
        await expect_error(daemon, "network", "bbsnippets.create", files=[{"name": "a", "text": "a"}])
    finally:
        await daemon.stop()


async def test_plan_for_a_free_plan_workspace(daemon: Daemon) -> None:
    error = await expect_error(daemon, "plan", "bbsnippets.list", workspace="free-plan")
    assert "Standard or Premium" in error.message


async def test_plan_when_creating_in_a_free_plan_workspace(daemon: Daemon) -> None:
    error = await expect_error(
        daemon, "plan", "bbsnippets.create", workspace="free-plan", files=[{"name": "a.txt", "text": "a"}]
    )
    assert "Free plan" in error.message and "may not have access" not in error.message


async def test_secret_detected_only_for_public_content(daemon: Daemon, sandbox: Sandbox) -> None:
    files = [{"name": "ci.yml", "text": f"steps:\n  - run: deploy --token {FAKE_GITHUB_TOKEN}\n"}]
    sandbox.clear_requests()

    error = await expect_error(daemon, "secretDetected", "bbsnippets.create", files=files, isPrivate=False)

    assert sandbox.requests == []  # nothing was published
    assert "ci.yml line 2" in error.message and "private" in error.message and "allowSecrets" in error.message
    assert FAKE_GITHUB_TOKEN not in error.message and FAKE_GITHUB_TOKEN not in str(error.data)
    assert error.data["findings"] == [{"path": "ci.yml", "line": 2, "rule": "GitHub token"}]
    published = await daemon.command("bbsnippets.create", files=files, isPrivate=False, allowSecrets=True)
    assert published["isPrivate"] is False
    private = await daemon.command("bbsnippets.create", files=files)
    assert private["isPrivate"] is True
    # Writing the secret into a public snippet's file is caught too.
    clean = await daemon.command("bbsnippets.create", files=[{"name": "ok.txt", "text": "ok"}], isPrivate=False)
    with pytest.raises(DaemonError) as caught:
        await daemon.request("bbsnippets/writeFile", uri=f"{clean['uri']}ok.txt", text=f"token {FAKE_GITHUB_TOKEN}\n")
    assert caught.value.kind == "secretDetected"


async def test_invalid_arguments_name_what_is_wrong(daemon: Daemon) -> None:
    error = await expect_error(daemon, "invalidArgument", "bbsnippets.open", id="abc12")
    assert "workspace" in error.message
    error = await expect_error(daemon, "invalidArgument", "bbsnippets.comments.edit", workspace="demo", id="a", raw="x")
    assert "commentId" in error.message
    await expect_error(
        daemon, "invalidArgument", "bbsnippets.comments.delete", workspace="demo", id="a", commentId="one"
    )
    await expect_error(daemon, "invalidArgument", "bbsnippets.pull", workspace="demo", id="a")
    with pytest.raises(JsonRpcException) as raised:
        await daemon.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="bbsnippets.list", arguments=[{}, {}])
        )
    assert DaemonError(raised.value).kind == "invalidArgument"


# --------------------------------------------------------------------------- secrets in logs


async def test_no_secret_reaches_stderr_or_the_client_log(
    sandbox: Sandbox, capabilities: str, capfd: pytest.CaptureFixture[str]
) -> None:
    demo, alice = sandbox.users[0], sandbox.users[1]
    wrong = "ATATT3x-" + "s3cr3t-never-logged"
    daemon = await start_daemon(sandbox, capabilities=capabilities)  # demo's API token in the environment
    try:
        created = await daemon.command("bbsnippets.create", files=[{"name": "a.txt", "text": "a\n"}])
        ref = {"workspace": "demo", "id": created["id"]}
        opened = await daemon.command("bbsnippets.open", **ref)
        await daemon.request("bbsnippets/readFile", uri=opened["files"][0]["uri"])
        await daemon.request("bbsnippets/writeFile", uri=opened["files"][0]["uri"], text="b\n")
        await daemon.command("bbsnippets.comments.add", **ref, raw="hello")
        await daemon.command("bbsnippets.list")
        await daemon.command("bbsnippets.whoami")
        with pytest.raises(DaemonError):
            await daemon.command("bbsnippets.login", kind="apiToken", username=alice.email, secret=wrong)
        with pytest.raises(DaemonError):  # a real token, of the wrong kind: 401
            await daemon.command("bbsnippets.login", kind="apiToken", username=alice.email, secret=alice.access_token)
        with pytest.raises(DaemonError):
            await daemon.command(
                "bbsnippets.create", files=[{"name": "t.txt", "text": FAKE_GITHUB_TOKEN}], isPrivate=False
            )
        await daemon.command("bbsnippets.whoami")
        log_text = "\n".join(daemon.log_messages + daemon.shown_messages)
    finally:
        await daemon.stop()

    stderr = capfd.readouterr().err
    assert "POST " in stderr and "/2.0/snippets/demo" in stderr  # debug lines were captured
    assert "POST " in log_text
    basic = base64.b64encode(f"{demo.email}:{demo.api_token}".encode()).decode()
    for secret in (demo.api_token, alice.access_token, wrong, FAKE_GITHUB_TOKEN, basic):
        assert secret not in stderr, "a secret reached the daemon's stderr"
        assert secret not in log_text, "a secret reached window/logMessage"


# --------------------------------------------------------------------- open by address, pull's default folder (#16)


async def test_open_takes_a_snippet_s_web_address_and_says_which_file_it_points_at(sandbox: Sandbox) -> None:
    async with make_client(sandbox) as client:
        made = await client.create_snippet("demo", {"app.py": b"print(1)\n", "notes.md": b"# n\n"}, title="two")
    daemon = await start_daemon(sandbox)
    try:
        for url, file in (
            (f"https://bitbucket.org/demo/workspace/snippets/{made.id}/two", None),
            (f"https://bitbucket.org/demo/workspace/snippets/{made.id}/two#file-notes.md", "notes.md"),
            (f"https://bitbucket.org/snippets/demo/{made.id}#file-app.py", "app.py"),
            (f"{sandbox.web_url}/snippets/demo/{made.id}#file-APP.PY", "app.py"),  # as Bitbucket writes anchors
            (f"demo/{made.id}", None),
        ):
            sandbox.clear_requests()
            opened = await daemon.command("bbsnippets.open", url=url)
            assert (opened["workspace"], opened["id"]) == ("demo", made.id)
            assert [f["name"] for f in opened["files"]] == ["app.py", "notes.md"]
            assert opened.get("file") == file, url
            assert len(sandbox.requests) == 1  # one GET, as open by workspace and id
        sandbox.clear_requests()
        for wrong in ("https://example.com/snippets/demo/x", "demo", "https://bitbucket.org/demo/repo"):
            error = await expect_error(daemon, "invalidArgument", "bbsnippets.open", url=wrong)
            assert "does not name a snippet" in error.message and "WORKSPACE/ID" in error.message
        await expect_error(daemon, "invalidArgument", "bbsnippets.open", url=f"demo/{made.id}", workspace="demo")
        await expect_error(daemon, "invalidArgument", "bbsnippets.open", workspace="demo")
        assert sandbox.requests == []
    finally:
        await daemon.stop()


async def test_pull_with_a_base_folder_lands_in_a_new_folder_named_after_the_id(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with make_client(sandbox) as client:
        made = await client.create_snippet("demo", {"README.md": b"# r\n", "notes/n.txt": b"n\n"})
    project = tmp_path / "project"
    project.mkdir()
    daemon = await start_daemon(sandbox)
    try:
        pulled = await daemon.command("bbsnippets.pull", workspace="demo", id=made.id, baseDir=str(project))
        assert pulled["targetDir"] == str(project / made.id)
        assert files_under(project) == [f"{made.id}/README.md", f"{made.id}/notes/n.txt"]  # nothing in the root
        exact = tmp_path / "exactly-here"
        named = await daemon.command("bbsnippets.pull", workspace="demo", id=made.id, targetDir=str(exact))
        assert named["targetDir"] == str(exact) and files_under(exact) == ["README.md", "notes/n.txt"]
        for wrong in ({}, {"targetDir": str(exact), "baseDir": str(project)}, {"baseDir": "relative"}):
            await expect_error(daemon, "invalidArgument", "bbsnippets.pull", workspace="demo", id=made.id, **wrong)
    finally:
        await daemon.stop()
