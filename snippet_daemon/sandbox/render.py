"""The sandbox's answers as Bitbucket shapes them: JSON documents and multipart bodies.

Shapes are copied from the recorded responses in ``../shared/bitbucket-api/samples/`` and the
official spec: every object has a ``type``; accounts have ``uuid``/``display_name``/``nickname``/
``account_id`` and ``links`` but no ``username`` (removed from the API); a snippet's ``links.diff``,
``links.patch`` and each ``files[name].links.self`` carry the revision hash; pages are
``{size, page, pagelen, next?, previous?, values}`` with absolute ``next``/``previous`` URLs;
errors are ``{"type": "error", "error": {"message", "detail"?, "data"?, "fields"?}}``.

Multipart answers follow the GET docs: ``multipart/related`` with the JSON part first
(``Content-ID: snippet``, named by ``start``), then one part per file (``Content-ID: "name"`` and
``Content-Disposition: attachment; filename=...``); text travels 7bit/8bit, anything else base64.
Every header is written so that no name can break it: the exact name travels in ``filename=`` (RFC 2231
``filename*=`` when it is not printable ASCII), and nothing unprintable (CR, LF, ...) reaches any header.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import mimetypes
import re
import secrets
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from snippet_daemon.bitbucket.multipart import content_disposition, content_id_header, is_text, quote_header_value

from .accounts import AccountInfo, Workspace
from .gitstore import CommitInfo
from .store import CommentRecord, SnippetRecord

__all__ = [
    "Urls",
    "account_json",
    "comment_json",
    "commit_json",
    "content_disposition",
    "error_json",
    "form_data_body",
    "guess_type",
    "json_bytes",
    "page_json",
    "related_body",
    "rendered",
    "snippet_json",
    "workspace_owner_json",
]

# Only the built-in table, so that answers do not depend on the machine's /etc/mime.types.
_MIME = mimetypes.MimeTypes()


def quote(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def quote_path(path: str) -> str:
    return urllib.parse.quote(path, safe="/")


class Urls:
    """Absolute URLs of one origin (``http://host:port``): the API under ``/2.0``, web pages at the root."""

    def __init__(self, origin: str) -> None:
        self.web = origin.rstrip("/")
        self.api = self.web + "/2.0"

    def snippet(self, ws: str, snippet_id: str) -> str:
        return f"{self.api}/snippets/{quote(ws)}/{quote(snippet_id)}"

    def snippet_html(self, ws: str, snippet_id: str) -> str:
        return f"{self.web}/snippets/{quote(ws)}/{quote(snippet_id)}"

    def file(self, ws: str, snippet_id: str, revision: str, path: str) -> str:
        return f"{self.snippet(ws, snippet_id)}/{revision}/files/{quote_path(path)}"

    def comment(self, ws: str, snippet_id: str, comment_id: int) -> str:
        return f"{self.snippet(ws, snippet_id)}/comments/{comment_id}"

    def commit(self, ws: str, snippet_id: str, sha: str) -> str:
        return f"{self.snippet(ws, snippet_id)}/commits/{sha}"

    def revision_html(self, ws: str, snippet_id: str, sha: str) -> str:
        return f"{self.snippet_html(ws, snippet_id)}/revisions/{sha}"


def json_bytes(document: Any) -> bytes:
    return json.dumps(document).encode("utf-8")


def rendered(raw: str) -> dict[str, str]:
    """``content``/``summary`` objects: the raw markdown and a minimal, safe HTML rendering."""
    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", raw) if part.strip()]
    html_text = "".join("<p>" + html.escape(paragraph).replace("\n", "<br>\n") + "</p>" for paragraph in paragraphs)
    return {"raw": raw, "markup": "markdown", "html": html_text}


def account_json(account: AccountInfo, urls: Urls) -> dict[str, Any]:
    return {
        "type": "user",
        "uuid": account.uuid,
        "display_name": account.display_name,
        "nickname": account.nickname,
        "account_id": account.account_id,
        "links": {
            "self": {"href": f"{urls.api}/users/{quote(account.uuid)}"},
            "html": {"href": f"{urls.web}/{quote(account.uuid)}/"},
            "avatar": {"href": f"{urls.web}/account/{quote(account.nickname)}/avatar/32/"},
        },
    }


def workspace_owner_json(workspace: Workspace, urls: Urls) -> dict[str, Any]:
    """The owner of a snippet in a shared workspace (a personal one is owned by its user's account)."""
    return {
        "type": "team",
        "uuid": workspace.uuid,
        "display_name": workspace.name,
        "username": workspace.slug,
        "links": {
            "self": {"href": f"{urls.api}/workspaces/{quote(workspace.slug)}"},
            "html": {"href": f"{urls.web}/{quote(workspace.slug)}/"},
            "avatar": {"href": f"{urls.web}/account/{quote(workspace.slug)}/avatar/32/"},
        },
    }


def workspace_json(workspace: Workspace, urls: Urls) -> dict[str, Any]:
    """A ``workspace`` object, as ``GET /user/workspaces`` wraps it."""
    return {
        "type": "workspace",
        "uuid": workspace.uuid,
        "slug": workspace.slug,
        "name": workspace.name,
        "is_private": True,
        "links": {
            "self": {"href": f"{urls.api}/workspaces/{quote(workspace.slug)}"},
            "html": {"href": f"{urls.web}/{quote(workspace.slug)}/"},
            "avatar": {"href": f"{urls.web}/workspaces/{quote(workspace.slug)}/avatar/"},
        },
    }


def _slug(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug or "untitled-snippet"


def snippet_json(
    record: SnippetRecord,
    *,
    owner: dict[str, Any],
    creator: dict[str, Any],
    urls: Urls,
    files: Sequence[str] | None,
    revision: str | None = None,
) -> dict[str, Any]:
    """A snippet document. ``files`` None gives the brief form embedded in comments and commits.

    ``revision`` (default HEAD) is the commit the files and the diff/patch links refer to.
    """
    ws, sid = record.workspace, record.id
    self_href = urls.snippet(ws, sid)
    document: dict[str, Any] = {
        "type": "snippet",
        "id": sid,
        "title": record.title,
        "scm": "git",
        "created_on": record.created_on,
        "updated_on": record.updated_on,
        "is_private": record.is_private,
        "owner": owner,
        "creator": creator,
    }
    if files is None:
        document["links"] = {"self": {"href": self_href}, "html": {"href": urls.snippet_html(ws, sid)}}
        return document
    rev = revision or record.head
    at_head = rev == record.head
    html_base = urls.snippet_html(ws, sid) if at_head else urls.revision_html(ws, sid, rev)
    document["files"] = {
        name: {
            "links": {
                "self": {"href": urls.file(ws, sid, rev, name)},
                "html": {"href": f"{html_base}#file-{quote_path(name)}"},
            }
        }
        for name in files
    }
    clone_name = _slug(record.title)
    host = urllib.parse.urlsplit(urls.web).hostname or "localhost"
    document["links"] = {
        "self": {"href": self_href},
        "html": {"href": urls.snippet_html(ws, sid)},
        "comments": {"href": f"{self_href}/comments"},
        "watchers": {"href": f"{self_href}/watchers"},
        "commits": {"href": f"{self_href}/commits"},
        "diff": {"href": f"{self_href}/{rev}/diff"},
        "patch": {"href": f"{self_href}/{rev}/patch"},
        "clone": [
            {"name": "https", "href": f"{urls.snippet_html(ws, sid)}/{clone_name}.git"},
            {"name": "ssh", "href": f"ssh://git@{host}/snippets/{quote(ws)}/{quote(sid)}/{clone_name}.git"},
        ],
    }
    return document


def commit_json(
    commit: CommitInfo,
    record: SnippetRecord,
    *,
    author: dict[str, Any] | None,
    snippet: dict[str, Any],
    urls: Urls,
) -> dict[str, Any]:
    ws, sid = record.workspace, record.id
    author_json: dict[str, Any] = {"type": "author", "raw": f"{commit.author_name} <{commit.author_email}>"}
    if author is not None:
        author_json["user"] = author
    date = _git_date(commit.author_time)
    summary = rendered(commit.message.strip())
    return {
        "type": "snippet_commit",
        "hash": commit.sha,
        "date": date,
        "message": commit.message,
        "summary": summary,
        "author": author_json,
        "parents": [
            {
                "type": "snippet_commit",
                "hash": parent,
                "links": {
                    "self": {"href": urls.commit(ws, sid, parent)},
                    "html": {"href": urls.revision_html(ws, sid, parent)},
                },
            }
            for parent in commit.parents
        ],
        "links": {
            "self": {"href": urls.commit(ws, sid, commit.sha)},
            "html": {"href": urls.revision_html(ws, sid, commit.sha)},
            "diff": {"href": f"{urls.snippet(ws, sid)}/{commit.sha}/diff"},
        },
        "snippet": snippet,
    }


def _git_date(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat()


def comment_json(
    comment: CommentRecord,
    record: SnippetRecord,
    *,
    user: dict[str, Any],
    snippet: dict[str, Any],
    urls: Urls,
) -> dict[str, Any]:
    ws, sid = record.workspace, record.id
    document: dict[str, Any] = {
        "type": "snippet_comment",
        "id": comment.id,
        "created_on": comment.created_on,
        "updated_on": comment.updated_on,
        "content": {"type": "rendered", **rendered(comment.raw)},
        "user": user,
        "deleted": comment.deleted,
        "links": {
            "self": {"href": urls.comment(ws, sid, comment.id)},
            "html": {"href": f"{urls.snippet_html(ws, sid)}#comment-{comment.id}"},
        },
        "snippet": snippet,
    }
    if comment.parent_id is not None:
        document["parent"] = {
            "id": comment.parent_id,
            "links": {
                "self": {"href": urls.comment(ws, sid, comment.parent_id)},
                "html": {"href": f"{urls.snippet_html(ws, sid)}#comment-{comment.parent_id}"},
            },
        }
    return document


def page_json(
    values: Sequence[Any],
    *,
    page: int,
    pagelen: int,
    size: int,
    next_url: str | None,
    previous_url: str | None,
) -> dict[str, Any]:
    document: dict[str, Any] = {"size": size, "page": page, "pagelen": pagelen}
    if next_url is not None:
        document["next"] = next_url
    if previous_url is not None:
        document["previous"] = previous_url
    document["values"] = list(values)
    return document


def error_json(
    message: str,
    *,
    detail: Any = None,
    data: Mapping[str, Any] | None = None,
    fields: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message}
    if detail is not None:
        error["detail"] = detail
    if data is not None:
        error["data"] = dict(data)
    if fields is not None:
        error["fields"] = dict(fields)
    return {"type": "error", "error": error}


def guess_type(name: str, content: bytes) -> str:
    """A raw file's Content-Type: by name, else text/plain or octet-stream by content; never a charset."""
    guessed = _MIME.guess_type(name, strict=False)[0]
    if guessed:
        return guessed
    return "text/plain" if is_text(content) else "application/octet-stream"


def _file_part_headers(name: str, content: bytes) -> tuple[list[str], bytes]:
    if is_text(content):
        if content.isascii():
            headers = ['Content-Type: text/plain; charset="us-ascii"', "Content-Transfer-Encoding: 7bit"]
        else:
            headers = ['Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: 8bit"]
        return headers, content
    mime = _MIME.guess_type(name, strict=False)[0] or "application/octet-stream"
    if mime.startswith("text/"):
        mime = "application/octet-stream"  # text with CR or NUL: bytes, not text
    body = base64.encodebytes(content).replace(b"\n", b"\r\n").rstrip(b"\r\n")
    return [f"Content-Type: {mime}", "Content-Transfer-Encoding: base64"], body


def _assemble(parts: list[tuple[list[str], bytes]]) -> tuple[bytes, str]:
    while True:
        boundary = "===============" + secrets.token_hex(10) + "=="
        marker = boundary.encode("ascii")
        if not any(marker in body for _, body in parts):
            break
    chunks: list[bytes] = []
    for headers, body in parts:
        chunks.append(b"--" + marker + b"\r\n")
        chunks.append(("\r\n".join(headers) + "\r\n\r\n").encode("utf-8"))
        chunks.append(body + b"\r\n")
    chunks.append(b"--" + marker + b"--\r\n")
    return b"".join(chunks), boundary


def related_body(snippet: Mapping[str, Any], files: Mapping[str, bytes]) -> tuple[bytes, str]:
    """``GET`` with ``Accept: multipart/related``: the whole snippet in one body."""
    parts: list[tuple[list[str], bytes]] = [
        (
            ['Content-Type: application/json; charset="utf-8"', "MIME-Version: 1.0", "Content-ID: snippet"],
            json.dumps(snippet, indent=2).encode("utf-8"),
        )
    ]
    for name, content in files.items():
        headers, body = _file_part_headers(name, content)
        headers += [
            "MIME-Version: 1.0",
            f"Content-ID: {content_id_header(name)}",
            "Content-Disposition: " + content_disposition("attachment", name),
        ]
        parts.append((headers, body))
    body, boundary = _assemble(parts)
    return body, f'multipart/related; start="snippet"; boundary="{boundary}"'


def form_data_body(fields: Mapping[str, str], files: Mapping[str, bytes]) -> tuple[bytes, str]:
    """``Accept: multipart/form-data``: flat root-level fields, then each file in the field ``file``."""
    parts: list[tuple[list[str], bytes]] = [
        (
            [
                f"Content-Disposition: form-data; name={quote_header_value(key)}",
                'Content-Type: text/plain; charset="utf-8"',
            ],
            value.encode("utf-8"),
        )
        for key, value in fields.items()
    ]
    for name, content in files.items():
        headers, body = _file_part_headers(name, content)
        parts.append((["Content-Disposition: " + content_disposition("form-data", name, name="file"), *headers], body))
    body, boundary = _assemble(parts)
    return body, f'multipart/form-data; boundary="{boundary}"'
