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


def user_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where snippet-daemon keeps per-user data (sandbox data, migration state), by platform convention."""
    env = os.environ if env is None else env
    if sys.platform == "win32":
        base = Path(env.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        xdg = env.get("XDG_DATA_HOME")
        base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / "snippet-daemon"
