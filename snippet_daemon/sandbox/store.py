"""Everything the sandbox remembers, under ``data_dir``: SQLite for metadata, git for file contents.

* ``sandbox.sqlite3``: snippets (workspace, id, title, privacy, creator, dates, HEAD hash), comments,
  watches, and the public face of every account that ever acted (so that a snippet keeps its
  creator across restarts with other users). No token is ever stored.
* ``snippets.git``: every revision of every snippet (see :mod:`.gitstore`).

Bitbucket facts this follows: only file contents are versioned, so a title or privacy change makes
no commit and neither does a PUT whose files are already identical; a rename is a delete plus an
add in one commit; every change, metadata or content, moves ``updated_on``.

One ``threading.RLock`` serialises every database access and every state change, including the
compare-and-swap checks of ``PUT``/``DELETE .../{node_id}``, which therefore happen under it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import secrets
import sqlite3
import string
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from snippet_daemon.paths import open_private, private_dir

from .accounts import AccountInfo, SandboxUser
from .gitstore import GitStore, Identity, blob_sha

__all__ = [
    "CommentRecord",
    "InvalidFiles",
    "SnippetRecord",
    "StaleRevision",
    "Store",
    "check_file_name",
    "utc_now",
]

logger = logging.getLogger("snippet_daemon.sandbox")

_ID_ALPHABET = string.ascii_letters + string.digits
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # Unicode's Cc: C0 controls, DEL, C1 controls
_SCHEMA = """
CREATE TABLE IF NOT EXISTS snippets (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    is_private INTEGER NOT NULL,
    creator TEXT NOT NULL,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    head TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS snippets_by_workspace ON snippets (workspace, updated_on);
CREATE TABLE IF NOT EXISTS comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    snippet_id TEXT NOT NULL,
    author TEXT NOT NULL,
    parent_id INTEGER,
    raw TEXT NOT NULL,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS comments_by_snippet ON comments (snippet_id, id);
CREATE TABLE IF NOT EXISTS watches (
    snippet_id TEXT NOT NULL,
    user TEXT NOT NULL,
    since TEXT NOT NULL,
    PRIMARY KEY (snippet_id, user)
);
CREATE TABLE IF NOT EXISTS accounts (
    nickname TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    uuid TEXT NOT NULL,
    account_id TEXT NOT NULL,
    email TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def utc_now() -> str:
    """Bitbucket's timestamp format: ISO 8601 with microseconds and ``+00:00``."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


class StaleRevision(Exception):
    """A compare-and-swap against a revision that is no longer HEAD."""

    def __init__(self, head: str) -> None:
        super().__init__(head)
        self.head = head


class InvalidFiles(ValueError):
    """File names git cannot store, or a file and a directory of the same name."""


@dataclass(frozen=True)
class SnippetRecord:
    workspace: str
    id: str
    title: str
    is_private: bool
    creator: str
    created_on: str
    updated_on: str
    head: str

    @property
    def ref(self) -> str:
        return f"refs/snippets/{self.workspace}/{self.id}"


@dataclass(frozen=True)
class CommentRecord:
    id: int
    snippet_id: str
    author: str
    parent_id: int | None
    raw: str
    created_on: str
    updated_on: str
    deleted: bool


def check_file_name(name: str) -> str | None:
    """Why git (and so Bitbucket) cannot store a file called ``name``, or None when it can."""
    if not name:
        return "a file name cannot be empty"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "a file name must be valid Unicode"
    if "\0" in name:
        return "a file name cannot contain NUL"
    # A newline or other control character in a name fools people and breaks every header it is put in.
    if _CONTROL.search(name):
        return "a file name cannot contain control characters (newline, tab, ...)"
    for component in name.split("/"):
        if component in ("", ".", ".."):
            return "a file path cannot have empty, '.' or '..' components"
        if component.lower() == ".git":
            return "a file path cannot contain '.git'"
        if len(component.encode("utf-8")) > 255:
            return "a file name component cannot exceed 255 bytes"
    return None


def _check_tree(names: Iterable[str]) -> None:
    names = set(names)
    for name in names:
        parts = name.split("/")
        for depth in range(1, len(parts)):
            prefix = "/".join(parts[:depth])
            if prefix in names:
                raise InvalidFiles(f"{prefix!r} cannot be both a file and a directory")


def _commit_message(root: bool, before: Mapping[str, str], changes: Mapping[str, bytes | None]) -> str:
    if root:
        return "Initial commit"
    added = [name for name, content in changes.items() if content is not None and name not in before]
    edited = [name for name, content in changes.items() if content is not None and name in before]
    deleted = [name for name, content in changes.items() if content is None]
    phrases = []
    for verb, names in (("edited", edited), ("added", added), ("deleted", deleted)):
        if names:
            shown = ", ".join(sorted(names)[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            phrases.append(f"{shown} {verb}")
    return "; ".join(phrases) + " online with Bitbucket"


class Store:
    """SQLite + git storage for one sandbox; safe to share between the server's threads."""

    def __init__(self, data_dir: Path) -> None:
        private_dir(data_dir)
        self.lock = threading.RLock()
        database = data_dir / "sandbox.sqlite3"
        os.close(open_private(database))  # 0600 before SQLite opens it: its -wal and -shm files take its mode
        self._db = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        with self.lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        self.git = GitStore(data_dir / "snippets.git")
        self._reconcile_heads()

    def close(self) -> None:
        with self.lock:
            self.git.close()
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _reconcile_heads(self) -> None:
        """Git is the truth for HEAD: repair rows a crash left behind a commit (or without a ref)."""
        refs = self.git.refs()
        with self._transaction() as db:
            for row in db.execute("SELECT workspace, id, head FROM snippets").fetchall():
                sha = refs.get(f"refs/snippets/{row['workspace']}/{row['id']}")
                if sha is None:
                    logger.warning("snippet %s/%s has no git ref; forgetting it", row["workspace"], row["id"])
                    db.execute("DELETE FROM snippets WHERE id = ?", (row["id"],))
                elif sha != row["head"]:
                    db.execute("UPDATE snippets SET head = ? WHERE id = ?", (sha, row["id"]))

    # ------------------------------------------------------------------ accounts and meta

    def remember_accounts(self, users: Iterable[SandboxUser]) -> None:
        with self._transaction() as db:
            for user in users:
                db.execute(
                    "INSERT OR REPLACE INTO accounts (nickname, display_name, uuid, account_id, email)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (user.nickname, user.display_name, user.uuid, user.account_id, user.email),
                )

    def _account_where(self, condition: str, value: str) -> AccountInfo | None:
        with self.lock:
            row = self._db.execute(f"SELECT * FROM accounts WHERE {condition}", (value,)).fetchone()
        if row is None:
            return None
        return AccountInfo(row["nickname"], row["display_name"], row["uuid"], row["account_id"])

    def account(self, nickname: str) -> AccountInfo | None:
        return self._account_where("nickname = ?", nickname)

    def account_by_email(self, email: str) -> AccountInfo | None:
        return self._account_where("lower(email) = lower(?)", email)

    def get_meta(self, key: str) -> str | None:
        with self.lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        with self.lock:
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # ------------------------------------------------------------------ snippets

    @staticmethod
    def _snippet(row: sqlite3.Row) -> SnippetRecord:
        return SnippetRecord(
            workspace=row["workspace"],
            id=row["id"],
            title=row["title"],
            is_private=bool(row["is_private"]),
            creator=row["creator"],
            created_on=row["created_on"],
            updated_on=row["updated_on"],
            head=row["head"],
        )

    def _new_id(self) -> str:
        while True:
            candidate = "".join(secrets.choice(_ID_ALPHABET) for _ in range(5))
            if self._db.execute("SELECT 1 FROM snippets WHERE id = ?", (candidate,)).fetchone() is None:
                return candidate

    def create_snippet(
        self,
        workspace: str,
        creator: SandboxUser,
        *,
        title: str,
        is_private: bool,
        files: Mapping[str, bytes],
    ) -> SnippetRecord:
        """A new snippet whose first commit holds ``files`` (an empty tree when there are none)."""
        _check_tree(files)
        with self.lock:
            snippet_id = self._new_id()
            now = utc_now()
            ref = f"refs/snippets/{workspace}/{snippet_id}"
            head = self.git.write_commit(
                ref,
                None,
                dict(sorted(files.items())),
                Identity(creator.display_name, creator.email),
                int(time.time()),
                _commit_message(True, {}, files),
            )
            with self._transaction() as db:
                db.execute(
                    "INSERT INTO snippets (workspace, id, title, is_private, creator, created_on, updated_on, head)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (workspace, snippet_id, title, int(is_private), creator.nickname, now, now, head),
                )
            record = self.get_snippet(workspace, snippet_id)
        assert record is not None
        return record

    def get_snippet(self, workspace: str, snippet_id: str) -> SnippetRecord | None:
        with self.lock:
            row = self._db.execute(
                "SELECT * FROM snippets WHERE workspace = ? AND id = ?", (workspace, snippet_id)
            ).fetchone()
        return None if row is None else self._snippet(row)

    def list_snippets(
        self,
        workspace: str,
        *,
        public_only: bool,
        creator: str | None = None,
        involving: str | None = None,
        watched_by: str | None = None,
        oldest_first: bool = False,
        limit: int,
        offset: int,
    ) -> tuple[int, list[SnippetRecord]]:
        """Newest-updated first (ties by creation order; ``oldest_first`` reverses it), and the total.

        ``creator``: created by; ``involving``: created, watched or commented by; ``watched_by``.
        """
        where = ["workspace = ?"]
        args: list[object] = [workspace]
        if public_only:
            where.append("is_private = 0")
        if creator is not None:
            where.append("creator = ?")
            args.append(creator)
        if involving is not None:
            where.append(
                "(creator = ? OR id IN (SELECT snippet_id FROM watches WHERE user = ?)"
                " OR id IN (SELECT snippet_id FROM comments WHERE author = ? AND deleted = 0))"
            )
            args += [involving, involving, involving]
        if watched_by is not None:
            where.append("id IN (SELECT snippet_id FROM watches WHERE user = ?)")
            args.append(watched_by)
        clause = " AND ".join(where)
        order = "updated_on ASC, seq ASC" if oldest_first else "updated_on DESC, seq DESC"
        with self.lock:
            total = self._db.execute(f"SELECT count(*) FROM snippets WHERE {clause}", args).fetchone()[0]
            rows = self._db.execute(
                f"SELECT * FROM snippets WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        return int(total), [self._snippet(row) for row in rows]

    def update_snippet(
        self,
        workspace: str,
        snippet_id: str,
        actor: SandboxUser,
        *,
        title: str | None = None,
        is_private: bool | None = None,
        changes: Mapping[str, bytes | None],
        expected_head: str | None = None,
    ) -> SnippetRecord:
        """Apply a differential update; None leaves a property alone. Commits only changed contents.

        Raises StaleRevision when ``expected_head`` is given and is not HEAD any more, KeyError when
        the snippet is gone, InvalidFiles when the result would not be a valid tree.
        """
        with self.lock:
            current = self.get_snippet(workspace, snippet_id)
            if current is None:
                raise KeyError(snippet_id)
            if expected_head is not None and expected_head != current.head:
                raise StaleRevision(current.head)
            before = self.git.files(current.head)
            effective: dict[str, bytes | None] = {}
            for name, content in sorted(changes.items()):
                if content is None:
                    if name in before:
                        effective[name] = None
                elif blob_sha(content) != before.get(name):
                    effective[name] = content
            head = current.head
            if effective:
                after = {name for name in before if effective.get(name, b"") is not None}
                after |= {name for name, content in effective.items() if content is not None}
                _check_tree(after)
                head = self.git.write_commit(
                    current.ref,
                    current.head,
                    effective,
                    Identity(actor.display_name, actor.email),
                    int(time.time()),
                    _commit_message(False, before, effective),
                )
            new_title = current.title if title is None else title
            new_private = current.is_private if is_private is None else is_private
            if head == current.head and new_title == current.title and new_private == current.is_private:
                return current
            with self._transaction() as db:
                db.execute(
                    "UPDATE snippets SET title = ?, is_private = ?, head = ?, updated_on = ? WHERE id = ?",
                    (new_title, int(new_private), head, utc_now(), snippet_id),
                )
            record = self.get_snippet(workspace, snippet_id)
        assert record is not None
        return record

    def delete_snippet(self, workspace: str, snippet_id: str, expected_head: str | None = None) -> None:
        with self.lock:
            current = self.get_snippet(workspace, snippet_id)
            if current is None:
                raise KeyError(snippet_id)
            if expected_head is not None and expected_head != current.head:
                raise StaleRevision(current.head)
            with self._transaction() as db:
                db.execute("DELETE FROM snippets WHERE id = ?", (snippet_id,))
                db.execute("DELETE FROM comments WHERE snippet_id = ?", (snippet_id,))
                db.execute("DELETE FROM watches WHERE snippet_id = ?", (snippet_id,))
            self.git.delete_ref(current.ref)

    # ------------------------------------------------------------------ comments

    @staticmethod
    def _comment(row: sqlite3.Row) -> CommentRecord:
        return CommentRecord(
            id=int(row["id"]),
            snippet_id=row["snippet_id"],
            author=row["author"],
            parent_id=row["parent_id"],
            raw=row["raw"],
            created_on=row["created_on"],
            updated_on=row["updated_on"],
            deleted=bool(row["deleted"]),
        )

    def add_comment(self, snippet_id: str, author: str, raw: str, parent_id: int | None) -> CommentRecord:
        now = utc_now()
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO comments (snippet_id, author, parent_id, raw, created_on, updated_on)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (snippet_id, author, parent_id, raw, now, now),
            )
            comment_id = cursor.lastrowid
        comment = self.get_comment(snippet_id, int(comment_id or 0))
        assert comment is not None
        return comment

    def get_comment(self, snippet_id: str, comment_id: int) -> CommentRecord | None:
        """A live comment of that snippet (deleted ones are gone for GET, PUT and DELETE)."""
        with self.lock:
            row = self._db.execute(
                "SELECT * FROM comments WHERE snippet_id = ? AND id = ? AND deleted = 0", (snippet_id, comment_id)
            ).fetchone()
        return None if row is None else self._comment(row)

    def list_comments(self, snippet_id: str, *, limit: int, offset: int) -> tuple[int, list[CommentRecord]]:
        """Oldest first. A deleted comment stays listed (``deleted``, no content) while replies to it live."""
        clause = (
            "snippet_id = ? AND (deleted = 0 OR EXISTS (SELECT 1 FROM comments AS reply"
            " WHERE reply.parent_id = comments.id AND reply.deleted = 0))"
        )
        with self.lock:
            total = self._db.execute(f"SELECT count(*) FROM comments WHERE {clause}", (snippet_id,)).fetchone()[0]
            rows = self._db.execute(
                f"SELECT * FROM comments WHERE {clause} ORDER BY id LIMIT ? OFFSET ?", (snippet_id, limit, offset)
            ).fetchall()
        return int(total), [self._comment(row) for row in rows]

    def update_comment(self, snippet_id: str, comment_id: int, raw: str) -> CommentRecord:
        with self._transaction() as db:
            db.execute(
                "UPDATE comments SET raw = ?, updated_on = ? WHERE snippet_id = ? AND id = ?",
                (raw, utc_now(), snippet_id, comment_id),
            )
        comment = self.get_comment(snippet_id, comment_id)
        assert comment is not None
        return comment

    def delete_comment(self, snippet_id: str, comment_id: int) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE comments SET deleted = 1, raw = '', updated_on = ? WHERE snippet_id = ? AND id = ?",
                (utc_now(), snippet_id, comment_id),
            )

    # ------------------------------------------------------------------ watches

    def watch(self, snippet_id: str, user: str) -> None:
        with self.lock:
            self._db.execute(
                "INSERT OR IGNORE INTO watches (snippet_id, user, since) VALUES (?, ?, ?)",
                (snippet_id, user, utc_now()),
            )

    def unwatch(self, snippet_id: str, user: str) -> None:
        with self.lock:
            self._db.execute("DELETE FROM watches WHERE snippet_id = ? AND user = ?", (snippet_id, user))

    def is_watching(self, snippet_id: str, user: str) -> bool:
        with self.lock:
            row = self._db.execute(
                "SELECT 1 FROM watches WHERE snippet_id = ? AND user = ?", (snippet_id, user)
            ).fetchone()
        return row is not None

    def watchers(self, snippet_id: str, *, limit: int, offset: int) -> tuple[int, list[str]]:
        with self.lock:
            total = self._db.execute("SELECT count(*) FROM watches WHERE snippet_id = ?", (snippet_id,)).fetchone()[0]
            rows = self._db.execute(
                "SELECT user FROM watches WHERE snippet_id = ? ORDER BY since, user LIMIT ? OFFSET ?",
                (snippet_id, limit, offset),
            ).fetchall()
        return int(total), [row["user"] for row in rows]
