"""An async client for Bitbucket Cloud's snippets API (``/2.0/snippets``), economical by design.

* A whole snippet (metadata and every file) is read in ONE request (``Accept: multipart/related``)
  and written in ONE request carrying only the files that change.
* Every read and write reports the snippet's HEAD revision, so the next write can be a
  compare-and-swap (``PUT /snippets/{ws}/{id}/{revision}``, 405 when stale -> :class:`Conflict`).
* Lists follow Bitbucket's opaque ``next`` links with ``pagelen=100``.
* ``GET /2.0/snippets`` (cross-workspace) was removed in 2026 and is never called.

Failures are the exceptions of :mod:`snippet_daemon.bitbucket.errors`. 429 (text/plain, no
Retry-After) is retried with exponential back-off and jitter for about a minute; 5xx and
broken connections are retried a bounded number of times for idempotent requests only (and for
any request that never reached the server). Nothing here imports LSP code.

Writes whose answer was lost (the connection broke after the request left, or a 5xx that may have
come after Bitbucket applied it) are settled here, where the retries are known, and never land twice:

* a compare-and-swap PUT sent again meets 405 once its first try landed. Given the files the write
  produces (``files_after``), one read of HEAD tells our own landed write (the answer is HEAD) from
  another writer's (:class:`Conflict`). A CAS DELETE sent again meets 404 once its first try landed.
* a create (POST) is never sent twice: the snippet it may have made is looked for and adopted
  (:mod:`snippet_daemon.bitbucket.adopt`), or the error says that nothing was created.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import json
import logging
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final
from urllib.parse import quote, urljoin, urlsplit

import httpx

from snippet_daemon import __version__
from snippet_daemon.bitbucket.adopt import CLOCK_SKEW, find_created, fingerprint, parse_time
from snippet_daemon.bitbucket.auth import Credentials, api_url_from_env
from snippet_daemon.bitbucket.errors import (
    BitbucketError,
    Conflict,
    Forbidden,
    NetworkError,
    NotAuthenticated,
    NotFound,
    PlanRestricted,
    RateLimited,
    ServerError,
    error_from_response,
)
from snippet_daemon.bitbucket.models import Account, Comment, Commit, Snippet, SnippetContent, Workspace, content_digest
from snippet_daemon.bitbucket.multipart import MultipartError, decode_snippet_body, encode_related
from snippet_daemon.messages import CLI_WORDS, ClientWords, not_signed_in

log = logging.getLogger("snippet_daemon.bitbucket")

PAGELEN: Final = 100
# Bigger answers are decoded in a worker thread: the worst body decodes at ~70 ms a MB, which would stall
# the daemon's event loop (and every editor request behind it); smaller ones are not worth a thread hop.
DECODE_OFF_LOOP_BYTES: Final = 256 * 1024
IDEMPOTENT: Final = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying. Defaults: ~1 minute of 429 back-off; 3 tries for transient failures."""

    rate_limit_budget: float = 60.0  # total seconds of sleeping on 429 before giving up
    base_delay: float = 1.0
    max_delay: float = 16.0
    transient_attempts: int = 3  # tries in all, for 5xx and connection failures

    def scaled(self, factor: float) -> RetryPolicy:
        """The same policy on another time scale (every delay and the budget times ``factor``)."""
        return replace(
            self,
            rate_limit_budget=self.rate_limit_budget * factor,
            base_delay=self.base_delay * factor,
            max_delay=self.max_delay * factor,
        )

    @classmethod
    def background(cls) -> RetryPolicy:
        """For background work (polling, indexing) that backs off by itself, between rounds: a 429 or a
        failure comes back at once, never waited out or tried again."""
        return cls(rate_limit_budget=0, transient_attempts=1)

    def delay(self, attempt: int, jitter: float) -> float:
        """Exponential back-off with 'equal jitter': half fixed, half random, never zero."""
        cap = min(self.max_delay, self.base_delay * float(2**attempt))
        return cap / 2 + jitter * cap / 2


Sleep = Callable[[float], Awaitable[None]]


@dataclass
class _Delivery:
    """What the tries of one logical request left unknown: whether a try without an answer was applied."""

    may_have_landed: bool = False  # a try reached the server and its answer was lost (broken, or 5xx)


def _segment(value: str) -> str:
    # Workspace UUIDs keep their braces, as Bitbucket's URLs show them.
    return quote(value, safe="{}")


def _page_values(page: dict[str, Any], what: str) -> list[Any]:
    values = page.get("values") or []
    for value in values:
        if isinstance(value, str):
            # A Free-plan workspace answers 200 with a sentence in place of a snippet.
            raise PlanRestricted(
                f"{value.strip()} ({what}). Snippets need a Standard or Premium Bitbucket "
                "workspace: use another workspace, or upgrade this one.",
                status=200,
            )
    return list(values) if isinstance(values, list) else []


@dataclass(frozen=True)
class ListPage:
    """One page of a snippet list: its snippets, whether more pages follow, and the list's size when sent."""

    snippets: list[Snippet]
    more: bool
    total: int | None = None

    @property
    def newest_first(self) -> bool:
        """Whether the page came sorted by ``updated_on``, newest first, as ``sort=-updated_on`` asks (a server may
        ignore it). ISO-8601 times of one zone sort as text."""
        stamps = [snippet.updated_on or "" for snippet in self.snippets]
        return all(earlier >= later for earlier, later in itertools.pairwise(stamps))


class SnippetsClient:
    """One authenticated session against one API base URL. Use as ``async with``."""

    def __init__(
        self,
        credentials: Credentials | None,
        api_url: str | None = None,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        sign_in: str = CLI_WORDS.sign_in,
    ) -> None:
        self.api_url = (api_url or api_url_from_env()).rstrip("/")
        self.credentials = credentials
        self.sign_in = sign_in  # how the user of this tool signs in, for messages that ask them to
        self.retry = retry or RetryPolicy()
        self.request_count = 0
        self._created: set[str] = set()  # ids of the snippets this client created (never adopted twice)
        self._comments_made: set[int] = set()  # ids of the comments this client posted (never adopted twice)
        self._sleep = sleep
        self._random = random.Random()
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=10.0),
            transport=transport,
            headers={"User-Agent": f"snippet-daemon/{__version__}"},
            follow_redirects=False,
        )

    async def __aenter__(self) -> SnippetsClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def __repr__(self) -> str:
        kind = self.credentials.kind if self.credentials else None
        return f"SnippetsClient(api_url={self.api_url!r}, credentials={kind!r})"

    # ------------------------------------------------------------------ transport

    def _url(self, *segments: str) -> str:
        return "/".join([self.api_url, *(_segment(s) for s in segments)])

    def _snippet_url(self, workspace: str, snippet_id: str, *rest: str) -> str:
        return self._url("snippets", workspace, snippet_id, *rest)

    def _auth_for(self, url: str) -> httpx.Auth | None:
        if self.credentials is None:
            return None
        target, api = urlsplit(url), urlsplit(self.api_url)
        # Redirects may leave the API host (api.bitbucket.org -> bitbucket.org/!api): send the
        # credentials only to the API's own origin or to Bitbucket itself.
        same_origin = (target.scheme, target.netloc) == (api.scheme, api.netloc)
        bitbucket = target.scheme == "https" and (
            target.hostname == "bitbucket.org" or (target.hostname or "").endswith(".bitbucket.org")
        )
        return self.credentials.auth() if same_origin or bitbucket else None

    async def _send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        ok: tuple[int, ...] = (200,),
        max_redirects: int = 3,
        delivery: _Delivery | None = None,
    ) -> httpx.Response:
        """One logical request: back-off, bounded retries, manual redirects, error mapping.

        ``delivery`` learns whether a try may have been applied without its answer reaching us.
        """
        delivery = delivery if delivery is not None else _Delivery()
        if self.credentials is None:
            raise NotAuthenticated(not_signed_in(ClientWords(self.sign_in, "")))
        idempotent = method in IDEMPOTENT
        rate_limit_waited = 0.0
        rate_limit_attempt = 0
        transient_attempt = 0
        redirects = 0
        while True:
            started = time.perf_counter()
            self.request_count += 1
            try:
                response = await self._http.request(
                    method, url, params=params, headers=headers, content=content, auth=self._auth_for(url)
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
                # Nothing reached the server: safe to retry whatever the method.
                transient_attempt += 1
                if transient_attempt < self.retry.transient_attempts:
                    await self._backoff(transient_attempt - 1, what, f"cannot connect ({type(error).__name__})")
                    continue
                raise NetworkError(
                    f"Cannot reach Bitbucket at {self.api_url} ({what}): {type(error).__name__}. "
                    "Check the network and BITBUCKET_API_URL.",
                ) from None
            except httpx.TransportError as error:
                delivery.may_have_landed = True  # the request left; whether it was applied is unknown
                transient_attempt += 1
                if idempotent and transient_attempt < self.retry.transient_attempts:
                    await self._backoff(transient_attempt - 1, what, f"connection failed ({type(error).__name__})")
                    continue
                maybe = "" if idempotent else " It may or may not have been applied: reload before retrying."
                raise NetworkError(
                    f"The connection to Bitbucket failed ({what}): {type(error).__name__}.{maybe}"
                ) from None
            elapsed_ms = (time.perf_counter() - started) * 1000
            log.debug("%s %s -> %s (%.0f ms)", method, url, response.status_code, elapsed_ms)
            status = response.status_code
            if status >= 500:
                delivery.may_have_landed = True  # e.g. a proxy's 502 after Bitbucket applied it

            if status == 429:
                delay = self.retry.delay(rate_limit_attempt, self._random.random())
                if rate_limit_waited + delay > self.retry.rate_limit_budget:
                    raise error_from_response(429, b"", "", what=what, credential_kind=None)
                rate_limit_attempt += 1
                rate_limit_waited += delay
                log.info("rate limited (%s): backing off %.1f s", what, delay)
                await self._sleep(delay)
                continue
            if status >= 500 and idempotent:
                transient_attempt += 1
                if transient_attempt < self.retry.transient_attempts:
                    await self._backoff(transient_attempt - 1, what, f"HTTP {status}")
                    continue
            if status in (301, 302, 303, 307, 308) and status not in ok:
                location = response.headers.get("location")
                redirects += 1
                if not location or redirects > max_redirects:
                    raise ServerError(f"Bitbucket redirected too often ({what}).", status=status)
                url, params = urljoin(url, location), None
                if status == 303:
                    method, content = "GET", None
                continue
            if status in ok:
                return response
            raise error_from_response(
                status,
                response.content,
                response.headers.get("content-type", ""),
                what=what,
                credential_kind=self.credentials.kind,
                username=self.credentials.username,
                credential_source=self.credentials.source,
                sign_in=self.sign_in,
            )

    async def _backoff(self, attempt: int, what: str, reason: str) -> None:
        delay = self.retry.delay(attempt, self._random.random())
        log.info("%s (%s): retrying in %.1f s", reason, what, delay)
        await self._sleep(delay)

    async def _json(
        self, method: str, url: str, *, what: str, headers_extra: Mapping[str, str] | None = None, **kwargs: Any
    ) -> Any:
        headers = {"Accept": "application/json", **(headers_extra or {})}
        response = await self._send(method, url, what=what, headers=headers, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise ServerError(f"Bitbucket answered with something that is not JSON ({what}).") from None

    async def _paginate(self, url: str, *, what: str, params: Mapping[str, str | int]) -> AsyncGenerator[Any, None]:
        """Every value of a paginated list, following ``next`` as an opaque URL."""
        next_url: str | None = url
        next_params: Mapping[str, str | int] | None = {**params, "pagelen": PAGELEN}
        while next_url:
            page = await self._json("GET", next_url, what=what, params=next_params)
            if not isinstance(page, dict):
                raise ServerError(f"Bitbucket sent a list page that is not an object ({what}).")
            for value in _page_values(page, what):
                yield value
            next_url = page.get("next") if isinstance(page.get("next"), str) else None
            next_params = None

    # ------------------------------------------------------------------ account

    async def current_user(self) -> Account:
        """``GET /user``: the account the credentials belong to (needs read:user:bitbucket)."""
        data = await self._json("GET", self._url("user"), what="who am I")
        account = Account.from_json(data)
        if account is None:
            raise ServerError("Bitbucket sent an account that is not an object.")
        return account

    async def current_user_if_readable(self) -> Account | None:
        """:meth:`current_user`, or ``None`` when the token may not read the account.

        A 403 still proves the credentials (a wrong secret is 401): the token only lacks
        read:user:bitbucket, which snippets do not need.
        """
        try:
            return await self.current_user()
        except Forbidden:
            return None

    async def list_user_workspaces(self) -> list[Workspace]:
        """The workspaces the user can see: ``GET /user/workspaces``, ⌈N/100⌉ requests.

        (The old ``GET /workspaces`` was removed in 2026 and is never called.) Needs the scope
        read:workspace:bitbucket: :class:`Forbidden` without it.
        """
        url = self._url("user", "workspaces")
        return [
            w
            async for v in self._paginate(url, what="list your workspaces", params={})
            if (w := Workspace.from_json(v))
        ]

    async def probe(self) -> int:
        """One ``GET /user`` that raises only when Bitbucket cannot be reached: its HTTP status.

        For health checks: 200 or 403 (a token without read:user) prove the credentials, 401 refuses them.
        """
        url = self._url("user")
        try:
            response = await self._http.get(url, auth=self._auth_for(url), headers={"Accept": "application/json"})
        except httpx.TransportError as error:
            raise NetworkError(
                f"Cannot reach Bitbucket at {self.api_url}: {type(error).__name__}. Check the network and the API URL."
            ) from None
        self.request_count += 1
        return response.status_code

    # ------------------------------------------------------------------ snippets

    async def iter_snippets(self, workspace: str, role: str | None = None) -> AsyncGenerator[Snippet, None]:
        """The workspace's snippets page by page; ``aclose()`` it to stop before the last page."""
        params: dict[str, str | int] = {"role": role} if role else {}
        async for value in self._paginate(
            self._url("snippets", workspace), what=f"list snippets of {workspace}", params=params
        ):
            if isinstance(value, dict):
                yield Snippet.from_json(value, workspace)

    async def recent_snippets(self, workspace: str) -> ListPage:
        """ONE request: the first page of :meth:`recent_pages` (up to 100, most recently updated first)."""
        pages = self.recent_pages(workspace)
        try:
            return await anext(pages)
        finally:
            await pages.aclose()

    async def recent_pages(self, workspace: str) -> AsyncGenerator[ListPage, None]:
        """The workspace's snippets, most recently updated first, a page (100) a request; ``aclose()`` it to
        stop early. (Servers that ignore ``sort`` are tolerated by the caller.)"""
        what = f"list snippets of {workspace}"
        next_url: str | None = self._url("snippets", workspace)
        params: Mapping[str, str | int] | None = {"sort": "-updated_on", "pagelen": PAGELEN}
        while next_url:
            page = await self._json("GET", next_url, what=what, params=params)
            if not isinstance(page, dict):
                raise ServerError(f"Bitbucket sent a list page that is not an object ({what}).")
            values = _page_values(page, what)
            next_url = page.get("next") if isinstance(page.get("next"), str) else None
            params = None
            size = page.get("size")
            yield ListPage(
                snippets=[Snippet.from_json(value, workspace) for value in values if isinstance(value, dict)],
                more=next_url is not None,
                total=size if isinstance(size, int) and not isinstance(size, bool) else None,
            )

    async def list_snippets(self, workspace: str, role: str | None = None) -> list[Snippet]:
        """All snippets of a workspace: ⌈N/100⌉ requests."""
        return [snippet async for snippet in self.iter_snippets(workspace, role)]

    async def create_snippet(
        self,
        workspace: str,
        files: Mapping[str, bytes],
        *,
        title: str = "",
        is_private: bool = True,
        adopt_if_lost: bool = True,
    ) -> Snippet:
        """One ``multipart/related`` POST with every file, whatever their number; never sent twice.

        When its answer is lost (the connection broke once it was sent, or a 5xx), the snippet it may
        have made is looked for and adopted: same title and bytes, created in the last minutes, not
        one this client made before (usually 2 requests: the newest snippets, then the candidate's
        content). When there is none, the error says that nothing was created. ``adopt_if_lost=False``:
        the caller settles lost answers itself (the migration does, across runs).
        """
        metadata = {"title": title, "is_private": is_private, "scm": "git", "files": {n: {} for n in files}}
        body, content_type = encode_related(metadata, files)
        delivery = _Delivery()
        decided = dt.datetime.now(dt.UTC)
        try:
            data = await self._json(
                "POST",
                self._url("snippets", workspace),
                what=f"create a snippet in {workspace}",
                content=body,
                headers_extra={"Content-Type": content_type},
                ok=(200, 201),
                delivery=delivery,
            )
        except (NetworkError, ServerError) as error:
            if not (adopt_if_lost and delivery.may_have_landed):
                raise
            snippet = await self._adopt_lost_create(error, workspace, files, title, decided)
        else:
            snippet = Snippet.from_json(data, workspace)
        self._created.add(snippet.id)
        return snippet

    async def _adopt_lost_create(
        self,
        lost: NetworkError | ServerError,
        workspace: str,
        files: Mapping[str, bytes],
        title: str,
        decided: dt.datetime,
    ) -> Snippet:
        """The snippet a create whose answer was lost made; else the error, saying that nothing was created."""
        try:
            listing = await self._recently_updated(workspace, decided - CLOCK_SKEW)
            found = await find_created(
                listing,
                lambda snippet_id: self.get_snippet_content(workspace, snippet_id),
                title=title,
                file_names=list(files),
                expected_fingerprint=fingerprint(title, files),
                since=decided,
                claimed=self._created,
            )
        except BitbucketError as failure:
            raise type(lost)(
                f"{lost.message} Looking for the snippet it may have made failed too ({failure.message}): "
                f"check the snippets of {workspace} before creating it again.",
                status=lost.status,
            ) from None
        if found is not None:
            log.info("the answer to a create in %s was lost; it made %s, adopted", workspace, found.id)
            return found
        nothing = f"and no snippet with this title and content is in {workspace}: nothing was created."
        if isinstance(lost, NetworkError):
            raise NetworkError(
                f"The connection to Bitbucket broke while creating a snippet in {workspace}, {nothing} "
                "Create it again when the network is back."
            ) from None
        raise ServerError(
            f"Bitbucket failed while creating a snippet in {workspace} (HTTP {lost.status}), {nothing} "
            "Try again later.",
            status=lost.status,
        ) from None

    async def _recently_updated(self, workspace: str, cutoff: dt.datetime) -> list[Snippet]:
        """The workspace's snippets updated since ``cutoff``, and maybe some older: usually ONE request.

        Pages are read newest first until one reaches back past ``cutoff``; from a server that ignores
        ``sort=``, every page.
        """
        snippets: list[Snippet] = []
        newest_first = True
        pages = self.recent_pages(workspace)
        try:
            async for page in pages:
                snippets.extend(page.snippets)
                times = [parse_time(snippet.updated_on) for snippet in snippets]
                newest_first = newest_first and all(
                    newer is not None and older is not None and newer >= older
                    for newer, older in itertools.pairwise(times)
                )
                oldest = times[-1] if times else None
                if newest_first and oldest is not None and oldest < cutoff:
                    break
        finally:
            await pages.aclose()
        return snippets

    async def get_snippet(self, workspace: str, snippet_id: str, revision: str | None = None) -> Snippet:
        """Metadata only (application/json); files are links."""
        url = self._snippet_url(workspace, snippet_id, *([revision] if revision else []))
        data = await self._json("GET", url, what=f"read snippet {workspace}/{snippet_id}")
        return self._at_revision(Snippet.from_json(data, workspace), revision)

    async def get_snippet_content(self, workspace: str, snippet_id: str, revision: str | None = None) -> SnippetContent:
        """Metadata and every file's bytes in ONE request (``Accept: multipart/related``)."""
        what = f"read snippet {workspace}/{snippet_id}"
        url = self._snippet_url(workspace, snippet_id, *([revision] if revision else []))
        response = await self._send("GET", url, what=what, headers={"Accept": "multipart/related"})
        content_type = response.headers.get("content-type", "")
        if content_type.lower().startswith("multipart/"):
            try:
                if len(response.content) > DECODE_OFF_LOOP_BYTES:
                    metadata, files = await asyncio.to_thread(decode_snippet_body, response.content, content_type)
                else:
                    metadata, files = decode_snippet_body(response.content, content_type)
            except MultipartError as error:
                raise ServerError(f"Bitbucket sent a snippet that cannot be decoded ({what}): {error}") from None
            snippet = self._at_revision(Snippet.from_json(metadata, workspace), revision)
            return SnippetContent(snippet=snippet, files=files)
        # Tolerance: a server that ignores Accept sends JSON, whose files are links (N+1 requests).
        try:
            data = response.json()
        except ValueError:
            raise ServerError(f"Bitbucket sent neither multipart nor JSON ({what}).") from None
        snippet = self._at_revision(Snippet.from_json(data, workspace), revision)
        file_bytes = {
            name: await self.get_file(workspace, snippet_id, name, snippet.revision) for name in snippet.file_names
        }
        return SnippetContent(snippet=snippet, files=file_bytes)

    @staticmethod
    def _at_revision(snippet: Snippet, revision: str | None) -> Snippet:
        if revision and snippet.revision is None:
            return replace(snippet, revision=revision)
        return snippet

    async def update_snippet(
        self,
        workspace: str,
        snippet_id: str,
        *,
        title: str | _Unset | None = UNSET,
        is_private: bool | _Unset = UNSET,
        files: Mapping[str, bytes | None] | None = None,
        at_revision: str | None = None,
        files_after: Mapping[str, bytes] | None = None,
        digests_after: Mapping[str, str] | None = None,
    ) -> Snippet:
        """A differential PUT: only what is given changes.

        ``files`` maps a name to its new bytes, or to ``None`` to delete it; a rename is
        ``{old: None, new: bytes}`` in the same call (one request, one commit). Without files
        the body is JSON (metadata only). With ``at_revision`` the PUT is a compare-and-swap:
        :class:`Conflict` when the snippet moved on since that revision.

        ``files_after``: every file the snippet holds once this write lands (its files at
        ``at_revision`` with ``files`` applied). A compare-and-swap whose first answer was lost is
        sent again and meets 405 if that first try landed: then HEAD is read (1 request), and if it
        holds exactly these files the write landed and HEAD is the answer. Otherwise, or without
        ``files_after``, it is a :class:`Conflict`. ``digests_after`` stands in for ``files_after`` when
        only the files' :func:`~snippet_daemon.bitbucket.models.content_digest` are known (a push).
        """
        metadata: dict[str, Any] = {}
        if not isinstance(title, _Unset):
            metadata["title"] = title
        if not isinstance(is_private, _Unset):
            metadata["is_private"] = is_private
        url = self._snippet_url(workspace, snippet_id, *([at_revision] if at_revision else []))
        what = f"save snippet {workspace}/{snippet_id}"
        if files:
            metadata["files"] = {name: {} for name in files}
            changed = {name: data for name, data in files.items() if data is not None}
            body, content_type = encode_related(metadata, changed)
        else:
            body, content_type = json.dumps(metadata).encode("utf-8"), "application/json"
        delivery = _Delivery()
        try:
            data = await self._json(
                "PUT", url, what=what, content=body, headers_extra={"Content-Type": content_type}, delivery=delivery
            )
        except Conflict as conflict:
            if delivery.may_have_landed and at_revision and (files_after is not None or digests_after is not None):
                expected = (
                    {name: content_digest(data) for name, data in files_after.items()}
                    if files_after is not None
                    else dict(digests_after or {})
                )
                return await self._landed_or_conflict(conflict, workspace, snippet_id, metadata, expected)
            await self._learn_remote_revision(conflict, workspace, snippet_id)
            raise
        return Snippet.from_json(data, workspace)

    async def _landed_or_conflict(
        self,
        conflict: Conflict,
        workspace: str,
        snippet_id: str,
        metadata: Mapping[str, Any],
        digests_after: Mapping[str, str],
    ) -> Snippet:
        """A compare-and-swap sent again met 405: its own first try, or another writer? HEAD says (1 request)."""
        try:
            head = await self.get_snippet_content(workspace, snippet_id)
        except BitbucketError as failure:
            raise NetworkError(
                f"The answer to saving snippet {workspace}/{snippet_id} was lost, and reading it back failed "
                f"({failure.message}). The save may or may not have landed: reload before saving again."
            ) from None
        title = metadata.get("title", head.snippet.title) or ""  # None clears it
        is_private = metadata.get("is_private", head.snippet.is_private)
        held = {name: content_digest(data) for name, data in head.files.items()}
        ours = held == dict(digests_after) and (head.snippet.title, head.snippet.is_private) == (title, is_private)
        if ours:
            log.info("the answer to saving %s/%s was lost; HEAD %s is that save", workspace, snippet_id, head.revision)
            return head.snippet
        conflict.remote_revision = head.revision
        raise conflict

    async def _learn_remote_revision(self, conflict: Conflict, workspace: str, snippet_id: str) -> None:
        """Fill in the revision that won, for the caller to show or to force against.

        Bitbucket's 405 does not say which revision is HEAD now: one metadata read does.
        """
        if conflict.remote_revision is None:
            with contextlib.suppress(BitbucketError):
                conflict.remote_revision = (await self.get_snippet(workspace, snippet_id)).revision

    async def delete_snippet(self, workspace: str, snippet_id: str, at_revision: str | None = None) -> None:
        url = self._snippet_url(workspace, snippet_id, *([at_revision] if at_revision else []))
        delivery = _Delivery()
        # A 204 may come as text/html with an empty body: never parse it.
        try:
            await self._send(
                "DELETE", url, what=f"delete snippet {workspace}/{snippet_id}", ok=(200, 204), delivery=delivery
            )
        except NotFound:
            if not delivery.may_have_landed:
                raise
            log.info("the answer to deleting %s/%s was lost; it is gone, so it landed", workspace, snippet_id)
        except Conflict as conflict:
            await self._learn_remote_revision(conflict, workspace, snippet_id)
            raise

    async def get_file(self, workspace: str, snippet_id: str, path: str, revision: str | None = None) -> bytes:
        """One file's raw bytes; at HEAD this follows Bitbucket's 302 to the versioned URL."""
        encoded_path = quote(path, safe="/")
        base = self._snippet_url(workspace, snippet_id, *([revision] if revision else []))
        response = await self._send(
            "GET", f"{base}/files/{encoded_path}", what=f"read {path} of snippet {workspace}/{snippet_id}"
        )
        return response.content

    # ------------------------------------------------------------------ history

    async def list_commits(self, workspace: str, snippet_id: str) -> list[Commit]:
        """Newest first."""
        url = self._snippet_url(workspace, snippet_id, "commits")
        what = f"history of snippet {workspace}/{snippet_id}"
        return [Commit.from_json(v) async for v in self._paginate(url, what=what, params={}) if isinstance(v, dict)]

    async def get_commit(self, workspace: str, snippet_id: str, revision: str) -> Commit:
        url = self._snippet_url(workspace, snippet_id, "commits", revision)
        data = await self._json("GET", url, what=f"commit {revision} of snippet {workspace}/{snippet_id}")
        return Commit.from_json(data)

    async def _text(self, url: str, *, what: str, params: Mapping[str, str | int] | None = None) -> str:
        response = await self._send("GET", url, what=what, params=params)
        # Git does not track encodings (Bitbucket says so): UTF-8 when it is, else Latin-1, losslessly.
        try:
            return response.content.decode("utf-8")
        except UnicodeDecodeError:
            return response.content.decode("latin-1")

    async def get_diff(self, workspace: str, snippet_id: str, revision: str, path: str | None = None) -> str:
        """The diff of ``revision`` against its first parent, optionally of one file."""
        url = self._snippet_url(workspace, snippet_id, revision, "diff")
        params: dict[str, str | int] | None = {"path": path} if path else None
        return await self._text(url, what=f"diff of snippet {workspace}/{snippet_id}", params=params)

    async def get_patch(self, workspace: str, snippet_id: str, revision: str) -> str:
        url = self._snippet_url(workspace, snippet_id, revision, "patch")
        return await self._text(url, what=f"patch of snippet {workspace}/{snippet_id}")

    # ------------------------------------------------------------------ comments

    async def list_comments(self, workspace: str, snippet_id: str) -> list[Comment]:
        """Oldest first."""
        url = self._snippet_url(workspace, snippet_id, "comments")
        what = f"comments of snippet {workspace}/{snippet_id}"
        return [Comment.from_json(v) async for v in self._paginate(url, what=what, params={}) if isinstance(v, dict)]

    async def get_comment(self, workspace: str, snippet_id: str, comment_id: int) -> Comment:
        url = self._snippet_url(workspace, snippet_id, "comments", str(comment_id))
        return Comment.from_json(await self._json("GET", url, what=f"comment {comment_id}"))

    async def create_comment(self, workspace: str, snippet_id: str, raw: str, parent_id: int | None = None) -> Comment:
        """One POST, never sent twice. When its answer is lost (the connection broke once it was sent, or a 5xx),
        the comments are read (one request) and the one it made is adopted: same text and parent, made since it
        was sent, not one this client made before. Without one, the error says that nothing was posted."""
        body: dict[str, Any] = {"content": {"raw": raw}}
        if parent_id is not None:
            body["parent"] = {"id": parent_id}
        delivery = _Delivery()
        decided = dt.datetime.now(dt.UTC)
        what = f"comment on snippet {workspace}/{snippet_id}"
        try:
            data = await self._json(
                "POST",
                self._snippet_url(workspace, snippet_id, "comments"),
                what=what,
                content=json.dumps(body).encode("utf-8"),
                headers_extra={"Content-Type": "application/json"},
                ok=(200, 201),
                delivery=delivery,
            )
        except (NetworkError, ServerError) as lost:
            if not delivery.may_have_landed:
                raise
            comment = await self._adopt_lost_comment(lost, workspace, snippet_id, raw, parent_id, decided)
        else:
            comment = Comment.from_json(data)
        self._comments_made.add(comment.id)
        return comment

    async def _adopt_lost_comment(
        self,
        lost: NetworkError | ServerError,
        workspace: str,
        snippet_id: str,
        raw: str,
        parent_id: int | None,
        decided: dt.datetime,
    ) -> Comment:
        try:
            comments = await self.list_comments(workspace, snippet_id)
        except BitbucketError as failure:
            raise type(lost)(
                f"{lost.message} Reading the comments to see whether it was posted failed too ({failure.message}): "
                "look at the snippet's comments before posting it again.",
                status=lost.status,
            ) from None
        since = decided - CLOCK_SKEW
        for comment in reversed(comments):  # newest last: the most recent match first
            made = parse_time(comment.created_on)
            if (
                comment.raw == raw
                and comment.parent_id == parent_id
                and not comment.deleted
                and comment.id not in self._comments_made
                and (made is None or made >= since)
            ):
                log.info(
                    "the answer to a comment on %s/%s was lost; it was posted (%d)", workspace, snippet_id, comment.id
                )
                return comment
        raise type(lost)(
            f"The answer to posting a comment on snippet {workspace}/{snippet_id} was lost, and the comment is not "
            "there: nothing was posted. Post it again.",
            status=lost.status,
        ) from None

    async def update_comment(self, workspace: str, snippet_id: str, comment_id: int, raw: str) -> Comment:
        data = await self._json(
            "PUT",
            self._snippet_url(workspace, snippet_id, "comments", str(comment_id)),
            what=f"edit comment {comment_id}",
            content=json.dumps({"content": {"raw": raw}}).encode("utf-8"),
            headers_extra={"Content-Type": "application/json"},
        )
        return Comment.from_json(data)

    async def delete_comment(self, workspace: str, snippet_id: str, comment_id: int) -> None:
        """A DELETE sent again (its first answer was lost) meets 404 once the first try landed: that is success."""
        url = self._snippet_url(workspace, snippet_id, "comments", str(comment_id))
        delivery = _Delivery()
        try:
            await self._send("DELETE", url, what=f"delete comment {comment_id}", ok=(200, 204), delivery=delivery)
        except NotFound:
            if not delivery.may_have_landed:
                raise
            log.info("the answer to deleting comment %d was lost; it is gone, so it landed", comment_id)

    # ------------------------------------------------------------------ watching

    async def is_watching(self, workspace: str, snippet_id: str) -> bool:
        """``GET .../watch``: 204 when watching, 404 when not."""
        url = self._snippet_url(workspace, snippet_id, "watch")
        response = await self._send("GET", url, what=f"watch status of {workspace}/{snippet_id}", ok=(200, 204, 404))
        return response.status_code != 404

    async def watch(self, workspace: str, snippet_id: str) -> None:
        url = self._snippet_url(workspace, snippet_id, "watch")
        await self._send("PUT", url, what=f"watch snippet {workspace}/{snippet_id}", ok=(200, 204))

    async def unwatch(self, workspace: str, snippet_id: str) -> None:
        url = self._snippet_url(workspace, snippet_id, "watch")
        await self._send("DELETE", url, what=f"stop watching snippet {workspace}/{snippet_id}", ok=(200, 204))

    async def list_watchers(self, workspace: str, snippet_id: str) -> list[Account]:
        url = self._snippet_url(workspace, snippet_id, "watchers")
        what = f"watchers of snippet {workspace}/{snippet_id}"
        return [a async for v in self._paginate(url, what=what, params={}) if (a := Account.from_json(v))]


__all__ = ["UNSET", "BitbucketError", "RateLimited", "RetryPolicy", "SnippetsClient"]
