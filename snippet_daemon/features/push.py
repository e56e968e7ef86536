"""``bbsnippets.link`` / ``status`` / ``push`` / ``links`` / ``unlink``: a local folder (or file) tied to a
snippet, and sent back.

The link itself (what is tracked, at which revision, the store in the daemon's data folder) is
:mod:`snippet_daemon.links`, shared with the command line. Requests: ``link`` reads HEAD from the cache or
once; ``status`` reads HEAD once, or not at all when the watcher keeps the cached copy current (polling on);
``push`` is ONE compare-and-swap PUT at the linked revision (+1 GET only after a lost answer, or to name the
revision that won a conflict), none when nothing changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from snippet_daemon import links, protocol
from snippet_daemon.features.common import refuse_secrets
from snippet_daemon.protocol import ErrorKind, ProtocolError

if TYPE_CHECKING:
    from snippet_daemon.features.common import Handler
    from snippet_daemon.server import SnippetServer

log = logging.getLogger("snippet_daemon.push")


@contextmanager
def user_errors() -> Iterator[None]:
    """A link that cannot be made or used, as the protocol error it names."""
    try:
        yield
    except links.LinkError as error:
        raise ProtocolError(error.kind, str(error)) from None


async def link_store(ls: SnippetServer) -> links.LinkStore:
    """The links of the signed-in account (no request with an API token; an OAuth token's account is read once)."""
    client = ls.client()
    nickname = ls.personal_workspace
    if not (client.credentials and client.credentials.username) and nickname is None:
        ls.workspace_for(await client.current_user_if_readable())
        nickname = ls.personal_workspace
    return await links.store_for_client(client, ls.env, nickname)


async def optional_link_store(ls: SnippetServer) -> links.LinkStore | None:
    """For pull: the links, or ``None`` (the pull goes on unlinked) when the account cannot be read."""
    from snippet_daemon.bitbucket import BitbucketError

    try:
        return await link_store(ls)
    except BitbucketError as error:
        log.warning("the pulled folder is not linked: the account could not be read (%s)", error)
        return None


def status_result(link: links.Link, remote_revision: str | None) -> protocol.StatusResult:
    return protocol.StatusResult(
        workspace=link.workspace,
        id=link.id,
        revision=link.revision,
        files=[
            protocol.TrackedFile(name=tracked.name, path=str(tracked.path), state=tracked.state)
            for tracked in links.local_states(link)
        ],
        remote_revision=remote_revision if remote_revision and remote_revision != link.revision else None,
        folder=link.target,
    )


async def link(ls: SnippetServer, params: protocol.LinkParams) -> protocol.StatusResult:
    with user_errors():
        target = links.canonical(links.check_absolute(params.folder))
        store = await link_store(ls)
        entry = await ls.documents.head(params.workspace, params.id)  # just shared: cached, no request
        if entry.revision is None:
            raise ProtocolError(
                ErrorKind.SERVER, f"Bitbucket did not say which revision {params.workspace}/{params.id} is at."
            )
        made = await asyncio.to_thread(
            links.link_folder, params.workspace, params.id, entry.revision, target, entry.files
        )
        made.private = entry.snippet.is_private
        await asyncio.to_thread(store.put, made)
        return await asyncio.to_thread(status_result, made, None)


async def status(ls: SnippetServer, params: protocol.FolderParams) -> protocol.StatusResult:
    with user_errors():
        found = (await link_store(ls)).find(links.canonical(links.check_absolute(params.folder)))
        cached = ls.documents.cached(found.workspace, found.id)
        if cached is not None and ls.options.poll_interval_seconds > 0:
            remote = cached.revision  # the watcher keeps a cached snippet current: no request
        else:
            remote = (await ls.documents.head(found.workspace, found.id, refresh=True)).revision
        return await asyncio.to_thread(status_result, found, remote)


async def push(ls: SnippetServer, params: protocol.PushParams) -> protocol.PushResult:
    from snippet_daemon.bitbucket import Conflict

    with user_errors():
        store = await link_store(ls)
        found = store.find(links.canonical(links.check_absolute(params.folder)))
        plan = await asyncio.to_thread(links.plan_push, found, params.add)
    if not plan.changes:
        return protocol.PushResult(revision=found.revision, files=[])
    cached = ls.documents.cached(found.workspace, found.id)
    if found.private is False or (cached is not None and not cached.snippet.is_private):
        sent = {name: data for name, data in plan.changes.items() if data is not None}
        refuse_secrets(sent, allow_secrets=params.allow_secrets)
    try:
        snippet = await ls.documents.write_at(
            found.workspace,
            found.id,
            plan.changes,
            at_revision=None if params.force else found.revision,
            digests_after=plan.digests_after,
        )
    except Conflict as conflict:
        raise ProtocolError(
            ErrorKind.CONFLICT,
            f"Snippet {found.workspace}/{found.id} changed on Bitbucket since {found.target} was linked at "
            f"{found.revision[:12]}: nothing was sent, and your files are as they were. Pull it into another folder "
            "to compare, or push with force to replace what is there.",
            protocol.ConflictData(remote_revision=conflict.remote_revision),
        ) from None
    revision = snippet.revision or found.revision
    await asyncio.to_thread(store.put, links.after_push(found, revision, plan))
    return protocol.PushResult(
        revision=revision,
        files=[
            protocol.PushedFile(name=name, status="deleted" if data is None else "sent")
            for name, data in sorted(plan.changes.items())
        ],
    )


async def list_links(ls: SnippetServer, params: protocol.LinksParams) -> protocol.LinksResult:
    with user_errors():
        under = links.check_absolute(params.under, "under") if params.under is not None else None
        store = await link_store(ls)
    return protocol.LinksResult(
        links=[
            protocol.LinkInfo(
                folder=item.target, workspace=item.workspace, id=item.id, revision=item.revision, file=item.file
            )
            for item in await asyncio.to_thread(store.links, under)
        ]
    )


async def unlink(ls: SnippetServer, params: protocol.FolderParams) -> protocol.UnlinkResult:
    with user_errors():
        target = links.check_absolute(params.folder)
        store = await link_store(ls)
    return protocol.UnlinkResult(unlinked=await asyncio.to_thread(store.remove, target))


HANDLERS: dict[str, Handler] = {
    protocol.LINK: link,
    protocol.STATUS: status,
    protocol.PUSH: push,
    protocol.LINKS: list_links,
    protocol.UNLINK: unlink,
}
