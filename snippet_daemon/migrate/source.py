"""Reading the "Snippets for Bitbucket" add-on of a Bitbucket Server / Data Center instance.

The add-on's REST API lives at ``{server}/rest/snippets/1.0`` (``../shared/bitbucket-api/FACTS.md``):

* ``GET /snippets`` (the caller's snippets) and ``GET /snippets/browse`` (everyone's, where the
  credentials allow it), paged the Bitbucket Server way: ``start``/``limit`` parameters and pages
  ``{size, limit, isLastPage, start, nextPageStart?, values}``; their entries are summaries whose
  ``files`` (when present) name the files without their content;
* ``GET /snippets/{guid}``: one snippet with its files and (flat) comments inline.

The server's own user API (``GET {server}/rest/api/1.0/users``, paged the same way) turns the
numeric ``userId`` values into names when the credentials may read it.

Everything is read tolerantly: missing fields get defaults, unknown fields are ignored, and a file's
content may come as plain text or, in shapes nobody has confirmed, as base64 (``"encoding":
"base64"`` or a ``contentBase64`` field). Every failure becomes a :class:`SourceError` whose message
says what to do; no message ever contains the server credentials.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from snippet_daemon import __version__

ADDON_PATH: Final = "/rest/snippets/1.0"
USERS_PATH: Final = "/rest/api/1.0/users"
PAGE_LIMIT: Final = 100
# Transient failures (connection resets, 5xx, 429) of these read-only requests are retried a few times.
ATTEMPTS: Final = 4


class SourceError(Exception):
    """The server or its add-on cannot be read. ``kind`` says why; the message says what to do."""

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


@dataclass(frozen=True)
class ServerCredentials:
    """Basic-auth credentials for Bitbucket Server (a password or an HTTP access token)."""

    username: str
    password: str = field(repr=False)
    source: str = "environment"  # said in messages; never the secret itself


@dataclass(frozen=True)
class ServerFile:
    name: str
    content: bytes


@dataclass(frozen=True)
class ServerComment:
    guid: str
    text: str
    user_id: str | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


@dataclass(frozen=True)
class ServerSnippet:
    """One add-on snippet. ``files``/``comments`` are empty in list entries (see ``detailed``):
    those are summaries, and only the detail read must carry every file's content."""

    guid: str
    name: str
    description: str
    categories: tuple[str, ...]
    is_public: bool
    is_visible: bool | None
    user_id: str | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    files: tuple[ServerFile, ...] = ()
    comments: tuple[ServerComment, ...] = ()
    detailed: bool = False


@dataclass(frozen=True)
class ServerUser:
    id: str
    slug: str | None
    display_name: str | None


# --------------------------------------------------------------------------- URLs


def normalize_server_url(text: str) -> tuple[str, ServerCredentials | None]:
    """The server's base URL without credentials, trailing slash or a pasted REST path.

    Credentials written into the URL (``https://user:secret@host``) are taken out, so that they
    never reach a message, the state file or the report; they are returned for use as a last resort.
    """
    text = text.strip()
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        port, parts = None, parts._replace(scheme="")  # an impossible port: reported as a bad URL below
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(
            f"--server must be the base URL of Bitbucket Server, like https://bitbucket.example.com "
            f"(got {redact_url(text)!r}).",
            kind="usage",
        )
    credentials = None
    if parts.username is not None and parts.password is not None:
        from urllib.parse import unquote

        credentials = ServerCredentials(unquote(parts.username), unquote(parts.password), source="server URL")
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if port is not None:
        netloc += f":{port}"
    path = parts.path.rstrip("/")
    for suffix in (ADDON_PATH + "/snippets", ADDON_PATH, "/rest/api/1.0"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    return urlunsplit((parts.scheme, netloc, path, "", "")), credentials


def redact_url(text: str) -> str:
    """``text`` with any ``user:password@`` taken out (for messages about a bad URL)."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text
    authority, slash, tail = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rsplit("@", 1)[1]
    return f"{scheme}{sep}{authority}{slash}{tail}"


def snippet_origin_url(server_url: str, guid: str) -> str:
    """Where the snippet came from: its add-on REST URL (stable, and what this tool read)."""
    return f"{server_url}{ADDON_PATH}/snippets/{quote(guid, safe='')}"


# --------------------------------------------------------------------------- tolerant parsing


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def parse_timestamp(value: Any) -> dt.datetime | None:
    """Epoch milliseconds (the add-on's form), epoch seconds, or an ISO 8601 string -> aware UTC."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.lstrip("-").isdigit():
            value = int(stripped)
        else:
            try:
                parsed = dt.datetime.fromisoformat(stripped.replace("Z", "+00:00"))
            except ValueError:
                return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    if isinstance(value, (int, float)):
        # Milliseconds since 1970 have 13 digits in this century; seconds have 10.
        seconds = value / 1000 if abs(value) >= 100_000_000_000 else float(value)
        try:
            return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _user_id(data: Mapping[str, Any]) -> str | None:
    for key in ("userId", "authorId", "ownerId"):
        found = _text(data.get(key))
        if found:
            return found
    for key in ("user", "author", "owner"):
        nested = data.get(key)
        if isinstance(nested, dict):
            found = _text(nested.get("id")) or _text(nested.get("name")) or _text(nested.get("slug"))
            if found:
                return found
    return None


def _file_content(data: Mapping[str, Any], name: str) -> bytes:
    """A file's bytes: text as UTF-8, or decoded base64 when the add-on says it sent base64."""
    encoded = data.get("contentBase64")
    encoding = str(data.get("encoding") or data.get("contentEncoding") or "").lower()
    if encoded is None and encoding == "base64":
        encoded = data.get("content")
    if encoded is not None:
        if not isinstance(encoded, str):
            raise SourceError(f"the file {name!r} has base64 content that is not a string", kind="data")
        try:
            return base64.b64decode("".join(encoded.split()), validate=True)
        except (binascii.Error, ValueError):
            raise SourceError(f"the file {name!r} has invalid base64 content", kind="data") from None
    content = data.get("content")
    if content is None:
        if data.get("size") == 0:
            return b""
        raise SourceError(
            f"the add-on sent the file {name!r} without its content, so it cannot be copied byte-exact",
            kind="data",
        )
    if not isinstance(content, str):
        raise SourceError(f"the file {name!r} has content that is not text", kind="data")
    # surrogatepass: a lone surrogate escaped in the JSON still round-trips to the bytes it stood for.
    return content.encode("utf-8", "surrogatepass")


def parse_snippet(data: Any, *, detailed: bool) -> ServerSnippet:
    if not isinstance(data, dict):
        raise SourceError("the add-on sent a snippet that is not a JSON object", kind="data")
    guid = _text(data.get("guid")) or _text(data.get("id"))
    if not guid:
        raise SourceError("the add-on sent a snippet without a guid", kind="data")
    categories: list[str] = []
    for category in data.get("categories") or []:
        if isinstance(category, dict):
            category_name = _text(category.get("name")) or _text(category.get("guid"))
            if category_name:
                categories.append(category_name)
        elif isinstance(category, str):
            categories.append(category)
    files: list[ServerFile] = []
    raw_files = data.get("files")
    # List entries are summaries: the real add-on names their files without content (or leaves
    # ``files`` out), so only a detail read is held to carrying every byte.
    for index, raw_file in enumerate(raw_files if detailed and isinstance(raw_files, list) else []):
        if not isinstance(raw_file, dict):
            continue
        file_name = _text(raw_file.get("name")) or _text(raw_file.get("filename")) or f"file-{index + 1}"
        files.append(ServerFile(name=file_name, content=_file_content(raw_file, file_name)))
    comments: list[ServerComment] = []
    raw_comments = data.get("comments")
    for index, raw_comment in enumerate(raw_comments if detailed and isinstance(raw_comments, list) else []):
        if not isinstance(raw_comment, dict):
            continue
        comments.append(
            ServerComment(
                guid=_text(raw_comment.get("guid")) or _text(raw_comment.get("id")) or str(index),
                text=_text(raw_comment.get("text")) or _text(raw_comment.get("content")) or "",
                user_id=_user_id(raw_comment),
                created_at=parse_timestamp(raw_comment.get("createdAt")),
                updated_at=parse_timestamp(raw_comment.get("updatedAt")),
            )
        )
    # The add-on's comments are flat; re-post them oldest first (a stable sort keeps ties in given order).
    if all(comment.created_at for comment in comments):
        comments.sort(key=lambda comment: comment.created_at or dt.datetime.min.replace(tzinfo=dt.UTC))
    is_public = data.get("isPublic")
    is_visible = data.get("isVisible")
    return ServerSnippet(
        guid=guid,
        name=_text(data.get("name")) or _text(data.get("title")) or "",
        description=_text(data.get("description")) or "",
        categories=tuple(categories),
        is_public=is_public is True,
        is_visible=is_visible if isinstance(is_visible, bool) else None,
        user_id=_user_id(data),
        created_at=parse_timestamp(data.get("createdAt")),
        updated_at=parse_timestamp(data.get("updatedAt")),
        files=tuple(files),
        comments=tuple(comments),
        detailed=detailed,
    )


# --------------------------------------------------------------------------- the reader


class AddonSource:
    """An authenticated session with one Bitbucket Server. Use as ``async with``."""

    def __init__(
        self,
        server_url: str,
        credentials: ServerCredentials | None,
        *,
        timeout: float = 30.0,
        retry_base_delay: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.request_count = 0
        self._retry_base_delay = retry_base_delay
        auth = httpx.BasicAuth(credentials.username, credentials.password) if credentials else None
        self._credentials_source = credentials.source if credentials else None
        self._http = httpx.AsyncClient(
            auth=auth,
            timeout=httpx.Timeout(timeout, connect=10.0),
            transport=transport,
            headers={"User-Agent": f"snippet-daemon/{__version__} (migrate)", "Accept": "application/json"},
            # Never follow a redirect with the credentials: a login page or another host is not the API.
            follow_redirects=False,
        )

    async def __aenter__(self) -> AddonSource:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------ transport

    async def _get(self, path: str, *, what: str, params: Mapping[str, str | int] | None = None) -> httpx.Response:
        """One GET with a few retries for transient failures; connection failures are explained."""
        url = self.server_url + path
        for attempt in range(ATTEMPTS):
            self.request_count += 1
            try:
                response = await self._http.get(url, params=params)
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                if attempt + 1 < ATTEMPTS and not isinstance(error, httpx.ConnectError):
                    await asyncio.sleep(self._retry_base_delay * 2**attempt)
                    continue
                raise SourceError(
                    f"Cannot connect to Bitbucket Server at {self.server_url} ({type(error).__name__}). "
                    "Check --server: it is the address you open Bitbucket Server at in a browser, "
                    "e.g. https://bitbucket.example.com, and that this machine can reach it.",
                    kind="unreachable",
                ) from None
            except httpx.TransportError as error:
                if attempt + 1 < ATTEMPTS:
                    await asyncio.sleep(self._retry_base_delay * 2**attempt)
                    continue
                raise SourceError(
                    f"The connection to Bitbucket Server failed ({what}): {type(error).__name__}. Try again.",
                    kind="unreachable",
                ) from None
            if (response.status_code >= 500 or response.status_code == 429) and attempt + 1 < ATTEMPTS:
                await asyncio.sleep(self._retry_base_delay * 2**attempt)
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _unauthenticated(self, what: str) -> SourceError:
        if self._credentials_source is None:
            hint = (
                "It needs credentials: set BITBUCKET_SERVER_USERNAME and BITBUCKET_SERVER_PASSWORD (a password "
                "or an HTTP access token), or run the command on a terminal to be asked."
            )
        else:
            hint = (
                f"It rejected the username and password/token from the {self._credentials_source}: check "
                "BITBUCKET_SERVER_USERNAME and BITBUCKET_SERVER_PASSWORD (an HTTP access token needs at least "
                "read permission)."
            )
        return SourceError(f"Bitbucket Server said 401 Unauthorized ({what}). {hint}", kind="notAuthenticated")

    async def _json(self, path: str, *, what: str, params: Mapping[str, str | int] | None = None) -> Any:
        response = await self._get(path, what=what, params=params)
        status = response.status_code
        if status == 401:
            raise self._unauthenticated(what)
        if status == 403:
            raise SourceError(
                f"Bitbucket Server said 403 Forbidden ({what}): this account may not read it.", kind="forbidden"
            )
        if status == 404:
            raise SourceError(f"Not found on Bitbucket Server ({what}).", kind="notFound")
        if status in (301, 302, 303, 307, 308):
            raise SourceError(
                f"Bitbucket Server redirected {what} to {redact_url(response.headers.get('location', '?'))}: "
                "check --server (use the final address, with https:// if the server redirects to it).",
                kind="notBitbucketServer",
            )
        if status != 200:
            raise SourceError(f"Bitbucket Server answered HTTP {status} ({what}). Try again later.", kind="server")
        try:
            return response.json()
        except ValueError:
            raise SourceError(
                f"{self.server_url} answered {what} with something that is not JSON: it does not look like "
                "Bitbucket Server with the Snippets for Bitbucket add-on. Check --server.",
                kind="notBitbucketServer",
            ) from None

    async def _pages(self, path: str, *, what: str) -> AsyncIterator[Any]:
        """Every value of a Bitbucket Server paged list (``start``/``limit``, ``nextPageStart``)."""
        start = 0
        while True:
            page = await self._json(path, what=what, params={"start": start, "limit": PAGE_LIMIT})
            if not isinstance(page, dict) or not isinstance(page.get("values", []), list):
                raise SourceError(
                    f"{self.server_url} sent a page that is not a Bitbucket Server page ({what}): it does not look "
                    "like Bitbucket Server with the Snippets for Bitbucket add-on. Check --server.",
                    kind="notBitbucketServer",
                )
            values = page.get("values") or []
            for value in values:
                yield value
            next_start = page.get("nextPageStart")
            if page.get("isLastPage", True) is not False or not values:
                return
            if not isinstance(next_start, int) or isinstance(next_start, bool):
                next_start = start + len(values)
            if next_start <= start:
                raise SourceError(f"Bitbucket Server's paging went backwards ({what}).", kind="server")
            start = next_start

    # ------------------------------------------------------------------ checks

    async def explain_missing_addon(self) -> SourceError:
        """After a 404 on the add-on's path: the add-on is missing, or this is not Bitbucket Server."""
        try:
            response = await self._get("/rest/api/1.0/application-properties", what="the server's version")
            properties = response.json() if response.status_code == 200 else None
        except (SourceError, ValueError):
            properties = None
        if isinstance(properties, dict) and properties.get("version"):
            name = properties.get("displayName") or "Bitbucket Server"
            return SourceError(
                f"{self.server_url} is {name} {properties.get('version')}, but the Snippets for Bitbucket add-on "
                f"does not answer there ({ADDON_PATH} is 404): it is not installed or is disabled. Ask an admin "
                "to enable it (Administration > Manage apps) for the time of the migration.",
                kind="addonMissing",
            )
        return SourceError(
            f"{self.server_url} does not look like Bitbucket Server with the Snippets for Bitbucket add-on "
            f"({ADDON_PATH}/snippets is 404, and it has no Bitbucket Server REST API either). Check --server: "
            "it is the address you open Bitbucket Server at in a browser, e.g. https://bitbucket.example.com "
            "(with its context path, if it has one).",
            kind="addonMissing",
        )

    # ------------------------------------------------------------------ snippets

    async def iter_snippets(self, *, all_users: bool = False) -> AsyncIterator[ServerSnippet]:
        """Every snippet's list entry, each guid once (the list may shift while it is paged)."""
        path = f"{ADDON_PATH}/snippets/browse" if all_users else f"{ADDON_PATH}/snippets"
        what = "the list of all users' snippets" if all_users else "the list of your snippets"
        seen: set[str] = set()
        try:
            async for value in self._pages(path, what=what):
                snippet = parse_snippet(value, detailed=False)
                if snippet.guid not in seen:
                    seen.add(snippet.guid)
                    yield snippet
        except SourceError as error:
            if error.kind == "notFound" and not seen:
                raise await self.explain_missing_addon() from None
            if error.kind == "forbidden" and all_users:
                raise SourceError(
                    "Bitbucket Server does not let this account browse every user's snippets (--all-users, "
                    f"{ADDON_PATH}/snippets/browse is 403). Use an administrator's credentials, or leave out "
                    "--all-users to migrate this account's own snippets.",
                    kind="forbidden",
                ) from None
            raise

    async def get_snippet(self, guid: str) -> ServerSnippet:
        """One snippet with its files and comments."""
        data = await self._json(f"{ADDON_PATH}/snippets/{quote(guid, safe='')}", what=f"snippet {guid}")
        try:
            return parse_snippet(data, detailed=True)
        except SourceError as error:
            raise SourceError(f"Snippet {guid}: {error.message}", kind=error.kind) from None

    async def users(self) -> dict[str, ServerUser] | None:
        """Every user the credentials may see, by id; ``None`` when the user API is not available."""
        found: dict[str, ServerUser] = {}
        try:
            async for value in self._pages(USERS_PATH, what="the server's users"):
                if not isinstance(value, dict):
                    continue
                user_id = _text(value.get("id"))
                if user_id is None:
                    continue
                found[user_id] = ServerUser(
                    id=user_id,
                    slug=_text(value.get("slug")) or _text(value.get("name")),
                    display_name=_text(value.get("displayName")),
                )
        except SourceError as error:
            if error.kind in ("notFound", "forbidden", "notAuthenticated", "notBitbucketServer", "server"):
                return None
            raise
        return found
