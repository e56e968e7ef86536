"""``bbsnippets.pull``: a snippet's files into a folder the user chose, byte-exact, and nowhere else.

The same rules as ``snippet-daemon pull`` (:mod:`snippet_daemon.pull`): unsafe names are refused,
a different existing file is kept unless ``overwrite``; each file is reported.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from snippet_daemon import protocol
from snippet_daemon.protocol import ErrorKind, ProtocolError

if TYPE_CHECKING:
    from snippet_daemon.server import SnippetServer


async def pull(ls: SnippetServer, params: protocol.PullParams) -> protocol.PullResult:
    from snippet_daemon.pull import write_files

    target = Path(params.target_dir).expanduser()
    if not target.is_absolute():
        raise ProtocolError(
            ErrorKind.INVALID_ARGUMENT,
            f"targetDir must be an absolute path (got {params.target_dir!r}): the daemon's own folder is not yours.",
        )
    if target.exists() and not target.is_dir():
        raise ProtocolError(ErrorKind.INVALID_ARGUMENT, f"{target} exists and is not a folder.")
    async with ls.work_done(f"Pulling {params.workspace}/{params.id}") as report:
        report("downloading", 0)
        if params.revision:
            entry = await ls.documents.at_revision(params.workspace, params.id, params.revision)
        else:
            entry = await ls.documents.head(params.workspace, params.id, refresh=True)
        report(f"writing {len(entry.files)} files", 50)
        written = await asyncio.to_thread(write_files, target, entry.files, overwrite=params.overwrite)
        report("done", 100)
    reasons = {**written.skipped, **written.refused}
    return protocol.PullResult(
        written=[str(target.joinpath(*name.split("/"))) for name in written.written],
        skipped=sorted(reasons),
        unchanged=[str(target.joinpath(*name.split("/"))) for name in written.unchanged],
        reasons=reasons,
    )


def register(server: SnippetServer) -> None:
    server.snippet_command(protocol.PULL, protocol.PullParams)(pull)
