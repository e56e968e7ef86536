"""The MCP face: the six tools and the snippet resources, bound to the official ``mcp`` SDK, over stdio.

Each tool has an input schema (from the signature) and a one-line description an agent can act on. Snippet
files are also resources, ``bbsnippet://workspace/id/path`` (the daemon's URIs). A failure is a tool error
whose text says what to do (see :class:`~snippet_daemon.mcp.tools.ToolFailure`).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from pydantic import BaseModel, Field

from snippet_daemon import __version__, logs
from snippet_daemon.mcp.host import McpHost
from snippet_daemon.mcp.tools import SnippetTools, ToolFailure, budget_from_env

log = logging.getLogger("snippet_daemon.mcp")

INSTRUCTIONS = (
    "Bitbucket Cloud snippets: list, search (by title, file name and content), read, create (private unless "
    "is_private is false), update one file at the revision you read (a changed snippet is refused, never "
    "overwritten) and comment. Secrets are refused in public snippets."
)

Workspace = Annotated[str, Field(description="The workspace slug, e.g. myteam")]
OptionalWorkspace = Annotated[
    str | None, Field(description="The workspace slug (default: the configured or your personal workspace)")
]
SnippetId = Annotated[str, Field(description="The snippet's id, e.g. kypj")]


class SnippetFile(BaseModel):
    """One file of a new snippet."""

    name: str = Field(description="The file name, e.g. app.py (a relative path like src/app.py is allowed)")
    content: str = Field(description="The file's text")


def build_server(host: McpHost, tools: SnippetTools) -> MCPServer:
    @contextlib.asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[None]:
        host.start()
        try:
            yield
        finally:
            await host.close()

    server: MCPServer = MCPServer(
        "snippet-daemon", version=__version__, instructions=INSTRUCTIONS, lifespan=lifespan, log_level="WARNING"
    )

    async def run(call: Any) -> Any:
        try:
            return await call
        except ToolFailure as failure:
            raise ToolError(str(failure)) from None

    @server.tool(description="List the snippets of a workspace: id, title, workspace, private, updated, files.")
    async def list_snippets(workspace: OptionalWorkspace = None) -> dict[str, Any]:
        return await run(tools.list_snippets(workspace))  # type: ignore[no-any-return]

    @server.tool(
        description="Search every snippet by title, file name and content (every word must match); "
        "hits give workspace, id, file, line and a preview."
    )
    async def search_snippets(
        query: Annotated[str, Field(description="Words to find, e.g. retry backoff")],
        workspace: Annotated[str | None, Field(description="Only this workspace (default: every indexed one)")] = None,
        limit: Annotated[int, Field(ge=1, le=500, description="At most this many hits")] = 20,
    ) -> dict[str, Any]:
        return await run(tools.search_snippets(query, workspace, limit))  # type: ignore[no-any-return]

    @server.tool(
        description="Read a snippet's files (binary files are named, not dumped) and its revision, which "
        "update_snippet_file needs."
    )
    async def read_snippet(
        workspace: Workspace,
        id: SnippetId,
        path: Annotated[str | None, Field(description="Only this file (default: every file)")] = None,
    ) -> dict[str, Any]:
        return await run(tools.read_snippet(workspace, id, path))  # type: ignore[no-any-return]

    @server.tool(
        description="Create a snippet from one or more files; private unless is_private is false. Answers its "
        "id and link."
    )
    async def create_snippet(
        title: Annotated[str, Field(description="The snippet's title")],
        files: Annotated[list[SnippetFile], Field(min_length=1, description="The files, each {name, content}")],
        workspace: OptionalWorkspace = None,
        is_private: Annotated[
            bool, Field(description="Visible only to the workspace's members (default true); false: to anyone")
        ] = True,
    ) -> dict[str, Any]:
        pairs = [(item.name, item.content) for item in files]
        return await run(tools.create_snippet(title, pairs, workspace, is_private))  # type: ignore[no-any-return]

    @server.tool(
        description="Replace (or add) one file of a snippet, only if the snippet is still at the revision you "
        "read; answers the new revision."
    )
    async def update_snippet_file(
        workspace: Workspace,
        id: SnippetId,
        path: Annotated[str, Field(description="The file to write, e.g. app.py")],
        content: Annotated[str, Field(description="The file's whole new text")],
        revision: Annotated[str, Field(description="The revision read_snippet answered")],
    ) -> dict[str, Any]:
        return await run(tools.update_snippet_file(workspace, id, path, content, revision))  # type: ignore[no-any-return]

    @server.tool(description="Comment on a snippet, or on one line of one of its files (path and line).")
    async def add_comment(
        workspace: Workspace,
        id: SnippetId,
        content: Annotated[str, Field(description="The comment (Markdown)")],
        path: Annotated[str | None, Field(description="The file the comment is about")] = None,
        line: Annotated[int | None, Field(ge=1, description="The line of that file (1-based)")] = None,
    ) -> dict[str, Any]:
        return await run(tools.add_comment(workspace, id, content, path, line))  # type: ignore[no-any-return]

    @server.resource(
        "bbsnippet://{workspace}/{id}/{+path}",
        name="snippet-file",
        description="One file of a Bitbucket snippet, as the snippet is now.",
    )
    async def snippet_file(workspace: str, id: str, path: str) -> str | bytes:
        try:
            return await tools.read_file(workspace, id, path)
        except ToolFailure as failure:
            raise ResourceError(str(failure)) from None

    return server


def run_stdio(env: Mapping[str, str] | None = None) -> int:
    """``snippet-daemon mcp``: serve MCP on stdin/stdout until the client goes away."""
    env = dict(os.environ if env is None else env)
    host = McpHost(env)
    logs.configure(logs.level_from_name(env.get("SNIPPET_DAEMON_LOG"), logging.WARNING), host.redactor)
    try:
        budget = budget_from_env(env)
    except ToolFailure as error:
        log.error("%s", error)
        return 2
    server = build_server(host, SnippetTools(host, budget))
    server.run("stdio")
    return 0
