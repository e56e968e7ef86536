"""Real git repositories for the patch tests (``snippet_daemon.patches`` itself, and ``shareDiff`` /
``applyPatch`` through the daemon, the CLI and Neovim): run git in a folder, start a repository, read a
folder's files as the patches see them."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(folder: Path, *arguments: str) -> str:
    """``git ARGUMENTS`` in ``folder``; its output. A failure fails the test."""
    done = subprocess.run(["git", *arguments], cwd=folder, check=True, capture_output=True, text=True)
    return done.stdout


def new_repository(folder: Path) -> Path:
    """An empty repository in the new folder ``folder``, with a committer set (CI has no git identity)."""
    folder.mkdir()
    git(folder, "init", "-q")
    git(folder, "config", "user.email", "t@example.com")
    git(folder, "config", "user.name", "T")
    return folder


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` but git's own, by its path relative to ``root``: its bytes."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }
