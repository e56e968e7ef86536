"""Snippets: ``bbsnippets.create / list / open / update / delete / duplicate / workspaces``.

Request economy: create is one POST whatever the number of files; list is ⌈N/100⌉ GETs; open is
one GET (metadata and every file) that also fills the cache ``readFile`` is served from; duplicate is
one POST when the source is cached (else 2); workspaces is ⌈N/100⌉ GETs once a session.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from snippet_daemon import protocol, uri
from snippet_daemon.features.common import check_file_name, decode_content, open_result, refuse_secrets, summary
from snippet_daemon.protocol import ErrorKind, ProtocolError

if TYPE_CHECKING:
    from snippet_daemon.features.common import Handler
    from snippet_daemon.server import SnippetServer


async def create(ls: SnippetServer, params: protocol.CreateParams) -> protocol.CreateResult:
    if not params.files:
        raise ProtocolError(ErrorKind.INVALID_ARGUMENT, "bbsnippets.create: files is empty; give at least one file.")
    files: dict[str, bytes] = {}
    for index, item in enumerate(params.files):
        check_file_name(item.name)
        if item.name in files:
            raise ProtocolError(ErrorKind.INVALID_ARGUMENT, f"bbsnippets.create: two files are named {item.name!r}.")
        files[item.name] = decode_content(f"bbsnippets.create files[{index}]", item.text, item.base64)
    workspace = await ls.default_workspace(params.workspace)
    title = params.title if params.title is not None else ", ".join(files)
    return await _publish(
        ls, workspace, files, title=title, is_private=params.is_private, allow_secrets=params.allow_secrets
    )


async def duplicate(ls: SnippetServer, params: protocol.DuplicateParams) -> protocol.CreateResult:
    """A new snippet with every file of the source at HEAD (the source read from the cache when it can be)."""
    source = await ls.documents.head(params.workspace, params.id)
    if not source.files:
        raise ProtocolError(ErrorKind.INVALID_ARGUMENT, f"{params.workspace}/{params.id} has no files to copy.")
    title = params.title if params.title is not None else source.snippet.title
    return await _publish(
        ls,
        params.to_workspace or params.workspace,
        dict(source.files),
        title=title,
        is_private=params.is_private,
        allow_secrets=params.allow_secrets,
    )


async def _publish(
    ls: SnippetServer, workspace: str, files: dict[str, bytes], *, title: str, is_private: bool, allow_secrets: bool
) -> protocol.CreateResult:
    """One POST making a snippet of ``files``, secret-scanned first when it is public; its content is cached."""
    if not is_private:
        refuse_secrets(files, allow_secrets=allow_secrets)
    progress = ls.work_done(f"Creating a snippet of {len(files)} files") if len(files) > 1 else None
    async with progress or contextlib.nullcontext(None) as report:
        if report:
            report(f"uploading {sum(map(len, files.values()))} bytes", None)
        snippet = await ls.documents.create(workspace, files, title=title, is_private=is_private)
    return protocol.CreateResult(
        workspace=snippet.workspace,
        id=snippet.id,
        title=snippet.title,
        is_private=snippet.is_private,
        html_url=snippet.html_url,
        uri=uri.snippet_uri(snippet.workspace, snippet.id),
    )


async def workspaces(ls: SnippetServer, params: protocol.NoParams) -> protocol.WorkspacesResult:
    """The workspaces the user can see, the default one first; listed once a session."""
    default = await ls.default_workspace_or_none()
    listed, hint = await ls.list_visible_workspaces()
    entries = [
        protocol.WorkspaceInfo(slug=ws.slug, name=ws.name, uuid=ws.uuid, is_default=ws.slug == default) for ws in listed
    ]
    if default is not None and not any(entry.is_default for entry in entries):
        entries.append(protocol.WorkspaceInfo(slug=default, name=default, uuid=None, is_default=True))
    entries.sort(key=lambda entry: (not entry.is_default, entry.name.lower(), entry.slug))
    if not entries:
        hint = hint or "No workspace found: name one with the workspace setting (or BITBUCKET_WORKSPACE)."
    return protocol.WorkspacesResult(workspaces=entries, hint=hint)


async def list_snippets(ls: SnippetServer, params: protocol.ListParams) -> protocol.ListResult:
    workspace = await ls.default_workspace(params.workspace)
    snippets: list[protocol.SnippetSummary] = []
    # What the user watches is the daemon's own list (watching.json): no request per snippet.
    watched = {(ws.lower(), snippet_id) for ws, snippet_id in ls.watcher.watched}
    async with contextlib.AsyncExitStack() as stack:
        report = None
        async for snippet in ls.client().iter_snippets(workspace, params.role):
            snippets.append(summary(snippet, watching=(snippet.workspace.lower(), snippet.id) in watched))
            if len(snippets) % 100 == 0:
                # A second page is coming: from here on the list is long enough to show progress.
                if report is None:
                    report = await stack.enter_async_context(ls.work_done(f"Listing the snippets of {workspace}"))
                report(f"{len(snippets)} snippets so far", None)
    return protocol.ListResult(snippets=snippets)


def _reference(params: protocol.OpenParams, api_url: str) -> uri.SnippetReference:
    """What ``bbsnippets.open`` names: ``{workspace, id}``, or ``{url}`` parsed by the one parser (so no client
    parses addresses itself)."""
    if params.url is not None:
        if params.workspace is not None or params.id is not None:
            raise ProtocolError(ErrorKind.INVALID_ARGUMENT, "bbsnippets.open takes url, or workspace and id: not both.")
        return uri.parse_reference(params.url, api_url)
    if params.workspace and params.id:
        return uri.SnippetReference(params.workspace, params.id)
    missing = [name for name, given in (("workspace", params.workspace), ("id", params.id)) if not given]
    raise ProtocolError(
        ErrorKind.INVALID_ARGUMENT,
        f"bbsnippets.open: {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing; give "
        "workspace and id, or url (a snippet's web address).",
    )


async def open_snippet(ls: SnippetServer, params: protocol.OpenParams) -> protocol.OpenResult:
    reference = _reference(params, ls.api_url)
    workspace, snippet_id = reference.workspace, reference.id
    revision = params.revision or reference.revision
    if revision:
        entry = await ls.documents.at_revision(workspace, snippet_id, revision)
        result = open_result(entry, revision)
    else:
        entry = await ls.documents.head(workspace, snippet_id, refresh=True)
        for name in entry.files:
            ls.documents.remember_read(workspace, snippet_id, name, entry.revision)
        result = open_result(entry)
    if reference.file is not None:
        # The file the address pointed at; an anchor that names none of them opens the snippet as a whole.
        result.file = uri.file_named(reference.file, entry.files)
    return result


async def update(ls: SnippetServer, params: protocol.UpdateParams) -> protocol.OpenResult:
    if params.title is None and params.is_private is None:
        entry = await ls.documents.head(params.workspace, params.id)
        return open_result(entry)
    if params.is_private is False and not params.allow_secrets:
        # Making a snippet public publishes every file it already has.
        entry = await ls.documents.head(params.workspace, params.id)
        if entry.snippet.is_private:
            refuse_secrets(entry.files, allow_secrets=False)
    await ls.documents.update_metadata(params.workspace, params.id, title=params.title, is_private=params.is_private)
    entry = await ls.documents.head(params.workspace, params.id)
    return open_result(entry)


async def delete(ls: SnippetServer, params: protocol.SnippetRef) -> protocol.Deleted:
    await ls.documents.delete_snippet(params.workspace, params.id)
    return protocol.Deleted()


HANDLERS: dict[str, Handler] = {
    protocol.CREATE: create,
    protocol.LIST: list_snippets,
    protocol.OPEN: open_snippet,
    protocol.UPDATE: update,
    protocol.DELETE: delete,
    protocol.DUPLICATE: duplicate,
    protocol.WORKSPACES: workspaces,
}
