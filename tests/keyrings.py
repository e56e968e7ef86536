"""Keyring backends for tests, chosen in a daemon's environment with ``PYTHON_KEYRING_BACKEND=tests.keyrings.X``.

Real backends cannot be made to fail on cue or to say which thread called them; these do one thing each.
"""

from __future__ import annotations

import os
import threading

from keyring.backend import KeyringBackend


class BrokenKeyring(KeyringBackend):
    """Reads find nothing; a write fails with an error no keyring documents (a bug in some backend)."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("the backend broke")

    def delete_password(self, service: str, username: str) -> None:
        return None


class ThreadRecordingKeyring(KeyringBackend):
    """Finds nothing, and appends to ``$KEYRING_THREAD_LOG`` whether each read ran on the main thread
    (the daemon's event loop) or on another one."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        where = "main" if threading.current_thread() is threading.main_thread() else "worker"
        with open(os.environ["KEYRING_THREAD_LOG"], "a", encoding="utf-8") as log:
            log.write(where + "\n")
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        return None

    def delete_password(self, service: str, username: str) -> None:
        return None


class LockedKeyring(KeyringBackend):
    """Reads find nothing; a write is refused as a locked keyring refuses it (a documented KeyringError)."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        from keyring.errors import KeyringLocked

        raise KeyringLocked("the keyring is locked")

    def delete_password(self, service: str, username: str) -> None:
        return None
