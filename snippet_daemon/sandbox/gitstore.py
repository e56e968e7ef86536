"""The snippets' revisions: one bare git repository, one ref per snippet (``refs/snippets/<ws>/<id>``).

Bitbucket keeps every snippet in git (``"scm": "git"``) and versions only file contents; this module
does the same with the ``git`` command line, sparing processes:

* one ``git fast-import`` per new commit (files inline, parent chained, ref updated, hash printed);
* one long-lived ``git cat-file --batch`` for every read: commits and trees are parsed here, and
  cached by hash since git objects never change;
* ``git diff`` and ``git format-patch`` only when a client asks for a diff or a patch, so that those
  bodies are real git output.

Git runs in an isolated environment: no system or global configuration, no inherited ``GIT_*``
variables, identities and dates given explicitly.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from snippet_daemon.paths import private_dir

__all__ = ["EMPTY_TREE", "CommitInfo", "GitError", "GitStore", "Identity", "blob_sha"]

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
_HEX40 = re.compile(r"[0-9a-f]{40}")
_CACHE_LIMIT = 4096


class GitError(RuntimeError):
    """A git command failed, or the repository lacks an object it should have."""


@dataclass(frozen=True)
class Identity:
    name: str
    email: str


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    author_time: int
    message: str


def blob_sha(content: bytes) -> str:
    """The hash git gives ``content`` as a blob: lets an update skip unchanged files without git."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


def _quote_path(path: str) -> bytes:
    """C-style quoting, which fast-import accepts for every path (needed for quotes and newlines)."""
    out = bytearray(b'"')
    for byte in path.encode("utf-8"):
        if byte == 0x22:
            out += b'\\"'
        elif byte == 0x5C:
            out += b"\\\\"
        elif byte == 0x0A:
            out += b"\\n"
        elif byte < 0x20 or byte == 0x7F:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    out += b'"'
    return bytes(out)


def _clean_ident(text: str) -> str:
    # git identities cannot hold angle brackets or line breaks.
    return re.sub(r"[<>\n\r\0]", "", text).strip() or "unknown"


def _parse_ident(line: str) -> tuple[str, str, int]:
    match = re.match(r"(.*?) <(.*?)> (\d+) [+-]\d{4}$", line)
    if match is None:
        return line, "", 0
    return match.group(1), match.group(2), int(match.group(3))


class GitStore:
    """A bare repository at ``path`` (created if missing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(path),
            "LC_ALL": "C",
            "TZ": "UTC",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_DIR": str(path),
        }
        if not (path / "HEAD").is_file():
            private_dir(path)
            # --shared=0600: every file git makes here is 0600 and every folder 0700, whatever the umask;
            # no template: no sample hooks (executables) in a repository nobody runs hooks in.
            self._git(
                "-c", "init.defaultBranch=main", "init", "--bare", "--quiet", "--shared=0600", "--template=", str(path)
            )
        self._cat: subprocess.Popen[bytes] | None = None
        self._cat_lock = threading.Lock()
        self._commits: dict[str, CommitInfo] = {}
        self._trees: dict[str, dict[str, str]] = {}

    # ------------------------------------------------------------------ processes

    def _git(self, *args: str, input: bytes | None = None) -> bytes:
        completed = subprocess.run(
            ["git", *args],
            input=input,
            capture_output=True,
            env=self._env,
            cwd=self.path if self.path.is_dir() else None,
            check=False,
        )
        if completed.returncode != 0:
            message = completed.stderr.decode("utf-8", "replace").strip()
            raise GitError(f"git {args[0] if args else ''} failed: {message}")
        return completed.stdout

    def close(self) -> None:
        with self._cat_lock:
            if self._cat is not None:
                process, self._cat = self._cat, None
                if process.stdin is not None:
                    process.stdin.close()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                if process.stdout is not None:
                    process.stdout.close()

    def _cat_file(self) -> tuple[IO[bytes], IO[bytes]]:
        if self._cat is None or self._cat.poll() is not None:
            self._cat = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=self._env,
                cwd=self.path,
            )
        assert self._cat.stdin is not None and self._cat.stdout is not None
        return self._cat.stdin, self._cat.stdout

    def _read_object(self, sha: str) -> tuple[str, bytes] | None:
        if not _HEX40.fullmatch(sha):
            # Only full hashes reach cat-file: anything else could name refs or other snippets.
            return None
        with self._cat_lock:
            for attempt in range(2):
                stdin, stdout = self._cat_file()
                try:
                    stdin.write(sha.encode("ascii") + b"\n")
                    stdin.flush()
                    header = stdout.readline()
                    if not header:
                        raise BrokenPipeError("git cat-file exited")
                    fields = header.split()
                    if len(fields) < 3 or fields[1] == b"missing":
                        return None
                    size = int(fields[2])
                    data = stdout.read(size)
                    stdout.read(1)  # the newline after each object
                    return fields[1].decode("ascii"), data
                except (BrokenPipeError, OSError, ValueError):
                    if self._cat is not None:
                        self._cat.kill()
                        self._cat.wait()
                        self._cat = None
                    if attempt:
                        raise
        return None

    # ------------------------------------------------------------------ reading

    def commit_info(self, sha: str) -> CommitInfo:
        cached = self._commits.get(sha)
        if cached is not None:
            return cached
        found = self._read_object(sha)
        if found is None or found[0] != "commit":
            raise GitError(f"no commit {sha}")
        head, _, message = found[1].partition(b"\n\n")
        tree, parents, author = "", [], ("", "", 0)
        for line in head.decode("utf-8", "replace").split("\n"):
            key, _, value = line.partition(" ")
            if key == "tree":
                tree = value
            elif key == "parent":
                parents.append(value)
            elif key == "author":
                author = _parse_ident(value)
        info = CommitInfo(
            sha=sha,
            tree=tree,
            parents=tuple(parents),
            author_name=author[0],
            author_email=author[1],
            author_time=author[2],
            message=message.decode("utf-8", "replace"),
        )
        if len(self._commits) > _CACHE_LIMIT:
            self._commits.clear()
        self._commits[sha] = info
        return info

    def _tree_files(self, tree: str) -> dict[str, str]:
        cached = self._trees.get(tree)
        if cached is not None:
            return cached
        files: dict[str, str] = {}
        found = self._read_object(tree)
        if found is None or found[0] != "tree":
            raise GitError(f"no tree {tree}")
        data, index = found[1], 0
        while index < len(data):
            space = data.index(b" ", index)
            nul = data.index(b"\0", space)
            mode = data[index:space]
            name = data[space + 1 : nul].decode("utf-8", "surrogateescape")
            sha = data[nul + 1 : nul + 21].hex()
            index = nul + 21
            if mode == b"40000":
                for sub_name, sub_sha in self._tree_files(sha).items():
                    files[f"{name}/{sub_name}"] = sub_sha
            else:
                files[name] = sha
        files = dict(sorted(files.items()))
        if len(self._trees) > _CACHE_LIMIT:
            self._trees.clear()
        self._trees[tree] = files
        return files

    def files(self, commit: str) -> dict[str, str]:
        """Every file of ``commit``: path -> blob hash, sorted by path."""
        return self._tree_files(self.commit_info(commit).tree)

    def blob(self, sha: str) -> bytes:
        found = self._read_object(sha)
        if found is None or found[0] != "blob":
            raise GitError(f"no blob {sha}")
        return found[1]

    def history(self, head: str) -> list[CommitInfo]:
        """Commits reachable from ``head``, newest first (snippet histories are linear)."""
        seen: set[str] = set()
        ordered: list[CommitInfo] = []
        pending = [head]
        while pending:
            sha = pending.pop(0)
            if sha in seen:
                continue
            seen.add(sha)
            info = self.commit_info(sha)
            ordered.append(info)
            pending.extend(info.parents)
        return ordered

    def refs(self, prefix: str = "refs/snippets/") -> dict[str, str]:
        out = self._git("for-each-ref", "--format=%(objectname) %(refname)", prefix)
        refs: dict[str, str] = {}
        for line in out.decode("utf-8", "replace").splitlines():
            sha, _, name = line.partition(" ")
            refs[name] = sha
        return refs

    # ------------------------------------------------------------------ writing

    def write_commit(
        self,
        ref: str,
        parent: str | None,
        changes: Mapping[str, bytes | None],
        author: Identity,
        when: int,
        message: str,
    ) -> str:
        """One commit on ``ref``: ``changes`` maps a path to new bytes, or to None to delete it."""
        ident = f"{_clean_ident(author.name)} <{_clean_ident(author.email)}> {when} +0000".encode()
        encoded_message = message.encode("utf-8")
        chunks = [
            b"commit " + ref.encode("utf-8") + b"\n",
            b"mark :1\n",
            b"author " + ident + b"\n",
            b"committer " + ident + b"\n",
            b"data %d\n" % len(encoded_message) + encoded_message + b"\n",
        ]
        if parent is not None:
            chunks.append(b"from " + parent.encode("ascii") + b"\n")
        for path, content in changes.items():
            if content is None:
                chunks.append(b"D " + _quote_path(path) + b"\n")
            else:
                chunks.append(b"M 100644 inline " + _quote_path(path) + b"\n")
                chunks.append(b"data %d\n" % len(content) + content + b"\n")
        chunks.append(b"get-mark :1\ndone\n")
        out = self._git("fast-import", "--quiet", "--done", input=b"".join(chunks))
        sha = out.decode("ascii", "replace").strip()
        if not _HEX40.fullmatch(sha):
            raise GitError(f"fast-import printed no commit hash: {sha!r}")
        return sha

    def delete_ref(self, ref: str) -> None:
        self._git("update-ref", "-d", ref)

    # ------------------------------------------------------------------ text views

    def diff(self, old: str | None, new: str, path: str | None = None) -> bytes:
        """``git diff`` from ``old`` (None: the empty tree) to ``new``, optionally one path only."""
        args = ["--literal-pathspecs", "-c", "core.quotePath=false", "diff", "--no-color", "--no-ext-diff"]
        args += ["--no-textconv", old or EMPTY_TREE, new]
        if path:
            args += ["--", path]
        return self._git(*args)

    def format_patch(self, commit: str, since: str | None = None) -> bytes:
        """``git format-patch --stdout`` of one commit, or of ``since..commit``."""
        args = ["-c", "core.quotePath=false", "format-patch", "--stdout", "--no-color"]
        args += [f"{since}..{commit}"] if since else ["-1", commit]
        return self._git(*args)
