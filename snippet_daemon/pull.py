"""Writing a snippet's files into a folder the user chose, and nowhere else.

A snippet's file names come from whoever wrote the snippet, so they are untrusted: a name that
is absolute, has a ``..`` / ``.`` / empty component, a backslash or drive letter, a NUL, a
``.git`` component, or that would resolve (through a symlink) outside the folder is refused.
An existing file with other content is left alone unless ``overwrite`` is set; one with the
same content is reported unchanged. Each file is written to a temporary name beside it and
renamed into place, so a crash never leaves half a file.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafePath(ValueError):
    """A file name that would land outside the chosen folder (or inside its ``.git``)."""

    kind = "unsafePath"


@dataclass
class PullReport:
    """What happened to each file, by its snippet name."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # name -> why (differs, not overwritten)
    refused: dict[str, str] = field(default_factory=dict)  # name -> why (unsafe name)


def check_name(name: str) -> None:
    """Raise :class:`UnsafePath` unless ``name`` is a plain relative path."""
    if not name:
        raise UnsafePath("the file name is empty")
    if "\x00" in name:
        raise UnsafePath(f"{name!r} contains a NUL character")
    if "\\" in name or _DRIVE.match(name):
        raise UnsafePath(f"{name!r} contains a backslash or a drive letter")
    if name.startswith("/"):
        raise UnsafePath(f"{name!r} is an absolute path")
    for component in name.split("/"):
        if component in ("", ".", ".."):
            raise UnsafePath(f"{name!r} has a {component or 'empty'!r} path component")
        if component.lower() == ".git":
            raise UnsafePath(f"{name!r} would write inside a .git folder")


def safe_target(root: Path, name: str) -> Path:
    """Where ``name`` goes under ``root``; :class:`UnsafePath` if it would go anywhere else."""
    check_name(name)
    real_root = root.resolve()
    target = real_root.joinpath(*name.split("/"))
    if target.is_symlink():
        raise UnsafePath(f"{name!r} is a symbolic link in the target folder")
    resolved = target.resolve()
    if not resolved.is_relative_to(real_root) or resolved == real_root:
        raise UnsafePath(f"{name!r} resolves outside the target folder")
    return target


def _write_atomically(target: Path, content: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=".snippet-", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_files(root: Path, files: Mapping[str, bytes], *, overwrite: bool = False) -> PullReport:
    """Write ``files`` under ``root`` (created if missing). Unsafe names are refused, not fatal."""
    report = PullReport()
    targets: dict[str, Path] = {}
    for name in files:
        try:
            targets[name] = safe_target(root, name)
        except UnsafePath as error:
            report.refused[name] = str(error)
    if targets:
        root.mkdir(parents=True, exist_ok=True)
    for name, target in targets.items():
        content = files[name]
        if target.exists():
            if not target.is_file():
                report.skipped[name] = "a folder or special file of that name exists"
                continue
            if target.read_bytes() == content:
                report.unchanged.append(name)
                continue
            if not overwrite:
                report.skipped[name] = "a different file of that name exists (use overwrite to replace it)"
                continue
        target.parent.mkdir(parents=True, exist_ok=True)
        # Re-check after creating folders: a folder created meanwhile could be a symlink.
        safe_target(root, name)
        _write_atomically(target, content)
        report.written.append(name)
    return report
