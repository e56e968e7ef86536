"""The six MCP tools, over the daemon's services (:class:`~snippet_daemon.mcp.host.McpHost`).

Requests behind each (against Bitbucket, through the session's own budget; ``+1`` once a session when no
workspace is given or configured: ``GET /user`` finds the personal one):

* ``list_snippets``: ⌈N/100⌉ GETs (file names come with the list).
* ``search_snippets``: none of its own: the local index answers (it is refreshed in the background with its
  own budget, ``indexBudgetPerHour``, and with the daemon through the shared index file).
* ``read_snippet``: 1 GET (metadata and every file in one multipart answer), always fresh.
* ``create_snippet``: 1 POST; a public one holding a credential is refused before any request.
* ``update_snippet_file``: 1 PUT at the revision given (a compare-and-swap), plus 1 GET when the snippet was
  not read in the last half minute; a stale revision costs that PUT (refused with 405) and the snippet is
  unchanged.
* ``add_comment``: 1 POST (plus 1 GET to check ``path`` when the snippet is not cached).

Every failure is a :class:`ToolFailure` in plain words (no editor command, no traceback, no credential).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, TypeVar

import httpx

from snippet_daemon import protocol
from snippet_daemon.bitbucket import RateLimited
from snippet_daemon.budget import TokenBucket
from snippet_daemon.features.common import check_file_name, is_binary, refuse_secrets
from snippet_daemon.mcp.host import McpHost, handler
from snippet_daemon.messages import NOT_AUTHENTICATED_MCP_HELP
from snippet_daemon.protocol import ErrorKind
from snippet_daemon.transport import is_bug, to_rpc_error

log = logging.getLogger("snippet_daemon.mcp")

DEFAULT_BUDGET_PER_HOUR: Final = 300.0
BUDGET_ENV: Final = "SNIPPET_DAEMON_MCP_BUDGET_PER_HOUR"
TOOL_NAMES: Final = (
    "list_snippets",
    "search_snippets",
    "read_snippet",
    "create_snippet",
    "update_snippet_file",
    "add_comment",
)

T = TypeVar("T")


class ToolFailure(Exception):
    """A tool call that failed in a way the agent (or its user) can act on; the message says how."""


class BudgetSpent(RateLimited):
    """The agent's request budget has no request left: raised before the request goes out."""


class MeteredTransport(httpx.AsyncBaseTransport):
    """Every request the tools send takes one from the budget first; none goes out once it is spent."""

    def __init__(self, budget: TokenBucket, spent: Callable[[], str]) -> None:
        self._budget = budget
        self._spent = spent
        self._http = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self._budget.take():
            raise BudgetSpent(self._spent())
        return await self._http.handle_async_request(request)

    async def aclose(self) -> None:
        await self._http.aclose()


def budget_from_env(env: Mapping[str, str]) -> float:
    raw = (env.get(BUDGET_ENV) or "").strip()
    if not raw:
        return DEFAULT_BUDGET_PER_HOUR
    try:
        value = float(raw)
    except ValueError:
        raise ToolFailure(f"{BUDGET_ENV} must be a number of requests an hour, not {raw!r}.") from None
    return max(0.0, value)


class SnippetTools:
    """One agent's session: the tools, their budget, and the host's services.

    The budget (``mcpBudgetPerHour``) holds an hour's requests at once and refills at that rate. Every request
    the tools send takes one from it (:class:`MeteredTransport`); once it is spent nothing more goes out, and a
    call is refused before it starts, so a looping agent cannot spend the user's Bitbucket rate limit. Calls
    run one at a time, in the order they came.
    """

    def __init__(self, host: McpHost, budget_per_hour: float = DEFAULT_BUDGET_PER_HOUR) -> None:
        self.host = host
        self.budget_per_hour = budget_per_hour
        self.budget = TokenBucket(budget_per_hour, capacity=budget_per_hour)
        host.http_transport = MeteredTransport(self.budget, self._budget_spent_message)
        self._turn = asyncio.Lock()

    # ------------------------------------------------------------------ running a call

    async def _call(self, name: str, body: Callable[[], Awaitable[T]]) -> T:
        async with self._turn:
            await self.host.credentials_ready()
            self.host.touch()
            if not self._has_budget():
                raise ToolFailure(self._budget_spent_message())
            before = self.budget.tokens
            try:
                return await body()
            except ToolFailure:
                raise
            except Exception as error:
                raise ToolFailure(self._describe(name, error)) from None
            finally:
                log.info(
                    "%s: about %.0f request(s); %.0f left in the budget",
                    name,
                    before - self.budget.tokens,
                    self.budget.tokens,
                )

    def _has_budget(self) -> bool:
        if not self.budget.take():  # refilled, then one spent to look ...
            return False
        self.budget.tokens += 1  # ... and given back: the call pays for what it sends
        return True

    def _budget_spent_message(self) -> str:
        wait = math.ceil((1 - self.budget.tokens) / self.budget.rate / 60) if self.budget.rate > 0 else None
        again = f" More becomes available in about {wait} minute(s)." if wait else ""
        return (
            f"The request budget for agents is spent ({self.budget_per_hour:g} Bitbucket requests an hour, "
            f"mcpBudgetPerHour; set {BUDGET_ENV} to change it).{again} Nothing more was sent."
        )

    def _describe(self, tool: str, error: BaseException) -> str:
        """A failure in plain words for an agent: what happened and what to do, never a traceback."""
        if isinstance(error, BudgetSpent):
            return str(error)
        if is_bug(error):
            log.error("%s failed: %s: %s", tool, type(error).__name__, error)
            log.debug("%s failed", tool, exc_info=error)
            return f"{tool} failed unexpectedly ({type(error).__name__}); the server's log (stderr) has the details."
        rpc = to_rpc_error(error)
        data: dict[str, Any] = rpc.data if isinstance(rpc.data, dict) else {}
        kind = data.get("kind")
        if kind == ErrorKind.NOT_AUTHENTICATED:
            message = NOT_AUTHENTICATED_MCP_HELP
        elif kind == ErrorKind.SECRET_DETECTED:
            where = "; ".join(
                f"{finding['path']} line {finding['line']} ({finding['rule']})" for finding in data.get("findings", [])
            )
            message = (
                f"Refused: this would publish what looks like a credential: {where}. Nothing was sent. Remove it, "
                "or keep the snippet private (is_private: true)."
            )
        elif kind == ErrorKind.CONFLICT:
            now = data.get("remoteRevision")
            message = (
                "The snippet changed since the revision given"
                + (f" (it is now at {now})" if now else "")
                + ": nothing was written. Read it again with read_snippet and apply the change to what it says now."
            )
        elif kind == ErrorKind.RATE_LIMITED:
            message = "Bitbucket is limiting requests right now (HTTP 429). Nothing more was sent; try again later."
        else:
            message = rpc.message
        return self.host.redactor.redact(message)

    def _redacted(self, value: T) -> T:
        """No tool result ever carries a credential, even one pasted into a snippet."""
        if isinstance(value, str):
            return self.host.redactor.redact(value)  # type: ignore[return-value]
        if isinstance(value, list):
            return [self._redacted(item) for item in value]  # type: ignore[return-value]
        if isinstance(value, dict):
            return {key: self._redacted(item) for key, item in value.items()}  # type: ignore[return-value]
        return value

    # ------------------------------------------------------------------ the tools

    async def list_snippets(self, workspace: str | None = None) -> dict[str, Any]:
        async def body() -> dict[str, Any]:
            chosen = await self.host.default_workspace(workspace)
            rows = [
                {
                    "id": snippet.id,
                    "title": snippet.title,
                    "workspace": snippet.workspace,
                    "private": snippet.is_private,
                    "updated": snippet.updated_on,
                    "files": list(snippet.file_names),
                }
                async for snippet in self.host.client().iter_snippets(chosen)
            ]
            return {"workspace": chosen, "snippets": rows}

        return self._redacted(await self._call("list_snippets", body))

    async def search_snippets(self, query: str, workspace: str | None = None, limit: int = 20) -> dict[str, Any]:
        async def body() -> dict[str, Any]:
            params = protocol.SearchParams(query=query, workspace=workspace, limit=limit)
            result: protocol.SearchResult = await handler(protocol.SEARCH)(self.host, params)
            hits = [
                {
                    "workspace": hit.workspace,
                    "id": hit.id,
                    "title": hit.title,
                    "file": hit.name,
                    "line": hit.line,
                    "preview": hit.preview,
                }
                for hit in result.results
            ]
            note = None if result.complete else "The index is still filling: search again later for more."
            return {"hits": hits, "complete": result.complete, **({"note": note} if note else {})}

        return self._redacted(await self._call("search_snippets", body))

    async def read_snippet(self, workspace: str, id: str, path: str | None = None) -> dict[str, Any]:
        async def body() -> dict[str, Any]:
            entry = await self.host.documents.head(workspace, id, refresh=True)
            names = sorted(entry.files)
            if path is not None and path not in entry.files:
                raise ToolFailure(f"{workspace}/{id} has no file {path!r}; its files: {', '.join(names) or 'none'}.")
            files = []
            for name in [path] if path is not None else names:
                data = entry.files[name]
                if is_binary(data):
                    files.append({"name": name, "binary": True, "size": len(data)})
                else:
                    files.append({"name": name, "content": data.decode("utf-8")})
            snippet = entry.snippet
            return {
                "workspace": snippet.workspace,
                "id": snippet.id,
                "title": snippet.title,
                "private": snippet.is_private,
                "revision": entry.revision,
                "link": snippet.html_url,
                "files": files,
            }

        return self._redacted(await self._call("read_snippet", body))

    async def create_snippet(
        self, title: str, files: list[tuple[str, str]], workspace: str | None = None, is_private: bool = True
    ) -> dict[str, Any]:
        async def body() -> dict[str, Any]:
            if not files:
                raise ToolFailure("files is empty: give at least one {name, content}.")
            if not is_private:  # before anything is sent, even the look-up of a default workspace
                refuse_secrets({name: content.encode("utf-8") for name, content in files}, allow_secrets=False)
            params = protocol.CreateParams(
                files=[protocol.FileInput(name=name, text=content) for name, content in files],
                workspace=workspace,
                title=title,
                is_private=is_private,
            )
            created: protocol.CreateResult = await handler(protocol.CREATE)(self.host, params)
            return {
                "workspace": created.workspace,
                "id": created.id,
                "title": created.title,
                "private": created.is_private,
                "link": created.html_url,
            }

        return self._redacted(await self._call("create_snippet", body))

    async def update_snippet_file(
        self, workspace: str, id: str, path: str, content: str, revision: str
    ) -> dict[str, Any]:
        async def body() -> dict[str, Any]:
            check_file_name(path)
            if not revision.strip():
                raise ToolFailure("revision is empty: give the revision read_snippet answered.")
            data = content.encode("utf-8")
            entry = await self.host.documents.head(workspace, id)
            if not entry.snippet.is_private:
                refuse_secrets({path: data}, allow_secrets=False)
            new_revision = await self.host.documents.write(workspace, id, {path: data}, base=revision)
            return {"workspace": workspace, "id": id, "path": path, "revision": new_revision}

        return self._redacted(await self._call("update_snippet_file", body))

    async def add_comment(
        self, workspace: str, id: str, content: str, path: str | None = None, line: int | None = None
    ) -> dict[str, Any]:
        async def body() -> dict[str, Any]:
            params = protocol.CommentAddParams(workspace=workspace, id=id, raw=content, path=path, line=line)
            comment: protocol.CommentInfo = await handler(protocol.COMMENTS_ADD)(self.host, params)
            return {
                "comment_id": comment.id,
                "workspace": workspace,
                "id": id,
                "path": comment.path,
                "line": comment.line,
            }

        return self._redacted(await self._call("add_comment", body))

    async def read_file(self, workspace: str, id: str, path: str) -> str | bytes:
        """A resource: one file's content (from the cache when it was read in the last half minute)."""

        async def body() -> str | bytes:
            entry = await self.host.documents.head(workspace, id)
            if path not in entry.files:
                raise ToolFailure(f"{workspace}/{id} has no file {path!r}.")
            data = entry.files[path]
            return data if is_binary(data) else self.host.redactor.redact(data.decode("utf-8"))

        return await self._call("reading a resource", body)
