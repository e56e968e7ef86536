"""The local search index: titles, file names and the text of text files, for searching every snippet by content.

Bitbucket cannot search snippets; this index can, and one index serves every editor through the daemon
(``bbsnippets.search``, ``workspace/symbol``) and the CLI (``snippet-daemon search``).

Three parts, one role each: :class:`IndexStore` (the index file and its queries), :class:`IndexRefresher`
(keeps a store fresh within a request budget; the CLI uses it too) and :class:`IndexService` (the index as the
daemon runs it: one store per account, refreshed in the background, fed by the daemon's own reads).

* Storage: SQLite FTS5 with the trigram tokenizer (case-insensitive substring matches, so ``y_hel``
  finds ``retry_helper``), one file per account and API URL in the user cache folder, 0600 in a 0700
  folder. Private snippets are stored there too (docs/protocol.md and the README say so). Binary files
  are indexed by name only; a text file's first :data:`MAX_INDEXED_TEXT` bytes are indexed.
* Freshness for few requests (:class:`IndexRefresher`): titles and file names come from list pages alone, so
  they are searchable at once for ⌈N/100⌉ requests. Contents are fetched only for snippets whose
  ``updated_on`` changed since they were indexed (one multipart GET each), newest first, within
  ``indexBudgetPerHour``. A refresh reads the list sorted by ``-updated_on`` only until it meets a
  snippet already indexed and unchanged. The whole list is read the first time, once an hour, and when a
  page's ``size`` says the list is shorter than what is known: that is how snippets deleted elsewhere
  leave the index. Snippets the daemon reads or writes anyway update the index for free
  (:meth:`IndexStore.saw_content`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from snippet_daemon.paths import open_private, private_dir

if TYPE_CHECKING:
    import sqlite3

    from lsprotocol.types import MessageType

    from snippet_daemon.bitbucket import Snippet, SnippetsClient
    from snippet_daemon.bitbucket.client import ListPage
    from snippet_daemon.protocol import InitializationOptions

log = logging.getLogger("snippet_daemon.index")

SCHEMA_VERSION = "1"
MAX_INDEXED_TEXT = 1 << 20  # bytes of one file's text that are searchable
MAX_LINES_PER_FILE = 20  # content hits listed per file
PREVIEW_CHARS = 160
DEFAULT_BUDGET_PER_HOUR = 300.0  # the InitializationOptions default, for the CLI
FULL_LIST_EVERY_SECONDS = 3600.0  # a whole-list read finds snippets deleted elsewhere
FETCH_CONCURRENCY = 4  # contents read at once while the index fills
TIDY_AFTER = 50  # contents indexed in one go after which the index is compacted

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS snippets (
    workspace TEXT NOT NULL,
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    updated_on TEXT,
    files TEXT NOT NULL,          -- file names, one per line
    indexed_on TEXT,              -- the updated_on whose contents are indexed; NULL: names only so far
    PRIMARY KEY (workspace, id)
);
CREATE VIRTUAL TABLE IF NOT EXISTS labels USING fts5(
    workspace UNINDEXED, id UNINDEXED, name UNINDEXED, label, tokenize = 'trigram'
);
CREATE VIRTUAL TABLE IF NOT EXISTS texts USING fts5(
    workspace UNINDEXED, id UNINDEXED, name UNINDEXED, body, tokenize = 'trigram'
);
"""


@dataclass(frozen=True)
class Hit:
    """One search result: a title or file-name hit (``line`` None), or a line of a file's text."""

    workspace: str
    id: str
    title: str
    name: str
    line: int | None
    preview: str


def _text_of(data: bytes) -> str | None:
    """The searchable text of a file, or None for a binary one (not UTF-8, or with NUL bytes)."""
    head = data[:MAX_INDEXED_TEXT]
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 3 and len(data) > MAX_INDEXED_TEXT:  # cut inside a character
            return head[: error.start].decode("utf-8")
        return None


MAX_QUERY_CHARS = 1000
MAX_QUERY_WORDS = 32


def query_problem(query: str) -> str | None:
    """Why a search text cannot be searched (in words a user can act on), or None when it can."""
    if "\x00" in query:
        return "The search text holds a NUL character; remove it and search again."
    try:
        query.encode("utf-8")
    except UnicodeEncodeError:
        return "The search text is not valid Unicode (it holds a lone surrogate); retype it and search again."
    words = len(_terms(query))
    if words > MAX_QUERY_WORDS:
        return f"The search text has {words:,} words; search for at most {MAX_QUERY_WORDS} at once."
    if len(query) > MAX_QUERY_CHARS:
        return f"The search text is {len(query):,} characters long; search for at most {MAX_QUERY_CHARS:,}."
    return None


def _terms(query: str) -> list[str]:
    return [term for term in query.split() if term]


def _fts_query(terms: list[str]) -> str:
    return " AND ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class IndexStore:
    """The index file (or, with ``path`` None, an index in memory for this session only): what is known of each
    snippet, and the full-text tables. Safe across threads. Every change is one transaction: a failure (a full
    disk, say) leaves nothing half-written, and in particular nothing marked indexed whose text is not stored."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.problem: str | None = None  # why it lives in memory only (the file could not be used), if it does
        if path is not None:
            private_dir(path.parent)
            os.close(open_private(path))  # 0600 before SQLite opens it: its -wal and -shm files take its mode
        import sqlite3  # here, not at start-up: a daemon with indexing off never pays for it

        self._lock = threading.Lock()
        self._db: sqlite3.Connection = sqlite3.connect(
            ":memory:" if path is None else path, check_same_thread=False, isolation_level=None
        )
        try:
            with self._lock:
                if path is not None:
                    self._db.execute("PRAGMA journal_mode=WAL")
                    self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                version = self._meta("schema")
                if version not in (None, SCHEMA_VERSION):
                    self._db.executescript("DROP TABLE snippets; DROP TABLE labels; DROP TABLE texts;")
                self._db.executescript(_SCHEMA)
                self._set_meta("schema", SCHEMA_VERSION)
                self._db.execute("SELECT count(*) FROM texts").fetchone()  # a damaged table says so now, not later
        except BaseException:
            self._db.close()
            raise

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One transaction (under ``isolation_level=None`` there is none unless begun): all of it, or nothing."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # ------------------------------------------------------------------ what is known

    def listed(self, workspace: str, snippets: Iterable[Snippet]) -> list[tuple[str, str | None]]:
        """Titles and file names from a list page, searchable at once. Returns ``(id, updated_on)`` of the
        snippets whose contents are not indexed as of their ``updated_on``."""
        stale: list[tuple[str, str | None]] = []
        with self._lock, self._transaction():
            for snippet in snippets:
                row = self._db.execute(
                    "SELECT title, updated_on, files, indexed_on FROM snippets WHERE workspace = ? AND id = ?",
                    (workspace, snippet.id),
                ).fetchone()
                names = list(snippet.file_names) or (row[2].split("\n") if row and row[2] else [])
                if row is None or (row[0], row[1], row[2]) != (snippet.title, snippet.updated_on, "\n".join(names)):
                    indexed_on = row[3] if row is not None else None
                    self._put_labels(workspace, snippet.id, snippet.title, snippet.updated_on, names, indexed_on)
                if row is None or row[3] != snippet.updated_on:
                    stale.append((snippet.id, snippet.updated_on))
        return stale

    def _put_labels(
        self,
        workspace: str,
        snippet_id: str,
        title: str,
        updated_on: str | None,
        names: list[str],
        indexed_on: str | None,
    ) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO snippets (workspace, id, title, updated_on, files, indexed_on)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (workspace, snippet_id, title, updated_on, "\n".join(names), indexed_on),
        )
        self._db.execute("DELETE FROM labels WHERE workspace = ? AND id = ?", (workspace, snippet_id))
        rows = [(workspace, snippet_id, "", title)] + [(workspace, snippet_id, name, name) for name in names]
        self._db.executemany("INSERT INTO labels (workspace, id, name, label) VALUES (?, ?, ?, ?)", rows)

    def saw_content(self, snippet: Snippet, files: Mapping[str, bytes]) -> None:
        """A snippet's contents at its ``updated_on``: its text becomes searchable (and the old text stops)."""
        workspace, snippet_id = snippet.workspace, snippet.id
        names = sorted(files)
        with self._lock, self._transaction():
            self._put_labels(workspace, snippet_id, snippet.title, snippet.updated_on, names, snippet.updated_on)
            self._db.execute("DELETE FROM texts WHERE workspace = ? AND id = ?", (workspace, snippet_id))
            rows = []
            for name in names:
                text = _text_of(files[name])
                if text:
                    rows.append((workspace, snippet_id, name, text))
            self._db.executemany("INSERT INTO texts (workspace, id, name, body) VALUES (?, ?, ?, ?)", rows)

    def forget(self, workspace: str, snippet_id: str) -> None:
        with self._lock, self._transaction():
            self._forget(workspace, snippet_id)

    def _forget(self, workspace: str, snippet_id: str) -> None:
        for table in ("snippets", "labels", "texts"):
            self._db.execute(f"DELETE FROM {table} WHERE workspace = ? AND id = ?", (workspace, snippet_id))

    def keep_only(self, workspace: str, ids: set[str]) -> list[str]:
        """After reading a workspace's whole list: forget the snippets it no longer has. Returns their ids."""
        with self._lock, self._transaction():
            known = [row[0] for row in self._db.execute("SELECT id FROM snippets WHERE workspace = ?", (workspace,))]
            gone = [snippet_id for snippet_id in known if snippet_id not in ids]
            for snippet_id in gone:
                self._forget(workspace, snippet_id)
        return gone

    def pending(self, workspaces: Iterable[str]) -> list[tuple[str, str, str | None]]:
        """``(workspace, id, updated_on)`` of every snippet whose contents are not indexed yet, newest first."""
        chosen = list(workspaces)
        if not chosen:
            return []
        marks = ",".join("?" * len(chosen))
        with self._lock:
            rows = self._db.execute(
                f"SELECT workspace, id, updated_on FROM snippets WHERE workspace IN ({marks})"
                " AND (indexed_on IS NULL OR indexed_on IS NOT updated_on) ORDER BY updated_on DESC",
                chosen,
            ).fetchall()
        return [(str(row[0]), str(row[1]), row[2]) for row in rows]

    def full_list_at(self, workspace: str) -> float | None:
        """When the whole list of ``workspace`` was last read (seconds since the epoch), if ever."""
        with self._lock:
            value = self._meta(f"full-list:{workspace}")
        return float(value) if value else None

    def read_full_list(self, workspace: str, when: float) -> None:
        with self._lock, self._transaction():
            self._set_meta(f"full-list:{workspace}", repr(when))

    def tidy(self) -> None:
        """After a batch of changes: merge the full-text segments and give the write-ahead log back."""
        with self._lock:
            self._db.execute("INSERT INTO labels (labels) VALUES ('optimize')")
            self._db.execute("INSERT INTO texts (texts) VALUES ('optimize')")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def count(self, workspace: str) -> int:
        with self._lock:
            return int(
                self._db.execute("SELECT count(*) FROM snippets WHERE workspace = ?", (workspace,)).fetchone()[0]
            )

    # ------------------------------------------------------------------ searching

    def search(self, query: str, workspaces: Iterable[str] | None = None, limit: int = 50) -> list[Hit]:
        """Title and file-name hits first, then lines of text, each kind best first; at most ``limit``."""
        terms = _terms(query)
        if not terms or limit <= 0:
            return []
        chosen = list(workspaces) if workspaces is not None else None
        with self._lock:
            label_rows = self._matching("labels", "label", terms, chosen, limit)
            text_rows = self._matching("texts", "body", terms, chosen, limit)
        hits: list[Hit] = []
        seen: set[tuple[str, str, str]] = set()
        for workspace, snippet_id, name, label, title, files in label_rows:
            target = name or (min(files.split("\n")) if files else "")  # a title hit opens the first file
            if (workspace, snippet_id, target) not in seen:
                seen.add((workspace, snippet_id, target))
                hits.append(Hit(workspace, snippet_id, title, target, None, label))
        needles = [term.casefold() for term in terms]
        for workspace, snippet_id, name, body, title, _ in text_rows:
            shown = 0
            for number, text in enumerate(body.split("\n"), start=1):
                folded = text.casefold()
                if any(needle in folded for needle in needles):
                    hits.append(Hit(workspace, snippet_id, title, name, number, text.strip()[:PREVIEW_CHARS]))
                    shown += 1
                    if shown >= MAX_LINES_PER_FILE or len(hits) >= limit:
                        break
            if len(hits) >= limit:
                break
        return hits[:limit]

    def _matching(
        self, table: str, column: str, terms: list[str], workspaces: list[str] | None, limit: int
    ) -> list[tuple[str, str, str, str, str, str]]:
        """``(workspace, id, name, matched text, title, file names)`` of the rows matching every term."""
        where: list[str] = []
        arguments: list[str | int] = []
        ranked = all(len(term) >= 3 for term in terms)
        if ranked:
            where.append(f"{table} MATCH ?")
            arguments.append(_fts_query(terms))
        else:  # the trigram index needs 3 characters; shorter terms are matched by a scan
            for term in terms:
                where.append(f"m.{column} LIKE ? ESCAPE '\\'")
                arguments.append(_like(term))
        if workspaces is not None:
            where.append(f"m.workspace IN ({','.join('?' * len(workspaces))})")
            arguments.extend(workspaces)
        # Names: best match first (a small table). Texts: newest first, which stops at the first ``limit``
        # matches instead of ranking every file that holds a common word.
        order = "ORDER BY m.rank" if ranked and table == "labels" else "ORDER BY m.rowid DESC"
        sql = (
            f"SELECT m.workspace, m.id, m.name, m.{column}, s.title, s.files FROM {table} AS m"
            " JOIN snippets AS s ON s.workspace = m.workspace AND s.id = m.id"
            f" WHERE {' AND '.join(where)} {order} LIMIT ?"
        )
        rows = self._db.execute(sql, [*arguments, limit]).fetchall()
        return [tuple(str(value) if value is not None else "" for value in row) for row in rows]  # type: ignore[misc]


def index_path(cache_dir: Path, api_url: str, account: str) -> Path:
    """The index file of one account at one API URL (names hashed: no email in a file name)."""
    key = hashlib.sha256(f"{api_url}\n{account}".encode()).hexdigest()[:16]
    return cache_dir / f"index-{key}.sqlite3"


def is_damage(error: BaseException) -> bool:
    """Whether an SQLite error says the index file is damaged (not merely full or locked)."""
    return getattr(error, "sqlite_errorname", None) in ("SQLITE_CORRUPT", "SQLITE_NOTADB")


def credential_key(secret: str) -> str:
    """Who a token is when the account cannot be read (``GET /user`` is 403): the token itself, hashed."""
    return "credential:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()


async def account_identity(client: SnippetsClient) -> str:
    """The identity an index belongs to: the login (API token), else the account ``GET /user`` names (one
    request), else the credential itself (hashed): never a name two people share."""
    credentials = client.credentials
    if credentials is not None and credentials.username:
        return credentials.username
    found = await client.current_user_if_readable()
    if found is not None and (found.uuid or found.nickname):
        return str(found.uuid or found.nickname)
    return credential_key(credentials.secret if credentials is not None else "")


def set_aside(path: Path) -> Path:
    """Move a damaged index (file or whatever stands in its place) and its journal files out of the way;
    the new name, kept for whoever wants to look. OSError when it cannot be moved."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}-{os.getpid()}")
    path.rename(aside)
    for suffix in ("-wal", "-shm"):
        journal = path.with_name(path.name + suffix)
        with contextlib.suppress(OSError):
            journal.rename(aside.with_name(aside.name + suffix))
    return aside


def open_index_file(path: Path) -> IndexStore:
    """The index at ``path``; a damaged one is set aside and rebuilt; one that cannot be written (a read-only
    folder, a full disk) gives an index in memory for this session, whose ``problem`` says why."""
    import sqlite3

    try:
        return IndexStore(path)
    except (sqlite3.Error, OSError) as error:
        first = error
    if os.path.lexists(path):
        try:
            aside = set_aside(path)
        except OSError as error:
            log.warning("index: %s is damaged (%s) and cannot be moved aside: %s", path, first, error)
        else:
            log.warning("index: %s was damaged (%s); set aside as %s, rebuilding it", path, first, aside.name)
            try:
                return IndexStore(path)
            except (sqlite3.Error, OSError) as error:
                first = error
    index = IndexStore(None)
    index.problem = (
        f"The search index cannot be written in {path.parent} ({first}). Search works from what this session "
        "indexes, kept in memory; check that folder's permissions and free space."
    )
    log.warning("index: %s", index.problem)
    return index


async def open_index(cache_dir: Path, client: SnippetsClient) -> IndexStore:
    """The index of the account ``client`` speaks for (see :func:`account_identity`)."""
    account = await account_identity(client)
    return await asyncio.to_thread(open_index_file, index_path(cache_dir, client.api_url, account))


# --------------------------------------------------------------------------- keeping it fresh


class Budget(Protocol):
    def take(self) -> bool: ...


Progress = Callable[[str], "AbstractAsyncContextManager[Callable[[str, int | None], None]]"]


class IndexRefresher:
    """Keeps :class:`IndexStore` fresh for the chosen workspaces, within a request budget."""

    def __init__(
        self,
        index: IndexStore,
        client: SnippetsClient,
        budget: Budget,
        *,
        progress: Progress | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.index = index
        self.client = client
        self.budget = budget
        self._progress = progress
        self._clock = clock
        self._lock = asyncio.Lock()
        self.complete = False  # every content of every chosen workspace indexed, as of the last refresh

    def was_listed(self, workspace: str) -> bool:
        """Whether the workspace's titles and names are searchable (its whole list was read once)."""
        return self.index.full_list_at(workspace) is not None

    async def refresh(self, workspaces: Iterable[str], first_pages: Mapping[str, ListPage] | None = None) -> bool:
        """Names from the lists, then the contents that changed. ``first_pages``: page 1 of a workspace's
        list (``sort=-updated_on``) that someone read just now (the poller), so it is not read twice.
        Returns whether everything is indexed (False: the budget ran out; the rest waits for the next one)."""
        import sqlite3

        chosen = list(workspaces)
        async with self._lock:
            self.complete = False
            try:
                listed_all = True
                for workspace in chosen:
                    listed_all = await self._list(workspace, (first_pages or {}).get(workspace)) and listed_all
                self.complete = await self._fetch_contents(chosen) and listed_all
            except (sqlite3.Error, OSError) as error:  # local trouble (a full disk): nothing marked done, retried
                if is_damage(error):
                    raise  # the index file is damaged: whoever owns it sets it aside
                log.warning("index: could not store what was read (%s); tried again at the next refresh", error)
            return self.complete

    async def _list(self, workspace: str, first_page: ListPage | None) -> bool:
        """Read the list until it meets what is indexed and unchanged (all of it at the first refresh, hourly,
        and whenever the list's size says snippets were deleted). False: stopped by the budget."""
        full_at = await asyncio.to_thread(self.index.full_list_at, workspace)
        full = full_at is None or self._clock() - full_at >= FULL_LIST_EVERY_SECONDS
        if first_page is not None and not full and await self._enough(workspace, first_page):
            return True
        seen: set[str] = set()
        pages = self.client.recent_pages(workspace)
        try:
            while True:
                if not self.budget.take():
                    log.info("index: the request budget is spent; %s waits for the next refresh", workspace)
                    return False
                page = await anext(pages, None)
                if page is None:
                    break
                seen.update(snippet.id for snippet in page.snippets)
                if await self._enough(workspace, page) and not full:
                    return True
                if not page.more:
                    break
        finally:
            await pages.aclose()
        gone = await asyncio.to_thread(self.index.keep_only, workspace, seen)  # the whole list was read
        if gone:
            log.info("index: %d snippets of %s were deleted on Bitbucket", len(gone), workspace)
        await asyncio.to_thread(self.index.read_full_list, workspace, self._clock())
        return True

    async def _enough(self, workspace: str, page: ListPage) -> bool:
        """Index a page's names; whether the pages after it can only hold what is indexed and unchanged (and
        none was deleted: the list is as long as what is known)."""
        stale = await asyncio.to_thread(self.index.listed, workspace, page.snippets)
        if page.total is not None and page.total != await asyncio.to_thread(self.index.count, workspace):
            return False  # something was deleted (or is not known yet): read on, to the end
        if not page.more:
            return True
        unchanged_seen = len(stale) < len(page.snippets)
        return unchanged_seen and page.newest_first  # a server that ignores sort= is read to the end

    async def _fetch_contents(self, workspaces: list[str]) -> bool:
        """Read what changed, newest first, a few at a time; False when the budget stopped it."""
        pending = await asyncio.to_thread(self.index.pending, workspaces)
        if not pending:
            return True
        queue = list(reversed(pending))  # pop() takes the newest first
        total, done = len(pending), 0
        title = f"Indexing {total} snippets for search"
        import sqlite3

        async with _progress(self._progress if total > 5 else None, title) as report:

            async def worker() -> bool:
                nonlocal done
                from snippet_daemon.bitbucket import NotFound

                stored_all = True
                while queue:
                    if not self.budget.take():
                        return False
                    workspace, snippet_id, _ = queue.pop()
                    try:
                        content = await self.client.get_snippet_content(workspace, snippet_id)
                    except NotFound:
                        change: Callable[[], None] = functools.partial(self.index.forget, workspace, snippet_id)
                    else:
                        change = functools.partial(self.index.saw_content, content.snippet, content.files)
                    try:
                        await asyncio.to_thread(change)
                    except (sqlite3.Error, OSError) as error:  # a full disk: this one stays pending, for later
                        if is_damage(error):
                            raise
                        log.warning("index: could not store %s/%s (%s); retried later", workspace, snippet_id, error)
                        stored_all = False
                    done += 1
                    report(f"{done} of {total}", 100 * done // total)
                return stored_all

            finished = await asyncio.gather(*(worker() for _ in range(min(FETCH_CONCURRENCY, total))))
        if not all(finished):
            log.info("index: %d of %d contents wait for the next refresh", total - done, total)
            return False
        if total >= TIDY_AFTER:
            await asyncio.to_thread(self.index.tidy)
        return True


def _retrieved(future: asyncio.Future[bool]) -> None:
    """A refresh nobody waited for (a search started it) logs its failure instead of losing it."""
    if not future.cancelled() and future.exception() is not None:
        log.info("index: refresh failed, tried again later: %s", future.exception())


@contextlib.asynccontextmanager
async def _progress(progress: Progress | None, title: str) -> AsyncIterator[Callable[[str, int | None], None]]:
    if progress is None:
        yield lambda message, percentage: None
        return
    async with progress(title) as report:
        yield report


# --------------------------------------------------------------------------- the daemon's index service


class IndexOwner(Protocol):
    """What :class:`IndexService` uses of the language server."""

    env: dict[str, str]
    api_url: str

    @property
    def options(self) -> InitializationOptions: ...

    def client(self) -> SnippetsClient: ...

    def background_client(self) -> SnippetsClient: ...

    async def default_workspace_or_none(self) -> str | None: ...

    async def credentials_ready(self) -> None: ...

    async def visible_workspace_slugs(self) -> list[str]: ...

    def run_task(self, coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]: ...

    def work_done(self, title: str) -> AbstractAsyncContextManager[Callable[[str, int | None], None]]: ...

    def show_message(self, message: str, kind: MessageType = ...) -> None: ...


class IndexService:
    """The index as the daemon runs it: one file per account, refreshed in the background every
    ``indexRefreshSeconds`` (list pages the poller read meanwhile are used instead of reading them again),
    fed for free by every snippet the daemon reads or writes, and searched without waiting for Bitbucket."""

    def __init__(self, owner: IndexOwner, *, clock: Callable[[], float] = time.time) -> None:
        self._owner = owner
        self._clock = clock
        self._index: IndexStore | None = None
        self._indexer: IndexRefresher | None = None
        self._task: asyncio.Task[None] | None = None
        self._pages: dict[str, tuple[float, ListPage]] = {}  # page 1 of a list, as the poller read it, and when
        self._refreshing: asyncio.Task[bool] | None = None
        self._opening = asyncio.Lock()
        self._changes: list[Callable[[], None]] = []  # index updates from the daemon's own reads, in order
        self._feeding: asyncio.Task[None] | None = None
        self._refreshed_at: float | None = None  # when the last refresh finished (the clock's time)

    @property
    def enabled(self) -> bool:
        return self._owner.options.indexing is not False

    def start(self) -> None:
        """Begin keeping the index fresh (after the client initialized and credentials were looked up)."""
        if self.enabled and self._task is None:
            self._task = self._owner.run_task(self._run(), "keeping the search index fresh")

    async def _run(self) -> None:
        from snippet_daemon.bitbucket import BitbucketError
        from snippet_daemon.protocol import ProtocolError

        await self._owner.credentials_ready()
        while True:
            try:
                await self.refresh()
            except ProtocolError as error:  # not logged in: indexing starts again after a login
                log.info("index: %s", error.message)
                return
            except BitbucketError as error:
                log.info("index: refresh failed, tried again later: %s", error)
            await asyncio.sleep(max(self._owner.options.index_refresh_seconds, 0.05))

    async def _open(self) -> tuple[IndexStore, IndexRefresher] | None:
        """The index of the current account (opened on first use); None when indexing is off."""
        if not self.enabled:
            return None
        async with self._opening:
            return await self._open_once()

    async def _open_once(self) -> tuple[IndexStore, IndexRefresher]:
        if self._index is None or self._indexer is None:
            from lsprotocol.types import MessageType

            from snippet_daemon.budget import TokenBucket
            from snippet_daemon.paths import user_cache_dir

            main = self._owner.client()
            self._index = await open_index(user_cache_dir(self._owner.env), main)
            if self._index.problem:  # said once per index opened: it searches what it can meanwhile
                self._owner.show_message(self._index.problem, MessageType.Warning)
            # The background client never sleeps on 429: a refresh stops, and the next one goes on.
            client = self._owner.background_client()
            budget = TokenBucket(
                self._owner.options.index_budget_per_hour, capacity=self._owner.options.index_budget_per_hour
            )
            self._indexer = IndexRefresher(
                self._index, client, budget, progress=self._owner.work_done, clock=self._clock
            )
        return self._index, self._indexer

    async def workspaces(self) -> list[str]:
        """The default workspace, and those ``indexWorkspaces`` names (``*``: every visible one)."""
        chosen: list[str] = []
        default = await self._owner.default_workspace_or_none()
        if default:
            chosen.append(default)
        wanted = self._owner.options.index_workspaces
        extra = await self._owner.visible_workspace_slugs() if "*" in wanted else wanted
        chosen += [slug for slug in extra if slug != "*" and slug not in chosen]
        return chosen

    def offer_page(self, workspace: str, page: ListPage) -> None:
        """Page 1 of a workspace's list (``sort=-updated_on``), just read by someone else: used, not re-read."""
        self._pages[workspace] = (self._clock(), page)

    async def refresh(self) -> bool:
        """One refresh (shared with any already running); whether everything is indexed."""
        return await asyncio.shield(self._start_refresh())

    def _start_refresh(self) -> asyncio.Future[bool]:
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.ensure_future(self._refresh())
            self._refreshing.add_done_callback(_retrieved)
        return self._refreshing

    def _freshness(self) -> float:
        """How old the index may be when someone searches: the poll interval (the refresh period when nothing
        polls, and never more than it)."""
        period = max(self._owner.options.index_refresh_seconds, 0.05)
        poll = self._owner.options.poll_interval_seconds
        return min(poll, period) if poll > 0 else period

    async def _refresh(self) -> bool:
        opened = await self._open()
        if opened is None:
            return False
        _, indexer = opened
        fresh = self._clock() - max(self._freshness(), 1.0)
        pages = {ws: page for ws, (at, page) in self._pages.items() if at >= fresh}
        self._pages.clear()
        import sqlite3

        try:
            complete = await indexer.refresh(await self.workspaces(), pages)
        except sqlite3.Error as error:
            if not is_damage(error):
                raise
            await self._set_damaged_aside(error)
            opened = await self._open()
            if opened is None:
                return False
            complete = await opened[1].refresh(await self.workspaces())
        self._refreshed_at = self._clock()
        return complete

    async def _set_damaged_aside(self, error: BaseException) -> None:
        """The index file turned out damaged while in use: close it, set it aside; the next use rebuilds it."""
        log.warning("index: the index file is damaged (%s); setting it aside and rebuilding it", error)
        index, self._index, self._indexer = self._index, None, None
        if index is None:
            return
        await asyncio.to_thread(index.close)
        if index.path is not None:
            try:
                await asyncio.to_thread(set_aside, index.path)
            except OSError as moving:
                log.warning("index: the damaged index %s cannot be moved aside: %s", index.path, moving)

    async def search(self, query: str, workspace: str | None, limit: int) -> tuple[list[Hit], bool]:
        """Hits from the index as it is; the first search of a session waits for the names to be listed."""
        opened = await self._open()
        if opened is None:
            return [], False
        await self.settled()  # a file just saved is found by what it says now
        index, indexer = opened
        chosen = [workspace] if workspace else await self.workspaces()
        if not all(indexer.was_listed(ws) for ws in chosen):
            if workspace and workspace not in await self.workspaces():
                await indexer.refresh([workspace])  # a workspace outside the chosen ones: indexed on demand
            else:
                await self.refresh()
        elif self._refreshed_at is None or self._clock() - self._refreshed_at >= self._freshness():
            # Older than the poll interval: one refresh starts (shared by every search meanwhile), and until it
            # is in, the answer says it may be incomplete.
            self._start_refresh()
        import sqlite3

        try:
            hits = await asyncio.to_thread(index.search, query, chosen, limit)
        except sqlite3.Error as error:
            if not is_damage(error):
                raise
            if self._index is index:
                await self._set_damaged_aside(error)
            self._start_refresh()  # rebuilt from Bitbucket; meanwhile nothing is found
            return [], False
        refreshing = self._refreshing is not None and not self._refreshing.done()
        return hits, indexer.complete and not refreshing

    # ------------------------------------------------------------------ fed by the daemon's own reads and writes

    def saw_content(self, snippet: Snippet, files: Mapping[str, bytes]) -> None:
        """The daemon read or wrote this snippet anyway: index it (in a thread, in order, off the event loop)."""
        if self._index is not None:
            self._feed(self._index.saw_content, snippet, dict(files))

    def forget(self, workspace: str, snippet_id: str) -> None:
        if self._index is not None:
            self._feed(self._index.forget, workspace, snippet_id)

    def _feed(self, change: Callable[..., None], *arguments: Any) -> None:
        self._changes.append(functools.partial(change, *arguments))
        if self._feeding is None or self._feeding.done():
            self._feeding = self._owner.run_task(self._apply_changes(), "indexing what the daemon read")

    async def _apply_changes(self) -> None:
        while self._changes:
            change = self._changes.pop(0)
            await asyncio.to_thread(change)

    async def settled(self) -> None:
        """Wait until what the daemon read or wrote so far is in the index."""
        if self._feeding is not None:
            await asyncio.shield(self._feeding)

    async def reset(self) -> None:
        """Another account: its own index file, from scratch."""
        await self.aclose()

    async def aclose(self) -> None:
        if self._feeding is not None:
            await asyncio.gather(self._feeding, return_exceptions=True)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        index, self._index, self._indexer = self._index, None, None
        if index is not None:
            index.close()
