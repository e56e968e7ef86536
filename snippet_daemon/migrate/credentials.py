"""Where the Bitbucket *Server* credentials of a migration come from.

In this order:

1. the environment: ``BITBUCKET_SERVER_USERNAME`` + ``BITBUCKET_SERVER_PASSWORD`` (a password or an
   HTTP access token);
2. the OS keyring: service ``bitbucket-server-snippets``, one entry per server URL (stored by
   ``migrate --save-server-credentials`` after a prompt);
3. a prompt, when stdin is a terminal;
4. credentials written into ``--server`` (``https://user:token@host``), as a last resort.

The keyring comes before the prompt so that a stored entry is used without asking again. The
secret is only ever handed to httpx: it is not printed, logged, or written anywhere but the keyring.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import Final

from snippet_daemon.bitbucket.auth import KeyringStore
from snippet_daemon.bitbucket.errors import CredentialStoreError
from snippet_daemon.migrate.source import ServerCredentials

SERVER_KEYRING_SERVICE: Final = "bitbucket-server-snippets"
ENV_USERNAME: Final = "BITBUCKET_SERVER_USERNAME"
ENV_PASSWORD: Final = "BITBUCKET_SERVER_PASSWORD"

Prompt = Callable[[str], str]


class ServerKeyring:
    """Server credentials in the OS keyring, one entry per server URL (the shared :class:`KeyringStore`).

    Reading never fails: without a usable keyring the environment or the prompt remain.
    """

    def __init__(self, service: str = SERVER_KEYRING_SERVICE) -> None:
        self._store = KeyringStore(service, instead=f"set {ENV_USERNAME} and {ENV_PASSWORD} in the environment")

    @property
    def service(self) -> str:
        return self._store.service

    def load(self, server_url: str) -> ServerCredentials | None:
        try:
            document = self._store.load_document(server_url)
        except CredentialStoreError:  # no backend, locked, D-Bus gone
            return None
        if document is None:
            return None
        username, secret = document.get("username"), document.get("secret")
        if not isinstance(username, str) or not isinstance(secret, str):
            return None
        return ServerCredentials(username, secret, source="keyring")

    def save(self, server_url: str, credentials: ServerCredentials) -> str | None:
        """Store them; why not, as a sentence that says what to do, when the keyring refused."""
        try:
            self._store.save_document(server_url, {"username": credentials.username, "secret": credentials.password})
        except CredentialStoreError as error:
            return error.message
        return None

    def delete(self, server_url: str) -> bool:
        return self._store.delete(server_url)


def _ask_on_terminal(server_url: str, ask: Prompt, ask_secret: Prompt) -> ServerCredentials | None:
    print(f"Credentials for Bitbucket Server at {server_url} (to read the Snippets add-on):", file=sys.stderr)
    username = ask("  Username: ").strip()
    if not username:
        return None
    secret = ask_secret("  Password or HTTP access token: ")
    if not secret:
        return None
    return ServerCredentials(username, secret, source="prompt")


def resolve_server_credentials(
    server_url: str,
    *,
    env: Mapping[str, str] | None = None,
    url_credentials: ServerCredentials | None = None,
    interactive: bool | None = None,
    store: ServerKeyring | None = None,
    ask: Prompt | None = None,
    ask_secret: Prompt | None = None,
) -> ServerCredentials | None:
    """The first credentials found (see the module docstring), or ``None``: the server may allow anonymous reads."""
    env = os.environ if env is None else env
    username, password = env.get(ENV_USERNAME), env.get(ENV_PASSWORD)
    if username and password:
        return ServerCredentials(username, password, source="environment")
    stored = (store or ServerKeyring()).load(server_url)
    if stored is not None:
        return stored
    if interactive is None:
        interactive = sys.stdin.isatty()
    if interactive and url_credentials is None:
        import getpass

        return _ask_on_terminal(server_url, ask or input, ask_secret or getpass.getpass)
    return url_credentials
