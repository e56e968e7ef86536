"""The account: ``bbsnippets.login / logout / whoami / health``.

Request economy: login, whoami and health are one request each (``GET /user``; health without credentials
probes the API anonymously instead); logout sends none.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from snippet_daemon import __version__, protocol
from snippet_daemon.messages import not_signed_in
from snippet_daemon.protocol import ErrorKind, ProtocolError

if TYPE_CHECKING:
    from snippet_daemon.bitbucket import Account, SnippetsClient
    from snippet_daemon.features.common import Handler
    from snippet_daemon.server import SnippetServer


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
    ls.check_api_url()
    # No keyring, no sign-in: said before a request checks a token that could not be kept anyway.
    _, keyring_problem = await asyncio.to_thread(KeyringStore().check)
    if keyring_problem is not None:
        raise keyring_problem
    credentials = Credentials(
        kind=params.kind,
        secret=secret,
        username=params.username if params.kind == "apiToken" else None,
        source="keyring",
    )
    async with SnippetsClient(credentials, ls.api_url, sign_in=ls.words.sign_in) as client:
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


async def health(ls: SnippetServer, params: protocol.HealthParams) -> protocol.HealthResult:
    """What works and what does not, each problem with its fix: credentials, keyring, the API (unless
    ``checkApi`` is false: then it sends no request, for a sign-in to ask it first)."""
    from snippet_daemon.bitbucket import BitbucketError, KeyringStore, NetworkError, NotAuthenticated, SnippetsClient

    # Health never fails: every part says what it found, each problem with its fix.
    try:
        backend, keyring_problem = await asyncio.to_thread(KeyringStore().check)
        keyring_message = keyring_problem.message if keyring_problem else None
    except Exception as error:  # check() explains what it can; anything else is said as it is
        backend, keyring_message = "unknown", f"The OS keyring could not be asked ({type(error).__name__}: {error})."
    keyring = protocol.KeyringHealth(usable=keyring_message is None, backend=backend, message=keyring_message)
    if ls.credentials_failed and keyring.usable:  # the keyring works again: look the credentials up anew
        ls.forget_credentials()
        await ls.credentials_ready()
    credentials_problem: str | None = None
    try:
        credentials = ls.credentials
    except Exception as error:
        credentials = None
        credentials_problem = error.message if isinstance(error, BitbucketError) else str(error)
    found = protocol.CredentialsHealth(
        present=credentials is not None,
        source=credentials.source if credentials else None,
        message=None if credentials else credentials_problem or not_signed_in(ls.words),
    )
    account: protocol.AccountInfo | None = None
    workspace: str | None = None
    try:
        if ls.api_url_problem is not None:
            api = protocol.ApiHealth(reachable=False, message=ls.api_url_problem)
        elif not params.check_api:
            api = protocol.ApiHealth(reachable=False, checked=False)
        elif credentials is None:
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
    except Exception as error:  # health never fails: what went wrong is its answer
        api = protocol.ApiHealth(reachable=False, message=f"Could not ask the API ({type(error).__name__}: {error}).")
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
    protocol.LOGIN: login,
    protocol.LOGOUT: logout,
    protocol.WHOAMI: whoami,
    protocol.HEALTH: health,
}
