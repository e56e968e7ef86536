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


def _target(params: protocol.PullParams) -> Path:
    """``targetDir`` exactly; else ``{baseDir}/{id}``, the CLI's rule
    (:func:`snippet_daemon.folder_writer.default_target`)."""
    from snippet_daemon.folder_writer import default_target
    from snippet_daemon.names import UnsafePath

    if (params.target_dir is None) == (params.base_dir is None):
        raise ProtocolError(
            ErrorKind.INVALID_ARGUMENT,
            "bbsnippets.pull takes targetDir (the folder, used as it is) or baseDir (the files go to baseDir/ID): "
            "one of them.",
        )
    given, name = (params.target_dir, "targetDir") if params.target_dir is not None else (params.base_dir, "baseDir")
    folder = Path(given or "").expanduser()
    if not folder.is_absolute():
        raise ProtocolError(
            ErrorKind.INVALID_ARGUMENT,
            f"{name} must be an absolute path (got {given!r}): the daemon's own folder is not yours.",
        )
    if params.target_dir is not None:
        return folder
    try:
        return default_target(folder, params.id)
    except UnsafePath as error:
        raise ProtocolError(ErrorKind.UNSAFE_PATH, f"A snippet id that cannot be a folder's name: {error}.") from None


async def pull(ls: SnippetServer, params: protocol.PullParams) -> protocol.PullResult:
    from snippet_daemon.features.push import optional_link_store
    from snippet_daemon.links import pull_and_link

    target = _target(params)
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
        target_dir=str(target),
    )


HANDLERS: dict[str, Handler] = {
    protocol.PULL: pull,
}
