"""Patches end to end: a real git repository's changes shared as a patch snippet (bbsnippets.shareDiff), applied
into a clean copy (bbsnippets.applyPatch) until the trees are identical; a stale patch, a hostile one and a
binary one change nothing. The real daemon over stdio against the real sandbox, requests counted."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from snippet_daemon.sandbox import Sandbox
from tests.conftest import make_client
from tests.daemon import Daemon, DaemonError
from tests.git_repos import git, new_repository, tree

BINARY = bytes(range(256))
# A GitHub personal access token by its documented shape, assembled so no scanner flags this file.
FAKE_GITHUB_TOKEN = "gh" + "p_" + ("aB3dE5fG7hJ9kL2mN4pQ6rS8tU" * 2)[:36]


@pytest.fixture
def repository(tmp_path: Path) -> tuple[Path, Path]:
    """A git repository with a commit, and a clean copy of that commit beside it."""
    repo = new_repository(tmp_path / "repo")
    (repo / "src").mkdir()
    (repo / "src" / "app.py").write_text("".join(f"line {n}\n" for n in range(1, 40)))
    (repo / "crlf.txt").write_bytes(b"one\r\ntwo\r\n")
    (repo / "no-newline.txt").write_bytes(b"last line")
    (repo / "gone.txt").write_text("delete me\n")
    (repo / "before name.txt").write_text("renamed, not changed\n")
    (repo / "logo.bin").write_bytes(BINARY)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "start")
    clean = tmp_path / "clean"
    shutil.copytree(repo, clean, ignore=shutil.ignore_patterns(".git"))
    return repo, clean


async def test_a_diff_shared_and_applied_into_a_clean_copy_gives_an_identical_tree(
    daemon: Daemon, sandbox: Sandbox, repository: tuple[Path, Path]
) -> None:
    repo, clean = repository
    app = (repo / "src" / "app.py").read_text().replace("line 3\n", "line three\n").replace("line 30\n", "")
    (repo / "src" / "app.py").write_text(app)
    (repo / "crlf.txt").write_bytes(b"one\r\nTWO\r\n")
    (repo / "no-newline.txt").write_bytes(b"last line, changed")
    (repo / "gone.txt").unlink()
    git(repo, "mv", "before name.txt", "after name é.txt")
    (repo / "logo.bin").write_bytes(BINARY[::-1])
    (repo / "docs").mkdir()
    (repo / "docs" / "new.md").write_text("# new\n")
    git(repo, "add", "-A")
    (repo / "untracked.txt").write_text("only when included\n")

    sandbox.clear_requests()
    shared = await daemon.command("bbsnippets.shareDiff", folder=str(repo / "src"), staged=True)
    assert [(request.method, request.status) for request in sandbox.requests] == [("POST", 201)]
    assert shared["isPrivate"] is True and shared["name"] == "repo.patch"
    assert shared["leftOut"] == [{"name": "logo.bin", "reason": shared["leftOut"][0]["reason"]}]
    assert "binary" in shared["leftOut"][0]["reason"]
    assert "untracked.txt" not in shared["files"]
    assert set(shared["files"]) == {
        "src/app.py",
        "crlf.txt",
        "no-newline.txt",
        "gone.txt",
        "after name é.txt",
        "docs/new.md",
    }
    async with make_client(sandbox) as client:
        patch = (await client.get_snippet_content("demo", shared["id"])).files["repo.patch"]
    expected = subprocess.run(
        ["git", "diff", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/", "--staged"],
        cwd=repo,
        check=True,
        capture_output=True,
    ).stdout
    # git's own output, byte for byte, with the binary file's block left out
    blocks = [block for block in re.split(rb"(?=^diff --git )", expected, flags=re.MULTILINE) if block]
    assert patch == b"".join(block for block in blocks if b"logo.bin" not in block.splitlines()[0])
    assert b"GIT binary patch" not in patch and b"Binary files" not in patch

    before = tree(clean)
    sandbox.clear_requests()
    dry = await daemon.command(
        "bbsnippets.applyPatch", workspace="demo", id=shared["id"], folder=str(clean), dryRun=True
    )
    assert dry["applied"] is True and tree(clean) == before
    statuses = {entry["name"]: entry["status"] for entry in dry["files"]}
    assert statuses["gone.txt"] == "deleted" and statuses["docs/new.md"] == "created"
    assert statuses["after name é.txt"] == "applied" and statuses["src/app.py"] == "applied"
    applied = await daemon.command("bbsnippets.applyPatch", workspace="demo", id=shared["id"], folder=str(clean))
    assert applied["applied"] is True and applied["files"] == dry["files"]
    assert len(sandbox.requests) <= 1 and all(request.method == "GET" for request in sandbox.requests)
    # Identical trees, but for the binary file the patch left out (named above, with why).
    expected_tree = tree(repo)
    del expected_tree["untracked.txt"]
    expected_tree["logo.bin"] = BINARY
    assert tree(clean) == expected_tree

    # Applied again, the patch is stale: it fails and changes nothing.
    patched = tree(clean)
    stale = await daemon.command("bbsnippets.applyPatch", workspace="demo", id=shared["id"], folder=str(clean))
    assert stale["applied"] is False and tree(clean) == patched
    assert {entry["status"] for entry in stale["files"]} == {"failed"}
    assert {entry["kind"] for entry in stale["files"]} == {"mismatch"}


async def test_untracked_files_only_when_included_and_nothing_to_share(
    daemon: Daemon, sandbox: Sandbox, repository: tuple[Path, Path]
) -> None:
    repo, clean = repository
    with pytest.raises(DaemonError) as caught:
        await daemon.command("bbsnippets.shareDiff", folder=str(repo))
    assert caught.value.kind == "invalidArgument" and "No changes to share" in caught.value.message
    with pytest.raises(DaemonError) as caught:
        await daemon.command("bbsnippets.shareDiff", folder=str(clean))
    assert caught.value.kind == "invalidArgument" and "not in a git repository" in caught.value.message
    (repo / "extra.txt").write_text("untracked\n")
    (repo / "picture.bin").write_bytes(BINARY)
    shared = await daemon.command("bbsnippets.shareDiff", folder=str(repo), includeUntracked=True)
    assert shared["files"] == ["extra.txt"] and [item["name"] for item in shared["leftOut"]] == ["picture.bin"]
    applied = await daemon.command("bbsnippets.applyPatch", workspace="demo", id=shared["id"], folder=str(clean))
    assert applied["applied"] is True and (clean / "extra.txt").read_text() == "untracked\n"


async def test_a_public_patch_with_a_credential_is_refused(
    daemon: Daemon, sandbox: Sandbox, repository: tuple[Path, Path]
) -> None:
    repo, _ = repository
    (repo / "gone.txt").write_text(f"token = {FAKE_GITHUB_TOKEN}\n")
    sandbox.clear_requests()
    with pytest.raises(DaemonError) as caught:
        await daemon.command("bbsnippets.shareDiff", folder=str(repo), isPrivate=False)
    assert caught.value.kind == "secretDetected"
    assert not [request for request in sandbox.requests if request.method == "POST"]


async def patch_snippet(sandbox: Sandbox, text: bytes, name: str = "change.patch") -> str:
    async with make_client(sandbox) as client:
        return (await client.create_snippet("demo", {name: text}, title="a patch")).id


async def test_a_hostile_patch_writes_nothing_anywhere(daemon: Daemon, sandbox: Sandbox, tmp_path: Path) -> None:
    folder = tmp_path / "target"
    folder.mkdir()
    (folder / "ok.txt").write_text("ok\n")
    outside = tmp_path / "outside.txt"
    hostile = (
        b"diff --git a/ok.txt b/ok.txt\n--- a/ok.txt\n+++ b/ok.txt\n@@ -1 +1 @@\n-ok\n+changed\n"
        b"diff --git a/../outside.txt b/../outside.txt\nnew file mode 100644\n--- /dev/null\n+++ b/../outside.txt\n"
        b"@@ -0,0 +1 @@\n+escaped\n"
        b"diff --git a/.git/hooks/post-checkout b/.git/hooks/post-checkout\nnew file mode 100755\n--- /dev/null\n"
        b"+++ b/.git/hooks/post-checkout\n@@ -0,0 +1 @@\n+rm -rf ~\n"
        b"--- " + str(tmp_path / "abs.txt").encode() + b"\n+++ " + str(tmp_path / "abs.txt").encode() + b"\n"
        b"@@ -0,0 +1 @@\n+absolute\n"
    )
    snippet_id = await patch_snippet(sandbox, hostile)
    result = await daemon.command("bbsnippets.applyPatch", workspace="demo", id=snippet_id, folder=str(folder))
    assert result["applied"] is False
    refused = [entry for entry in result["files"] if entry["status"] == "refused"]
    assert len(refused) == 3 and {entry["kind"] for entry in refused} == {"unsafePath"}
    assert not outside.exists() and not (tmp_path / "abs.txt").exists() and not (folder / ".git").exists()
    assert tree(folder) == {"ok.txt": b"ok\n"}  # all or nothing: the good hunk was not applied either


async def test_a_binary_patch_is_refused_with_a_reason_and_the_file_must_be_named(
    daemon: Daemon, sandbox: Sandbox, tmp_path: Path
) -> None:
    folder = tmp_path / "target"
    folder.mkdir()
    (folder / "a.txt").write_text("a\n")
    binary = (
        b"diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b\n"
        b"diff --git a/img.png b/img.png\nnew file mode 100644\nindex 0000000..1111111\nGIT binary patch\n"
        b"literal 4\nLcmZQzWMT#Y01f~L\n\nliteral 0\nHcmV?d00001\n\n"
    )
    snippet_id = await patch_snippet(sandbox, binary)
    result = await daemon.command("bbsnippets.applyPatch", workspace="demo", id=snippet_id, folder=str(folder))
    assert result["applied"] is False
    (png,) = [entry for entry in result["files"] if entry["name"] == "img.png"]
    assert png["status"] == "refused" and png["kind"] == "binary" and "binary" in png["message"]
    assert tree(folder) == {"a.txt": b"a\n"}

    async with make_client(sandbox) as client:
        two = await client.create_snippet("demo", {"change.patch": binary, "second.diff": b"--- a/x\n+++ b/x\n"})
    with pytest.raises(DaemonError) as caught:
        await daemon.command("bbsnippets.applyPatch", workspace="demo", id=two.id, folder=str(folder))
    assert caught.value.kind == "invalidArgument" and "change.patch, second.diff" in caught.value.message
