"""Watching snippets: the ``bbsnippets.watch*`` commands and the poller behind ``bbsnippets/didChange``.

Every ``pollIntervalSeconds`` the poller spends ONE list request per workspace of interest (the
workspaces of watched snippets and of snippets a client has open) and compares ``updated_on``;
only snippets that changed are fetched further (one request each, which also refreshes the
cache the editors read from). Comments of watched snippets are polled every
:data:`COMMENT_POLL_EVERY` cycles. Changes raise ``bbsnippets/didChange`` for open and watched
snippets, and a ``window/showMessage`` for watched ones. Our own saves and comments are not
reported back to us.

Watched snippets are remembered per API URL in the user's data folder (``watching.json``, ids only),
so notifications go on after the editor restarts.

Polling must not eat the user's 1,000 requests/hour: a token bucket holds it to
``pollBudgetPerHour`` (default 100, i.e. 10%); a 429 doubles the interval (up to 16x) until a
poll succeeds; after 15 minutes without a request from the editor it polls a quarter as often;
with nothing open or watched it sends nothing at all.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from snippet_daemon import protocol
from snippet_daemon.console import user_data_dir, write_private

if TYPE_CHECKING:
    from snippet_daemon.bitbucket import Comment, Snippet, SnippetsClient
    from snippet_daemon.server import Handler, SnippetServer

log = logging.getLogger("snippet_daemon.watch")

COMMENT_POLL_EVERY = 5  # comment lists cost one request per snippet: poll them at a fifth of the rate
MAX_BACKOFF = 16
PAGE_SIZE = 100  # snippets per list page (the client asks for pagelen=100)
# Nobody has used the editor's snippet features for a while: poll a quarter as often until they do.
IDLE_AFTER_SECONDS = 15 * 60
IDLE_SLOWDOWN = 4

Key = tuple[str, str]
CommentMarks = frozenset[tuple[int, str | None]]


class TokenBucket:
    """At most ``per_hour`` requests an hour, in bursts of at most ``capacity``."""

    def __init__(self, per_hour: float, capacity: float | None = None) -> None:
        self.rate = per_hour / 3600.0
        self.capacity = capacity if capacity is not None else max(3.0, per_hour / 12)
        self.tokens = self.capacity
        self._at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self._at) * self.rate)
        self._at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Watcher:
    def __init__(self, server: SnippetServer) -> None:
        self._server = server
        self.watched: set[Key] = set()
        self._updated_on: dict[Key, str | None] = {}
        self._comments: dict[Key, CommentMarks] = {}
        self._task: asyncio.Task[None] | None = None
        self._client: SnippetsClient | None = None
        self.backoff = 1
        self.cycles = 0
        self.budget = TokenBucket(server.options.poll_budget_per_hour)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self.budget = TokenBucket(self._server.options.poll_budget_per_hour)
        self.watched |= _load_watching(self._state_file(), self._server.api_url)
        if self._server.options.poll_interval_seconds > 0 and self._task is None:
            self._task = self._server.run_task(self._run(), "polling for changes")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def aclose(self) -> None:
        """Stop polling and wait until it has stopped; close the polling connection."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def reset(self) -> None:
        """Another account: nothing known carries over (not even a back-off the old one earned)."""
        if self.watched:
            self.watched.clear()
            self.persist()
        self._updated_on.clear()
        self._comments.clear()
        self.backoff = 1
        client, self._client = self._client, None
        if client is not None:
            self._server.run_task(client.aclose(), "closing the old account's polling connection")

    def _state_file(self) -> Path:
        return user_data_dir(self._server.env) / "watching.json"

    def persist(self) -> None:
        """Remember what is watched, so notifications go on after the editor restarts."""
        try:
            _save_watching(self._state_file(), self._server.api_url, self.watched)
        except OSError as error:
            log.warning("cannot remember watched snippets in %s: %s", self._state_file(), error)

    def forget(self, workspace: str, snippet_id: str) -> None:
        key = (workspace, snippet_id)
        if key in self.watched:
            self.watched.discard(key)
            self.persist()
        self._updated_on.pop(key, None)
        self._comments.pop(key, None)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval())
            try:
                await self.poll_once()
                self.backoff = 1
            except asyncio.CancelledError:
                raise
            except Exception as error:
                kind = getattr(error, "kind", None)
                if kind == "rateLimited":
                    self.backoff = min(MAX_BACKOFF, self.backoff * 2)
                    log.info("polling was rate limited: next poll in %.0f s", self._interval())
                elif kind in ("notAuthenticated", "forbidden"):
                    self.backoff = MAX_BACKOFF
                    log.info("polling paused: %s", error)
                else:
                    self.backoff = min(MAX_BACKOFF, self.backoff * 2)
                    log.warning("polling failed: %s", error)

    def _interval(self) -> float:
        """The wait before the next poll: longer after 429s and failures, and while the editor is idle."""
        idle = time.monotonic() - self._server.last_activity
        idle_factor = IDLE_SLOWDOWN if idle > IDLE_AFTER_SECONDS else 1
        return self._server.options.poll_interval_seconds * max(self.backoff, idle_factor)

    def _poll_client(self) -> SnippetsClient:
        """A client that never sleeps on 429: the poller backs off itself, between polls."""
        if self._client is None:
            from snippet_daemon.bitbucket import RetryPolicy, SnippetsClient

            main = self._server.client()
            self._client = SnippetsClient(
                main.credentials, main.api_url, retry=RetryPolicy(rate_limit_budget=0, transient_attempts=1)
            )
        return self._client

    # ------------------------------------------------------------------ what we know already

    def _keys(self) -> set[Key]:
        open_keys = {(entry.snippet.workspace, entry.snippet.id) for entry in self._server.documents.tracked()}
        return open_keys | self.watched

    def _known_updated_on(self, key: Key) -> str | None:
        cached = self._server.documents.cached(*key)
        if cached is not None:
            return cached.snippet.updated_on
        return self._updated_on.get(key)

    async def baseline(self, client: SnippetsClient, workspace: str, snippet_id: str) -> None:
        """Start watching from what is there now, so any later change is reported.

        What is known from earlier (a former watch, a comment list read a while ago) is not
        "now": changes made since then were never news to this watch.
        """
        key = (workspace, snippet_id)
        if self._server.documents.cached(*key) is None:
            self._updated_on[key] = (await client.get_snippet(workspace, snippet_id)).updated_on
        self.saw_comments(workspace, snippet_id, await client.list_comments(workspace, snippet_id))
        self.watched.add(key)

    def saw_comments(self, workspace: str, snippet_id: str, comments: Iterable[Comment]) -> None:
        self._comments[(workspace, snippet_id)] = _marks(comments)

    def our_comment(self, workspace: str, snippet_id: str, comment: Comment) -> None:
        key = (workspace, snippet_id)
        if key in self._comments:
            kept = {mark for mark in self._comments[key] if mark[0] != comment.id}
            self._comments[key] = frozenset(kept | {(comment.id, comment.updated_on)})

    def our_comment_deleted(self, workspace: str, snippet_id: str, comment_id: int) -> None:
        key = (workspace, snippet_id)
        if key in self._comments:
            self._comments[key] = frozenset(mark for mark in self._comments[key] if mark[0] != comment_id)

    # ------------------------------------------------------------------ one poll

    async def poll_once(self) -> None:
        keys = self._keys()
        if not keys:
            return  # nobody is looking at anything: spend nothing
        self.cycles += 1
        by_workspace: dict[str, set[str]] = {}
        for workspace, snippet_id in keys:
            by_workspace.setdefault(workspace, set()).add(snippet_id)
        for workspace, ids in by_workspace.items():
            if not self.budget.take():
                log.debug("poll budget spent; %s waits for the next cycle", workspace)
                return
            await self._poll_workspace(workspace, ids)
        if self.cycles % COMMENT_POLL_EVERY == 1 or COMMENT_POLL_EVERY == 1:
            for key in sorted(self.watched):
                if not self.budget.take():
                    return
                await self._poll_comments(key)

    async def _poll_workspace(self, workspace: str, ids: set[str]) -> None:
        client = self._poll_client()
        snippets, more = await client.recent_snippets(workspace)
        seen = {snippet.id: snippet for snippet in snippets}
        if more and not ids <= seen.keys() and not _newest_first(snippets):
            seen, more = await self._look_further(client, workspace, ids, seen)
        for snippet_id in sorted(ids):
            key = (workspace, snippet_id)
            snippet = seen.get(snippet_id)
            if snippet is None:
                if not more:
                    await self._maybe_deleted(key)
                continue  # beyond the first page: older than everything on it, so unchanged
            known = self._known_updated_on(key)
            if key not in self._updated_on and self._server.documents.cached(*key) is None:
                self._updated_on[key] = snippet.updated_on  # first sighting: the baseline
                continue
            if snippet.updated_on != known:
                await self._changed(key, snippet)

    async def _look_further(
        self, client: SnippetsClient, workspace: str, ids: set[str], seen: dict[str, Snippet]
    ) -> tuple[dict[str, Snippet], bool]:
        """The server ignored ``sort=-updated_on``, so a tracked snippet may be on any page: walk the
        list (a budget token per page) until every tracked one is found. Returns what was seen, and
        whether the list went on beyond it."""
        found = dict(seen)
        pages = client.iter_snippets(workspace)
        try:
            count = 0
            async for snippet in pages:
                if count % PAGE_SIZE == 0 and count and not self.budget.take():
                    return found, True
                count += 1
                found.setdefault(snippet.id, snippet)
                if ids <= found.keys():
                    return found, True
            return found, False
        finally:
            await pages.aclose()

    async def _changed(self, key: Key, listed: Snippet) -> None:
        documents = self._server.documents
        cached = documents.cached(*key)
        self._updated_on[key] = listed.updated_on
        if cached is None:
            revision = listed.revision
        else:
            if not self.budget.take():
                documents.invalidate(*key)  # read again on next use; report without fetching
                revision = listed.revision
            else:
                content = await self._poll_client().get_snippet_content(*key)
                documents.refreshed(key[0], key[1], content.snippet, dict(content.files))
                revision = content.snippet.revision
                if revision == cached.revision:
                    return  # a title or visibility change: no new content
        self._notify(key, "commit", revision, f"{_name(listed)} was changed on Bitbucket.")

    async def _maybe_deleted(self, key: Key) -> None:
        from snippet_daemon.bitbucket import NotFound

        if not self.budget.take():
            return
        try:
            await self._poll_client().get_snippet(*key)
        except NotFound:
            self._server.documents.forget(*key)
            self.forget(*key)
            self._notify(key, "deleted", None, f"Snippet {key[0]}/{key[1]} was deleted on Bitbucket.", watched=True)

    async def _poll_comments(self, key: Key) -> None:
        known = self._comments.get(key)
        comments = await self._poll_client().list_comments(*key)
        if self._comments.get(key) is not known:
            # Our own comment (or a comment list) landed meanwhile, and this answer may predate it:
            # what we know now is newer; the next poll compares against it.
            return
        marks = _marks(comments)
        previous = known
        self._comments[key] = marks
        if previous is not None and marks != previous:
            self._notify(key, "comment", None, f"New or changed comments on snippet {key[0]}/{key[1]}.")

    def _notify(self, key: Key, kind: str, revision: str | None, message: str, *, watched: bool = False) -> None:
        self._server.notify_did_change(
            protocol.DidChangeParams(workspace=key[0], id=key[1], kind=kind, revision=revision)  # type: ignore[arg-type]
        )
        if watched or key in self.watched:
            self._server.show_message(message, types.MessageType.Info)


def _load_watching(path: Path, api_url: str) -> set[Key]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    entries = document.get(api_url) if isinstance(document, dict) else None
    if not isinstance(entries, list):
        return set()
    return {(ws, sid) for entry in entries if isinstance(entry, str) for ws, _, sid in [entry.partition("/")] if sid}


def _save_watching(path: Path, api_url: str, watched: set[Key]) -> None:
    """One JSON document per user: API URL -> ["workspace/id", ...]; replaced atomically."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        document = {}
    if not isinstance(document, dict):
        document = {}
    document[api_url] = sorted(f"{ws}/{sid}" for ws, sid in watched)
    write_private(path, json.dumps(document, indent=1).encode("utf-8"))


def _newest_first(snippets: list[Snippet]) -> bool:
    """Whether a page came sorted by ``updated_on``, newest first (ISO-8601 strings of one zone sort as text)."""
    stamps = [snippet.updated_on or "" for snippet in snippets]
    return all(earlier >= later for earlier, later in itertools.pairwise(stamps))


def _marks(comments: Iterable[Comment]) -> CommentMarks:
    return frozenset((comment.id, comment.updated_on) for comment in comments if not comment.deleted)


def _name(snippet: Snippet) -> str:
    return f"Snippet {snippet.workspace}/{snippet.id}" + (f" ({snippet.title})" if snippet.title else "")


# --------------------------------------------------------------------------- commands


async def watch(ls: SnippetServer, params: protocol.SnippetRef) -> protocol.WatchResult:
    client = ls.client()
    await client.watch(params.workspace, params.id)
    if ls.watcher is not None:
        await ls.watcher.baseline(client, params.workspace, params.id)
        ls.watcher.persist()
    return protocol.WatchResult(watching=True)


async def unwatch(ls: SnippetServer, params: protocol.SnippetRef) -> protocol.WatchResult:
    await ls.client().unwatch(params.workspace, params.id)
    if ls.watcher is not None:
        ls.watcher.forget(params.workspace, params.id)  # watching again starts from what is there then
    return protocol.WatchResult(watching=False)


async def watch_status(ls: SnippetServer, params: protocol.SnippetRef) -> protocol.WatchResult:
    watching = await ls.client().is_watching(params.workspace, params.id)
    if ls.watcher is not None:
        if watching:
            if (params.workspace, params.id) not in ls.watcher.watched:
                # Watched on Bitbucket, new to us: what we knew of it is old; the first poll is the baseline.
                ls.watcher.forget(params.workspace, params.id)
                ls.watcher.watched.add((params.workspace, params.id))
                ls.watcher.persist()
        else:
            ls.watcher.forget(params.workspace, params.id)
    return protocol.WatchResult(watching=watching)


async def watchers(ls: SnippetServer, params: protocol.SnippetRef) -> protocol.WatchersResult:
    accounts = await ls.client().list_watchers(params.workspace, params.id)
    return protocol.WatchersResult(
        watchers=[protocol.WatcherInfo(display_name=account.display_name, uuid=account.uuid) for account in accounts]
    )


HANDLERS: dict[str, Handler] = {
    protocol.WATCH: watch,
    protocol.UNWATCH: unwatch,
    protocol.WATCH_STATUS: watch_status,
    protocol.WATCHERS: watchers,
}
