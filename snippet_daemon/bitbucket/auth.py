"""Credentials: where they come from, where they are kept, how they go on the wire.

Bitbucket Cloud (2026) takes two kinds for snippets:

* ``apiToken``: an Atlassian API token with snippet scopes, sent as HTTP Basic with the
  Atlassian account **email** as the username (app passwords were retired in July 2026);
* ``accessToken``: an OAuth 2.0 access token, sent as ``Authorization: Bearer``.

They are read from the environment first (``BITBUCKET_ACCESS_TOKEN``; or
``BITBUCKET_USERNAME`` + ``BITBUCKET_API_TOKEN``), else from the OS keyring (service
``bitbucket-snippets``, one entry per API base URL so a sandbox login never clobbers the real
one). Secrets live nowhere else: not in files, logs, reprs or exception messages.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from snippet_daemon.bitbucket.errors import CredentialStoreError, InvalidApiUrl, NoKeyringBackend
from snippet_daemon.messages import api_url_problem

KEYRING_SERVICE = "bitbucket-snippets"
DEFAULT_API_URL = "https://api.bitbucket.org/2.0"
CLOUD_ENV_INSTEAD = (
    "set BITBUCKET_USERNAME and BITBUCKET_API_TOKEN (or BITBUCKET_ACCESS_TOKEN) in the environment instead"
)

CredentialKind = Literal["apiToken", "accessToken"]


@dataclass(frozen=True)
class Credentials:
    """One set of credentials. ``secret`` never shows in ``repr``."""

    kind: CredentialKind
    secret: str = field(repr=False)
    username: str | None = None  # the Atlassian account email, for apiToken
    source: str = "environment"  # "environment" or "keyring": said in messages, never the secret

    def auth(self) -> httpx.Auth:
        if self.kind == "accessToken":
            return BearerAuth(self.secret)
        return ApiTokenAuth(self.username or "", self.secret)


class ApiTokenAuth(httpx.Auth):
    """HTTP Basic with an Atlassian account email and an API token."""

    def __init__(self, email: str, token: str) -> None:
        userpass = f"{email}:{token}".encode()
        self._header = "Basic " + base64.b64encode(userpass).decode("ascii")
        self.email = email

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return f"ApiTokenAuth(email={self.email!r}, token=<hidden>)"


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer`` with an OAuth 2.0 access token."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(token=<hidden>)"


def api_url_from_env(env: Mapping[str, str] | None = None) -> str:
    """``BITBUCKET_API_URL`` (else Bitbucket Cloud's), checked: :class:`InvalidApiUrl` says what was expected."""
    env = os.environ if env is None else env
    url = (env.get("BITBUCKET_API_URL") or "").strip() or DEFAULT_API_URL
    problem = api_url_problem(url, "BITBUCKET_API_URL")
    if problem:
        raise InvalidApiUrl(problem)
    return url.rstrip("/")


def credentials_from_env(env: Mapping[str, str] | None = None) -> Credentials | None:
    env = os.environ if env is None else env
    access_token = env.get("BITBUCKET_ACCESS_TOKEN")
    if access_token:
        return Credentials(kind="accessToken", secret=access_token)
    username, token = env.get("BITBUCKET_USERNAME"), env.get("BITBUCKET_API_TOKEN")
    if username and token:
        return Credentials(kind="apiToken", secret=token, username=username)
    return None


class KeyringStore:
    """Small JSON documents in the OS keyring, one entry per key (for credentials: the API base URL).

    The keyring is the only place they are written. Every keyring failure becomes a
    :class:`CredentialStoreError` whose message says what to do instead.
    """

    def __init__(self, service: str = KEYRING_SERVICE, *, instead: str = CLOUD_ENV_INSTEAD) -> None:
        self.service = service
        self.instead = instead  # what to do when the keyring cannot help

    def _explain(self, error: Exception) -> CredentialStoreError:
        """Any keyring failure (a KeyringError, or whatever a backend lets through: an OSError from D-Bus, say)
        as a :class:`CredentialStoreError` that says what to do."""
        import keyring.errors

        if isinstance(error, keyring.errors.NoKeyringError):
            return NoKeyringBackend(
                "No OS keyring is available on this machine (no Secret Service, macOS Keychain or "
                "Windows Credential Locker was found), so credentials cannot be stored. Either start "
                f"a keyring (on a headless Linux box: gnome-keyring under dbus-run-session), or {self.instead}."
            )
        return CredentialStoreError(
            f"The OS keyring refused the request ({type(error).__name__}). Unlock the keyring and "
            f"try again, or {self.instead}."
        )

    def load_document(self, key: str) -> dict[str, Any] | None:
        """The document stored under ``key``; ``None`` when there is none or it is not a JSON object."""
        import keyring
        import keyring.errors

        try:
            stored = keyring.get_password(self.service, key)
        except Exception as error:  # KeyringError, and what backends let through (OSError from D-Bus, ...)
            raise self._explain(error) from None
        if not stored:
            return None
        try:
            document = json.loads(stored)
        except ValueError:
            return None
        return document if isinstance(document, dict) else None

    def save_document(self, key: str, document: Mapping[str, Any]) -> None:
        import keyring
        import keyring.errors

        try:
            keyring.set_password(self.service, key, json.dumps(dict(document)))
        except Exception as error:  # KeyringError, and what backends let through (OSError from D-Bus, ...)
            raise self._explain(error) from None

    def delete(self, key: str) -> bool:
        """Forget the entry; ``False`` when there was none."""
        import keyring
        import keyring.errors

        try:
            keyring.delete_password(self.service, key)
        except keyring.errors.PasswordDeleteError:
            return False
        except Exception as error:  # KeyringError, and what backends let through (OSError from D-Bus, ...)
            raise self._explain(error) from None
        return True

    def check(self) -> tuple[str, CredentialStoreError | None]:
        """The keyring backend in use and, when it cannot be used, why (one harmless read proves it)."""
        import keyring

        try:
            backend = type(keyring.get_keyring())
        except Exception as error:
            return "unknown", self._explain(error)
        name = f"{backend.__module__}.{backend.__name__}".removeprefix("keyring.backends.")
        try:
            self.load_document("snippet-daemon health check")
        except CredentialStoreError as error:
            return name, error
        return name, None

    def load(self, api_url: str) -> Credentials | None:
        """The Bitbucket Cloud credentials stored for ``api_url``."""
        document = self.load_document(api_url)
        if document is None:
            return None
        kind, secret, username = document.get("kind"), document.get("secret"), document.get("username")
        if kind not in ("apiToken", "accessToken") or not isinstance(secret, str):
            return None
        return Credentials(
            kind=kind, secret=secret, username=username if isinstance(username, str) else None, source="keyring"
        )

    def save(self, api_url: str, credentials: Credentials) -> None:
        self.save_document(
            api_url, {"kind": credentials.kind, "username": credentials.username, "secret": credentials.secret}
        )


def resolve_credentials(
    api_url: str, env: Mapping[str, str] | None = None, store: KeyringStore | None = None
) -> Credentials | None:
    """Environment first, then the keyring. ``None`` when neither has any."""
    from_env = credentials_from_env(env)
    if from_env is not None:
        return from_env
    try:
        return (store or KeyringStore()).load(api_url)
    except NoKeyringBackend:
        # No keyring can hold anything: "no credentials", whose message names the env variables.
        return None
