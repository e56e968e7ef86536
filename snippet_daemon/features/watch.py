"""Watching snippets: ``bbsnippets.watch`` / ``unwatch`` / ``watchStatus`` / ``watchers``.

The poller behind ``bbsnippets/didChange`` is a service, :mod:`snippet_daemon.watcher`
(``ls.watcher``); these handlers tell it what is watched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from snippet_daemon import protocol

if TYPE_CHECKING:
    from snippet_daemon.features.common import Handler
    from snippet_daemon.server import SnippetServer


def _result(watching: bool, problem: str | None) -> protocol.WatchResult:
    if problem is None:
        return protocol.WatchResult(watching=watching)
    return protocol.WatchResult(
        watching=watching,
        saved=False,
        message=f"Bitbucket has it, but this computer could not remember it: {problem}. Notifications about it "
        "stop when the editor restarts; check that folder's permissions and free space.",
    )


async def watch(ls: SnippetServer, params: protocol.SnippetRef) -> protocol.WatchResult:
    client = ls.client()
    await ls.watcher.load()
    await client.watch(params.workspace, params.id)
    await ls.watcher.baseline(client, params.workspace, params.id)
    return _result(True, ls.watcher.remember(params.workspace, params.id, True))


async def unwatch(ls: SnippetServer, params: protocol.SnippetRef) -> protocol.WatchResult:
    await ls.watcher.load()
    await ls.client().unwatch(params.workspace, params.id)
    ls.watcher.forget(params.workspace, params.id, remembered=False)  # watching again starts from what is there then
    return _result(False, ls.watcher.remember(params.workspace, params.id, False))


async def watch_status(ls: SnippetServer, params: protocol.SnippetRef) -> protocol.WatchResult:
    await ls.watcher.load()
    watching = await ls.client().is_watching(params.workspace, params.id)
    if watching:
        ls.watcher.adopt(params.workspace, params.id)  # watched on Bitbucket (perhaps from the web): watch here too
    else:
        ls.watcher.forget(params.workspace, params.id)
    return protocol.WatchResult(watching=watching)


async def watchers(ls: SnippetServer, params: protocol.SnippetRef) -> protocol.WatchersResult:
    accounts = await ls.client().list_watchers(params.workspace, params.id)
    return protocol.WatchersResult(
        watchers=[protocol.WatcherInfo(display_name=account.display_name, uuid=account.uuid) for account in accounts]
    )


HANDLERS: dict[str, Handler] = {
    protocol.WATCH: watch,
    protocol.UNWATCH: unwatch,
    protocol.WATCH_STATUS: watch_status,
    protocol.WATCHERS: watchers,
}
