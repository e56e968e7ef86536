"""The daemon's state and services without an editor: what the MCP tools run on.

:class:`McpHost` is the language server's :class:`~snippet_daemon.server.SnippetServer` (settings, credentials
from the keyring or the environment, the Bitbucket client, :mod:`~snippet_daemon.documents`, the search index)
with nothing to show progress or messages on: those go to the log (stderr). It never polls (no editor holds a
document open to keep current), so a cached snippet is trusted for ``documents.UNPOLLED_MAX_AGE`` seconds.

A feature's handler is found through the contract's table (``protocol.METHODS`` names each method's feature),
so the tools call the very code the editors' commands run.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from lsprotocol import types

from snippet_daemon import protocol
from snippet_daemon.features.common import Handler
from snippet_daemon.server import SnippetServer

log = logging.getLogger("snippet_daemon.mcp")


class McpHost(SnippetServer):
    """The daemon's services for one MCP session (one process, one account)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        # Options as the daemon reads them (each falls back to the environment); nothing polls here.
        self.configure({"pollIntervalSeconds": 0, "clientName": "mcp"})

    def show_message(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        log.info("%s", self.redactor.redact(message))

    def notify_did_change(self, change: protocol.DidChangeParams) -> None:
        """No editor to tell: an agent reads again when it needs to."""

    @contextlib.asynccontextmanager
    async def work_done(self, title: str) -> AsyncIterator[Callable[[str, int | None], None]]:
        log.debug("%s", title)
        yield lambda message, percentage: None

    def start(self) -> None:
        """Look the credentials up (in a thread: a locked keyring may prompt) and keep the index fresh."""
        self.start_credentials_lookup()
        self.search_index.start()


def handler(method_name: str) -> Handler:
    """The feature handler of a method of the contract, from the feature module its table entry names."""
    method = protocol.METHODS_BY_NAME[method_name]
    module: Any = importlib.import_module(f"snippet_daemon.features.{method.feature}")
    handlers: dict[str, Handler] = module.HANDLERS
    return handlers[method_name]
