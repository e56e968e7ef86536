"""What every command says and returns: exit codes and the error line (the per-user folders are in
:mod:`snippet_daemon.paths`).

Kept free of heavy imports: ``snippet-daemon --help`` loads it.
"""

from __future__ import annotations

import sys

EXIT_OK = 0
EXIT_ERROR = 1  # could not do it; the message says why and what to do
EXIT_USAGE = 2  # bad arguments
EXIT_PARTIAL = 3  # some of it was done; what was not is listed
EXIT_INTERRUPTED = 130  # Ctrl-C


def print_error(message: str, *, command: str | None = None) -> None:
    """``snippet-daemon [command]: message`` on stderr."""
    prefix = f"snippet-daemon {command}" if command else "snippet-daemon"
    print(f"{prefix}: {message}", file=sys.stderr, flush=True)
