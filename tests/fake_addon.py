"""A fake Bitbucket Server with the "Snippets for Bitbucket" add-on, served over real HTTP on loopback.

What it answers (shapes from ``../shared/bitbucket-api/FACTS.md``, Bitbucket Server paging):

* ``GET /rest/snippets/1.0/snippets`` (the caller's snippets) and ``.../snippets/browse`` (everyone's,
  403 unless ``browse_allowed``), paged with ``start``/``limit`` -> ``{size, limit, isLastPage, start,
  nextPageStart?, values}``; list entries are summaries, as FACTS.md says the real add-on's are: their
  ``files`` name each file (``{guid, name}``) without its content (``list_files="absent"``: no ``files``
  at all), and they carry no comments;
* ``GET /rest/snippets/1.0/snippets/{guid}``: one snippet with files and flat comments inline;
* ``GET /rest/api/1.0/users`` (paged the same way; 403 unless ``users_api``) and
  ``GET /rest/api/1.0/application-properties`` (Bitbucket Server's version, unless ``core_api`` is off).

Every request needs HTTP Basic credentials (401 otherwise). ``installed=False`` makes the add-on's
path 404 as when it is not installed; ``latency_ms`` delays every answer. :meth:`FakeAddon.seed`
makes snippets with text and binary files (binary ones in the two base64 shapes the migration must
tolerate) and comment histories by several users.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

FileShape = Literal["text", "encoding", "contentBase64"]
ListFiles = Literal["names", "absent"]  # what a list entry says of its files
BASE_TIME_MS = 1_600_000_000_000  # 2020-09-13: old enough to be obviously "the original date"


@dataclass
class FakeUser:
    id: int
    slug: str
    display_name: str
    email: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.slug,
            "slug": self.slug,
            "displayName": self.display_name,
            "emailAddress": self.email,
            "active": True,
            "type": "NORMAL",
        }


@dataclass
class FakeFile:
    name: str
    content: bytes
    shape: FileShape = "text"

    def summary_json(self) -> dict[str, Any]:
        return {"guid": str(uuid.uuid5(uuid.NAMESPACE_URL, self.name)), "name": self.name}

    def to_json(self) -> dict[str, Any]:
        entry = self.summary_json()
        encoded = base64.b64encode(self.content).decode("ascii")
        if self.shape == "text":
            entry["content"] = self.content.decode("utf-8")
        elif self.shape == "encoding":
            entry.update(content=encoded, encoding="base64")
        else:
            entry["contentBase64"] = encoded
        return entry


@dataclass
class FakeComment:
    guid: str
    text: str
    user_id: int
    created_at: int
    updated_at: int

    def to_json(self) -> dict[str, Any]:
        return {
            "guid": self.guid,
            "text": self.text,
            "userId": self.user_id,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }


@dataclass
class FakeSnippet:
    guid: str
    name: str
    description: str
    categories: list[str]
    is_public: bool
    user_id: int
    created_at: int
    updated_at: int
    files: list[FakeFile] = field(default_factory=list)
    comments: list[FakeComment] = field(default_factory=list)

    def summary_json(self, *, list_files: ListFiles = "names") -> dict[str, Any]:
        summary = self._common_json()
        if list_files == "names":
            summary["files"] = [file.summary_json() for file in self.files]
        return summary

    def _common_json(self) -> dict[str, Any]:
        return {
            "guid": self.guid,
            "name": self.name,
            "description": self.description,
            "categories": [{"guid": f"cat-{name}", "name": name} for name in self.categories],
            "isVisible": True,
            "isPublic": self.is_public,
            "userId": self.user_id,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "someFieldNobodyKnows": {"nested": [1, 2]},  # tolerance of extra fields
        }

    def detail_json(self) -> dict[str, Any]:
        return {
            **self._common_json(),
            "files": [file.to_json() for file in self.files],
            "comments": [comment.to_json() for comment in self.comments],
        }


DEFAULT_USERS = [
    FakeUser(1, "migrator", "Mia Migrator", "mia@example.invalid"),
    FakeUser(2, "ada", "Ada Lovelace", "ada@example.invalid"),
    FakeUser(3, "alan", "Alan Turing", "alan@example.invalid"),
    FakeUser(4, "grace", "Grace Hopper", "grace@example.invalid"),
]


class FakeAddon:
    """The fake server. Use as a context manager; ``base_url`` is what ``--server`` takes."""

    def __init__(
        self,
        *,
        username: str = "migrator",
        password: str = "server-pass-Zx81-do-not-leak",
        latency_ms: int = 0,
        installed: bool = True,
        core_api: bool = True,
        users_api: bool = True,
        browse_allowed: bool = True,
        max_page: int = 25,
        list_files: ListFiles = "names",
    ) -> None:
        self.username = username
        self.password = password
        self.latency_ms = latency_ms
        self.installed = installed
        self.core_api = core_api
        self.users_api = users_api
        self.browse_allowed = browse_allowed
        self.max_page = max_page
        self.list_files: ListFiles = list_files
        self.users = list(DEFAULT_USERS)
        self.snippets: list[FakeSnippet] = []
        self.requests: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ seeding

    def seed(
        self,
        count: int,
        *,
        files_per_snippet: int = 3,
        max_comments: int = 3,
        owners: list[int] | None = None,
        seed: int = 7,
    ) -> list[FakeSnippet]:
        """``count`` snippets: text, binary and empty files, and up to ``max_comments`` comments each."""
        rng = random.Random(seed + len(self.snippets))
        owner_ids = owners or [user.id for user in self.users]
        made = []
        for _ in range(count):
            index = len(self.snippets)
            created = BASE_TIME_MS + index * 86_400_000
            files = [self._make_file(rng, index, number) for number in range(files_per_snippet)]
            commenters = [user.id for user in self.users]
            comments = [
                FakeComment(
                    guid=f"c-{index}-{number}",
                    text=f"Comment {number} on snippet {index}: *looks good* ✓\n\n```\ncode {rng.random()}\n```",
                    user_id=commenters[(index + number) % len(commenters)],
                    created_at=created + (number + 1) * 3_600_000,
                    updated_at=created + (number + 1) * 3_600_000 + (60_000 if number % 2 else 0),
                )
                for number in range(rng.randint(0, max_comments) if max_comments else 0)
            ]
            snippet = FakeSnippet(
                guid=str(uuid.UUID(int=rng.getrandbits(128))),
                name=f"Snippet {index}: {rng.choice(['deploy script', 'SQL report', 'regex', 'Dockerfile'])}",
                description=f"How to use snippet {index}.\n\n- step **one**\n- step two\n",
                categories=[rng.choice(["ops", "sql", "python"]), "migrated-test"],
                is_public=index % 3 == 0,
                user_id=owner_ids[index % len(owner_ids)],
                created_at=created,
                updated_at=created + 7 * 86_400_000,
                files=files,
                comments=comments,
            )
            self.snippets.append(snippet)
            made.append(snippet)
        return made

    @staticmethod
    def _make_file(rng: random.Random, index: int, number: int) -> FakeFile:
        kind = number % 3
        if kind == 0:
            text = f"#!/bin/sh\r\n# snippet {index} — naïve café ünïcode\r\necho {rng.random()}   \r\n\ttabbed\r\n"
            return FakeFile(f"script-{index}.sh", text.encode("utf-8"))
        if kind == 1:
            blob = b"\x89PNG\r\n\x1a\n\x00\xff" + bytes(range(256)) + rng.randbytes(64)
            return FakeFile(f"image-{index}-{number}.bin", blob, "encoding" if index % 2 else "contentBase64")
        if index % 4 == 0:
            return FakeFile(f"empty-{index}-{number}.txt", b"")
        return FakeFile(f"notes-{index}-{number}.md", f"# Notes {index}\n\nNo trailing newline".encode())

    def own_snippets(self) -> list[FakeSnippet]:
        me = next(user.id for user in self.users if user.slug == self.username)
        return [snippet for snippet in self.snippets if snippet.user_id == me]

    # ------------------------------------------------------------------ serving

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake add-on first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeAddon:
        addon = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # small header and body writes would wait for delayed ACKs (40 ms)

            def do_GET(self) -> None:
                addon._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-addon", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return user == self.username and password == self.password

    def _page(self, values: list[Any], query: dict[str, list[str]]) -> dict[str, Any]:
        start = int((query.get("start") or ["0"])[0])
        limit = min(int((query.get("limit") or ["25"])[0]), self.max_page)
        chunk = values[start : start + limit]
        page: dict[str, Any] = {
            "size": len(chunk),
            "limit": limit,
            "isLastPage": start + limit >= len(values),
            "start": start,
            "values": chunk,
        }
        if not page["isLastPage"]:
            page["nextPageStart"] = start + len(chunk)
        return page

    def _route(self, method: str, path: str, query: dict[str, list[str]], auth: str | None) -> tuple[int, Any]:
        if not self._authorized(auth):
            return 401, {"errors": [{"message": "Authentication failed. Please check your credentials and try again."}]}
        addon = "/rest/snippets/1.0/snippets"
        if path.startswith(addon) and self.installed:
            rest = path[len(addon) :].strip("/")
            with self._lock:
                snippets = list(self.snippets)
            if rest == "":
                return 200, self._page([s.summary_json(list_files=self.list_files) for s in self.own_snippets()], query)
            if rest == "browse":
                if not self.browse_allowed:
                    return 403, {"errors": [{"message": "You are not permitted to browse all snippets."}]}
                return 200, self._page([s.summary_json(list_files=self.list_files) for s in snippets], query)
            found = next((s for s in snippets if s.guid == urllib.parse.unquote(rest)), None)
            if found is not None:
                return 200, found.detail_json()
            return 404, {"errors": [{"message": f"Snippet {rest} does not exist."}]}
        if path == "/rest/api/1.0/users" and self.core_api:
            if not self.users_api:
                return 403, {"errors": [{"message": "You are not permitted to access this resource"}]}
            return 200, self._page([user.to_json() for user in self.users], query)
        if path == "/rest/api/1.0/application-properties" and self.core_api:
            return 200, {"version": "8.19.1", "buildNumber": "8019001", "displayName": "Bitbucket"}
        return 404, None

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        split = urllib.parse.urlsplit(handler.path)
        query = urllib.parse.parse_qs(split.query)
        status, document = self._route(handler.command, split.path, query, handler.headers.get("Authorization"))
        with self._lock:
            self.requests.append((handler.command, split.path, status))
        if document is None:
            body, content_type = b"<html><body><h1>404 Not Found</h1></body></html>", "text/html"
        else:
            body, content_type = json.dumps(document).encode("utf-8"), "application/json;charset=UTF-8"
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
