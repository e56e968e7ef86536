"""Snippets as documents: the read cache and the one write path, economical and safe.

Every write the daemon makes to a snippet goes through here: its files (saves, renames, deletes, pushes),
its creation, its title and visibility, its deletion and its comments. So the cache, the search index and
the watcher (which must not report our own change back to us) are kept up to date in one place, and a
feature never calls the Bitbucket client to write.

Reads: a snippet's metadata and every file come in ONE request and are kept here, so opening a
snippet and reading all its files costs one request. A cached HEAD stays valid until the
watcher sees the snippet change, ``bbsnippets.open`` refreshes it, or (with polling off) it is
older than :data:`UNPOLLED_MAX_AGE`. Past :data:`MAX_CACHED_BYTES` the least recently used snippets
are forgotten. Files at a revision never change and are kept in a small LRU. A copy that can no longer be
trusted (a save refused as a conflict, a forced save, a change the watcher saw without fetching it) is
dropped, but the snippet stays open: its last known metadata is kept (:meth:`SnippetDocuments.dropped`), so
the watcher goes on comparing it with the lists it polls anyway (no request of its own), and the next read
fetches it again.

Writes are compare-and-swap at the revision the client read each file at, so nobody's change is
overwritten silently: a snippet that moved on answers ``conflict`` and is left untouched. Our
own earlier saves do not count as "moved on" for a file they did not touch (saving ``a.py``
and then ``b.py``, both read at r1, is not a conflict), which is why each cached HEAD remembers
the files our own writes changed since each older revision; a file our own write made or changed
is held by the client at that write's revision. Identical content makes no request.
Writes to one snippet take effect in the order the daemon received them. A handler holds the snippet's
:meth:`SnippetDocuments.intake` from receipt until its write is queued, and works out its changes from what
the snippet will be once the writes queued before it land (:meth:`SnippetDocuments.expected_files`): a
rename moves the bytes of the save before it even while that save is on its way, and fails if that save
fails. Writes to one snippet that arrive within ``writeBatchMilliseconds`` share one PUT; a batch is sent in
order, except that a write may go before an earlier one touching none of its files (the write at HEAD
first: it can only succeed before the others move HEAD). A save asked for
while an earlier save of the same file is still on its way builds on that save, not on what the
client last read. A forced (unconditional) save may have landed on changes we never saw, so the
cached HEAD is dropped after it rather than guessed at.

A write whose answer was lost (sent again, it met 405) is told apart from another writer's by what
it produces: the client reads HEAD back and compares it with the files given here (``files_after``),
so a landed save answers with its revision and the next edit builds on it. A flush that is
cancelled (shutdown) fails the writes it still holds, sends nothing more, and stays cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from snippet_daemon.error_kinds import ErrorKind
from snippet_daemon.protocol import ProtocolError

if TYPE_CHECKING:
    from snippet_daemon.bitbucket import Comment, Snippet, SnippetsClient
    from snippet_daemon.protocol import InitializationOptions

log = logging.getLogger("snippet_daemon.documents")

UNPOLLED_MAX_AGE = 30.0  # seconds a cached HEAD is trusted when nothing polls for changes
# Before a client writes (bbsnippets/stat with fresh), a cached HEAD older than this is read again (one GET),
# so the editor sees another writer's change before it saves: a save costs 1 PUT, plus 1 GET when the copy
# is older than this. It is 0 (every save is checked): a change landing between our last read and a save
# would otherwise reach VS Code as a failed write, and VS Code's notification for that offers Revert.
STAT_FRESH_SECONDS = 0.0
REVISION_CACHE_SIZE = 16
MAX_CACHED_BYTES = 256 * 1024 * 1024  # file content kept for snippets at HEAD, all together

Key = tuple[str, str]  # (workspace, snippet id)
Changes = dict[str, bytes | None]  # file name -> new bytes, or None to delete


class ForgetsSnippets(Protocol):
    def forget(self, workspace: str, snippet_id: str) -> None: ...


class WatchesChanges(ForgetsSnippets, Protocol):
    """What the documents tell the watcher: a snippet is gone, and which comment changes were our own."""

    def our_comment(self, workspace: str, snippet_id: str, comment: Comment) -> None: ...
    def our_comment_deleted(self, workspace: str, snippet_id: str, comment_id: int) -> None: ...


class IndexesContent(ForgetsSnippets, Protocol):
    def saw_content(self, snippet: Snippet, files: Mapping[str, bytes]) -> None: ...


class DocumentsHost(Protocol):
    """What the documents service uses of the server it runs in (a unit test gives it one of its own)."""

    @property
    def options(self) -> InitializationOptions: ...

    @property
    def watcher(self) -> WatchesChanges: ...

    @property
    def search_index(self) -> IndexesContent: ...

    def client(self) -> SnippetsClient: ...

    def run_task(
        self, coroutine: Coroutine[Any, Any, Any], name: str, *, finish_on_shutdown: bool = False
    ) -> asyncio.Task[Any]: ...


@dataclass
class CachedSnippet:
    snippet: Snippet
    files: dict[str, bytes]
    fetched_at: float = field(default_factory=time.monotonic)
    # older revision -> files our own writes changed between it and this HEAD
    own_history: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def revision(self) -> str | None:
        return self.snippet.revision

    @property
    def size(self) -> int:
        return sum(map(len, self.files.values()))


@dataclass(eq=False)
class _PendingWrite:
    changes: Changes
    bases: dict[str, str | None]  # file name -> the revision the client's copy of it is from
    force: bool
    done: asyncio.Future[str | None]
    # files that an earlier write of ours, not yet settled when this one was asked for, also changes
    follows: frozenset[str] = frozenset()
    # earlier writes whose bytes this one's changes were worked out from (a rename of a file being saved)
    after: tuple[_PendingWrite, ...] = ()

    def failed(self) -> bool:
        return self.done.done() and (self.done.cancelled() or self.done.exception() is not None)


def _applied(files: Mapping[str, bytes], changes: Changes) -> dict[str, bytes]:
    """``files`` with ``changes`` made to them."""
    after = dict(files)
    for name, data in changes.items():
        if data is None:
            after.pop(name, None)
        else:
            after[name] = data
    return after


def _interrupted(message: str) -> Exception:
    from snippet_daemon.bitbucket import NetworkError

    return NetworkError(message)


class SnippetDocuments:
    def __init__(self, server: DocumentsHost) -> None:
        self._server = server
        self._heads: OrderedDict[Key, CachedSnippet] = OrderedDict()  # least recently used first
        # Open snippets whose cached copy was dropped (see invalidate): their last known metadata, no files.
        self._dropped: dict[Key, Snippet] = {}
        self._revisions: OrderedDict[tuple[str, str, str], CachedSnippet] = OrderedDict()
        self._loading: dict[Key, asyncio.Future[CachedSnippet]] = {}
        self._read_at: dict[tuple[str, str, str], str] = {}
        self._pending: dict[Key, list[_PendingWrite]] = {}
        self._unsettled: dict[Key, list[_PendingWrite]] = {}  # queued or in flight
        self._locks: dict[Key, asyncio.Lock] = {}
        self._intakes: dict[Key, asyncio.Lock] = {}
        # Which account's work this is: a switch (``clear``) moves it on, and whatever was started before it never
        # answers with, nor fills a cache with, what the old account could read.
        self.epoch = 0

    # ------------------------------------------------------------------ reading

    def cached(self, workspace: str, snippet_id: str) -> CachedSnippet | None:
        return self._heads.get((workspace, snippet_id))

    def tracked(self) -> list[Key]:
        """Snippets a client has open (read through us), cached or dropped: the watcher keeps them current."""
        return [*self._heads, *(key for key in self._dropped if key not in self._heads)]

    def dropped(self, workspace: str, snippet_id: str) -> Snippet | None:
        """An open snippet whose copy was dropped (:meth:`invalidate`): what was last known of it, without
        files. Changes listed later than its ``updated_on`` are news; earlier ones were already known."""
        return None if (workspace, snippet_id) in self._heads else self._dropped.get((workspace, snippet_id))

    async def head(self, workspace: str, snippet_id: str, *, refresh: bool = False) -> CachedSnippet:
        """The snippet at HEAD with every file: from the cache, else ONE request."""
        key = (workspace, snippet_id)
        cached = self._heads.get(key)
        if cached is not None and not refresh and self._fresh(cached):
            self._heads.move_to_end(key)
            return cached
        loading = self._loading.get(key)
        if loading is not None:  # someone is already fetching it: share that request
            return await asyncio.shield(loading)
        future: asyncio.Future[CachedSnippet] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        epoch = self.epoch
        try:
            content = await self._server.client().get_snippet_content(workspace, snippet_id)
            self._same_account(epoch, _READ_FOR_OLD_ACCOUNT)
            entry = self._store(key, content.snippet, dict(content.files))
            future.set_result(entry)
            return entry
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            if self._loading.get(key) is future:
                del self._loading[key]

    def _fresh(self, cached: CachedSnippet) -> bool:
        if self._server.options.poll_interval_seconds > 0:
            return True
        return time.monotonic() - cached.fetched_at < UNPOLLED_MAX_AGE

    def _store(self, key: Key, snippet: Snippet, files: dict[str, bytes]) -> CachedSnippet:
        self._server.search_index.saw_content(snippet, files)  # what we read anyway is searchable for free
        previous = self._heads.get(key)
        history = previous.own_history if previous is not None and previous.revision == snippet.revision else {}
        entry = CachedSnippet(snippet, files, own_history=history)
        self._put_head(key, entry)
        self._dropped.pop(key, None)
        return entry

    def _put_head(self, key: Key, entry: CachedSnippet) -> None:
        """Cache ``entry``; the least recently used others go once all hold more than the cap.

        An evicted snippet is read again (one request) when next used; the revisions its files were
        read at are kept, so its saves stay compare-and-swap. It is no longer polled meanwhile.
        """
        self._heads[key] = entry
        self._heads.move_to_end(key)
        total = sum(cached.size for cached in self._heads.values())
        while total > MAX_CACHED_BYTES and len(self._heads) > 1:
            evicted_key, evicted = self._heads.popitem(last=False)
            total -= evicted.size
            log.debug("cache full: forgot %s/%s (%d bytes)", *evicted_key, evicted.size)

    async def at_revision(self, workspace: str, snippet_id: str, revision: str) -> CachedSnippet:
        """The snippet as it was at ``revision`` (immutable, so cached without expiry)."""
        key = (workspace, snippet_id, revision)
        cached = self._revisions.get(key)
        if cached is not None:
            self._revisions.move_to_end(key)
            return cached
        head = self._heads.get((workspace, snippet_id))
        if head is not None and head.revision == revision:
            return head
        epoch = self.epoch
        content = await self._server.client().get_snippet_content(workspace, snippet_id, revision)
        self._same_account(epoch, _READ_FOR_OLD_ACCOUNT)
        entry = CachedSnippet(content.snippet, dict(content.files))
        self._revisions[key] = entry
        while len(self._revisions) > REVISION_CACHE_SIZE:
            self._revisions.popitem(last=False)
        return entry

    def remember_read(self, workspace: str, snippet_id: str, path: str, revision: str | None) -> None:
        """The client now holds ``path`` as of ``revision``: its next save is a CAS at that revision."""
        if revision:
            self._read_at[(workspace, snippet_id, path)] = revision

    async def head_for_write(self, workspace: str, snippet_id: str) -> CachedSnippet:
        """HEAD as fresh as a save needs: the cached copy when younger than STAT_FRESH_SECONDS, else ONE request."""
        await self.settle(workspace, snippet_id)  # our own saves on their way land first
        cached = self._heads.get((workspace, snippet_id))
        stale_copy = cached is None or time.monotonic() - cached.fetched_at > STAT_FRESH_SECONDS
        return await self.head(workspace, snippet_id, refresh=stale_copy)

    def behind(self, workspace: str, snippet_id: str, path: str) -> bool:
        """Someone else changed the snippet since the client read ``path``: saving it now would be a conflict.

        The same rule as the compare-and-swap (:meth:`_cas_revision`), asked before the write.
        """
        head = self._heads.get((workspace, snippet_id))
        base = self._read_at.get((workspace, snippet_id, path))
        if head is None or not base or base == head.revision:
            return False
        ours = head.own_history.get(base)
        return ours is None or path in ours

    def read_revision(self, workspace: str, snippet_id: str, path: str) -> str | None:
        """The revision the client holds ``path`` at (what its next save is a compare-and-swap at), if known."""
        return self._read_at.get((workspace, snippet_id, path))

    def invalidate(self, workspace: str, snippet_id: str, snippet: Snippet | None = None) -> None:
        """Drop the cached HEAD (it changed remotely, or our forced save landed on what we never saw): the next
        read fetches it again. Read revisions stay, so saves stay safe. The snippet stays open: the watcher
        still compares it with its lists, from what was last known of it (``snippet``: newer metadata than the
        cached copy's, such as a forced save's answer, so that our own write is not reported back)."""
        key = (workspace, snippet_id)
        cached = self._heads.pop(key, None)
        last_known = snippet or (cached.snippet if cached is not None else None) or self._dropped.get(key)
        if last_known is not None:
            self._dropped[key] = last_known

    def refreshed(self, workspace: str, snippet_id: str, snippet: Snippet, files: dict[str, bytes]) -> CachedSnippet:
        """The watcher fetched a newer HEAD."""
        return self._store((workspace, snippet_id), snippet, files)

    def forget(self, workspace: str, snippet_id: str) -> None:
        """The snippet is gone."""
        self._server.search_index.forget(workspace, snippet_id)
        self._heads.pop((workspace, snippet_id), None)
        self._dropped.pop((workspace, snippet_id), None)
        for key in [key for key in self._read_at if key[:2] == (workspace, snippet_id)]:
            del self._read_at[key]

    def _same_account(self, epoch: int, message: str) -> None:
        if epoch != self.epoch:
            raise ProtocolError(ErrorKind.ACCOUNT_CHANGED, message)

    def clear(self) -> None:
        """Another account: forget everything, and fail the saves not sent yet (the old account's; the new one
        must not send them). Reads and saves on their way end under the old account and cache nothing."""
        self.epoch += 1
        self._loading = {}
        pending, self._pending = self._pending, {}
        for writes in pending.values():
            _fail(writes, ProtocolError(ErrorKind.ACCOUNT_CHANGED, _NOT_SENT_ACCOUNT_CHANGED))
        self._heads.clear()
        self._dropped.clear()
        self._revisions.clear()
        self._read_at.clear()

    # ------------------------------------------------------------------ creating, title and visibility, comments

    async def create(self, workspace: str, files: dict[str, bytes], *, title: str, is_private: bool) -> Snippet:
        """ONE POST making a snippet of ``files``; its content is then known without asking (cached, indexed)."""
        snippet = await self._server.client().create_snippet(workspace, files, title=title, is_private=is_private)
        if snippet.revision:
            self._store((snippet.workspace, snippet.id), snippet, dict(files))
        return snippet

    async def update_metadata(
        self, workspace: str, snippet_id: str, *, title: str | None, is_private: bool | None
    ) -> Snippet:
        """ONE PUT of the title and/or the visibility (``None``: unchanged). Same files, same revision: the cached
        HEAD keeps its files and takes the new metadata, so the watcher sees nothing new in our own change."""
        from snippet_daemon.bitbucket import UNSET

        snippet = await self._server.client().update_snippet(
            workspace,
            snippet_id,
            title=title if title is not None else UNSET,
            is_private=is_private if is_private is not None else UNSET,
        )
        cached = self._heads.get((workspace, snippet_id))
        if cached is not None:
            cached.snippet = snippet
        return snippet

    async def add_comment(self, workspace: str, snippet_id: str, raw: str, *, parent_id: int | None) -> Comment:
        """ONE POST; the watcher counts the comment as seen (ours is not news)."""
        comment = await self._server.client().create_comment(workspace, snippet_id, raw, parent_id=parent_id)
        self._server.watcher.our_comment(workspace, snippet_id, comment)
        return comment

    async def edit_comment(self, workspace: str, snippet_id: str, comment_id: int, raw: str) -> Comment:
        """ONE PUT; the watcher counts the edit as seen."""
        comment = await self._server.client().update_comment(workspace, snippet_id, comment_id, raw)
        self._server.watcher.our_comment(workspace, snippet_id, comment)
        return comment

    async def delete_comment(self, workspace: str, snippet_id: str, comment_id: int) -> None:
        """ONE DELETE; the watcher forgets the comment without reporting it."""
        await self._server.client().delete_comment(workspace, snippet_id, comment_id)
        self._server.watcher.our_comment_deleted(workspace, snippet_id, comment_id)

    async def delete_snippet(self, workspace: str, snippet_id: str) -> None:
        """Delete the snippet, compare-and-swap at the revision we hold (if any), then forget it everywhere.

        A snippet someone changed meanwhile is not deleted blindly (``conflict``); its stale copy is
        forgotten, so that deleting again is deliberate (and would otherwise fail forever).
        """
        async with self.intake(workspace, snippet_id):  # after the writes received before it, before later ones
            await self._delete_snippet(workspace, snippet_id)

    async def _delete_snippet(self, workspace: str, snippet_id: str) -> None:
        from snippet_daemon.bitbucket import Conflict

        await self.settle(workspace, snippet_id)  # a save on its way moves the revision to delete at
        cached = self._heads.get((workspace, snippet_id))
        try:
            await self._server.client().delete_snippet(
                workspace, snippet_id, at_revision=cached.revision if cached else None
            )
        except Conflict as conflict:
            self.invalidate(workspace, snippet_id)
            raise Conflict(
                f"Snippet {workspace}/{snippet_id} changed on Bitbucket since it was read, so nothing was "
                "deleted. Open it to see the change, or delete it again to delete it anyway.",
                remote_revision=conflict.remote_revision,
                status=conflict.status,
            ) from None
        self.forget(workspace, snippet_id)
        self._server.watcher.forget(workspace, snippet_id)

    # ------------------------------------------------------------------ writing

    def intake(self, workspace: str, snippet_id: str) -> asyncio.Lock:
        """Held by a write from its receipt until it is queued (:meth:`enqueue`): writes queue in receipt order.

        A lock is fair (first come, first served), and a request's handler takes it before its first wait."""
        return self._intakes.setdefault((workspace, snippet_id), asyncio.Lock())

    def expected_files(self, workspace: str, snippet_id: str, head: CachedSnippet) -> dict[str, bytes]:
        """The snippet's files as they will be once our writes queued or on their way land."""
        files = dict(head.files)
        for write in self._unsettled.get((workspace, snippet_id), []):
            if not write.done.done():
                files = _applied(files, write.changes)
        return files

    async def write(
        self, workspace: str, snippet_id: str, changes: Changes, *, base: str | None = None, force: bool = False
    ) -> str | None:
        """Apply ``changes`` (or unconditionally with ``force``); the new revision (see :meth:`enqueue`)."""
        return await self.enqueue(workspace, snippet_id, changes, base=base, force=force)

    def enqueue(
        self,
        workspace: str,
        snippet_id: str,
        changes: Changes,
        *,
        base: str | None = None,
        force: bool = False,
        moving: frozenset[str] = frozenset(),
    ) -> asyncio.Future[str | None]:
        """Queue ``changes`` (or unconditionally with ``force``); the future answers the new revision.

        A compare-and-swap: each file as of ``base`` when given, else as of the revision the client
        last read (or we last wrote) it at (:meth:`remember_read`); a file it never read, as of the
        cached HEAD. Writes to one snippet arriving within the batch window go out together in one PUT.
        ``moving``: files whose bytes these changes carry elsewhere (a rename): the write fails if an earlier
        write of them fails, since what it moves would then be what never landed.
        """
        key = (workspace, snippet_id)
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        unsettled = self._unsettled.setdefault(key, [])
        follows = frozenset(name for name in changes if any(name in earlier.changes for earlier in unsettled))
        after = tuple(earlier for earlier in unsettled if moving & earlier.changes.keys() and not earlier.done.done())
        bases = {name: base or self._read_at.get((workspace, snippet_id, name)) for name in changes}
        write = _PendingWrite(dict(changes), bases, force, future, follows, after)
        unsettled.append(write)
        future.add_done_callback(lambda _: self._settled(key, write))
        pending = self._pending.setdefault(key, [])
        pending.append(write)
        if len(pending) == 1:
            self._server.run_task(self._flush_later(key), f"saving {workspace}/{snippet_id}", finish_on_shutdown=True)
        return future

    async def write_at(
        self,
        workspace: str,
        snippet_id: str,
        changes: Changes,
        *,
        at_revision: str | None,
        digests_after: Mapping[str, str] | None = None,
    ) -> Snippet:
        """ONE PUT of ``changes``, compare-and-swap at ``at_revision`` (``None``: unconditional), without
        reading HEAD first: a push knows the revision its folder was linked at.

        It goes after our saves of the snippet still on their way, and holds the snippet's write lock, so
        writes land in the order they were asked for. A lost answer is settled as for a save: by the cached
        HEAD's files when it is at ``at_revision``, else by ``digests_after`` (what the snippet holds after).
        """
        key = (workspace, snippet_id)
        async with self.intake(workspace, snippet_id):  # after the writes received before it, before later ones
            await self.settle(workspace, snippet_id)
            return await self._write_at(key, changes, at_revision, digests_after)

    async def _write_at(
        self, key: Key, changes: Changes, at_revision: str | None, digests_after: Mapping[str, str] | None
    ) -> Snippet:
        from snippet_daemon.bitbucket import Conflict

        workspace, snippet_id = key
        async with self._locks.setdefault(key, asyncio.Lock()):
            head = self._heads.get(key)
            known = head is not None and at_revision is not None and head.revision == at_revision
            files_after = _applied(head.files, changes) if known and head is not None else None
            epoch = self.epoch
            try:
                snippet = await self._server.client().update_snippet(
                    workspace,
                    snippet_id,
                    files=changes,
                    at_revision=at_revision,
                    files_after=files_after,
                    digests_after=None if files_after is not None else digests_after,
                )
            except Conflict:
                self.invalidate(workspace, snippet_id)
                raise
            if epoch == self.epoch:  # (landed for the old account after a switch: answered so, nothing cached)
                held = {name: self._read_at.get((workspace, snippet_id, name)) for name in changes}
                self._after_write(key, head if files_after is not None else None, snippet, changes, files_after)
                # An editor holding one of these files holds it as it was, not as pushed: its next save stays a
                # compare-and-swap at the revision it read (a conflict), never a silent overwrite of the push.
                for name, revision in held.items():
                    if revision is not None:
                        self._read_at[(workspace, snippet_id, name)] = revision
            return snippet

    def _settled(self, key: Key, write: _PendingWrite) -> None:
        unsettled = self._unsettled.get(key, [])
        if write in unsettled:
            unsettled.remove(write)
        if not unsettled:
            self._unsettled.pop(key, None)

    async def settle(self, workspace: str, snippet_id: str, names: frozenset[str] | None = None) -> None:
        """Wait until our writes to ``names`` (all files when ``None``) of the snippet have landed or failed."""
        waiting = [
            write.done
            for write in self._unsettled.get((workspace, snippet_id), [])
            if names is None or names & write.changes.keys()
        ]
        if waiting:
            await asyncio.wait(waiting)

    async def _flush_later(self, key: Key) -> None:
        writes: list[_PendingWrite] | None = None
        try:
            await asyncio.sleep(max(0, self._server.options.write_batch_milliseconds) / 1000)
            lock = self._locks.setdefault(key, asyncio.Lock())
            async with lock:
                writes = self._pending.pop(key, [])
                if writes:
                    await self._flush(key, writes)
        except asyncio.CancelledError:
            if writes is None:  # still gathering its batch: those writes are this flush's (else _flush failed them)
                _fail(self._pending.pop(key, []), _interrupted(_NOT_SENT))
            raise

    async def _flush(self, key: Key, writes: list[_PendingWrite]) -> None:
        from snippet_daemon.bitbucket import Conflict

        epoch = self.epoch
        try:
            client = self._server.client()
            head = await self.head(*key)
        except asyncio.CancelledError:
            _fail(writes, _interrupted(_NOT_SENT))
            raise
        except Exception as error:
            _fail(writes, error)
            return
        at_head = head.revision
        remaining = _in_sending_order(writes, lambda write: _rank(self._cas_revision(key, head, write), at_head))
        current: CachedSnippet | None = head
        while remaining:
            if current is None:  # a forced write went before: what it produced is read back (one GET)
                try:
                    current = await self.head(*key)
                except asyncio.CancelledError:
                    _fail(remaining, _interrupted(_NOT_SENT))
                    raise
                except Exception as error:
                    _fail(remaining, error)
                    return
            if epoch != self.epoch:  # signed in as someone else meanwhile: the rest is not sent
                _fail(remaining, ProtocolError(ErrorKind.ACCOUNT_CHANGED, _NOT_SENT_ACCOUNT_CHANGED))
                return
            group, at_revision = self._next_group(key, current, remaining)
            remaining = remaining[len(group) :]
            if not group:  # the first one moves what an earlier write failed to save
                _fail([remaining.pop(0)], _earlier_failed())
                continue
            try:
                revision = await self._put(key, group, at_revision, client, epoch)
            except asyncio.CancelledError:
                self.invalidate(*key)  # whether the PUT on its way landed is unknown: read HEAD again
                _fail(group, _interrupted(_CUT_SHORT))
                _fail(remaining, _interrupted(_NOT_SENT))
                raise
            except Exception as error:
                if isinstance(error, Conflict):
                    self.invalidate(*key)  # the next read fetches what won
                _fail(group, error)
                current = self._heads.get(key)
                continue
            for write in group:
                if not write.done.done():
                    write.done.set_result(revision)
            current = self._heads.get(key)

    def _next_group(
        self, key: Key, head: CachedSnippet, remaining: list[_PendingWrite]
    ) -> tuple[list[_PendingWrite], str | None]:
        """The writes at the front of ``remaining`` that one PUT can carry (same compare-and-swap revision)."""
        group: list[_PendingWrite] = []
        at_revision: str | None = None
        for write in remaining:
            if any(earlier.failed() for earlier in write.after):
                break
            revision = self._cas_revision(key, head, write)
            if group and revision != at_revision:
                break
            group.append(write)
            at_revision = revision
        return group, at_revision

    def _cas_revision(self, key: Key, head: CachedSnippet, write: _PendingWrite) -> str | None:
        """The revision to compare-and-swap at; ``None`` means unconditional (force).

        HEAD, unless some changed file's copy is from an older revision since which HEAD moved by
        something other than our own writes, or by our own write of that very file that the client's
        copy does not include: then that older revision, and Bitbucket answers 405.
        """
        if write.force:
            return None
        for name in write.changes:
            base = write.bases.get(name)
            if name in write.follows:
                # The client asked for this while our earlier save of the same file was on its way, so
                # its copy is what that save left (if the save failed, read_at still holds the old base).
                base = self._read_at.get((key[0], key[1], name), base)
            if not base or base == head.revision:
                continue
            ours = head.own_history.get(base)
            if ours is None or (name in ours and name not in write.follows):
                return base  # a stale base: nothing is overwritten
        return head.revision

    async def _put(
        self, key: Key, group: list[_PendingWrite], at_revision: str | None, client: SnippetsClient, epoch: int
    ) -> str | None:
        """One PUT of the group's changes, with the client of the account they were asked under (``epoch``)."""
        workspace, snippet_id = key
        head = self._heads.get(key)
        changes: Changes = {}
        for write in group:
            changes.update(write.changes)
        if head is not None and at_revision is not None:
            # Drop changes that change nothing; with none left there is no request and no revision.
            # (Not when forced: the cache may be behind Bitbucket, so "the same" is not known.)
            changes = {
                name: data
                for name, data in changes.items()
                if not (data is None and name not in head.files) and head.files.get(name) != data
            }
            if not changes:
                return head.revision
        files_after = None
        if head is not None and at_revision is not None and at_revision == head.revision:
            # A CAS at the cached HEAD: what it produces is known, so a lost answer can be recognised.
            files_after = _applied(head.files, changes)
        snippet = await client.update_snippet(
            workspace, snippet_id, files=changes, at_revision=at_revision, files_after=files_after
        )
        if epoch == self.epoch:  # (landed for the old account after a switch: answered so, nothing cached)
            self._after_write(key, head, snippet, changes, files_after)
        return snippet.revision

    def _after_write(
        self,
        key: Key,
        head: CachedSnippet | None,
        snippet: Snippet,
        changes: Changes,
        files_after: dict[str, bytes] | None,
    ) -> None:
        """Record a landed write; ``files_after``: the files of the new HEAD, when known (a CAS at the cached HEAD)."""
        for name, data in changes.items():  # the client's copy of these files is now this revision
            if data is None or snippet.revision is None:
                self._read_at.pop((key[0], key[1], name), None)
            else:
                self._read_at[(key[0], key[1], name)] = snippet.revision
        if files_after is None or head is None or snippet.revision is None or head.revision is None:
            self.invalidate(*key, snippet)  # unconditional, or nothing cached: read it again when needed
            return
        changed = frozenset(changes)
        history = {revision: names | changed for revision, names in head.own_history.items()}
        history[head.revision] = changed
        self._server.search_index.saw_content(snippet, files_after)
        self._put_head(key, CachedSnippet(snippet, files_after, own_history=history))


_READ_FOR_OLD_ACCOUNT = (
    "You signed in as another account while this was loading, so what the previous account read is not shown. "
    "Open it again."
)
_NOT_SENT_ACCOUNT_CHANGED = (
    "You signed in as another account before this save was sent, so it was not sent: nothing was saved. The "
    "editor still has the text: save it again to save it as the new account."
)
_NOT_SENT = (
    "The daemon stopped before this save was sent: nothing was saved. The editor still has the text: save it again."
)
_CUT_SHORT = (
    "The daemon stopped while this save was on its way: it may or may not have landed. The editor still has "
    "the text: reload the file, then save again."
)


def _rank(cas_revision: str | None, head_revision: str | None) -> int:
    """0: a compare-and-swap at HEAD; 1: at an older revision (it will conflict); 2: forced."""
    return 2 if cas_revision is None else 0 if cas_revision == head_revision else 1


def _in_sending_order(writes: list[_PendingWrite], rank_of: Callable[[_PendingWrite], int]) -> list[_PendingWrite]:
    """The writes in the order received, but for a write at HEAD going before earlier ones at an older revision
    or forced, and a forced one after later ones, when they touch none of its files (so the outcome is the
    same): a write at HEAD can only succeed before the others move HEAD, and one after a forced write costs
    a read of what the forced one produced."""
    rank = {id(write): rank_of(write) for write in writes}
    left = list(writes)
    ordered: list[_PendingWrite] = []
    while left:
        chosen = 0
        for index, write in enumerate(left):
            if rank[id(write)] < rank[id(left[chosen])] and not any(
                write.changes.keys() & earlier.changes.keys() for earlier in left[:index]
            ):
                chosen = index
        ordered.append(left.pop(chosen))
    return ordered


def _earlier_failed() -> Exception:
    from snippet_daemon.bitbucket import Conflict

    return Conflict(
        "Not renamed: the save of the file before it did not land, so its text is not on Bitbucket to move. "
        "Save the file again, then rename it."
    )


def _fail(writes: list[_PendingWrite], error: BaseException) -> None:
    for write in writes:
        if not write.done.done():
            write.done.set_exception(error)
