"""Writing a snippet's files into a folder the user chose, and nowhere else.

A snippet's file names come from whoever wrote the snippet, so they are untrusted: a name that
is absolute, has a ``..`` / ``.`` / empty component, a backslash or drive letter, a ``.git``
component, that would resolve (through a symlink) outside the folder, or that would fool the user
or the OS (control characters such as newline or NUL, bidirectional overrides, and on Windows the
reserved device names ``CON``, ``NUL``, ``COM1``...) is refused.
An existing file with other content is kept unless ``overwrite`` is set; one with the same content
is reported unchanged. Each file is written to a temporary name beside it and renamed into place,
so a crash never leaves half a file. A file the OS refuses (a name too long, a file where a folder
must be) is reported on that file, and the others go on.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from snippet_daemon.error_kinds import ErrorKind

_DRIVE = re.compile(r"^[A-Za-z]:")
# Marks that reorder or hide text: a name like "invoice\u202eexe.txt" shows as something it is not.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Windows opens a device, not a file, for these names (with any extension): "nul.txt" is NUL.
_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$"}
    | {f"{port}{n}" for port in ("com", "lpt") for n in [*"0123456789", "\u00b9", "\u00b2", "\u00b3"]}
)

Status = Literal["written", "unchanged", "kept", "refused", "failed"]
Kind = Literal["exists", "unsafePath", "fileSystem"]


class UnsafePath(ValueError):
    """A file name that would land outside the chosen folder (or inside its ``.git``), or fool the user."""

    kind = ErrorKind.UNSAFE_PATH


@dataclass
class FileOutcome:
    """What happened to one snippet file."""

    name: str
    status: Status
    path: Path | None = None  # where it is, or would be; None for a refused name
    kind: Kind | None = None  # exists (kept: overwrite would replace it), unsafePath (refused), fileSystem (failed)
    message: str | None = None


@dataclass
class PullReport:
    """Every file's outcome, in the order of the snippet's files."""

    files: list[FileOutcome] = field(default_factory=list)

    def _named(self, status: Status) -> list[FileOutcome]:
        return [outcome for outcome in self.files if outcome.status == status]

    @property
    def written(self) -> list[str]:
        return [outcome.name for outcome in self._named("written")]

    @property
    def unchanged(self) -> list[str]:
        return [outcome.name for outcome in self._named("unchanged")]

    @property
    def kept(self) -> dict[str, str]:
        """Name -> why: a different local file, which ``overwrite`` would replace."""
        return {outcome.name: outcome.message or "" for outcome in self._named("kept")}

    @property
    def refused(self) -> dict[str, str]:
        """Name -> why: an unsafe name, never written."""
        return {outcome.name: outcome.message or "" for outcome in self._named("refused")}

    @property
    def failed(self) -> dict[str, str]:
        """Name -> the OS's reason."""
        return {outcome.name: outcome.message or "" for outcome in self._named("failed")}

    @property
    def not_written(self) -> dict[str, str]:
        """Every file left as it was on disk (kept, refused or failed), with why."""
        return {**self.kept, **self.refused, **self.failed}


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
    """Write ``files`` under ``root`` (created if missing). Each file's outcome is reported; none is fatal."""
    report = PullReport()
    for name, content in files.items():
        report.files.append(_write_one(root, name, content, overwrite=overwrite))
    return report


def _write_one(root: Path, name: str, content: bytes, *, overwrite: bool) -> FileOutcome:
    target: Path | None = None
    try:
        target = safe_target(root, name)
        if target.exists():
            if not target.is_file():
                return FileOutcome(
                    name, "failed", target, "fileSystem", "a folder or special file of that name is in the way"
                )
            if target.read_bytes() == content:
                return FileOutcome(name, "unchanged", target)
            if not overwrite:
                return FileOutcome(
                    name, "kept", target, "exists", "a different file of that name exists (overwrite replaces it)"
                )
        target.parent.mkdir(parents=True, exist_ok=True)
        # Re-check after creating folders: a folder created meanwhile could be a symlink.
        safe_target(root, name)
        _write_atomically(target, content)
    except UnsafePath as error:
        return FileOutcome(name, "refused", kind="unsafePath", message=str(error))
    except OSError as error:
        reason = error.strerror or type(error).__name__
        return FileOutcome(name, "failed", target, "fileSystem", f"the system refused to write it: {reason}")
    return FileOutcome(name, "written", target)


def default_target(base: Path, snippet_id: str) -> Path:
    """Where a snippet lands when the user names no folder, in every tool: a new folder named after the
    snippet's id inside ``base`` (the CLI's current folder, Neovim's current directory, VS Code's first workspace
    folder). A folder the user names is used as it is."""
    check_name(snippet_id)
    if "/" in snippet_id:
        raise UnsafePath(f"{snippet_id!r} is not a plain folder name")
    return base / snippet_id
