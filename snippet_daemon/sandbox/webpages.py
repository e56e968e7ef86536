"""Minimal HTML pages at the sandbox's web root, so that ``links.html`` URLs open in a browser.

``/`` lists the snippets one may see, ``/snippets/{ws}/{id}`` (and ``.../revisions/{hash}``) shows a
snippet's files, revisions and comments, with the ``#file-{name}`` and ``#comment-{id}`` anchors the
API's links point at. Public snippets need no login; a private one asks the browser for HTTP Basic
credentials (account email + API token), as Bitbucket's web UI would ask to log in.
"""

from __future__ import annotations

import html
import urllib.parse

from snippet_daemon.bitbucket.multipart import is_text

from .accounts import Directory, SandboxUser
from .api import ApiResponse
from .gitstore import CommitInfo
from .render import Urls
from .store import SnippetRecord, Store

__all__ = ["WebPages"]

_HTML = "text/html; charset=utf-8"
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#172b4d}"
    "pre{background:#f4f5f7;padding:.75rem;overflow:auto;border-radius:4px}"
    ".meta{color:#5e6c84}.comment{border-left:3px solid #dfe1e6;padding-left:.75rem;margin:.75rem 0}"
)


def _page(title: str, body: str, status: int = 200, headers: list[tuple[str, str]] | None = None) -> ApiResponse:
    document = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return ApiResponse(status, document.encode("utf-8"), _HTML, headers or [])


class WebPages:
    def __init__(self, store: Store, directory: Directory) -> None:
        self.store = store
        self.directory = directory

    def handle(self, path: str, authorization: str | None, origin: str) -> ApiResponse:
        user = self.directory.authenticate(authorization).user if authorization else None
        parts = [urllib.parse.unquote(part) for part in path.strip("/").split("/")] if path.strip("/") else []
        urls = Urls(origin)
        if not parts:
            return self._index(user, urls)
        if parts[0] == "snippets" and len(parts) in (3, 5) and (len(parts) == 3 or parts[3] == "revisions"):
            return self._snippet(parts[1], parts[2], parts[4] if len(parts) == 5 else None, user, urls)
        return _page("Not found", "<h1>Not found</h1>", 404)

    def _index(self, user: SandboxUser | None, urls: Urls) -> ApiResponse:
        items = []
        for workspace in self.directory.workspaces.values():
            member = workspace.is_member(user)
            _, records = self.store.list_snippets(workspace.slug, public_only=not member, limit=100, offset=0)
            for record in records:
                href = html.escape(urls.snippet_html(workspace.slug, record.id))
                lock = " (private)" if record.is_private else ""
                title = html.escape(record.title or "Untitled snippet")
                items.append(f"<li><a href='{href}'>{title}</a> <span class='meta'>{workspace.slug}{lock}</span></li>")
        listing = "<ul>" + "".join(items) + "</ul>" if items else "<p>No snippets yet.</p>"
        body = (
            "<h1>Snippet sandbox</h1>"
            f"<p class='meta'>API: <code>{html.escape(urls.api)}</code>. Private snippets appear once you log in "
            "with your sandbox email and API token.</p>" + listing
        )
        return _page("Snippet sandbox", body)

    def _snippet(
        self, ws_selector: str, snippet_id: str, revision: str | None, user: SandboxUser | None, urls: Urls
    ) -> ApiResponse:
        workspace = self.directory.workspace(ws_selector)
        record = self.store.get_snippet(workspace.slug, snippet_id) if workspace else None
        if workspace is None or record is None:
            return _page("Not found", "<h1>Snippet not found</h1>", 404)
        if record.is_private and not workspace.is_member(user):
            if user is None:
                return _page(
                    "Log in",
                    "<h1>This snippet is private</h1><p>Log in with your sandbox email and API token.</p>",
                    401,
                    [("WWW-Authenticate", 'Basic realm="Snippet sandbox", charset="UTF-8"')],
                )
            return _page("Not found", "<h1>Snippet not found</h1>", 404)
        history = self.store.git.history(record.head)
        sha = record.head
        if revision is not None:
            matches = [info.sha for info in history if info.sha.startswith(revision.lower())]
            if len(matches) != 1 or len(revision) < 7:
                return _page("Not found", "<h1>Revision not found</h1>", 404)
            sha = matches[0]
        return _page(record.title or "Untitled snippet", self._snippet_body(record, sha, history, urls))

    def _snippet_body(self, record: SnippetRecord, sha: str, history: list[CommitInfo], urls: Urls) -> str:
        ws, sid = record.workspace, record.id
        creator = self.directory.user(record.creator)
        out = [
            f"<h1>{html.escape(record.title or 'Untitled snippet')}</h1>",
            f"<p class='meta'>{html.escape(ws)}/{html.escape(sid)} · "
            f"{'private' if record.is_private else 'public'} · created by "
            f"{html.escape(creator.display_name if creator else record.creator)} · updated {record.updated_on}"
            f"{'' if sha == record.head else f' · viewing revision {sha[:12]}'}</p>",
        ]
        for name, blob in self.store.git.files(sha).items():
            content = self.store.git.blob(blob)
            anchor = html.escape("file-" + name, quote=True)
            out.append(f"<h2 id='{anchor}'>{html.escape(name)}</h2>")
            if is_text(content):
                out.append(f"<pre>{html.escape(content.decode('utf-8'))}</pre>")
            else:
                out.append(f"<p class='meta'>Binary file, {len(content)} bytes.</p>")
        out.append("<h2>Revisions</h2><ul>")
        for info in history:
            href = html.escape(urls.revision_html(ws, sid, info.sha))
            out.append(
                f"<li><a href='{href}'><code>{info.sha[:12]}</code></a> {html.escape(info.message.strip())}"
                f" <span class='meta'>{html.escape(info.author_name)}</span></li>"
            )
        out.append("</ul><h2>Comments</h2>")
        _, comments = self.store.list_comments(sid, limit=1000, offset=0)
        for comment in comments:
            author = self.directory.user(comment.author)
            reply = ""
            if comment.parent_id:
                reply = f" in reply to <a href='#comment-{comment.parent_id}'>#{comment.parent_id}</a>"
            text = "<em>deleted</em>" if comment.deleted else html.escape(comment.raw).replace("\n", "<br>")
            out.append(
                f"<div class='comment' id='comment-{comment.id}'><p class='meta'>"
                f"{html.escape(author.display_name if author else comment.author)} · {comment.created_on}{reply}</p>"
                f"<p>{text}</p></div>"
            )
        if not comments:
            out.append("<p class='meta'>No comments.</p>")
        out.append(f"<p class='meta'>API: <code>{html.escape(urls.snippet(ws, sid))}</code></p>")
        return "".join(out)
