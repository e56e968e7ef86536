"""``bbsnippets.pull``: a snippet's files into a folder the user chose, byte-exact, and nowhere else.

The same rules as ``snippet-daemon pull`` (:mod:`snippet_daemon.folder_writer`): unsafe names are refused,
a different existing file is kept unless ``overwrite``, a file the OS refuses fails alone; each file is
reported in ``files`` with its status, so a client can offer to overwrite exactly the ``exists`` ones.
The folder is then linked to the snippet at the revision pulled (:func:`snippet_daemon.links.pull_and_link`,
as the command line does), so ``bbsnippets.status`` and ``bbsnippets.push`` work on it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from snippet_daemon import protocol
from snippet_daemon.protocol import ErrorKind, ProtocolError

if TYPE_CHECKING:
    from snippet_daemon.features.common import Handler
    from snippet_daemon.server import SnippetServer


async def pull(ls: SnippetServer, params: protocol.PullParams) -> protocol.PullResult:
    from snippet_daemon.features.push import optional_link_store
    from snippet_daemon.links import pull_and_link

    target = Path(params.target_dir).expanduser()
    if not target.is_absolute():
        raise ProtocolError(
            ErrorKind.INVALID_ARGUMENT,
            f"targetDir must be an absolute path (got {params.target_dir!r}): the daemon's own folder is not yours.",
        )
    if target.exists() and not target.is_dir():
        raise ProtocolError(ErrorKind.INVALID_ARGUMENT, f"{target} exists and is not a folder.")
    async with ls.work_done(f"Pulling {params.workspace}/{params.id}") as progress:
        progress("downloading", 0)
        if params.revision:
            entry = await ls.documents.at_revision(params.workspace, params.id, params.revision)
        else:
            entry = await ls.documents.head(params.workspace, params.id, refresh=True)
        progress(f"writing {len(entry.files)} files", 50)
        store = await optional_link_store(ls)
        report = await asyncio.to_thread(
            pull_and_link,
            store,
            params.workspace,
            params.id,
            entry.revision,
            entry.files,
            target,
            overwrite=params.overwrite,
            private=entry.snippet.is_private,
        )
        progress("done", 100)
    return protocol.PullResult(
        written=[str(outcome.path) for outcome in report.files if outcome.status == "written"],
        skipped=sorted(report.not_written),
        unchanged=[str(outcome.path) for outcome in report.files if outcome.status == "unchanged"],
        reasons=report.not_written,
        files=[
            protocol.PullFile(
                name=outcome.name,
                status=outcome.status,
                path=str(outcome.path) if outcome.path else None,
                kind=outcome.kind,
                message=outcome.message,
            )
            for outcome in sorted(report.files, key=lambda outcome: outcome.name)
        ],
    )


HANDLERS: dict[str, Handler] = {
    protocol.PULL: pull,
}
