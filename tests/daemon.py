"""Driving the real daemon over stdio (pytest-lsp) against the real sandbox, as an editor would.

``start_daemon(sandbox, ...)`` spawns ``python -m snippet_daemon --stdio`` with the sandbox's URL
and a user's credentials in its environment, initializes it with the VS Code or the Neovim
client capabilities, and returns a :class:`Daemon` whose ``command`` / ``request`` give plain
JSON results or raise :class:`DaemonError` carrying ``data.kind``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from snippet_daemon.lsp_client import DaemonError, DaemonSession
from snippet_daemon.sandbox import Sandbox

__all__ = ["CLIENTS", "Daemon", "DaemonError", "daemon_env", "start_daemon", "user_env"]

# The two client capability sets every end-to-end test runs with.
CLIENTS = ("visual-studio-code", "neovim")

# Background indexing is off unless a test turns it on: its requests would blur every request count.
FAST_OPTIONS: dict[str, Any] = {"pollIntervalSeconds": 0, "writeBatchMilliseconds": 30, "indexing": False}


class Daemon:
    def __init__(self, client: LanguageClient, sandbox: Sandbox) -> None:
        self.client = client
        self.sandbox = sandbox
        self.session = DaemonSession(client)
        self.notifications = self.session.changes  # bbsnippets/didChange, as JSON
        self.command = self.session.command
        self.request = self.session.request

    async def wait_for_change(self, predicate: Any, timeout: float) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for notification in self.notifications:
                if predicate(notification):
                    return notification
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no matching bbsnippets/didChange within {timeout} s: {self.notifications}")
            await asyncio.sleep(0.05)

    @property
    def log_messages(self) -> list[str]:
        return [message.message for message in self.client.log_messages]

    @property
    def shown_messages(self) -> list[str]:
        return [message.message for message in self.client.messages]

    async def stop(self) -> None:
        """Shut the daemon down (again is a no-op, so a test may stop one its fixture also stops)."""
        if self.client.stopped:
            return
        await self.client.shutdown_session()
        await self.client.stop()


def user_env(sandbox: Sandbox, user: int = 0, kind: str = "apiToken") -> dict[str, str]:
    account = sandbox.users[user]
    if kind == "accessToken":
        return {"BITBUCKET_ACCESS_TOKEN": account.access_token}
    return {"BITBUCKET_USERNAME": account.email, "BITBUCKET_API_TOKEN": account.api_token}


def daemon_env(
    sandbox: Sandbox, credentials: Mapping[str, str] | None, extra: Mapping[str, str] | None
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BITBUCKET_", "SNIPPET_DAEMON_")) or key == "SNIPPET_DAEMON_REQUIRE_KEYRING"
    }
    env.update(
        {
            "BITBUCKET_API_URL": sandbox.base_url,
            "SNIPPET_DAEMON_RETRY_SCALE": "0.01",
            "SNIPPET_DAEMON_LOG": "debug",
            # The daemon's per-user data (watched snippets) stays with this test's sandbox.
            "XDG_DATA_HOME": str(sandbox.data_dir.parent / "xdg-data"),
            "XDG_CACHE_HOME": str(sandbox.data_dir.parent / "xdg-cache"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(credentials or {})
    env.update(extra or {})
    return env


async def start_daemon(
    sandbox: Sandbox,
    *,
    user: int = 0,
    capabilities: str = "visual-studio-code",
    options: Mapping[str, Any] | None = None,
    credentials: Mapping[str, str] | bool | None = True,
    env: Mapping[str, str] | None = None,
) -> Daemon:
    """A daemon logged in as ``sandbox.users[user]`` (``credentials=False``: not logged in at all)."""
    if credentials is True:
        chosen: Mapping[str, str] | None = user_env(sandbox, user)
    elif credentials is False:
        chosen = None
    else:
        chosen = credentials
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "snippet_daemon", "--stdio"],
        server_env=daemon_env(sandbox, chosen, env),
    )
    client = await config.start()
    assert isinstance(client, LanguageClient)
    daemon = Daemon(client, sandbox)
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(capabilities),
            initialization_options={"workspace": sandbox.users[user].nickname, **FAST_OPTIONS, **(options or {})},
        )
    )
    return daemon
