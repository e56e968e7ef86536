"""``bbsnippets.history`` (commits, newest first) and ``bbsnippets.diff`` (a revision against its parent)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from snippet_daemon import protocol

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


HANDLERS: dict[str, Handler] = {
    protocol.HISTORY: history,
    protocol.DIFF: diff,
}
