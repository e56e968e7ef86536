"""``bbsnippets.search`` and standard LSP ``workspace/symbol``: every snippet, searched by title, file name and
content from the local index (:mod:`snippet_daemon.index`), without waiting for Bitbucket.

Hits on titles and file names rank above content hits. ``workspace/symbol`` gives the same results as
``SymbolInformation`` with ``bbsnippet://`` locations, so any editor's workspace-symbol picker (VS Code's "Go to
Symbol in Workspace", ``vim.lsp.buf.workspace_symbol()``, Helix) finds snippets with no client code at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from snippet_daemon import protocol, uri
from snippet_daemon.index import query_problem
from snippet_daemon.protocol import ErrorKind, ProtocolError
from snippet_daemon.transport import to_rpc_error

if TYPE_CHECKING:
    from snippet_daemon.features.common import Handler
    from snippet_daemon.index import Hit
    from snippet_daemon.server import SnippetServer

MAX_LIMIT = 500
SYMBOL_LIMIT = 100


def _hit(hit: Hit) -> protocol.SearchHit:
    return protocol.SearchHit(
        workspace=hit.workspace,
        id=hit.id,
        title=hit.title,
        name=hit.name,
        preview=hit.preview,
        uri=uri.snippet_uri(hit.workspace, hit.id, hit.name or None, line=hit.line),
        line=hit.line,
    )


async def search(ls: SnippetServer, params: protocol.SearchParams) -> protocol.SearchResult:
    if not params.query.strip():
        raise ProtocolError(ErrorKind.INVALID_ARGUMENT, "bbsnippets.search: query is empty; give some text to find.")
    problem = query_problem(params.query)
    if problem is not None:
        raise ProtocolError(ErrorKind.INVALID_ARGUMENT, problem)
    if not ls.search_index.enabled:
        raise ProtocolError(
            ErrorKind.INVALID_ARGUMENT,
            "Search is off (the indexing option is false). Turn indexing on to search snippets by content.",
        )
    limit = min(max(params.limit, 1), MAX_LIMIT)
    hits, complete = await ls.search_index.search(params.query, params.workspace, limit)
    return protocol.SearchResult(results=[_hit(hit) for hit in hits], complete=complete)


async def workspace_symbol(ls: SnippetServer, params: types.WorkspaceSymbolParams) -> list[types.SymbolInformation]:
    """The search results as symbols: a title or file-name hit is a File at the top of it, a content hit a
    String at its line. An empty query (the picker just opened) lists nothing."""
    if not params.query.strip() or not ls.search_index.enabled:
        return []
    ls.touch()
    problem = query_problem(params.query)
    if problem is not None:  # as bbsnippets.search answers it: the picker shows why
        raise to_rpc_error(ProtocolError(ErrorKind.INVALID_ARGUMENT, problem))
    try:
        hits, _ = await ls.search_index.search(params.query, None, SYMBOL_LIMIT)
    except ProtocolError:
        return []  # not logged in: an editor's symbol picker shows nothing rather than an error
    symbols = []
    for hit in hits:
        line = (hit.line or 1) - 1
        symbols.append(
            types.SymbolInformation(
                name=hit.preview or hit.name,
                kind=types.SymbolKind.String if hit.line else types.SymbolKind.File,
                location=types.Location(
                    uri=uri.snippet_uri(hit.workspace, hit.id, hit.name or None),
                    range=types.Range(types.Position(line, 0), types.Position(line, len(hit.preview))),
                ),
                container_name=f"{hit.workspace}/{hit.id} {hit.title}".rstrip()
                + (f" · {hit.name}" if hit.line else ""),
            )
        )
    return symbols


HANDLERS: dict[str, Handler] = {
    protocol.SEARCH: search,
}
