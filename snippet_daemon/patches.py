"""Patches: reading and applying a git-style unified diff to a folder, and making one from a git repository.

Applying (:func:`apply_patch`) is all or nothing: every file's new content is worked out in memory first,
and the folder is touched only when every hunk of every file fits. Names come from whoever wrote the patch,
so each goes through the same checks as a pulled file's (:func:`snippet_daemon.names.safe_target`): nothing
is ever written, deleted or read outside the folder, nor inside its ``.git``. Binary patches (git's
``Binary files ... differ`` and ``GIT binary patch``) are refused with a reason. Understood: ``diff --git``,
``new file``, ``deleted file``, ``rename from/to``, ``\\ No newline at end of file``, quoted names, and
plain ``---``/``+++`` diffs (one leading path component stripped, as ``git apply`` does). A hunk may sit a
few lines away from where the patch says (other edits above it), never with different context.

Making one (:func:`git_diff`) runs exactly ``git diff --no-color --no-ext-diff --src-prefix=a/
--dst-prefix=b/`` (``--staged``), adds untracked files as new files when asked, and leaves binary changes
out, naming each with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

PatchStatus = Literal["applied", "created", "deleted", "failed", "refused"]
# unsafePath: a name outside the folder (refused); binary: a binary change (refused); mismatch: the file is not
# what the patch expects (failed); fileSystem: the OS refused a write (failed).
PatchKind = Literal["unsafePath", "binary", "mismatch", "fileSystem"]

PATCH_SUFFIXES = (".patch", ".diff")
GIT_DIFF = ("diff", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/")
MAX_OFFSET = 200  # lines a hunk may have moved since the patch was made

_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {b"a": 7, b"b": 8, b"t": 9, b"n": 10, b"v": 11, b"f": 12, b"r": 13, b'"': 34, b"\\": 92}


class PatchError(ValueError):
    """The text is not a patch this reader understands."""


@dataclass
class Hunk:
    old_start: int
    old_length: int
    header: str
    old: list[bytes] = field(default_factory=list)  # the lines it expects (context and removed)
    new: list[bytes] = field(default_factory=list)  # the lines it leaves (context and added)


@dataclass
class FilePatch:
    old_name: str | None = None  # None: /dev/null (a new file)
    new_name: str | None = None  # None: /dev/null (a deleted file)
    new_file: bool = False
    deleted_file: bool = False
    renamed: bool = False
    binary: bool = False
    executable: bool | None = None  # git's mode 100755 / 100644 for the new file; None: left as it is
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.new_name or self.old_name or "?"


@dataclass
class PatchedFile:
    name: str  # the name in the patch, relative to the folder
    status: PatchStatus
    path: Path | None = None  # where it is on disk; None for a refused name
    kind: PatchKind | None = None
    message: str | None = None


@dataclass
class PatchReport:
    applied: bool
    files: list[PatchedFile]


# --------------------------------------------------------------------------- reading


def _lines(data: bytes) -> list[bytes]:
    """Lines with their ``\\n`` (only ``\\n`` ends a line: a ``\\r`` is content, as git sees it)."""
    parts = data.split(b"\n")
    lines = [part + b"\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _unquote(text: bytes) -> bytes:
    """A C-quoted name as git writes names with special characters (``"a/t\\303\\251st"``)."""
    body, out, index = text[1:-1], bytearray(), 0
    while index < len(body):
        char = body[index : index + 1]
        if char == b"\\" and index + 1 < len(body):
            following, octal = body[index + 1 : index + 2], body[index + 1 : index + 4]
            if len(octal) == 3 and octal.isdigit():
                out.append(int(octal, 8) & 0xFF)
                index += 4
                continue
            out.append(_ESCAPES.get(following, following[0]))
            index += 2
            continue
        out += char
        index += 1
    return bytes(out)


def _path(raw: bytes, *, strip: bool = True) -> str | None:
    """A name from a ``---``/``+++``/``rename`` line: unquoted, timestamp dropped, ``a/``/``b/`` stripped."""
    raw = raw.rstrip(b"\r\n")
    if raw.startswith(b'"'):
        end = raw.rfind(b'"')
        raw = _unquote(raw[: end + 1]) if end > 0 else raw
    else:
        raw = raw.split(b"\t")[0]
    if raw == b"/dev/null":
        return None
    name = raw.decode("utf-8", errors="surrogateescape")
    if strip and not name.startswith("/"):  # an absolute name stays absolute, and is refused
        name = name.split("/", 1)[1] if "/" in name else name
    return name


def _git_header_names(rest: bytes) -> tuple[str | None, str | None]:
    """``a/X b/Y`` of a ``diff --git`` line (only needed when no ``---``/``+++`` follow)."""
    rest = rest.rstrip(b"\r\n")
    if rest.startswith(b'"'):
        end = rest.find(b'" ', 1)
        if end > 0:
            return _path(rest[: end + 1]), _path(rest[end + 2 :])
    half = (len(rest) - 1) // 2
    if len(rest) % 2 == 1 and rest[half : half + 1] == b" " and rest[2:half] == rest[half + 3 :]:
        return _path(rest[:half]), _path(rest[half + 1 :])
    parts = rest.split(b" ")
    return (_path(parts[0]), _path(parts[-1])) if len(parts) >= 2 else (None, None)


def parse_patch(data: bytes) -> list[FilePatch]:
    """Every file's change in ``data``; :class:`PatchError` when there is none or a hunk is cut short."""
    lines = _lines(data)
    patches: list[FilePatch] = []
    current: FilePatch | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith(b"diff --git "):
            current = FilePatch()
            current.old_name, current.new_name = _git_header_names(line[len(b"diff --git ") :])
            patches.append(current)
        elif current is not None and line.startswith(b"new file mode"):
            current.new_file, current.old_name = True, None
            current.executable = line.split()[-1] == b"100755"
        elif current is not None and line.startswith(b"new mode "):
            current.executable = line.split()[-1] == b"100755"
        elif current is not None and line.startswith(b"deleted file mode"):
            current.deleted_file, current.new_name = True, None
        elif current is not None and line.startswith((b"rename from ", b"copy from ")):
            current.old_name = _path(line.split(b" ", 2)[2], strip=False)
            current.renamed = line.startswith(b"rename")
        elif current is not None and line.startswith((b"rename to ", b"copy to ")):
            current.new_name = _path(line.split(b" ", 2)[2], strip=False)
        elif current is not None and (line.startswith(b"Binary files ") or line.startswith(b"GIT binary patch")):
            current.binary = True
        elif line.startswith(b"--- ") and index + 1 < len(lines) and lines[index + 1].startswith(b"+++ "):
            if current is None or current.hunks:  # a plain diff (no ``diff --git``): one file per ---/+++
                current = FilePatch()
                patches.append(current)
            current.old_name = _path(line[4:])
            current.new_name = _path(lines[index + 1][4:])
            current.new_file = current.new_file or current.old_name is None
            current.deleted_file = current.deleted_file or current.new_name is None
            index += 1
        elif line.startswith(b"@@ ") and current is not None:
            index = _read_hunk(lines, index, current)
            continue
        index += 1
    if not patches:
        raise PatchError("this is not a patch: it has no diff --git or ---/+++ lines")
    return patches


def _read_hunk(lines: list[bytes], index: int, patch: FilePatch) -> int:
    match = _HUNK.match(lines[index])
    if match is None:
        raise PatchError(f"a malformed hunk header: {lines[index].decode('utf-8', 'replace').strip()}")
    old_left = int(match[2]) if match[2] is not None else 1
    new_left = int(match[4]) if match[4] is not None else 1
    hunk = Hunk(int(match[1]), old_left, lines[index].decode("utf-8", "replace").strip())
    index += 1
    last: list[list[bytes]] = []  # the lists the previous line went into (for "\ No newline")
    while index < len(lines) and (old_left > 0 or new_left > 0 or lines[index].startswith(b"\\")):
        line = lines[index]
        tag, content = line[:1], line[1:]
        if line == b"\n" or line == b"\r\n":  # an empty context line whose space an editor stripped
            tag, content = b" ", line
        if tag == b"\\":
            for target in last:
                target[-1] = target[-1][:-1] if target[-1].endswith(b"\n") else target[-1]
        elif tag == b" ":
            hunk.old.append(content)
            hunk.new.append(content)
            last, old_left, new_left = [hunk.old, hunk.new], old_left - 1, new_left - 1
        elif tag == b"-":
            hunk.old.append(content)
            last, old_left = [hunk.old], old_left - 1
        elif tag == b"+":
            hunk.new.append(content)
            last, new_left = [hunk.new], new_left - 1
        else:
            break
        index += 1
    if old_left > 0 or new_left > 0:
        raise PatchError(f"the hunk {hunk.header} of {patch.name} is cut short")
    patch.hunks.append(hunk)
    return index


# --------------------------------------------------------------------------- applying


class _Mismatch(Exception):
    pass


def _apply_hunks(name: str, original: bytes, hunks: list[Hunk]) -> bytes:
    lines = _lines(original)
    result: list[bytes] = []
    position = 0  # next line of ``lines`` not yet copied
    drift = 0
    for number, hunk in enumerate(hunks, 1):
        wanted = hunk.old_start - 1 if hunk.old_length else hunk.old_start
        wanted = max(wanted + drift, position)
        found = None
        for distance in range(MAX_OFFSET + 1):
            for start in (wanted - distance, wanted + distance) if distance else (wanted,):
                if start >= position and lines[start : start + len(hunk.old)] == hunk.old:
                    found = start
                    break
            if found is not None:
                break
        if found is None:
            raise _Mismatch(
                f"hunk {number} ({hunk.header}) does not match {name}: the file is not what the patch was made "
                "from (changed since, or already patched)"
            )
        drift += found - wanted
        result.extend(lines[position:found])
        result.extend(hunk.new)
        position = found + len(hunk.old)
    result.extend(lines[position:])
    return b"".join(result)


def apply_patch(root: Path, data: bytes, *, dry_run: bool = False) -> PatchReport:
    """Apply ``data`` (a unified diff) under ``root``: every file or none. ``dry_run``: say what would happen."""
    from snippet_daemon.names import UnsafePath, safe_target

    patches = parse_patch(data)
    outcomes: list[PatchedFile] = []
    after: dict[Path, bytes | None] = {}  # the folder as it would be: path -> content, None once deleted
    modes: dict[Path, bool] = {}  # path -> executable or not, where the patch says

    def read(path: Path) -> bytes | None:
        if path in after:
            return after[path]
        return path.read_bytes() if path.is_file() else None

    for patch in patches:
        name = patch.name
        if patch.binary:
            outcomes.append(
                PatchedFile(
                    name,
                    "refused",
                    kind="binary",
                    message="a binary change: a text patch does not carry its content, so copy that file by hand",
                )
            )
            continue
        try:
            old_path = safe_target(root, patch.old_name) if patch.old_name else None
            new_path = safe_target(root, patch.new_name) if patch.new_name else None
        except UnsafePath as error:
            outcomes.append(PatchedFile(name, "refused", kind="unsafePath", message=f"refused: {error}"))
            continue
        try:
            outcomes.append(_plan_one(patch, old_path, new_path, read, after))
            if patch.executable is not None and new_path is not None:
                modes[new_path] = patch.executable
        except _Mismatch as mismatch:
            outcomes.append(PatchedFile(name, "failed", new_path or old_path, "mismatch", str(mismatch)))
    if any(outcome.status in ("failed", "refused") for outcome in outcomes):
        return PatchReport(False, outcomes)
    if not dry_run:
        failure = _write_all(root, after, modes)
        if failure is not None:
            for outcome in outcomes:
                outcome.status, outcome.kind, outcome.message = "failed", "fileSystem", failure
            return PatchReport(False, outcomes)
    return PatchReport(True, outcomes)


def _plan_one(
    patch: FilePatch,
    old_path: Path | None,
    new_path: Path | None,
    read: Callable[[Path], bytes | None],
    after: dict[Path, bytes | None],
) -> PatchedFile:
    name = patch.name
    if old_path is None:  # a new file
        assert new_path is not None
        if read(new_path) is not None:
            raise _Mismatch(f"{name} is a new file in the patch, but one of that name is already there")
        after[new_path] = _apply_hunks(name, b"", patch.hunks)
        return PatchedFile(name, "created", new_path)
    original = read(old_path)
    if original is None:
        raise _Mismatch(f"{patch.old_name} is not there, so the patch cannot change it")
    content = _apply_hunks(patch.old_name or name, original, patch.hunks)
    if new_path is None:  # deleted
        if content:
            raise _Mismatch(f"{name} is to be deleted, but it holds more than the patch says it does")
        after[old_path] = None
        return PatchedFile(patch.old_name or name, "deleted", old_path)
    if new_path != old_path:
        if read(new_path) is not None:
            raise _Mismatch(f"{patch.old_name} is to become {name}, but a file of that name is already there")
        if patch.renamed:
            after[old_path] = None
        after[new_path] = content
        how = "renamed" if patch.renamed else "copied"
        return PatchedFile(name, "applied", new_path, message=f"{how} from {patch.old_name}")
    after[new_path] = content
    return PatchedFile(name, "applied", new_path)


def _write_all(root: Path, after: dict[Path, bytes | None], modes: dict[Path, bool]) -> str | None:
    """Make the folder what ``after`` says; on an OS error undo what was done and say why."""
    from snippet_daemon.folder_writer import write_user_file
    from snippet_daemon.names import UnsafePath, safe_target

    done: list[tuple[Path, bytes | None]] = []  # path, what it held before
    try:
        for path, content in after.items():
            before = path.read_bytes() if path.is_file() else None
            if content is None:
                if before is not None:
                    path.unlink()
                    done.append((path, before))
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            safe_target(root, path.relative_to(root.resolve()).as_posix())  # a folder made meanwhile: no symlink
            write_user_file(path, content, executable=modes.get(path))
            done.append((path, before))
    except (OSError, UnsafePath) as error:
        for path, before in reversed(done):
            try:
                if before is None:
                    path.unlink(missing_ok=True)
                else:
                    write_user_file(path, before)
            except OSError:
                pass
        reason = getattr(error, "strerror", None) or str(error)
        return f"the system refused a write ({reason}); every file was put back as it was"
    return None


def choose_patch_file(files: dict[str, bytes], path: str | None, where: str) -> str:
    """The snippet file to apply: ``path``, else the snippet's only ``.patch``/``.diff`` file."""
    if path is not None:
        if path not in files:
            raise PatchError(f"{where} has no file {path!r} (it has {', '.join(sorted(files)) or 'none'}).")
        return path
    candidates = sorted(name for name in files if name.lower().endswith(PATCH_SUFFIXES))
    if len(candidates) != 1:
        found = ", ".join(candidates) if candidates else "none"
        raise PatchError(
            f"{where} holds {len(candidates)} .patch/.diff files ({found}): name the one to apply "
            "(WORKSPACE/ID/FILE, or path)."
        )
    return candidates[0]


# --------------------------------------------------------------------------- making one


@dataclass
class LeftOut:
    name: str
    reason: str


@dataclass
class SharedDiff:
    patch: bytes  # what becomes the snippet's .patch file
    files: list[str]  # every file it changes
    left_out: list[LeftOut]
    repository: Path  # the repository's top folder (names in the patch are relative to it)


class GitError(RuntimeError):
    """git is missing, or the folder is not in a repository; the message says what to do."""


def _git(folder: Path, *arguments: str, ok: tuple[int, ...] = (0,)) -> bytes:
    executable = shutil.which("git")
    if executable is None:
        raise GitError("git is not installed (or not on PATH): sharing changes needs it.")
    environment = {**os.environ, "GIT_PAGER": "cat", "GIT_OPTIONAL_LOCKS": "0"}
    done = subprocess.run(
        [executable, *arguments], cwd=folder, capture_output=True, env=environment, stdin=subprocess.DEVNULL
    )
    if done.returncode not in ok:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {arguments[0]} failed in {folder}: {reason[0] if reason else done.returncode}")
    return done.stdout


def _blocks(diff: bytes) -> list[bytes]:
    """``git diff`` output cut into one block per file."""
    blocks: list[bytes] = []
    for line in _lines(diff):
        if line.startswith(b"diff --git ") or not blocks:
            blocks.append(line)
        else:
            blocks[-1] += line
    return [block for block in blocks if block.startswith(b"diff --git ")]


def git_diff(folder: Path, *, staged: bool = False, include_untracked: bool = False) -> SharedDiff:
    """The changes in ``folder``'s repository as one patch (``git diff``; ``--staged``), binary ones left out."""
    if not folder.is_dir():
        raise GitError(f"{folder} is not a folder.")
    try:
        top = Path(_git(folder, "rev-parse", "--show-toplevel").decode("utf-8", "surrogateescape").strip())
    except GitError:
        raise GitError(f"{folder} is not in a git repository: share --diff shares a repository's changes.") from None
    diff = _git(top, *GIT_DIFF, *(["--staged"] if staged else []))
    if include_untracked:
        listed = _git(top, "ls-files", "--others", "--exclude-standard", "-z")
        for name in sorted(filter(None, listed.split(b"\0"))):
            diff += _git(top, *GIT_DIFF, "--no-index", "--", "/dev/null", os.fsdecode(name), ok=(0, 1))
    kept: list[bytes] = []
    files: list[str] = []
    left_out: list[LeftOut] = []
    for block in _blocks(diff):
        (patch,) = parse_patch(block)
        if patch.binary:
            left_out.append(LeftOut(patch.name, "a binary file: a text patch cannot carry it (share the file itself)"))
            continue
        kept.append(block)
        files.append(patch.name)
    return SharedDiff(b"".join(kept), files, left_out, top)


def patch_name(shared: SharedDiff) -> str:
    """The snippet file's name: the repository's folder name, ``.patch``."""
    return f"{shared.repository.name or 'changes'}.patch"


def patch_title(shared: SharedDiff, *, staged: bool) -> str:
    which = "Staged changes" if staged else "Changes"
    count = len(shared.files)
    return f"{which} in {shared.repository.name or 'a repository'} ({count} file{'s' if count != 1 else ''})"


def nothing_to_share(shared: SharedDiff, *, staged: bool) -> str:
    left = "; left out: " + ", ".join(f"{item.name} ({item.reason})" for item in shared.left_out)
    hint = (
        "Nothing is staged: stage changes with git add, or share the unstaged ones."
        if staged
        else "There are no unstaged changes to tracked files: share the staged ones, or include untracked files."
    )
    return f"No changes to share in {shared.repository}. {hint}" + (left if shared.left_out else "")
