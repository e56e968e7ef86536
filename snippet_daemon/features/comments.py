"""``bbsnippets.comments.*``: list, add (optionally on a file line), edit, delete.

Line anchors are Markdown links at the start of the body (see :mod:`snippet_daemon.anchors`);
results give the body without the link, plus ``path`` and ``line``. Editing keeps the anchor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from snippet_daemon import anchors, protocol
from snippet_daemon.protocol import ErrorKind, ProtocolError

if TYPE_CHECKING:
    from snippet_daemon.bitbucket import Comment
    from snippet_daemon.features.common import Handler
    from snippet_daemon.server import SnippetServer


def comment_info(comment: Comment) -> protocol.CommentInfo:
    anchor = anchors.parse(comment.raw)
    return protocol.CommentInfo(
        id=comment.id,
        parent_id=comment.parent_id,
        author=comment.author.display_name if comment.author else None,
        created_on=comment.created_on,
        updated_on=comment.updated_on,
        raw=anchor.body if anchor else comment.raw,
        html=comment.html,
        path=anchor.path if anchor else None,
        line=anchor.line if anchor else None,
    )


async def list_comments(ls: SnippetServer, params: protocol.SnippetRef) -> protocol.CommentsResult:
    comments = await ls.client().list_comments(params.workspace, params.id)
    ls.watcher.saw_comments(params.workspace, params.id, comments)
    # Deleted comments are left out, unless a reply hangs off one: then it stays, empty, to keep the thread.
    parents = {comment.parent_id for comment in comments if not comment.deleted}
    kept: list[protocol.CommentInfo] = []
    for comment in comments:
        if not comment.deleted:
            kept.append(comment_info(comment))
        elif comment.id in parents:
            info = comment_info(comment)
            info.raw, info.html, info.path, info.line, info.deleted = "", "", None, None, True
            kept.append(info)
    return protocol.CommentsResult(comments=kept)


async def _html_url(ls: SnippetServer, workspace: str, snippet_id: str, path: str) -> str:
    """The snippet's web page, checking that ``path`` is one of its files (no request when cached)."""
    cached = ls.documents.cached(workspace, snippet_id)
    if cached is not None:
        snippet, names = cached.snippet, set(cached.files)
    else:
        snippet = await ls.client().get_snippet(workspace, snippet_id)
        names = set(snippet.file_names)
    if path not in names:
        raise ProtocolError(ErrorKind.INVALID_ARGUMENT, f"{workspace}/{snippet_id} has no file {path!r} to comment on.")
    return snippet.html_url or f"https://bitbucket.org/snippets/{workspace}/{snippet_id}"


async def add(ls: SnippetServer, params: protocol.CommentAddParams) -> protocol.CommentInfo:
    if not params.raw.strip():
        raise ProtocolError(ErrorKind.INVALID_ARGUMENT, "bbsnippets.comments.add: raw (the comment) is empty.")
    raw = params.raw
    if params.path is not None or params.line is not None:
        if params.path is None or params.line is None or params.line < 1:
            raise ProtocolError(
                ErrorKind.INVALID_ARGUMENT, "bbsnippets.comments.add: give both path and line (from 1), or neither."
            )
        html_url = await _html_url(ls, params.workspace, params.id, params.path)
        raw = anchors.anchored(html_url, params.path, params.line, raw)
    comment = await ls.documents.add_comment(params.workspace, params.id, raw, parent_id=params.parent_id)
    return comment_info(comment)


async def edit(ls: SnippetServer, params: protocol.CommentEditParams) -> protocol.CommentInfo:
    if not params.raw.strip():
        raise ProtocolError(
            ErrorKind.INVALID_ARGUMENT,
            "bbsnippets.comments.edit: raw (the comment) is empty; use bbsnippets.comments.delete to remove it.",
        )
    current = await ls.client().get_comment(params.workspace, params.id, params.comment_id)
    anchor = anchors.parse(current.raw)
    raw = params.raw
    if anchor is not None and anchors.parse(raw) is None:
        link = current.raw[: len(current.raw) - len(anchor.body)].rstrip()
        raw = f"{link}\n\n{raw}"
    comment = await ls.documents.edit_comment(params.workspace, params.id, params.comment_id, raw)
    return comment_info(comment)


async def delete(ls: SnippetServer, params: protocol.CommentDeleteParams) -> protocol.Deleted:
    await ls.documents.delete_comment(params.workspace, params.id, params.comment_id)
    return protocol.Deleted()


HANDLERS: dict[str, Handler] = {
    protocol.COMMENTS_LIST: list_comments,
    protocol.COMMENTS_ADD: add,
    protocol.COMMENTS_EDIT: edit,
    protocol.COMMENTS_DELETE: delete,
}
