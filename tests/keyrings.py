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


class DbusFailingKeyring(KeyringBackend):
    """Every read fails as a Secret Service whose D-Bus connection broke does: an ``OSError`` (not a KeyringError),
    after a short wait (an unlock prompt nobody answers). Each read appends its thread to ``$KEYRING_THREAD_LOG``."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        import time

        where = "main" if threading.current_thread() is threading.main_thread() else "worker"
        with open(os.environ["KEYRING_THREAD_LOG"], "a", encoding="utf-8") as log:
            log.write(where + "\n")
        time.sleep(0.3)
        raise OSError(104, "Connection reset by peer (org.freedesktop.secrets)")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise OSError(104, "Connection reset by peer (org.freedesktop.secrets)")

    def delete_password(self, service: str, username: str) -> None:
        raise OSError(104, "Connection reset by peer (org.freedesktop.secrets)")


_MEMORY: dict[tuple[str, str], str] = {}


class SlowMemoryKeyring(KeyringBackend):
    """Keeps what is saved in this process's memory; a save takes 0.2 s (an unlock prompt answered quickly)."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return _MEMORY.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        import time

        time.sleep(0.2)
        _MEMORY[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        _MEMORY.pop((service, username), None)


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
