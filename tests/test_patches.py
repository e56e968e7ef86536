"""The patch reader and applier on their own (snippet_daemon.patches): what git writes, applied as git applies it,
all or nothing, never outside the folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from snippet_daemon.patches import PatchError, apply_patch, git_diff, parse_patch
from tests.git_repos import git, new_repository, tree


def repository(root: Path, files: dict[str, bytes]) -> Path:
    new_repository(root)
    write(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    return root


def write(root: Path, files: dict[str, bytes | None]) -> None:
    for name, data in files.items():
        path = root / name
        if data is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


LINES = b"".join(b"line %d\n" % n for n in range(1, 60))
CASES: dict[str, tuple[dict[str, bytes], dict[str, bytes | None]]] = {
    "two hunks far apart": (
        {"a.txt": LINES},
        {"a.txt": LINES.replace(b"line 2\n", b"two\n").replace(b"line 50\n", b"")},
    ),
    "crlf kept": ({"w.txt": b"a\r\nb\r\nc\r\n"}, {"w.txt": b"a\r\nB\r\nc\r\n"}),
    "newline added at the end": ({"n.txt": b"x\ny"}, {"n.txt": b"x\ny\n"}),
    "newline taken from the end": ({"n.txt": b"x\ny\n"}, {"n.txt": b"x\ny"}),
    "emptied": ({"e.txt": b"all\nof it\n"}, {"e.txt": b""}),
    "deleted": ({"d.txt": b"bye\n", "k.txt": b"k\n"}, {"d.txt": None}),
    "created in a new folder": ({"k.txt": b"k\n"}, {"deep/er/new file.txt": b"hello\n"}),
    "non-ASCII and quoted names": ({"k.txt": b"k\n"}, {'café/✓ "quoted" name.txt': b"ok\n"}),
    "a line that starts with a minus or a plus": ({"m.txt": b"-a\n+b\n c\n"}, {"m.txt": b"--a\n++b\n  c\n"}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_what_git_diff_writes_applies_to_the_same_tree(tmp_path: Path, case: str) -> None:
    before, change = CASES[case]
    repo = repository(tmp_path / "repo", before)
    clean = tmp_path / "clean"
    clean.mkdir()
    write(clean, dict(before))
    write(repo, change)
    git(repo, "add", "-A")
    shared = git_diff(repo, staged=True)
    report = apply_patch(clean, shared.patch)
    assert report.applied, report
    assert tree(clean) == tree(repo)


def test_a_hunk_found_where_other_edits_moved_it(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", {"a.txt": LINES})
    write(repo, {"a.txt": LINES.replace(b"line 40\n", b"forty\n")})
    patch = git_diff(repo).patch
    clean = tmp_path / "clean"
    clean.mkdir()
    write(clean, {"a.txt": b"new first line\nanother\n" + LINES})
    assert apply_patch(clean, patch).applied
    assert (clean / "a.txt").read_bytes() == b"new first line\nanother\n" + LINES.replace(b"line 40\n", b"forty\n")


def test_a_write_the_os_refuses_puts_every_file_back(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    write(folder, {"a.txt": b"a\n", "blocker": b"a file where the patch needs a folder\n"})
    patch = b"--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+A\n--- /dev/null\n+++ b/blocker/new.txt\n@@ -0,0 +1 @@\n+n\n"
    report = apply_patch(folder, patch)
    assert not report.applied and {f.kind for f in report.files} == {"fileSystem"}
    assert "put back" in (report.files[0].message or "")
    assert tree(folder) == {"a.txt": b"a\n", "blocker": b"a file where the patch needs a folder\n"}


def test_through_a_symlinked_folder_nothing_is_written_outside(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (folder / "link").symlink_to(outside)
    report = apply_patch(folder, b"--- /dev/null\n+++ b/link/x.txt\n@@ -0,0 +1 @@\n+x\n")
    assert not report.applied and report.files[0].kind == "unsafePath"
    assert list(outside.iterdir()) == []


def test_not_a_patch_and_a_cut_short_hunk(tmp_path: Path) -> None:
    with pytest.raises(PatchError, match="not a patch"):
        parse_patch(b"just some text\n")
    with pytest.raises(PatchError, match="cut short"):
        parse_patch(b"--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n")


def test_modes_follow_the_patch_and_new_files_are_not_private(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", {"run.sh": b"echo\n", "plain.txt": b"p\n"})
    clean = tmp_path / "clean"
    clean.mkdir()
    write(clean, {"run.sh": b"echo\n", "plain.txt": b"p\n"})
    (repo / "run.sh").chmod(0o755)
    write(repo, {"new-tool.sh": b"#!/bin/sh\n", "notes.txt": b"n\n"})
    (repo / "new-tool.sh").chmod(0o755)
    git(repo, "add", "-A")
    assert apply_patch(clean, git_diff(repo, staged=True).patch).applied
    assert (clean / "run.sh").stat().st_mode & 0o111 and (clean / "new-tool.sh").stat().st_mode & 0o111
    assert not (clean / "notes.txt").stat().st_mode & 0o111
    umask = os.umask(0o022)
    os.umask(umask)
    assert (clean / "notes.txt").stat().st_mode & 0o777 == 0o666 & ~umask  # as any new file, not mkstemp's 0600
