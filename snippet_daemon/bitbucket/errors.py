"""Every way a Bitbucket call can fail, as one exception tree.

Each exception carries a ``kind`` (the error kind clients see over LSP, see docs/protocol.md)
and a message that tells the user what to do. No message, repr or attribute ever holds a
credential.

    BitbucketError                  kind
    ├── NotAuthenticated            notAuthenticated  401, or no credentials at all
    ├── Forbidden                   forbidden         403; ``missing_scopes`` when Bitbucket names them
    ├── NotFound                    notFound          404 (and 410: gone, removed or marked as spam)
    ├── Conflict                    conflict          405 on a compare-and-swap at a stale revision, 409
    ├── RateLimited                 rateLimited       429 after the bounded back-off ran out
    ├── PlanRestricted              plan              a Free-plan workspace (200 with a string in ``values``)
    ├── InvalidRequest              invalidArgument   400 and other 4xx; ``fields`` per the error body
    ├── NetworkError                network           connection refused, reset, timed out, TLS
    ├── ServerError                 server            5xx after the bounded retries
    └── CredentialStoreError        credentialStore   the OS keyring is missing or refused
        └── NoKeyringBackend        credentialStore   no keyring backend exists on this machine

Bitbucket's error bodies look like ``{"type": "error", "error": {"message", "detail", "data",
"fields"}}``; some omit ``type``. :func:`error_from_response` turns a response into the right
exception, tolerant of both and of bodies that are not JSON at all (429 is text/plain).
"""

from __future__ import annotations

import json
from typing import Any

from snippet_daemon import messages
from snippet_daemon.error_kinds import ErrorKind
from snippet_daemon.messages import CLI_WORDS, listed, new_token

API_TOKEN_HELP = (
    "C" + new_token("run `snippet-daemon login` (or set BITBUCKET_USERNAME and BITBUCKET_API_TOKEN)")[1:] + "."
)

# Bitbucket's API-token scopes by what an operation needs (Bearer OAuth tokens use 'snippet',
# 'snippet:write').
SNIPPET_SCOPES = messages.SNIPPET_SCOPES


class BitbucketError(Exception):
    """Base of every error raised by :mod:`snippet_daemon.bitbucket`."""

    kind: ErrorKind = ErrorKind.SERVER

    def __init__(self, message: str, *, status: int | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.detail = detail

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r})"


class NotAuthenticated(BitbucketError):
    kind: ErrorKind = ErrorKind.NOT_AUTHENTICATED


class Forbidden(BitbucketError):
    kind: ErrorKind = ErrorKind.FORBIDDEN

    def __init__(self, message: str, *, missing_scopes: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.missing_scopes = missing_scopes


class NotFound(BitbucketError):
    kind: ErrorKind = ErrorKind.NOT_FOUND


class Conflict(BitbucketError):
    kind: ErrorKind = ErrorKind.CONFLICT

    def __init__(self, message: str, *, remote_revision: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.remote_revision = remote_revision


class RateLimited(BitbucketError):
    kind: ErrorKind = ErrorKind.RATE_LIMITED


class PlanRestricted(BitbucketError):
    kind: ErrorKind = ErrorKind.PLAN


class InvalidRequest(BitbucketError):
    kind: ErrorKind = ErrorKind.INVALID_ARGUMENT

    def __init__(self, message: str, *, fields: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.fields = fields or {}


class NetworkError(BitbucketError):
    kind: ErrorKind = ErrorKind.NETWORK


class ServerError(BitbucketError):
    kind: ErrorKind = ErrorKind.SERVER


class CredentialStoreError(BitbucketError):
    kind: ErrorKind = ErrorKind.CREDENTIAL_STORE


class NoKeyringBackend(CredentialStoreError):
    pass


class InvalidApiUrl(InvalidRequest):
    """The API address set cannot be one (no scheme or host, or not ending in ``/2.0``)."""


def rejected_credentials(kind: str | None, username: str | None, source: str | None, sign_in: str) -> str:
    """A 401, in one sentence with its fix: a new token (which scopes, where), then how to use it."""
    from_env = source == "environment"
    if kind == "apiToken":
        if username and "@" not in username:
            where = "BITBUCKET_USERNAME" if from_env else "the username"
            return (
                f"Bitbucket refused the sign-in: an API token goes with your Atlassian account email, and "
                f"{where} is {username!r}; {sign_in} with your email."
            )
        then = "put it in BITBUCKET_API_TOKEN" if from_env else sign_in
        return f"Bitbucket rejected the email and API token (wrong, expired or revoked): {new_token(then)}."
    if kind == "accessToken":
        then = "put it in BITBUCKET_USERNAME and BITBUCKET_API_TOKEN" if from_env else sign_in
        return f"Bitbucket rejected the OAuth access token (they expire after an hour): {new_token(then)}."
    return messages.not_signed_in(messages.ClientWords(sign_in, ""))


def _parse_body(body: bytes, content_type: str) -> tuple[str | None, str | None, dict[str, Any]]:
    """``(message, detail, error object)`` from a Bitbucket error body, or Nones."""
    if "html" in content_type or body.lstrip()[:1] == b"<":
        # A web page, not an API answer: never shown (a page of markup says nothing to the user).
        return "the server answered with a web page, not the API (is the API address right?)", None, {}
    if "json" not in content_type and not body.lstrip().startswith(b"{"):
        text = body.decode("utf-8", "replace").strip()
        return (text[:300] or None), None, {}
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, None, {}
    if not isinstance(document, dict):
        return None, None, {}
    error = document.get("error")
    if not isinstance(error, dict):
        # Some endpoints answer {"message": ...} or {"error": "text"}.
        message = document.get("message") if isinstance(document.get("message"), str) else None
        if isinstance(error, str):
            message = error
        return message, None, {}
    message = error.get("message") if isinstance(error.get("message"), str) else None
    raw_detail = error.get("detail")
    detail = raw_detail if isinstance(raw_detail, str) else None
    return message, detail, error


def _scopes_from(error: dict[str, Any]) -> tuple[str, ...]:
    """The scopes an operation required but the credentials lack, when Bitbucket says."""
    detail = error.get("detail")
    if isinstance(detail, dict):
        required = [s for s in detail.get("required") or [] if isinstance(s, str)]
        granted = {s for s in detail.get("granted") or [] if isinstance(s, str)}
        return tuple(s for s in required if s not in granted)
    return ()


def _revision_from(error: dict[str, Any]) -> str | None:
    for container in (error.get("data"), error.get("detail")):
        if isinstance(container, dict):
            for key in ("head", "revision", "current_revision", "node_id", "hash"):
                value = container.get(key)
                if isinstance(value, str):
                    return value
    return None


def error_from_response(
    status: int,
    body: bytes,
    content_type: str,
    *,
    what: str,
    credential_kind: str | None,
    username: str | None = None,
    credential_source: str | None = None,
    sign_in: str = CLI_WORDS.sign_in,
) -> BitbucketError:
    """The exception for a failed response. ``what`` names the request for the message."""
    message, detail, error = _parse_body(body, content_type)
    said = f": {message.rstrip().rstrip('.')}" if message else ""  # we add the full stop
    if status == 401:
        return NotAuthenticated(
            rejected_credentials(credential_kind, username, credential_source, sign_in), status=status
        )
    if status == 403 and message and "free plan" in message.lower():
        return PlanRestricted(
            f"{message.rstrip()} ({what}). Snippets need a Standard or Premium Bitbucket workspace: "
            "use another workspace, or upgrade this one.",
            status=status,
            detail=detail,
        )
    if status == 403:
        missing = _scopes_from(error)
        if missing:
            then = "put it in BITBUCKET_API_TOKEN" if credential_source == "environment" else sign_in
            noun = "scope" if len(missing) == 1 else "scopes"
            # A token with only the missing scope would lose the others: the fix names them all.
            needed = [*SNIPPET_SCOPES, *(scope for scope in missing if scope not in SNIPPET_SCOPES)]
            text = (
                f"Bitbucket refused ({what}): the token lacks the {noun} {listed(missing)}; {new_token(then, needed)}."
            )
        else:
            text = f"Bitbucket refused ({what}){said}. You may not have access to this workspace or snippet."
        return Forbidden(text, missing_scopes=missing, status=status, detail=detail)
    if status in (404, 410):
        gone = " (gone: deleted, removed or marked as spam)" if status == 410 else ""
        return NotFound(f"Not found ({what}){gone}{said}.", status=status, detail=detail)
    if status in (405, 409):
        return Conflict(
            f"Conflict ({what}): the snippet changed on Bitbucket since it was read. "
            "Reload it to see the other change, or overwrite it on purpose.",
            remote_revision=_revision_from(error),
            status=status,
            detail=detail,
        )
    if status == 429:
        return RateLimited(
            f"Rate limited ({what}): Bitbucket allows 1,000 requests an hour and kept refusing "
            "after backing off. Wait a few minutes and try again.",
            status=status,
        )
    if status >= 500:
        return ServerError(f"Bitbucket failed ({what}, HTTP {status}){said}. Try again later.", status=status)
    fields = error.get("fields") if isinstance(error.get("fields"), dict) else None
    field_text = ""
    if fields:
        field_text = " " + "; ".join(f"{key}: {value}" for key, value in fields.items())
    return InvalidRequest(
        f"Bitbucket refused the request ({what}, HTTP {status}){said}.{field_text}",
        fields=fields,
        status=status,
        detail=detail,
    )
