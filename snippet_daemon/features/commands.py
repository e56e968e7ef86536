"""Snippets and the account: ``bbsnippets.create / list / open / update / delete`` and ``login / logout / whoami``.

Request economy: create is one POST whatever the number of files; list is ⌈N/100⌉ GETs; open is
one GET (metadata and every file) that also fills the cache ``readFile`` is served from.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from snippet_daemon import protocol, uri
from snippet_daemon.features.common import check_file_name, decode_content, open_result, refuse_secrets, summary
from snippet_daemon.protocol import ErrorKind, ProtocolError

if TYPE_CHECKING:
    from snippet_daemon.bitbucket import SnippetsClient
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
    if not params.is_private:
        refuse_secrets(files, allow_secrets=params.allow_secrets)
    workspace = await ls.default_workspace(params.workspace)
    title = params.title if params.title is not None else ", ".join(files)
    progress = ls.work_done(f"Creating a snippet of {len(files)} files") if len(files) > 1 else None
    async with progress or contextlib.nullcontext(None) as report:
        if report:
            report(f"uploading {sum(map(len, files.values()))} bytes", None)
        snippet = await ls.client().create_snippet(workspace, files, title=title, is_private=params.is_private)
    ls.documents.created(snippet, files)
    return protocol.CreateResult(
        workspace=snippet.workspace,
        id=snippet.id,
        title=snippet.title,
        is_private=snippet.is_private,
        html_url=snippet.html_url,
        uri=uri.snippet_uri(snippet.workspace, snippet.id),
    )


async def list_snippets(ls: SnippetServer, params: protocol.ListParams) -> protocol.ListResult:
    workspace = await ls.default_workspace(params.workspace)
    snippets: list[protocol.SnippetSummary] = []
    async with contextlib.AsyncExitStack() as stack:
        report = None
        async for snippet in ls.client().iter_snippets(workspace, params.role):
            snippets.append(summary(snippet))
            if len(snippets) % 100 == 0:
                # A second page is coming: from here on the list is long enough to show progress.
                if report is None:
                    report = await stack.enter_async_context(ls.work_done(f"Listing the snippets of {workspace}"))
                report(f"{len(snippets)} snippets so far", None)
    return protocol.ListResult(snippets=snippets)


async def open_snippet(ls: SnippetServer, params: protocol.OpenParams) -> protocol.OpenResult:
    if params.revision:
        entry = await ls.documents.at_revision(params.workspace, params.id, params.revision)
        return open_result(entry, params.revision)
    entry = await ls.documents.head(params.workspace, params.id, refresh=True)
    for name in entry.files:
        ls.documents.remember_read(params.workspace, params.id, name, entry.revision)
    return open_result(entry)


async def update(ls: SnippetServer, params: protocol.UpdateParams) -> protocol.OpenResult:
    from snippet_daemon.bitbucket import UNSET

    if params.title is None and params.is_private is None:
        entry = await ls.documents.head(params.workspace, params.id)
        return open_result(entry)
    if params.is_private is False and not params.allow_secrets:
        # Making a snippet public publishes every file it already has.
        entry = await ls.documents.head(params.workspace, params.id)
        if entry.snippet.is_private:
            refuse_secrets(entry.files, allow_secrets=False)
    snippet = await ls.client().update_snippet(
        params.workspace,
        params.id,
        title=params.title if params.title is not None else UNSET,
        is_private=params.is_private if params.is_private is not None else UNSET,
    )
    ls.documents.metadata_changed(snippet)
    entry = await ls.documents.head(params.workspace, params.id)
    return open_result(entry)


async def delete(ls: SnippetServer, params: protocol.SnippetRef) -> protocol.Deleted:
    await ls.documents.delete_snippet(params.workspace, params.id)
    return protocol.Deleted()


# --------------------------------------------------------------------------- account


async def _describe(client: SnippetsClient) -> protocol.AccountInfo:
    """Who the client's credentials belong to, in one request (``GET /user``)."""
    username = client.credentials.username if client.credentials else None
    account = await client.current_user_if_readable()
    if account is None:
        return protocol.AccountInfo(username or "the token's account", None, None, username)
    return protocol.AccountInfo(account.display_name, account.nickname, account.uuid, username)


async def login(ls: SnippetServer, params: protocol.LoginParams) -> protocol.AccountResult:
    from snippet_daemon.bitbucket import Credentials, KeyringStore, SnippetsClient

    secret = params.secret.strip()
    ls.redactor.add(secret)
    if not secret:
        raise ProtocolError(ErrorKind.INVALID_ARGUMENT, "bbsnippets.login: secret is empty.")
    if params.kind == "apiToken" and "@" not in (params.username or ""):
        raise ProtocolError(
            ErrorKind.INVALID_ARGUMENT,
            "bbsnippets.login: an API token needs username = your Atlassian account email "
            "(Bitbucket usernames and app passwords no longer work).",
        )
    credentials = Credentials(
        kind=params.kind,
        secret=secret,
        username=params.username if params.kind == "apiToken" else None,
        source="keyring",
    )
    async with SnippetsClient(credentials, ls.api_url) as client:
        info = await _describe(client)
    # Off the event loop: a Secret Service may sit on an unlock prompt for as long as the user lets it.
    await asyncio.to_thread(KeyringStore().save, ls.api_url, credentials)
    await ls.use_credentials(credentials)
    return protocol.AccountResult(account=info)


async def logout(ls: SnippetServer, params: protocol.NoParams) -> protocol.Empty:
    from snippet_daemon.bitbucket import KeyringStore, NoKeyringBackend

    with contextlib.suppress(NoKeyringBackend):  # no keyring here: nothing was ever stored, nothing to forget
        await asyncio.to_thread(KeyringStore().delete, ls.api_url)
    await ls.use_credentials(None)  # environment credentials, if any, apply again on next use
    return protocol.Empty()


async def whoami(ls: SnippetServer, params: protocol.NoParams) -> protocol.AccountResult:
    return protocol.AccountResult(account=await _describe(ls.client()))


def register(server: SnippetServer) -> None:
    server.snippet_command(protocol.CREATE, protocol.CreateParams)(create)
    server.snippet_command(protocol.LIST, protocol.ListParams)(list_snippets)
    server.snippet_command(protocol.OPEN, protocol.OpenParams)(open_snippet)
    server.snippet_command(protocol.UPDATE, protocol.UpdateParams)(update)
    server.snippet_command(protocol.DELETE, protocol.SnippetRef)(delete)
    server.snippet_command(protocol.LOGIN, protocol.LoginParams)(login)
    server.snippet_command(protocol.LOGOUT, protocol.NoParams)(logout)
    server.snippet_command(protocol.WHOAMI, protocol.NoParams)(whoami)
