"""File-name safety: which names a snippet file may have, and where such a name may land on disk.

A snippet's file names come from whoever wrote the snippet, so they are untrusted: a name that
is absolute, has a ``..`` / ``.`` / empty component, a backslash or drive letter, a ``.git``
component, that would resolve (through a symlink) outside the folder, or that would fool the user
or the OS (control characters such as newline or NUL, bidirectional overrides, and on Windows the
reserved device names ``CON``, ``NUL``, ``COM1``...) is refused. Used by pull (and the folder writes
of :mod:`snippet_daemon.folder_writer`), create, rename, links and patches.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from snippet_daemon.error_kinds import ErrorKind

_DRIVE = re.compile(r"^[A-Za-z]:")
# Marks that reorder or hide text: a name like "invoice\u202eexe.txt" shows as something it is not.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Windows opens a device, not a file, for these names (with any extension): "nul.txt" is NUL.
_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$"}
    | {f"{port}{n}" for port in ("com", "lpt") for n in [*"0123456789", "\u00b9", "\u00b2", "\u00b3"]}
)


class UnsafePath(ValueError):
    """A file name that would land outside the chosen folder (or inside its ``.git``), or fool the user."""

    kind = ErrorKind.UNSAFE_PATH


def check_name(name: str, *, windows: bool = os.name == "nt") -> None:
    """Raise :class:`UnsafePath` unless ``name`` is a plain relative path that shows as what it is."""
    if not name:
        raise UnsafePath("the file name is empty")
    if "\x00" in name:
        raise UnsafePath(f"{name!r} contains a NUL character")
    if "\\" in name or _DRIVE.match(name):
        raise UnsafePath(f"{name!r} contains a backslash or a drive letter")
    for char in name:
        if unicodedata.category(char) == "Cc":
            raise UnsafePath(f"{name!r} contains a control character (U+{ord(char):04X})")
        if char in _BIDI_CONTROLS:
            raise UnsafePath(f"{name!r} contains a bidirectional control (U+{ord(char):04X}) that disguises it")
    if name.startswith("/"):
        raise UnsafePath(f"{name!r} is an absolute path")
    for component in name.split("/"):
        if component in ("", ".", ".."):
            raise UnsafePath(f"{name!r} has a {component or 'empty'!r} path component")
        if component.lower() == ".git":
            raise UnsafePath(f"{name!r} would write inside a .git folder")
        if windows and component.split(".")[0].rstrip(" ").lower() in _WINDOWS_DEVICES:
            raise UnsafePath(f"{name!r} uses {component!r}, a device name that Windows reserves")


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
