"""Writing a snippet's files into a folder the user chose, and nowhere else: what ``bbsnippets.pull``
(:mod:`snippet_daemon.features.pull`) and ``snippet-daemon pull`` share.

A snippet's file names come from whoever wrote the snippet, so they are untrusted: each goes through
:func:`snippet_daemon.names.safe_target`, and a name it refuses is reported, never written.
An existing file with other content is kept unless ``overwrite`` is set; one with the same content
is reported unchanged. Each file is written to a temporary name beside it and renamed into place,
so a crash never leaves half a file, with the permissions any editor would give it
(:func:`write_user_file`). A file the OS refuses (a name too long, a file where a folder
must be) is reported on that file, and the others go on.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from snippet_daemon.names import UnsafePath, check_name, safe_target

Status = Literal["written", "unchanged", "kept", "refused", "failed"]
Kind = Literal["exists", "unsafePath", "fileSystem"]


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


def write_user_file(target: Path, content: bytes, *, executable: bool | None = None) -> None:
    """Replace ``target`` with ``content`` atomically (a temporary file beside it, renamed into place), with
    the permissions any editor or ``git checkout`` would give it: a new file gets 0666 less the umask (0644 under
    the usual 022), an existing one keeps its mode. ``executable`` (as git checks out 100755 / 100644) adds x
    where r is, or takes every x away. The daemon's own private files use
    :func:`snippet_daemon.paths.write_private` instead."""
    temporary, descriptor = _create_beside(target)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        if target.exists() or executable is not None:
            mode = stat.S_IMODE((target if target.exists() else temporary).stat().st_mode)
            if executable is not None:
                mode = mode | ((mode & 0o444) >> 2) if executable else mode & ~0o111
            os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _create_beside(target: Path) -> tuple[Path, int]:
    """A new, empty temporary file in ``target``'s folder, created 0666 so that the kernel applies the umask
    (``tempfile.mkstemp`` would make it 0600, and reading the umask means changing it for every thread)."""
    while True:
        temporary = target.with_name(f".snippet-{secrets.token_hex(6)}.tmp")
        try:
            return temporary, os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666)
        except FileExistsError:
            continue


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


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
        write_user_file(target, content)
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
