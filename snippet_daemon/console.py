"""What every command says and returns: exit codes, the error line, the per-user data folder.

Kept free of heavy imports: ``snippet-daemon --help`` loads it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

EXIT_OK = 0
EXIT_ERROR = 1  # could not do it; the message says why and what to do
EXIT_USAGE = 2  # bad arguments
EXIT_PARTIAL = 3  # some of it was done; what was not is listed
EXIT_INTERRUPTED = 130  # Ctrl-C


def print_error(message: str, *, command: str | None = None) -> None:
    """``snippet-daemon [command]: message`` on stderr."""
    prefix = f"snippet-daemon {command}" if command else "snippet-daemon"
    print(f"{prefix}: {message}", file=sys.stderr, flush=True)


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


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically, as a 0600 file in a private folder."""
    private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = open_private(temporary, os.O_WRONLY | os.O_TRUNC)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
