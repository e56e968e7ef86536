"""The resumable state of one migration (one server, one Cloud workspace): a small JSON file.

Per server snippet it records how far the migration got, so that a re-run does each Cloud write
exactly once:

    pending   nothing on Cloud yet
    creating  the create POST is decided and may have been sent: ``intent_at``, ``title``,
              ``file_names`` and ``fingerprint`` (a digest of the title and of every file's bytes) let a
              re-run recognise the snippet on Cloud before creating it again
    created   ``cloud_id`` is known; ``posted`` holds the digests of the comments known to be on
              Cloud, in order, and ``comment_in_flight`` the digest of a comment that may have been sent
    done      everything is on Cloud

Every change is recorded *before* the Cloud request it announces and again after it. Writes are
atomic (temporary file, fsync, ``os.replace``, fsync of the folder), so a crash or SIGKILL leaves
either the old or the new file, never half of one. :class:`StateStore` batches concurrent changes
into one write ("group commit") so that a migration with several requests in flight does not write
the file once per request. A lock file stops two migrations from sharing one state file.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Final, Literal, cast

from snippet_daemon.bitbucket.adopt import fingerprint  # what a create carries, also recognised by the daemon
from snippet_daemon.paths import open_private, private_dir, write_private

FORMAT: Final = "snippet-daemon-migration"
VERSION: Final = 1

Status = Literal["pending", "creating", "created", "done"]
ProvenanceMode = Literal["comment", "file"]
STATUSES: Final = ("pending", "creating", "created", "done")


class StateError(Exception):
    """The state file cannot be used; the message says why and what to do."""


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def digest(text: str) -> str:
    """A short, stable digest of a comment's text (as compared on Cloud)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass
class SnippetRecord:
    guid: str
    name: str = ""
    status: Status = "pending"
    cloud_id: str | None = None
    cloud_url: str | None = None
    provenance: ProvenanceMode | None = None  # the mode it was created with; later steps keep it
    intent_at: str | None = None
    title: str | None = None
    file_names: list[str] = field(default_factory=list)
    fingerprint: str | None = None
    comments_total: int = 0
    posted: list[str] = field(default_factory=list)
    comment_in_flight: str | None = None
    last_error: str | None = None
    finished_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        # The guid is the entry's key; unset fields are left out (an empty title is kept: it is a title).
        return {
            item.name: value
            for item in fields(self)
            if item.name != "guid" and (value := getattr(self, item.name)) is not None and value != []
        }

    @classmethod
    def from_json(cls, guid: str, data: Mapping[str, Any]) -> SnippetRecord:
        status = data.get("status")
        provenance = data.get("provenance")
        record = cls(
            guid=guid,
            name=str(data.get("name") or ""),
            status=cast(Status, status) if status in STATUSES else "pending",
            cloud_id=_optional_str(data.get("cloud_id")),
            cloud_url=_optional_str(data.get("cloud_url")),
            provenance=cast(ProvenanceMode, provenance) if provenance in ("comment", "file") else None,
            intent_at=_optional_str(data.get("intent_at")),
            title=data["title"] if isinstance(data.get("title"), str) else None,  # "" is a title too
            file_names=[str(name) for name in data.get("file_names") or []],
            fingerprint=_optional_str(data.get("fingerprint")),
            comments_total=int(data.get("comments_total") or 0),
            posted=[str(item) for item in data.get("posted") or []],
            comment_in_flight=_optional_str(data.get("comment_in_flight")),
            last_error=_optional_str(data.get("last_error")),
            finished_at=_optional_str(data.get("finished_at")),
        )
        if record.status in ("created", "done") and not record.cloud_id:
            raise StateError(f"snippet {guid} is {record.status} but has no Cloud id")
        return record

    # ------------------------------------------------------------------ transitions

    def begin_create(self, *, title: str, files: Mapping[str, bytes], mode: ProvenanceMode) -> None:
        self.status = "creating"
        self.intent_at = utc_now()
        self.title = title
        self.file_names = list(files)
        self.fingerprint = fingerprint(title, files)
        self.provenance = mode
        self.last_error = None

    def create_refused(self, reason: str) -> None:
        """Bitbucket answered the create with a refusal: nothing was created."""
        self.status = "pending"
        self.intent_at = self.fingerprint = self.title = None
        self.file_names = []
        self.last_error = reason

    def created(self, cloud_id: str, cloud_url: str | None) -> None:
        self.status = "created"
        self.cloud_id = cloud_id
        self.cloud_url = cloud_url
        # The intent's details only serve to recognise an interrupted create; it is settled now.
        self.intent_at = self.fingerprint = self.title = None
        self.file_names = []
        self.last_error = None

    def finish(self) -> None:
        self.status = "done"
        self.comment_in_flight = None
        self.last_error = None
        self.finished_at = utc_now()

    def forget_cloud_snippet(self, reason: str) -> None:
        """The Cloud snippet was deleted by someone: start this one over on the next run."""
        self.status = "pending"
        self.cloud_id = self.cloud_url = None
        self.posted = []
        self.comment_in_flight = None
        self.last_error = reason


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass
class MigrationState:
    server_url: str
    workspace: str
    snippets: dict[str, SnippetRecord] = field(default_factory=dict)
    created_at: str = field(default_factory=utc_now)
    _lines: dict[str, str] = field(default_factory=dict, repr=False, compare=False)  # serialised records

    def record(self, guid: str, name: str = "") -> SnippetRecord:
        found = self.snippets.get(guid)
        if found is None:
            found = self.snippets[guid] = SnippetRecord(guid=guid, name=name)
        elif name:
            found.name = name
        return found

    def claimed_cloud_ids(self) -> set[str]:
        return {record.cloud_id for record in self.snippets.values() if record.cloud_id}

    def to_bytes(self, changed: Iterable[str] | None = None) -> bytes:
        """The whole file. With ``changed`` (guids), only those records are serialised afresh.

        A large migration writes the file after every step of every snippet, so re-serialising a
        thousand unchanged records each time would cost more than the requests themselves.
        """
        header = {
            "format": FORMAT,
            "version": VERSION,
            "server": self.server_url,
            "workspace": self.workspace,
            "createdAt": self.created_at,
            "updatedAt": utc_now(),
        }
        changed = None if changed is None else list(changed)
        if changed is None or len(self._lines) != len(self.snippets) or any(g not in self._lines for g in changed):
            self._lines = {guid: self._line(guid, record) for guid, record in self.snippets.items()}
        else:
            for guid in changed:  # an existing key keeps its place, so the file keeps its order
                self._lines[guid] = self._line(guid, self.snippets[guid])
        lines = [
            "{",
            *(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}," for key, value in header.items()),
            ' "snippets": {',
            ",\n".join(self._lines.values()),
            " }",
            "}",
            "",
        ]
        return "\n".join(lines).encode("utf-8", "surrogatepass")

    @staticmethod
    def _line(guid: str, record: SnippetRecord) -> str:
        # One line per snippet: readable, diffable, and cheap to write.
        entry = json.dumps(record.to_json(), ensure_ascii=False, separators=(",", ":"))
        return f"  {json.dumps(guid, ensure_ascii=False)}: {entry}"

    @classmethod
    def load(cls, path: Path, *, server_url: str, workspace: str) -> MigrationState:
        """The state in ``path``, or a fresh one when it does not exist; checks it is this migration's."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return cls(server_url=server_url, workspace=workspace)
        except OSError as error:
            raise StateError(f"cannot read the state file {path}: {error.strerror or error}") from None
        try:
            document = json.loads(raw)
        except ValueError:
            raise StateError(
                f"the state file {path} is not valid JSON. It is only ever replaced whole, so it was edited or "
                "damaged by something else: restore it from a backup, or move it away to start over (snippets "
                "already on Cloud would then be created again)."
            ) from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise StateError(f"{path} is not a snippet-daemon migration state file; pass another --state.")
        if document.get("version") != VERSION:
            raise StateError(
                f"the state file {path} has version {document.get('version')}; this program reads {VERSION}."
            )
        if document.get("server") != server_url or document.get("workspace") != workspace:
            raise StateError(
                f"the state file {path} belongs to the migration of {document.get('server')} to the workspace "
                f"{document.get('workspace')!r}, not of {server_url} to {workspace!r}. Pass --state with another file."
            )
        snippets = document.get("snippets") or {}
        if not isinstance(snippets, dict):
            raise StateError(f"the state file {path} has no snippets table")
        return cls(
            server_url=server_url,
            workspace=workspace,
            snippets={
                str(guid): SnippetRecord.from_json(str(guid), entry)
                for guid, entry in snippets.items()
                if isinstance(entry, dict)
            },
            created_at=str(document.get("createdAt") or utc_now()),
        )


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash or a power cut at any moment leaves the old or the new file."""
    write_private(path, data, durable=True)


class StateStore:
    """The state and its file. ``await commit()`` returns once every change made so far is on disk."""

    def __init__(self, path: Path, state: MigrationState, *, dry_run: bool = False) -> None:
        self.path = path
        self.state = state
        self.dry_run = dry_run
        self.writes = 0
        self._changes = 0  # bumped by every commit() call
        self._durable = 0  # the last change number known to be on disk
        self._lock = asyncio.Lock()
        self._dirty: set[str] = set()
        self._everything_dirty = True  # the first write serialises everything

    async def commit(self, *changed: SnippetRecord) -> None:
        """Write ``changed`` records (every record when none is named) and all earlier changes, durably."""
        if self.dry_run:
            return
        if changed:
            self._dirty.update(record.guid for record in changed)
        else:
            self._everything_dirty = True
        self._changes += 1
        wanted = self._changes
        async with self._lock:
            if self._durable >= wanted:
                return  # another task's write already carried this change
            covered = self._changes
            # Serialised here, in the event loop, so the snapshot has every change made so far.
            dirty = None if self._everything_dirty else self._dirty
            data = self.state.to_bytes(dirty)
            self._dirty, self._everything_dirty = set(), False
            await asyncio.to_thread(write_atomically, self.path, data)
            self.writes += 1
            self._durable = covered

    def commit_now(self) -> None:
        """A synchronous write, for when no event loop runs."""
        if not self.dry_run:
            write_atomically(self.path, self.state.to_bytes())
            self.writes += 1


@contextlib.contextmanager
def exclusive_lock(state_path: Path) -> Iterator[None]:
    """Hold ``STATE.lock`` for the migration: two runs on one state file could both create a snippet."""
    private_dir(state_path.parent)
    lock_path = state_path.with_name(state_path.name + ".lock")
    handle = os.fdopen(open_private(lock_path), "r+")  # held open for the whole migration
    try:
        if sys.platform != "win32":
            import fcntl

            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip()
                raise StateError(
                    f"another migration is running with the state file {state_path}"
                    + (f" (process {holder})" if holder else "")
                    + ". Wait for it to finish, or stop it; the lock goes away with the process."
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
        yield
    finally:
        handle.close()
