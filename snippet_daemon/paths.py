"""Where snippet-daemon keeps its files, and how it writes them: the per-user data and cache folders, private
folders (0700) and files (0600) whatever the umask, and atomic writes (a crash leaves the old file or the new one).

Kept free of heavy imports: the CLI and the daemon load it at start-up.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def user_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where snippet-daemon keeps per-user data (sandbox data, migration state, watched snippets), by platform
    convention. Whatever is made there is the user's alone: folders 0700, files 0600 (:func:`private_dir`,
    :func:`write_private`), as ``gh`` keeps its hosts file, whatever the umask."""
    env = os.environ if env is None else env
    if sys.platform == "win32":
        base = Path(env.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        xdg = env.get("XDG_DATA_HOME")
        base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / "snippet-daemon"


def user_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where snippet-daemon keeps what it can build again (the search index), by platform convention;
    private as :func:`user_data_dir` is."""
    env = os.environ if env is None else env
    if sys.platform == "win32":
        base = Path(env.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "snippet-daemon" / "Cache"
        return base
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "snippet-daemon"
    xdg = env.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "snippet-daemon"


def private_dir(path: Path) -> Path:
    """``path`` as a folder only its owner may enter (0700), created if missing, and so is every missing
    parent (as the XDG base directory spec asks); folders that exist are left as they are."""
    if not path.parent.is_dir():
        private_dir(path.parent)
    try:
        path.mkdir(mode=PRIVATE_DIR_MODE)
    except FileExistsError:
        return path
    os.chmod(path, PRIVATE_DIR_MODE)  # mkdir's mode is filtered by the umask; chmod's is not
    return path


def open_private(path: Path, flags: int = os.O_RDWR) -> int:
    """A descriptor of ``path``, created 0600 if missing (the umask can only take bits away from 0600)."""
    return os.open(path, flags | os.O_CREAT, PRIVATE_FILE_MODE)


def write_private(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Replace ``path`` with ``data`` atomically (a crash leaves the old file or the new one), as a 0600 file in
    a private folder. ``durable``: on disk before this returns, the rename too (a power cut cannot undo it)."""
    private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = open_private(temporary, os.O_WRONLY | os.O_TRUNC)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if durable and sys.platform != "win32":
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
