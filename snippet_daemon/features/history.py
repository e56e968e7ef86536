"""``bbsnippets.history`` (commits, newest first), ``bbsnippets.diff`` (a revision against its parent) and
``bbsnippets.restore`` (a file, or every file, as it was at a revision, as one new commit).

Restore reads the old files from the cache or once, and HEAD from the cache (once when the snippet is not
open), then writes through the one save path: ONE compare-and-swap PUT at HEAD, nothing when nothing differs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from snippet_daemon import protocol
from snippet_daemon.protocol import ErrorKind, ProtocolError

if TYPE_CHECKING:
    from snippet_daemon.features.common import Handler
    from snippet_daemon.server import SnippetServer


async def history(ls: SnippetServer, params: protocol.SnippetRef) -> protocol.HistoryResult:
    commits = await ls.client().list_commits(params.workspace, params.id)
    return protocol.HistoryResult(
        commits=[
            protocol.CommitInfo(
                hash=commit.hash,
                date=commit.date,
                author=commit.author.display_name if commit.author else commit.author_raw,
                message=commit.message,
            )
            for commit in commits
        ]
    )


async def diff(ls: SnippetServer, params: protocol.DiffParams) -> protocol.DiffResult:
    text = await ls.client().get_diff(params.workspace, params.id, params.revision, params.path)
    return protocol.DiffResult(diff=text)


async def restore(ls: SnippetServer, params: protocol.RestoreParams) -> protocol.RestoreResult:
    from snippet_daemon.bitbucket import Conflict

    async with ls.documents.intake(params.workspace, params.id):  # in order with the saves received before it
        await ls.documents.settle(params.workspace, params.id)
        head = await ls.documents.head(params.workspace, params.id)
        old = await ls.documents.at_revision(params.workspace, params.id, params.revision)
        changes = _restoring(params, head.files, old.files)
        if not changes:
            return protocol.RestoreResult(revision=head.revision, files=[])
        # An editor holding one of these files holds it as it was, not as restored (see after the write).
        held = {name: ls.documents.read_revision(params.workspace, params.id, name) for name in changes}
        written = ls.documents.enqueue(params.workspace, params.id, changes, base=head.revision)
    try:
        revision = await written
    except Conflict as conflict:
        raise ProtocolError(
            ErrorKind.CONFLICT,
            f"Snippet {params.workspace}/{params.id} changed on Bitbucket meanwhile: nothing was restored. "
            "Look at its history again, then restore.",
            protocol.ConflictData(remote_revision=conflict.remote_revision),
        ) from None
    for name, read_at in held.items():  # its next save stays a compare-and-swap there: a conflict, not a revert
        ls.documents.remember_read(params.workspace, params.id, name, read_at)
    return protocol.RestoreResult(revision=revision, files=sorted(changes))


def _restoring(
    params: protocol.RestoreParams, head: dict[str, bytes], old: dict[str, bytes]
) -> dict[str, bytes | None]:
    """What makes ``head`` hold ``old`` (one file's, or all): changed files' bytes, ``None`` for files to delete."""
    if params.path is not None:
        if params.path not in old and params.path not in head:
            raise ProtocolError(
                ErrorKind.NOT_FOUND,
                f"{params.path!r} is neither in snippet {params.workspace}/{params.id} nor in its revision "
                f"{params.revision[:12]}.",
            )
        wanted: dict[str, bytes | None] = {params.path: old.get(params.path)}  # absent then: restoring deletes it
    else:
        wanted = {**dict.fromkeys(head), **old}
    return {name: data for name, data in wanted.items() if head.get(name) != data}


HANDLERS: dict[str, Handler] = {
    protocol.HISTORY: history,
    protocol.DIFF: diff,
    protocol.RESTORE: restore,
}
