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

    head = await ls.documents.head(params.workspace, params.id)
    old = await ls.documents.at_revision(params.workspace, params.id, params.revision)
    if params.path is not None:
        if params.path not in old.files and params.path not in head.files:
            raise ProtocolError(
                ErrorKind.NOT_FOUND,
                f"{params.path!r} is neither in snippet {params.workspace}/{params.id} nor in its revision "
                f"{params.revision[:12]}.",
            )
        wanted = {params.path: old.files.get(params.path)}  # absent then: restoring it deletes it
    else:
        wanted = {**{name: None for name in head.files}, **old.files}
    changes = {name: data for name, data in wanted.items() if head.files.get(name) != data}
    if not changes:
        return protocol.RestoreResult(revision=head.revision, files=[])
    try:
        revision = await ls.documents.write(params.workspace, params.id, changes, base=head.revision)
    except Conflict as conflict:
        raise ProtocolError(
            ErrorKind.CONFLICT,
            f"Snippet {params.workspace}/{params.id} changed on Bitbucket meanwhile: nothing was restored. "
            "Look at its history again, then restore.",
            protocol.ConflictData(remote_revision=conflict.remote_revision),
        ) from None
    return protocol.RestoreResult(revision=revision, files=sorted(changes))


HANDLERS: dict[str, Handler] = {
    protocol.HISTORY: history,
    protocol.DIFF: diff,
    protocol.RESTORE: restore,
}
