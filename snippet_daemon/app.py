"""Wiring: builds the :class:`~snippet_daemon.server.SnippetServer`, binds every method of the contract to
its feature (one module each under ``features/``), and serves it on stdio.

The only module that imports both the server and the features: features see the server as a type, never
import it, so the dependencies run one way (app -> features -> services; app -> server -> services).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from lsprotocol import types

from snippet_daemon import __version__, logs
from snippet_daemon.features import account, comments, files, history, patch, pull, push, search, snippets, watch
from snippet_daemon.server import SnippetServer

log = logging.getLogger("snippet_daemon.server")


def create_server(env: Mapping[str, str] | None = None) -> SnippetServer:
    """A server with every method of the contract bound to its feature (used by ``run_stdio`` and by tests)."""
    server = SnippetServer(env)

    @server.feature(types.INITIALIZE)
    def on_initialize(ls: SnippetServer, params: types.InitializeParams) -> None:
        ls.configure(params.initialization_options)

    @server.feature(types.INITIALIZED)
    def on_initialized(ls: SnippetServer, params: types.InitializedParams) -> None:
        ls.client_log.ready = True
        client = ls.options.client_name or "an unnamed client"
        log.info("snippet-daemon %s ready for %s (API %s)", __version__, client, ls.api_url)
        ls.start_credentials_lookup()
        ls.watcher.start()
        ls.search_index.start()

    @server.feature(types.SHUTDOWN)
    async def on_shutdown(ls: SnippetServer, params: None) -> None:
        await ls.close()

    server.register_methods(
        {
            **snippets.HANDLERS,
            **account.HANDLERS,
            **files.HANDLERS,
            **comments.HANDLERS,
            **watch.HANDLERS,
            **history.HANDLERS,
            **pull.HANDLERS,
            **search.HANDLERS,
            **push.HANDLERS,
            **patch.HANDLERS,
        }
    )
    server.feature(types.WORKSPACE_SYMBOL)(search.workspace_symbol)
    return server


def run_stdio() -> int:
    """``snippet-daemon`` / ``--stdio``: serve LSP on stdin/stdout until the client exits."""
    import gc

    level = logs.level_from_name(os.environ.get("SNIPPET_DAEMON_LOG"))
    server = create_server()
    logs.configure(level, server.redactor)
    logging.getLogger().addHandler(server.client_log)
    # Start-up objects live as long as the process: keep them out of every future collection.
    # (cmd_server disabled gc before importing, which saves a full collection during start-up.)
    gc.freeze()
    gc.enable()
    server.start_io()
    return server.exit_code
