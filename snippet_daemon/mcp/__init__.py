"""``snippet-daemon mcp``: snippets for AI agents over the Model Context Protocol (stdio).

A third face over the same core as the language server and the CLI: :mod:`.host` runs the daemon's state and
services (the Bitbucket client, the documents cache with its compare-and-swap writes, the secret scanner, the
account's search index file, shared with a running daemon through SQLite) without an editor; :mod:`.tools` is
the six tools over them, with a request budget of their own (``mcpBudgetPerHour``); :mod:`.server` binds them
to the official ``mcp`` SDK. stdout is the MCP channel: logs go to stderr.
"""

from __future__ import annotations

from snippet_daemon.mcp.tools import DEFAULT_BUDGET_PER_HOUR, TOOL_NAMES

__all__ = ["DEFAULT_BUDGET_PER_HOUR", "TOOL_NAMES"]
