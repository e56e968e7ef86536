"""Typed views of Bitbucket's JSON, read tolerantly.

Fields Bitbucket may omit are optional; unknown fields are ignored but kept in ``raw``.
Snippet ids are strings (the spec says integer; the API sends ``"kypj"``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

_HEX = re.compile(r"^[0-9a-f]{7,64}$")


def content_digest(data: bytes) -> str:
    """A file's content as a short, stable fingerprint (SHA-256, hex): what a link remembers of each file."""
    return hashlib.sha256(data).hexdigest()


def _str(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _href(links: Any, name: str) -> str | None:
    if isinstance(links, dict):
        link = links.get(name)
        if isinstance(link, dict):
            return _str(link.get("href"))
    return None


@dataclass(frozen=True)
class Account:
    display_name: str
    uuid: str | None = None
    nickname: str | None = None
    account_id: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> Account | None:
        if not isinstance(data, dict):
            return None
        nickname = _str(data.get("nickname")) or _str(data.get("username"))
        display = _str(data.get("display_name")) or nickname or _str(data.get("uuid")) or "unknown"
        return cls(
            display_name=display,
            uuid=_str(data.get("uuid")),
            nickname=nickname,
            account_id=_str(data.get("account_id")),
        )


@dataclass(frozen=True)
class Workspace:
    """A workspace the user can see (from ``GET /user/workspaces``, whose items wrap it)."""

    slug: str
    name: str
    uuid: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> Workspace | None:
        """An item of ``/user/workspaces`` (``{"workspace": {...}, ...}``) or a bare workspace object."""
        document = _dict(data)
        inner = document.get("workspace")
        workspace = _dict(inner) if isinstance(inner, dict) else document
        slug = _str(workspace.get("slug"))
        if not slug:
            return None
        return cls(slug=slug, name=_str(workspace.get("name")) or slug, uuid=_str(workspace.get("uuid")))


def revision_from_links(snippet_id: str, links: Any, files: Any) -> str | None:
    """The HEAD hash a snippet document carries in its diff/patch links or file links.

    Seen forms: ``.../{id}/{hash}/diff``, ``.../{id}/{hash}/patch``,
    ``.../{id}/{hash}/files/{path}`` and ``.../{id}/files/{hash}/{path}``.
    """
    for name in ("diff", "patch"):
        href = _href(links, name)
        if href:
            segments = urlsplit(href).path.rstrip("/").split("/")
            if len(segments) >= 2 and _HEX.match(segments[-2]):
                return segments[-2]
    if isinstance(files, dict):
        for entry in files.values():
            href = _href(entry.get("links") if isinstance(entry, dict) else None, "self")
            if not href:
                continue
            segments = [unquote(s) for s in urlsplit(href).path.split("/")]
            for index in range(len(segments) - 2):
                if segments[index] != snippet_id:
                    continue
                after, then = segments[index + 1], segments[index + 2]
                if _HEX.match(after) and then == "files":
                    return after
                if after == "files" and _HEX.match(then):
                    return then
    return None


def _workspace_from_self(snippet_id: str, links: Any) -> str | None:
    href = _href(links, "self")
    if not href:
        return None
    segments = [unquote(s) for s in urlsplit(href).path.split("/")]
    for index in range(len(segments) - 1):
        if segments[index] == "snippets" and index + 2 < len(segments) and segments[index + 2] == snippet_id:
            return segments[index + 1]
    return None


@dataclass(frozen=True)
class Snippet:
    """A snippet's metadata. ``revision`` is the HEAD hash when the document carried it."""

    id: str
    workspace: str
    title: str
    is_private: bool
    created_on: str | None
    updated_on: str | None
    revision: str | None
    file_names: tuple[str, ...]
    html_url: str | None
    owner: Account | None
    creator: Account | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any], workspace: str | None = None) -> Snippet:
        snippet_id = _str(data.get("id")) or ""
        links = data.get("links")
        files = data.get("files")
        owner = Account.from_json(data.get("owner"))
        ws = (
            workspace
            or _workspace_from_self(snippet_id, links)
            or (owner.nickname if owner else None)
            or (owner.uuid if owner else None)
            or ""
        )
        return cls(
            id=snippet_id,
            workspace=ws,
            title=_str(data.get("title")) or "",
            is_private=bool(data.get("is_private", False)),
            created_on=_str(data.get("created_on")),
            updated_on=_str(data.get("updated_on")),
            revision=revision_from_links(snippet_id, links, files),
            file_names=tuple(files.keys()) if isinstance(files, dict) else (),
            html_url=_href(links, "html"),
            owner=owner,
            creator=Account.from_json(data.get("creator")),
            raw=data,
        )


@dataclass(frozen=True)
class SnippetContent:
    """A snippet with every file's bytes, as read in one request."""

    snippet: Snippet
    files: dict[str, bytes]

    @property
    def revision(self) -> str | None:
        return self.snippet.revision


@dataclass(frozen=True)
class Comment:
    id: int
    raw: str
    html: str
    author: Account | None
    created_on: str | None
    updated_on: str | None
    parent_id: int | None
    deleted: bool
    html_url: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Comment:
        content = _dict(data.get("content"))
        parent = data.get("parent")
        parent_id = parent.get("id") if isinstance(parent, dict) else None
        raw_id = data.get("id")
        return cls(
            id=int(raw_id) if isinstance(raw_id, (int, str)) and str(raw_id).isdigit() else 0,
            raw=_str(content.get("raw")) or "",
            html=_str(content.get("html")) or "",
            author=Account.from_json(data.get("user")),
            created_on=_str(data.get("created_on")),
            updated_on=_str(data.get("updated_on")),
            parent_id=int(parent_id) if isinstance(parent_id, (int, str)) and str(parent_id).isdigit() else None,
            deleted=bool(data.get("deleted", False)),
            html_url=_href(data.get("links"), "html"),
        )


@dataclass(frozen=True)
class Commit:
    hash: str
    date: str | None
    message: str
    author_raw: str
    author: Account | None
    parents: tuple[str, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Commit:
        author = _dict(data.get("author"))
        raw_parents = data.get("parents")
        parents: list[Any] = raw_parents if isinstance(raw_parents, list) else []
        return cls(
            hash=_str(data.get("hash")) or "",
            date=_str(data.get("date")),
            message=_str(data.get("message")) or "",
            author_raw=_str(author.get("raw")) or "",
            author=Account.from_json(author.get("user")),
            parents=tuple(h for p in parents if isinstance(p, dict) and (h := _str(p.get("hash")))),
        )
