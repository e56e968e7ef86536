"""Pulling files into a folder: byte-exact, nothing outside the folder, no silent overwrite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from snippet_daemon.folder_writer import write_files
from snippet_daemon.names import UnsafePath, check_name

HOSTILE = [
    "../escape.txt",
    "a/../../escape.txt",
    "/etc/passwd-copy",
    ".git/config",
    "sub/.GIT/hooks/post-checkout",
    "..",
    ".",
    "",
    "a//b",
    "trailing/",
    "C:evil.txt",
    "..\\windows.txt",
    "nul\x00byte",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_refused(name: str) -> None:
    with pytest.raises(UnsafePath):
        check_name(name)


def _all_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_hostile_names_write_nothing_outside_and_the_rest_is_written(tmp_path: Path) -> None:
    target = tmp_path / "outer" / "chosen"
    files = {name: b"evil" for name in HOSTILE if name}
    files.update({"ok.txt": b"fine\n", "nested/deep.bin": b"\x00\xff"})
    report = write_files(target, files)
    assert sorted(report.written) == ["nested/deep.bin", "ok.txt"]
    assert set(report.refused) == set(files) - {"ok.txt", "nested/deep.bin"}
    assert _all_files(tmp_path) == {"outer/chosen/ok.txt", "outer/chosen/nested/deep.bin"}
    assert (target / "nested" / "deep.bin").read_bytes() == b"\x00\xff"


def test_symlinks_in_the_target_cannot_redirect_writes(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "chosen"
    target.mkdir()
    os.symlink(outside, target / "link-dir")
    os.symlink(outside / "victim.txt", target / "link-file")
    report = write_files(target, {"link-dir/x.txt": b"evil", "link-file": b"evil"})
    assert set(report.refused) == {"link-dir/x.txt", "link-file"}
    assert list(outside.iterdir()) == []


def test_existing_files_are_kept_unless_overwrite(tmp_path: Path) -> None:
    (tmp_path / "same.txt").write_bytes(b"same")
    (tmp_path / "mine.txt").write_bytes(b"my local edit")
    report = write_files(tmp_path, {"same.txt": b"same", "mine.txt": b"remote", "new.txt": b"new"})
    assert report.unchanged == ["same.txt"]
    assert list(report.kept) == ["mine.txt"]
    assert report.written == ["new.txt"]
    assert (tmp_path / "mine.txt").read_bytes() == b"my local edit"
    again = write_files(tmp_path, {"mine.txt": b"remote"}, overwrite=True)
    assert again.written == ["mine.txt"]
    assert (tmp_path / "mine.txt").read_bytes() == b"remote"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".snippet-")]  # no temp files left


@pytest.mark.parametrize(
    "name",
    ["new\nline.txt", "cr\rname", "nul\x00", "bell\x07.txt", "del\x7f", "c1\x85.txt", "evil\u202etxt.exe", "a\u2066b"],
)
def test_names_that_would_fool_the_user_or_the_terminal_are_unsafe(name: str) -> None:
    with pytest.raises(UnsafePath):
        check_name(name)


@pytest.mark.parametrize("name", ["CON", "nul.txt", "dir/Com1.py", "LPT9", "aux.tar.gz", "con .txt"])
def test_windows_device_names_are_unsafe_on_windows_only(name: str) -> None:
    with pytest.raises(UnsafePath, match="Windows reserves"):
        check_name(name, windows=True)
    check_name(name, windows=False)  # an ordinary file name elsewhere


def test_ordinary_unicode_names_are_fine() -> None:
    for name in ("répertoire/naïve.txt", "日本語.md", "emoji-🎉.txt", "console.log", "com10.txt"):
        check_name(name, windows=True)
