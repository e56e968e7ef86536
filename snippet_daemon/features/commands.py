"""Snippets and the account: ``bbsnippets.create / list / open / update / delete / duplicate / workspaces``
and ``login / logout / whoami / health``.

Request economy: create is one POST whatever the number of files; list is ⌈N/100⌉ GETs; open is
one GET (metadata and every file) that also fills the cache ``readFile`` is served from; duplicate is
one POST when the source is cached (else 2); workspaces is ⌈N/100⌉ GETs once a session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from snippet_daemon import __version__, protocol, uri
from snippet_daemon.features.common import check_file_name, decode_content, open_result, refuse_secrets, summary
from snippet_daemon.protocol import ErrorKind, ProtocolError
from snippet_daemon.server import NOT_AUTHENTICATED_HELP

if TYPE_CHECKING:
    from snippet_daemon.bitbucket import Account, SnippetsClient
    from snippet_daemon.server import Handler, SnippetServer

log = logging.getLogger("snippet_daemon.commands")


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
        snippet = await ls.client().create_snippet(workspace, files, title=title, is_private=is_private)
    ls.documents.created(snippet, files)
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


async def _describe(client: SnippetsClient) -> tuple[protocol.AccountInfo, Account | None]:
    """Who the client's credentials belong to, in one request (``GET /user``): as shown, and as read
    (``None`` when the token may not read the account)."""
    username = client.credentials.username if client.credentials else None
    account = await client.current_user_if_readable()
    if account is None:
        return protocol.AccountInfo(username or "the token's account", None, None, username), None
    return protocol.AccountInfo(account.display_name, account.nickname, account.uuid, username), account


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
        info, account = await _describe(client)
    # Off the event loop: a Secret Service may sit on an unlock prompt for as long as the user lets it.
    await asyncio.to_thread(KeyringStore().save, ls.api_url, credentials)
    await ls.use_credentials(credentials)
    return protocol.AccountResult(account=info, workspace=ls.workspace_for(account))


async def logout(ls: SnippetServer, params: protocol.NoParams) -> protocol.Empty:
    from snippet_daemon.bitbucket import KeyringStore, NoKeyringBackend

    with contextlib.suppress(NoKeyringBackend):  # no keyring here: nothing was ever stored, nothing to forget
        await asyncio.to_thread(KeyringStore().delete, ls.api_url)
    await ls.use_credentials(None)  # environment credentials, if any, apply again on next use
    return protocol.Empty()


async def whoami(ls: SnippetServer, params: protocol.NoParams) -> protocol.AccountResult:
    info, account = await _describe(ls.client())
    return protocol.AccountResult(account=info, workspace=ls.workspace_for(account))


async def health(ls: SnippetServer, params: protocol.NoParams) -> protocol.HealthResult:
    """What works and what does not, each problem with its fix: credentials, keyring, the API."""
    from snippet_daemon.bitbucket import BitbucketError, KeyringStore, NetworkError, NotAuthenticated, SnippetsClient

    backend, keyring_problem = await asyncio.to_thread(KeyringStore().check)
    keyring = protocol.KeyringHealth(
        usable=keyring_problem is None, backend=backend, message=keyring_problem.message if keyring_problem else None
    )
    try:
        credentials = ls.credentials
    except BitbucketError:
        credentials = None
    found = protocol.CredentialsHealth(
        present=credentials is not None,
        source=credentials.source if credentials else None,
        message=None if credentials else NOT_AUTHENTICATED_HELP,
    )
    account: protocol.AccountInfo | None = None
    workspace: str | None = None
    try:
        if credentials is None:
            async with SnippetsClient(None, ls.api_url) as anonymous:
                status = await anonymous.probe()  # 401 proves a Bitbucket API answers there
            api = protocol.ApiHealth(reachable=True, status=status)
        else:
            account, read = await _describe(ls.client())
            workspace = ls.workspace_for(read)
            api = protocol.ApiHealth(reachable=True, status=200 if read is not None else 403)
    except NotAuthenticated as error:
        api = protocol.ApiHealth(reachable=True, status=401, message=error.message)
    except NetworkError as error:
        api = protocol.ApiHealth(reachable=False, message=error.message)
    except BitbucketError as error:
        api = protocol.ApiHealth(reachable=True, status=error.status, message=error.message)
    return protocol.HealthResult(
        version=__version__,
        api_url=ls.api_url,
        credentials=found,
        keyring=keyring,
        api=api,
        client_name=ls.options.client_name,
        account=account,
        workspace=workspace,
    )


HANDLERS: dict[str, Handler] = {
    protocol.CREATE: create,
    protocol.LIST: list_snippets,
    protocol.OPEN: open_snippet,
    protocol.UPDATE: update,
    protocol.DELETE: delete,
    protocol.LOGIN: login,
    protocol.LOGOUT: logout,
    protocol.WHOAMI: whoami,
    protocol.HEALTH: health,
    protocol.DUPLICATE: duplicate,
    protocol.WORKSPACES: workspaces,
}
