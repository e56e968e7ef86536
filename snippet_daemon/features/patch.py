"""``bbsnippets.applyPatch`` (a patch snippet applied to a local folder, all or nothing) and
``bbsnippets.shareDiff`` (a git repository's changes shared as a patch snippet).

Reading and applying patches and making one with git is :mod:`snippet_daemon.patches`, shared with the
command line (``apply``, ``share --diff``). ``applyPatch`` reads the snippet from the cache or once (at most
1 request); ``shareDiff`` is one create (POST), secret-scanned and private by default, as ``bbsnippets.create``.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import TYPE_CHECKING

from snippet_daemon import links, patches, protocol
from snippet_daemon.protocol import ErrorKind, ProtocolError

if TYPE_CHECKING:
    from snippet_daemon.features.common import Handler
    from snippet_daemon.server import SnippetServer


def _folder(given: str) -> Path:
    try:
        folder = links.check_absolute(given)
    except links.LinkError as error:
        raise ProtocolError(error.kind, str(error)) from None
    if not folder.is_dir():
        raise ProtocolError(ErrorKind.INVALID_ARGUMENT, f"{folder} is not a folder: name the folder to apply it in.")
    return folder


def patch_result(report: patches.PatchReport) -> protocol.ApplyPatchResult:
    return protocol.ApplyPatchResult(
        applied=report.applied,
        files=[
            protocol.PatchedFile(
                path=str(outcome.path) if outcome.path is not None else outcome.name,
                status=outcome.status,
                kind=outcome.kind,
                message=outcome.message,
                name=outcome.name,
            )
            for outcome in report.files
        ],
    )


async def apply_patch(ls: SnippetServer, params: protocol.ApplyPatchParams) -> protocol.ApplyPatchResult:
    folder = _folder(params.folder)
    entry = await ls.documents.head(params.workspace, params.id)
    try:
        name = patches.choose_patch_file(entry.files, params.path, f"Snippet {params.workspace}/{params.id}")
        report = await asyncio.to_thread(patches.apply_patch, folder, entry.files[name], dry_run=params.dry_run)
    except patches.PatchError as error:
        raise ProtocolError(ErrorKind.INVALID_ARGUMENT, str(error)) from None
    return patch_result(report)


async def share_diff(ls: SnippetServer, params: protocol.ShareDiffParams) -> protocol.ShareDiffResult:
    from snippet_daemon.features.snippets import create

    folder = _folder(params.folder)
    try:
        shared = await asyncio.to_thread(
            patches.git_diff, folder, staged=params.staged, include_untracked=params.include_untracked
        )
    except patches.GitError as error:
        raise ProtocolError(ErrorKind.INVALID_ARGUMENT, str(error)) from None
    if not shared.files:
        raise ProtocolError(ErrorKind.INVALID_ARGUMENT, patches.nothing_to_share(shared, staged=params.staged))
    name = patches.patch_name(shared)
    created = await create(
        ls,
        protocol.CreateParams(
            files=[protocol.FileInput(name=name, base64=base64.b64encode(shared.patch).decode("ascii"))],
            workspace=params.workspace,
            title=params.title if params.title is not None else patches.patch_title(shared, staged=params.staged),
            is_private=params.is_private,
            allow_secrets=params.allow_secrets,
        ),
    )
    return protocol.ShareDiffResult(
        workspace=created.workspace,
        id=created.id,
        title=created.title,
        is_private=created.is_private,
        html_url=created.html_url,
        uri=created.uri,
        name=name,
        files=shared.files,
        left_out=[protocol.LeftOutFile(name=item.name, reason=item.reason) for item in shared.left_out],
    )


HANDLERS: dict[str, Handler] = {
    protocol.APPLY_PATCH: apply_patch,
    protocol.SHARE_DIFF: share_diff,
}
