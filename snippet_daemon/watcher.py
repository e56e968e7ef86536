"""The poller behind ``bbsnippets/didChange``: a service beside :mod:`snippet_daemon.documents`.

It keeps the snippets a client has open (read through the daemon) and the ones it watches current,
and tells the client what others changed: a commit, a comment, a deletion. Changes raise
``bbsnippets/didChange`` for open and watched snippets, and a ``window/showMessage`` for watched
ones. Our own saves and comments are not reported back to us.

One poll cycle, in this order (``docs/protocol.md`` gives the bounds as formulas):

1. ONE list request per workspace of interest (``sort=-updated_on``), the request that detects
   every commit. The lists come first, the workspace listed longest ago first, and nothing else
   may starve them: the cycle is spaced so that the budget affords them every time (see
   :meth:`Watcher.plan`), and everything after them spends only what is left once the next
   cycle's lists are reserved.
2. What the lists call for: a changed open snippet is fetched (one request, which also refreshes
   the cache the editors read from); one that vanished from a complete list is checked.
3. Comment checks of watched snippets with what the budget has left over, taking turns (the
   longest unchecked first, each at most every :data:`COMMENT_POLL_EVERY` cycles), and never past
   the start of the next cycle. Every watched snippet's comments are thus checked within a bound
   set by how many are watched, the workspaces, the interval and the budget.

Watched snippets are remembered per API URL and account in the user's data folder (``watching.json``:
``{apiUrl: {account: ["workspace/id", ...]}}``, ids only), so notifications go on after the editor restarts.
Several daemons share that file (two editors, one account): each change is read-modify-write under a lock,
applying only this daemon's own addition or removal; a damaged or unreadable file is set aside, never
overwritten; signing out keeps it (Bitbucket still watches).

Polling must not eat the user's 1,000 requests/hour: a token bucket holds it to ``pollBudgetPerHour``
(default 100, i.e. 10%) in any hour; a 429 doubles the interval (up to 16x) until a poll succeeds;
after 15 minutes without a request from the editor it polls a quarter as often; with nothing open
or watched it sends nothing at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import json
import logging
import math
import os
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from lsprotocol import types

from snippet_daemon import protocol
from snippet_daemon.budget import Clock, TokenBucket
from snippet_daemon.error_kinds import ErrorKind
from snippet_daemon.paths import open_private, private_dir, user_data_dir, write_private

if TYPE_CHECKING:
    from snippet_daemon.bitbucket import Comment, Snippet, SnippetsClient
    from snippet_daemon.bitbucket.client import ListPage
    from snippet_daemon.documents import CachedSnippet

log = logging.getLogger("snippet_daemon.watch")

COMMENT_POLL_EVERY = 5  # a snippet's comments cost one request each: check them at most every 5th cycle
MAX_BACKOFF = 16
PAGE_SIZE = 100  # snippets per list page (the client asks for pagelen=100)
# Nobody has used the editor's snippet features for a while: poll a quarter as often until they do.
IDLE_AFTER_SECONDS = 15 * 60
IDLE_SLOWDOWN = 4

Key = tuple[str, str]
CommentMarks = frozenset[tuple[int, str | None]]
ChangeKind = Literal["commit", "comment", "deleted", "unreachable"]
UNWATCH = "Unwatch"
KEEP_WATCHING = "Keep watching"
Sleep = Callable[[float], Awaitable[None]]


class SnippetCache(Protocol):
    """What the watcher uses of :class:`~snippet_daemon.documents.SnippetDocuments`."""

    def cached(self, workspace: str, snippet_id: str) -> CachedSnippet | None: ...
    def tracked(self) -> list[Key]: ...
    def dropped(self, workspace: str, snippet_id: str) -> Snippet | None: ...
    def invalidate(self, workspace: str, snippet_id: str) -> None: ...
    def refreshed(self, workspace: str, snippet_id: str, snippet: Snippet, files: dict[str, bytes]) -> object: ...
    def forget(self, workspace: str, snippet_id: str) -> None: ...


class WatcherHost(Protocol):
    """What the watcher uses of the server (:class:`~snippet_daemon.server.SnippetServer`)."""

    @property
    def options(self) -> protocol.InitializationOptions: ...
    @property
    def env(self) -> Mapping[str, str]: ...
    @property
    def api_url(self) -> str: ...
    @property
    def documents(self) -> SnippetCache: ...
    @property
    def last_activity(self) -> float: ...  # the clock's time of the client's last request
    def client(self) -> SnippetsClient: ...
    def background_client(self) -> SnippetsClient: ...  # never waits out a 429: the poller backs off itself
    async def credentials_ready(self) -> None: ...
    def notify_did_change(self, change: protocol.DidChangeParams) -> None: ...
    def show_message(self, message: str, kind: types.MessageType = ...) -> None: ...
    async def ask(self, message: str, actions: list[str]) -> str | None: ...
    def run_task(self, coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]: ...


@dataclass(frozen=True)
class _Baseline:
    """A tracked snippet's ``updated_on`` as last seen: exactly, or (``at_most``) no later than this,
    when it was beyond a first page sorted newest first."""

    updated_on: str | None
    at_most: bool = False

    def changed(self, updated_on: str | None) -> bool:
        if self.at_most:
            return _later(updated_on, self.updated_on)
        return updated_on != self.updated_on


@dataclass
class _Listing:
    """What one list poll of a workspace showed."""

    seen: dict[str, Snippet]
    complete: bool  # every snippet of the workspace is in ``seen``
    floor: str | None = None  # sorted newest first but incomplete: a snippet not seen was updated no later

    def baseline(self, snippet_id: str) -> _Baseline | None:
        snippet = self.seen.get(snippet_id)
        if snippet is not None:
            return _Baseline(snippet.updated_on)
        return None if self.floor is None else _Baseline(self.floor, at_most=True)


@dataclass(frozen=True)
class Plan:
    """One cycle's shape for what is tracked (before any slowdown): see :meth:`Watcher.plan`."""

    period: float  # seconds from one cycle's start to the next
    lists: int  # list requests a cycle needs (reserved from the budget before anything else)
    comment_checks: float  # comment checks a cycle affords on average
    comment_delay: float = 0.0  # the longest a watched snippet's new comment waits to be told: P (5 + ceil(N/s))


class Watcher:
    def __init__(
        self,
        host: WatcherHost,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        on_list: Callable[[str, ListPage], None] = lambda workspace, page: None,
    ) -> None:
        """``on_list``: told every first list page the poller reads (the search index reuses it)."""
        self._host = host
        self._on_list = on_list
        self._clock = clock
        self._sleep = sleep
        self.watched: set[Key] = set()
        self._baselines: dict[Key, _Baseline] = {}
        self._comments: dict[Key, CommentMarks] = {}
        self._checked: dict[Key, tuple[int, int]] = {}  # key -> (cycle, turn) of its last comment check
        self._turns = 0  # comment checks so far: who checked longest ago goes first
        self._listings: dict[str, _Listing] = {}  # the latest list of each workspace still of interest
        self._listed: dict[str, int] = {}  # workspace -> turn of its latest list: the longest unlisted goes first
        self._list_turns = 0
        self._listing_now: dict[str, asyncio.Task[Any]] = {}
        self._extra_pages = 0  # list pages beyond the first that the last cycle read (a server ignoring sort=)
        self._allowance = 0.0  # comment checks left over, carried from cycle to cycle
        self._deadline: float | None = None  # when the next cycle starts: comment checks stop there
        self._told: tuple[float, float] = (0.0, 0.0)  # the plan last written to the log
        self._task: asyncio.Task[None] | None = None
        self._account: str | None = None  # whose watches ``watched`` holds (loaded from watching.json)
        # A workspace whose list answers 404/403: (back-off in cycles, the cycle it is tried again at)
        self._failing: dict[str, tuple[int, int]] = {}
        self._generation = 0  # moves on with every account switch (reset)
        self._told_unreachable: set[Key] = set()  # asked once whether to unwatch
        self._paused: str | None = None  # why polling waits for a sign-in (Bitbucket refused the credentials)
        self._loading: asyncio.Lock = asyncio.Lock()
        self.backoff = 1
        self.cycles = 0
        self._budget: TokenBucket | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def budget(self) -> TokenBucket:
        """Polling's share of the hour (``pollBudgetPerHour``), built once, on first use: by then the client's
        options are known (the server builds the watcher before ``initialize`` brings them)."""
        if self._budget is None:
            self._budget = TokenBucket.within(self._host.options.poll_budget_per_hour, clock=self._clock)
        return self._budget

    def start(self) -> None:
        if self._host.options.poll_interval_seconds > 0 and self._task is None:
            self._task = self._host.run_task(self._run(), "polling for changes")

    async def aclose(self) -> None:
        """Stop polling and wait until it has stopped."""
        tasks = [task for task in [self._task, *self._listing_now.values()] if task is not None]
        self._task = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def reset(self) -> None:
        """Another account: nothing known carries over (not even a back-off the old one earned). What is watched
        stays in watching.json (Bitbucket still watches it): the next account's watches are loaded on next use."""
        self.watched.clear()
        self._account = None
        self._generation += 1
        self._baselines.clear()
        self._comments.clear()
        self._checked.clear()
        self._listings.clear()
        self._failing.clear()
        self._told_unreachable.clear()
        self._paused = None
        self._extra_pages = 0
        self.backoff = 1

    def _state_file(self) -> Path:
        return user_data_dir(self._host.env) / "watching.json"

    async def load(self) -> None:
        """The account's watches from watching.json (once per account; its identity may take one GET /user)."""
        if self._account is not None:
            return
        from snippet_daemon.index import account_identity

        async with self._loading:
            if self._account is None:
                account = await account_identity(self._host.client())
                try:
                    found = await asyncio.to_thread(WatchingFile(self._state_file()).read, self._host.api_url, account)
                except OSError as error:
                    log.warning("cannot read the watched snippets in %s: %s", self._state_file(), error)
                    found = set()
                self.watched |= found
                self._account = account

    def remember(self, workspace: str, snippet_id: str, watching: bool) -> str | None:
        """Write this one change to watching.json (others' entries untouched); why it could not be, or None."""
        if self._account is None:
            return "the account is not known yet"
        path = self._state_file()
        try:
            WatchingFile(path).change(self._host.api_url, self._account, (workspace, snippet_id), watching)
        except OSError as error:
            log.warning("cannot remember watched snippets in %s: %s", path, error)
            return f"{path} could not be written ({error.strerror or error})"
        return None

    def forget(self, workspace: str, snippet_id: str, *, remembered: bool = True) -> None:
        """Stop tracking the snippet (gone, or unwatched); ``remembered``: and take it out of watching.json."""
        key = (workspace, snippet_id)
        if key in self.watched:
            self.watched.discard(key)
            if remembered:
                self.remember(workspace, snippet_id, False)
        self._baselines.pop(key, None)
        self._comments.pop(key, None)
        self._checked.pop(key, None)
        if all(ws != workspace for ws, _ in self._keys()):
            self._listings.pop(workspace, None)  # no longer polled: what its list showed goes stale

    def adopt(self, workspace: str, snippet_id: str) -> None:
        """Watched on Bitbucket, new to us: what we knew of it is old; the first poll is the baseline."""
        key = (workspace, snippet_id)
        if key not in self.watched:
            self.forget(workspace, snippet_id)
            self.watched.add(key)
            self.remember(workspace, snippet_id, True)

    # ------------------------------------------------------------------ the schedule

    def plan(self) -> Plan:
        """The cycle for what is tracked now, at full speed.

        With L list requests a cycle (one per workspace of interest), N watched snippets and r the
        budget's refill a second, a cycle starts every ``P = max(interval, (L + c) / r)`` seconds,
        where ``c = min(1, N / 5)`` is the comment checks a cycle needs to check each snippet every
        fifth cycle, but at most one: when the budget cannot afford L lists and c comment checks
        every interval, the interval stretches (lists first: comments never get more than one
        slot a cycle reserved). A cycle then affords ``min(r * P, burst) - L`` (at least c)
        comment checks after its lists.
        """
        keys = self._keys()
        interval = self._host.options.poll_interval_seconds
        if not keys:
            return Plan(interval, 0, 0.0)
        lists = len({workspace for workspace, _ in keys}) + self._extra_pages
        comments = min(1.0, len(self.watched) / COMMENT_POLL_EVERY)
        self.budget.ensure_burst(lists + math.ceil(comments))
        rate = self.budget.rate
        period = max(interval, (lists + comments) / rate) if rate > 0 else max(interval, 3600.0)
        spare = max(0.0, round(min(rate * period, self.budget.capacity) - lists, 9)) if self.watched else 0.0
        delay = period * (COMMENT_POLL_EVERY + math.ceil(len(self.watched) / spare)) if spare else 0.0
        return Plan(period, lists, spare, delay)

    def slowdown(self) -> int:
        """How much longer than planned the next wait is: after 429s and failures, and while the editor is idle."""
        idle = self._clock() - self._host.last_activity
        return max(self.backoff, IDLE_SLOWDOWN if idle > IDLE_AFTER_SECONDS else 1)

    def period(self) -> float:
        """Seconds from one cycle's start to the next's."""
        return self.plan().period * self.slowdown()

    async def _run(self) -> None:
        # The first cycle comes one interval after start (the burst pays for it); then the plan sets the pace.
        next_at = self._clock() + self._host.options.poll_interval_seconds * self.slowdown()
        while True:
            await self._sleep(max(0.0, next_at - self._clock()))
            started = self._clock()
            self._deadline = started + self.period()
            try:
                if self._paused is None:
                    await self._host.credentials_ready()
                    await self.load()
                    await self.poll_once()
                self.backoff = 1
            except asyncio.CancelledError:
                raise
            except Exception as error:
                kind = getattr(error, "kind", None)
                if kind == ErrorKind.RATE_LIMITED:
                    self.backoff = min(MAX_BACKOFF, self.backoff * 2)
                    log.info("polling was rate limited: next poll in %.0f s", self.period())
                elif kind == ErrorKind.NOT_AUTHENTICATED:
                    # A revoked token: polling waits for a sign-in (which resets the watcher), said once.
                    self._paused = str(error)
                    log.info("polling paused: %s", error)
                    self._host.show_message(
                        "Bitbucket no longer accepts your credentials, so watched snippets are not checked for "
                        "changes. Sign in again to resume.",
                        types.MessageType.Warning,
                    )
                elif kind == ErrorKind.FORBIDDEN:
                    self.backoff = MAX_BACKOFF
                    log.info("polling slowed down: %s", error)
                else:
                    self.backoff = min(MAX_BACKOFF, self.backoff * 2)
                    log.warning("polling failed: %s", error)
            next_at = started + self.period()

    def _poll_client(self) -> SnippetsClient:
        """The server's background client, which never sleeps on 429: the poller backs off itself, between polls."""
        return self._host.background_client()

    # ------------------------------------------------------------------ what we know already

    def _keys(self) -> set[Key]:
        return set(self._host.documents.tracked()) | self.watched

    def _known(self, key: Key) -> _Baseline | None:
        cached = self._host.documents.cached(*key)
        if cached is not None:
            return _Baseline(cached.snippet.updated_on)
        baseline = self._baselines.get(key)
        dropped = self._host.documents.dropped(*key)  # open, its copy dropped: what it was is known
        if dropped is not None and (baseline is None or _later(dropped.updated_on, baseline.updated_on)):
            return _Baseline(dropped.updated_on, at_most=True)  # only a later change is news
        return baseline

    async def baseline(self, client: SnippetsClient, workspace: str, snippet_id: str) -> None:
        """Start watching from what is there now, so any later change is reported: one request, the comments.

        The ``updated_on`` later lists are compared with comes from the cache, else from the
        workspace's latest list poll; when nothing of that workspace is polled yet, its list poll
        is brought forward (shared by the watches that ask meanwhile). What is known from earlier (a
        former watch, a comment list read a while ago) is not "now": changes made since then were
        never news to this watch.
        """
        key = (workspace, snippet_id)
        self.saw_comments(workspace, snippet_id, await client.list_comments(workspace, snippet_id))
        self.watched.add(key)
        if self._known(key) is not None or self._host.options.poll_interval_seconds <= 0:
            return
        listing = self._listings.get(workspace)
        found = listing.baseline(snippet_id) if listing is not None else None
        if found is None:
            listing = await self._list_now(workspace)
            found = listing.baseline(snippet_id) if listing is not None else None
        if found is not None and key not in self._baselines:
            self._baselines[key] = found

    def saw_comments(self, workspace: str, snippet_id: str, comments: Iterable[Comment]) -> None:
        key = (workspace, snippet_id)
        self._comments[key] = _marks(comments)
        self._checked_now(key)

    def _checked_now(self, key: Key) -> None:
        self._turns += 1
        self._checked[key] = (self.cycles, self._turns)

    def our_comment(self, workspace: str, snippet_id: str, comment: Comment) -> None:
        key = (workspace, snippet_id)
        if key in self._comments:
            kept = {mark for mark in self._comments[key] if mark[0] != comment.id}
            self._comments[key] = frozenset(kept | {(comment.id, comment.updated_on)})

    def our_comment_deleted(self, workspace: str, snippet_id: str, comment_id: int) -> None:
        key = (workspace, snippet_id)
        if key in self._comments:
            self._comments[key] = frozenset(mark for mark in self._comments[key] if mark[0] != comment_id)

    # ------------------------------------------------------------------ one cycle

    async def poll_once(self) -> None:
        """One cycle: every list first, then what they call for, then comment checks with what is left."""
        keys = self._keys()
        by_workspace: dict[str, set[str]] = {}
        for workspace, snippet_id in keys:
            by_workspace.setdefault(workspace, set()).add(snippet_id)
        for workspace in [ws for ws in self._listings if ws not in by_workspace]:
            del self._listings[workspace]  # no longer polled: what its list showed goes stale
        if not keys:
            return  # nobody is looking at anything: spend nothing
        self.cycles += 1
        plan = self.plan()
        if (plan.period, plan.comment_delay) != self._told:
            self._told = (plan.period, plan.comment_delay)
            log.info(
                "polling %d workspace(s) every %.0f s%s",
                len(by_workspace),
                plan.period,
                f"; comments of {len(self.watched)} watched snippet(s) checked within {plan.comment_delay:.0f} s"
                if self.watched
                else "",
            )
        now = self._clock()
        deadline = self._deadline if self._deadline is not None and self._deadline > now else now + plan.period
        self._deadline = None
        client = self._poll_client()
        listings: dict[str, _Listing] = {}
        extra_pages = 0
        for workspace in sorted(by_workspace, key=lambda ws: (self._listed.get(ws, 0), ws)):
            if self.cycles < self._failing.get(workspace, (0, 0))[1]:
                continue  # out of reach lately: its own back-off, the others go on
            if not self.budget.take():
                log.debug("poll budget spent; %s is listed first next cycle", workspace)
                break
            try:
                listings[workspace], pages = await self._list(client, workspace, by_workspace[workspace])
            except Exception as error:
                if getattr(error, "kind", None) not in (ErrorKind.NOT_FOUND, ErrorKind.FORBIDDEN):
                    raise
                self._unreachable(workspace, error)
                continue
            self._failing.pop(workspace, None)
            extra_pages += pages - 1
        self._extra_pages = extra_pages
        for workspace, listing in listings.items():
            await self._compare(workspace, by_workspace[workspace], listing, keep=plan.lists, by=deadline)
        await self._check_comments(plan, by=deadline)

    def _unreachable(self, workspace: str, error: Exception) -> None:
        """A workspace's list answered 404/403: skip it with a back-off of its own (doubling, up to
        :data:`MAX_BACKOFF` cycles), and ask once per watched snippet in it whether to unwatch it."""
        backoff = min(MAX_BACKOFF, self._failing[workspace][0] * 2) if workspace in self._failing else 1
        self._failing[workspace] = (backoff, self.cycles + backoff)
        log.info("polling %s failed (%s): tried again in %d cycles", workspace, error, backoff)
        for key in sorted(key for key in self.watched if key[0] == workspace and key not in self._told_unreachable):
            self._told_unreachable.add(key)
            self._host.notify_did_change(
                protocol.DidChangeParams(workspace=key[0], id=key[1], kind="unreachable", watched=True)
            )
            self._host.run_task(self._offer_unwatch(key, error), f"asking whether to unwatch {key[0]}/{key[1]}")

    async def _offer_unwatch(self, key: Key, error: Exception) -> None:
        reason = "it no longer exists" if getattr(error, "kind", None) == ErrorKind.NOT_FOUND else "you lost access"
        chosen = await self._host.ask(
            f"Watched snippet {key[0]}/{key[1]} is out of reach: Bitbucket says its workspace is gone or {reason}. "
            "It is checked less often from now on. Stop watching it?",
            [UNWATCH, KEEP_WATCHING],
        )
        if chosen != UNWATCH:
            return
        from snippet_daemon.bitbucket import BitbucketError

        try:
            await self._host.client().unwatch(*key)
        except BitbucketError as failure:  # gone on Bitbucket too: forgetting it here is what is left to do
            log.info("unwatching %s/%s on Bitbucket: %s", key[0], key[1], failure)
        self.forget(*key)

    async def _list(self, client: SnippetsClient, workspace: str, ids: set[str]) -> tuple[_Listing, int]:
        """A workspace's list poll: one request (more from a server that ignores ``sort=``).
        Returns what it showed, and how many pages that took."""
        page = await client.recent_snippets(workspace)
        self._on_list(workspace, page)
        snippets, more = page.snippets, page.more
        seen = {snippet.id: snippet for snippet in snippets}
        pages = 1
        if not more:
            listing = _Listing(seen, complete=True)
        elif page.newest_first:
            listing = _Listing(seen, complete=False, floor=snippets[-1].updated_on if snippets else None)
        elif ids <= seen.keys():
            listing = _Listing(seen, complete=False)
        else:
            seen, more, further = await self._look_further(client, workspace, ids, seen)
            listing = _Listing(seen, complete=not more)
            pages += further
        self._listings[workspace] = listing
        self._list_turns += 1
        self._listed[workspace] = self._list_turns
        return listing, pages

    async def _look_further(
        self, client: SnippetsClient, workspace: str, ids: set[str], seen: dict[str, Snippet]
    ) -> tuple[dict[str, Snippet], bool, int]:
        """The server ignored ``sort=-updated_on``, so a tracked snippet may be on any page: walk the
        list (a budget token per page) until every tracked one is found. Returns what was seen,
        whether the list went on beyond it, and the pages read beyond the first."""
        found = dict(seen)
        pages = client.iter_snippets(workspace)
        read = 0
        try:
            count = 0
            async for snippet in pages:
                if count % PAGE_SIZE == 0:
                    if count and not self.budget.take():
                        return found, True, read
                    read += 1
                count += 1
                found.setdefault(snippet.id, snippet)
                if ids <= found.keys():
                    return found, True, read
            return found, False, read
        finally:
            await pages.aclose()

    async def _list_now(self, workspace: str) -> _Listing | None:
        """The workspace's list poll, now, shared by the watches that ask meanwhile; ``None`` when the budget
        or Bitbucket says no (the next cycle's list is the baseline then)."""
        task = self._listing_now.get(workspace)
        if task is None:
            task = self._host.run_task(self._poll_workspace_now(workspace), f"listing {workspace} for a new watch")
            self._listing_now[workspace] = task
            task.add_done_callback(lambda _: self._listing_now.pop(workspace, None))
        listing: _Listing | None = await asyncio.shield(task)
        return listing

    async def _poll_workspace_now(self, workspace: str) -> _Listing | None:
        ids = {snippet_id for ws, snippet_id in self._keys() if ws == workspace}
        plan = self.plan()
        if not self.budget.take(keep=plan.lists, by=self._clock() + plan.period):
            log.info("poll budget spent: the next poll of %s is the baseline of the new watch", workspace)
            return None
        try:
            listing, _ = await self._list(self._poll_client(), workspace, ids)
            await self._compare(workspace, ids, listing, keep=plan.lists, by=self._clock() + plan.period)
        except Exception as error:
            log.info("could not list %s for a new watch (the next poll is its baseline): %s", workspace, error)
            return None
        return listing

    async def _compare(self, workspace: str, ids: set[str], listing: _Listing, *, keep: int, by: float) -> None:
        """What a list showed against what we knew: report what changed, take note of what is new to us."""
        for snippet_id in sorted(ids):
            if self._listings.get(workspace) is not listing:
                return  # a newer list of this workspace came meanwhile, and is compared in its turn
            key = (workspace, snippet_id)
            known = self._known(key)
            snippet = listing.seen.get(snippet_id)
            if snippet is None:
                if listing.complete:
                    await self._maybe_deleted(key, keep=keep, by=by)
                elif known is None and listing.floor is not None:
                    self._baselines[key] = _Baseline(listing.floor, at_most=True)
                continue  # beyond the first page: no newer than everything on it, so unchanged
            if known is None:
                self._baselines[key] = _Baseline(snippet.updated_on)  # first sighting: the baseline
            elif known.changed(snippet.updated_on):
                await self._changed(key, snippet, keep=keep, by=by)
            elif known.at_most:
                self._baselines[key] = _Baseline(snippet.updated_on)  # unchanged, and now known exactly

    async def _changed(self, key: Key, listed: Snippet, *, keep: int, by: float) -> None:
        documents = self._host.documents
        cached = documents.cached(*key)
        self._baselines[key] = _Baseline(listed.updated_on)
        if cached is None:
            revision = listed.revision
        else:
            if not self.budget.take(keep=keep, by=by):
                documents.invalidate(*key)  # read again on next use; report without fetching
                revision = listed.revision
            else:
                generation = self._generation
                content = await self._poll_client().get_snippet_content(*key)
                if generation != self._generation:
                    return  # read for the previous account: it neither fills the cache nor is told
                revision = content.snippet.revision
                latest = documents.cached(*key)
                if latest is not None and latest is not cached and latest.revision == revision:
                    return  # our own save, whose answer came while the list was on its way: not news
                documents.refreshed(key[0], key[1], content.snippet, dict(content.files))
                if revision == cached.revision:
                    return  # a title or visibility change: no new content
        self._notify(key, "commit", revision, f"{_name(listed)} was changed on Bitbucket.")

    async def _maybe_deleted(self, key: Key, *, keep: int, by: float) -> None:
        from snippet_daemon.bitbucket import NotFound

        if not self.budget.take(keep=keep, by=by):
            return
        try:
            await self._poll_client().get_snippet(*key)
        except NotFound:
            self._deleted(key)

    def _deleted(self, key: Key) -> None:
        self._host.documents.forget(*key)
        self.forget(*key)
        self._notify(key, "deleted", None, f"Snippet {key[0]}/{key[1]} was deleted on Bitbucket.", watched=True)

    async def _check_comments(self, plan: Plan, *, by: float) -> None:
        """Comment checks with what the budget has left over once the next cycle's lists are reserved:
        the watched snippets not checked for :data:`COMMENT_POLL_EVERY` cycles, the longest unchecked
        first, until the next cycle is due."""
        self._allowance = min(self._allowance + plan.comment_checks, plan.comment_checks + 1)
        never = (-COMMENT_POLL_EVERY, 0)
        due = [
            key
            for key in self.watched
            if self.cycles - self._checked.get(key, never)[0] >= COMMENT_POLL_EVERY and key[0] not in self._failing
        ]
        due.sort(key=lambda key: (self._checked.get(key, never)[1], key))
        for key in due:
            if self._allowance < 1 or self._clock() >= by or not self.budget.take(keep=plan.lists, by=by):
                return
            self._allowance -= 1
            await self._poll_comments(key)

    async def _poll_comments(self, key: Key) -> None:
        from snippet_daemon.bitbucket import NotFound

        known = self._comments.get(key)
        try:
            comments = await self._poll_client().list_comments(*key)
        except NotFound:
            self._deleted(key)
            return
        if self._comments.get(key) is not known:
            # Our own comment (or a comment list) landed meanwhile, and this answer may predate it:
            # what we know now is newer; the next check compares against it.
            self._checked_now(key)
            return
        self.saw_comments(*key, comments)
        if known is not None and self._comments[key] != known:
            self._notify(key, "comment", None, f"New or changed comments on snippet {key[0]}/{key[1]}.")

    def _notify(self, key: Key, kind: ChangeKind, revision: str | None, message: str, *, watched: bool = False) -> None:
        watched = watched or key in self.watched
        self._host.notify_did_change(
            protocol.DidChangeParams(workspace=key[0], id=key[1], kind=kind, revision=revision, watched=watched)
        )
        if watched:
            self._host.show_message(message, types.MessageType.Info)


class WatchingFile:
    """``watching.json``: ``{apiUrl: {account: ["workspace/id", ...]}}``, shared by every daemon of the user.

    Read and changed under an exclusive lock (``watching.json.lock``); a change applies one addition or removal
    to what is on disk. The old shape (``{apiUrl: [...]}``, no account) is taken as the reader's. A file that
    cannot be read or parsed is set aside (``watching.json.damaged-...``), never overwritten.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        private_dir(self.path.parent)
        descriptor = open_private(self.path.with_name(self.path.name + ".lock"))
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock

    def _document(self, account: str) -> dict[str, dict[str, list[str]]]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as error:
            self._set_aside(f"cannot be read ({error})")
            return {}
        try:
            document = _valid(json.loads(raw.decode("utf-8")), account)
        except (ValueError, UnicodeDecodeError, RecursionError) as error:
            self._set_aside(f"is damaged ({error})")
            return {}
        return document

    def _set_aside(self, why: str) -> None:
        aside = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
        self.path.rename(aside)  # OSError: it stays where it is, and nothing is written over it
        log.warning("%s %s; set aside as %s", self.path, why, aside.name)

    def read(self, api_url: str, account: str) -> set[Key]:
        with self._locked():
            entries = self._document(account).get(api_url, {}).get(account, [])
        return {(ws, sid) for entry in entries for ws, _, sid in [entry.partition("/")] if sid}

    def change(self, api_url: str, account: str, key: Key, watching: bool) -> None:
        with self._locked():
            document = self._document(account)
            entries = set(document.setdefault(api_url, {}).get(account, []))
            entry = f"{key[0]}/{key[1]}"
            if watching:
                entries.add(entry)
            else:
                entries.discard(entry)
            if entries:
                document[api_url][account] = sorted(entries)
            else:
                document[api_url].pop(account, None)
                if not document[api_url]:
                    del document[api_url]
            write_private(self.path, json.dumps(document, indent=1, sort_keys=True).encode("utf-8"))


def _valid(document: Any, account: str) -> dict[str, dict[str, list[str]]]:
    """The document in today's shape (the old one migrated to ``account``); ValueError when it is neither."""
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    valid: dict[str, dict[str, list[str]]] = {}
    for api_url, value in document.items():
        if isinstance(value, list):  # the old shape: one list per API URL
            value = {account: value}
        if not isinstance(value, dict):
            raise ValueError(f"{api_url}: not an object of accounts")
        for name, entries in value.items():
            if not isinstance(entries, list) or not all(isinstance(entry, str) for entry in entries):
                raise ValueError(f"{api_url}: {name}: not a list of snippet ids")
        valid[api_url] = {name: list(entries) for name, entries in value.items()}
    return valid


def _later(stamp: str | None, than: str | None) -> bool:
    """Whether ``stamp`` is later than ``than`` (timestamps as Bitbucket writes them; text order otherwise)."""
    parsed, other = _instant(stamp), _instant(than)
    if parsed is not None and other is not None:
        return parsed > other
    return (stamp or "") > (than or "")


def _instant(stamp: str | None) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(stamp or "")
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def _marks(comments: Iterable[Comment]) -> CommentMarks:
    return frozenset((comment.id, comment.updated_on) for comment in comments if not comment.deleted)


def _name(snippet: Snippet) -> str:
    return f"Snippet {snippet.workspace}/{snippet.id}" + (f" ({snippet.title})" if snippet.title else "")
