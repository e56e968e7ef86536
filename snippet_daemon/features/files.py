"""The virtual file system over ``bbsnippet://`` URIs, modelled on VS Code's FileSystemProvider.

``bbsnippets/stat | readDirectory | readFile`` are served from the snippet cache (one request
fills it for every file of a snippet). ``writeFile | delete | rename`` go through the one write
path in :mod:`snippet_daemon.documents`: a compare-and-swap at the revisions the client read the
files at, one PUT per batch, nothing when nothing changed; deleting a snippet URI deletes the
snippet there too. A file name may contain ``/``; its leading parts then appear as directories.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping
from typing import TYPE_CHECKING, Literal

from snippet_daemon import protocol, uri
from snippet_daemon.documents import CachedSnippet, Changes
from snippet_daemon.features.common import (
    check_file_name,
    decode_content,
    encode_content,
    milliseconds,
    refuse_secrets,
)
from snippet_daemon.protocol import ErrorKind, ProtocolError

if TYPE_CHECKING:
    from snippet_daemon.features.common import Handler
    from snippet_daemon.server import SnippetServer
    from snippet_daemon.uri import SnippetUri

FILE: Literal["file"] = "file"
DIRECTORY: Literal["directory"] = "directory"


async def _entry(ls: SnippetServer, target: SnippetUri) -> CachedSnippet:
    if target.revision:
        return await ls.documents.at_revision(target.workspace, target.snippet_id, target.revision)
    return await ls.documents.head(target.workspace, target.snippet_id)


def _under(entry: CachedSnippet, directory: str) -> list[str]:
    """File names inside ``directory`` (``""`` = the snippet itself)."""
    return _under_names(entry.files, directory)


def _under_names(files: Iterable[str], directory: str) -> list[str]:
    prefix = f"{directory}/" if directory else ""
    return [name for name in files if name.startswith(prefix)]


def _not_found(target: SnippetUri) -> ProtocolError:
    return ProtocolError(ErrorKind.NOT_FOUND, f"{target} does not exist (it may have been renamed or deleted).")


def _check_parents(files: Mapping[str, bytes], target: SnippetUri, path: str, gone: Iterable[str] = ()) -> None:
    """A file cannot also be a directory: ``a.txt/b`` next to the file ``a.txt`` is refused here, not by Bitbucket."""
    parts = path.split("/")
    for end in range(1, len(parts)):
        parent = "/".join(parts[:end])
        if parent in files and parent not in gone:
            raise ProtocolError(
                ErrorKind.INVALID_ARGUMENT, f"{target}: {parent} is a file in this snippet, so it cannot hold files."
            )


async def stat(ls: SnippetServer, params: protocol.StatParams) -> protocol.StatResult:
    """From the cache; with ``fresh`` (a save is coming) a copy older than STAT_FRESH_SECONDS (0) is read again first.

    ``stale`` tells the client that another writer changed the file since it read it, so that the editor's
    own "file is newer" check (VS Code: Compare / Overwrite) answers before any write is sent.
    """
    target = uri.parse(params.uri)
    if target.is_workspace:
        return protocol.StatResult(type=DIRECTORY, size=0, mtime=0, readonly=target.readonly)
    if params.fresh and target.is_file and not target.revision:
        entry = await ls.documents.head_for_write(target.workspace, target.snippet_id)
    else:
        entry = await _entry(ls, target)
    mtime = milliseconds(entry.snippet.updated_on)
    if target.is_snippet:
        return protocol.StatResult(type=DIRECTORY, size=len(entry.files), mtime=mtime, readonly=target.readonly)
    data = entry.files.get(target.file_path)
    if data is not None:
        stale = not target.revision and ls.documents.behind(target.workspace, target.snippet_id, target.file_path)
        return protocol.StatResult(type=FILE, size=len(data), mtime=mtime, readonly=target.readonly, stale=stale)
    if _under(entry, target.file_path):
        return protocol.StatResult(type=DIRECTORY, size=0, mtime=mtime, readonly=target.readonly)
    raise _not_found(target)


async def read_directory(ls: SnippetServer, params: protocol.UriParams) -> protocol.ReadDirectoryResult:
    target = uri.parse(params.uri)
    if target.is_workspace:
        snippets = await ls.client().list_snippets(target.workspace)
        return protocol.ReadDirectoryResult(
            entries=[protocol.DirectoryEntry(name=snippet.id, type=DIRECTORY) for snippet in snippets]
        )
    entry = await _entry(ls, target)
    directory = target.path or ""
    names = _under(entry, directory)
    if directory and not names:
        raise (
            _not_found(target)
            if directory not in entry.files
            else ProtocolError(ErrorKind.INVALID_ARGUMENT, f"{target} is a file, not a directory.")
        )
    children: dict[str, Literal["file", "directory"]] = {}
    for name in names:
        rest = name[len(directory) + 1 :] if directory else name
        head, _, tail = rest.partition("/")
        children[head] = DIRECTORY if tail else children.get(head, FILE)
    return protocol.ReadDirectoryResult(
        entries=[protocol.DirectoryEntry(name=name, type=kind) for name, kind in sorted(children.items())]
    )


async def read_file(ls: SnippetServer, params: protocol.UriParams) -> protocol.ReadFileResult:
    target = uri.parse(params.uri)
    if not target.is_file:
        raise ProtocolError(ErrorKind.INVALID_ARGUMENT, f"{target} is a directory; readDirectory lists it.")
    entry = await _entry(ls, target)
    data = entry.files.get(target.file_path)
    if data is None:
        if _under(entry, target.file_path):
            raise ProtocolError(ErrorKind.INVALID_ARGUMENT, f"{target} is a directory; readDirectory lists it.")
        raise _not_found(target)
    if not target.revision:
        ls.documents.remember_read(target.workspace, target.snippet_id, target.file_path, entry.revision)
    return encode_content(data, entry.revision)


def _writable(target: SnippetUri, action: str) -> None:
    if target.readonly:
        raise ProtocolError(
            ErrorKind.READ_ONLY,
            f"{target} is an old revision and cannot be changed; {action} the file at HEAD "
            "(the same URI without ?rev=).",
        )
    if not target.is_file:
        raise ProtocolError(ErrorKind.INVALID_ARGUMENT, f"{target} is not a file URI (bbsnippet://WS/ID/PATH).")


def _queue_save(
    ls: SnippetServer,
    target: SnippetUri,
    entry: CachedSnippet,
    changes: Changes,
    *,
    force: bool,
    allow_secrets: bool,
    moving: frozenset[str] = frozenset(),
) -> Awaitable[str | None]:
    if not entry.snippet.is_private:
        refuse_secrets({name: data for name, data in changes.items() if data is not None}, allow_secrets=allow_secrets)
    return ls.documents.enqueue(target.workspace, target.snippet_id, changes, force=force, moving=moving)


# Each write below holds the snippet's intake from its first line until it is queued, and checks against the
# files as they will be once the writes received before it land: writes take effect in the order received.


async def write_file(ls: SnippetServer, params: protocol.WriteFileParams) -> protocol.WriteFileResult:
    target = uri.parse(params.uri)
    _writable(target, "save")
    path = target.file_path
    check_file_name(path)
    data = decode_content(protocol.WRITE_FILE, params.text, params.base64)
    async with ls.documents.intake(target.workspace, target.snippet_id):
        entry = await ls.documents.head(target.workspace, target.snippet_id)
        files = ls.documents.expected_files(target.workspace, target.snippet_id, entry)
        exists = path in files
        if not exists and not params.create:
            raise _not_found(target)
        if exists and not params.overwrite:
            raise ProtocolError(ErrorKind.FILE_EXISTS, f"{target} already exists; pass overwrite: true to replace it.")
        if not exists and _under_names(files, path):
            raise ProtocolError(ErrorKind.FILE_EXISTS, f"{target} is a directory of files in this snippet.")
        if not exists:
            _check_parents(files, target, path)
        saved = _queue_save(ls, target, entry, {path: data}, force=params.force, allow_secrets=params.allow_secrets)
    return protocol.WriteFileResult(revision=await saved)


async def delete(ls: SnippetServer, params: protocol.DeleteParams) -> protocol.Empty:
    target = uri.parse(params.uri)
    if target.is_snippet and not target.readonly:
        await ls.documents.delete_snippet(target.workspace, target.snippet_id)
        return protocol.Empty()
    _writable(target, "delete")
    async with ls.documents.intake(target.workspace, target.snippet_id):
        entry = await ls.documents.head(target.workspace, target.snippet_id)
        files = ls.documents.expected_files(target.workspace, target.snippet_id, entry)
        path = target.file_path
        names = [path] if path in files else _under_names(files, path)
        if not names:
            raise _not_found(target)
        if len(names) > 1 and not params.recursive:
            raise ProtocolError(ErrorKind.INVALID_ARGUMENT, f"{target} is a directory; pass recursive: true.")
        deleted = ls.documents.enqueue(target.workspace, target.snippet_id, dict.fromkeys(names))
    await deleted
    return protocol.Empty()


async def rename(ls: SnippetServer, params: protocol.RenameParams) -> protocol.Empty:
    old, new = uri.parse(params.old_uri), uri.parse(params.new_uri)
    _writable(old, "rename")
    _writable(new, "rename")
    if (old.workspace, old.id) != (new.workspace, new.id):
        raise ProtocolError(
            ErrorKind.INVALID_ARGUMENT,
            "A file can only be renamed within its snippet; copy it (readFile + writeFile) to move it to another.",
        )
    check_file_name(new.file_path)
    async with ls.documents.intake(old.workspace, old.snippet_id):
        entry = await ls.documents.head(old.workspace, old.snippet_id)
        # The bytes to move are those the saves received before this rename leave, landed or on their way.
        files = ls.documents.expected_files(old.workspace, old.snippet_id, entry)
        if old.file_path in files:
            moves = {old.file_path: new.file_path}
        else:
            moves = {name: new.file_path + name[len(old.file_path) :] for name in _under_names(files, old.file_path)}
        if not moves:
            raise _not_found(old)
        for destination in moves.values():
            _check_parents(files, new, destination, gone=moves.keys())
        clashes = [target for target in moves.values() if target in files and target not in moves]
        if clashes and not params.overwrite:
            raise ProtocolError(ErrorKind.FILE_EXISTS, f"{new} already exists; pass overwrite: true to replace it.")
        changes: Changes = dict.fromkeys(moves)
        for source, destination in moves.items():
            changes[destination] = files[source]
        renamed = _queue_save(ls, old, entry, changes, force=False, allow_secrets=True, moving=frozenset(moves))
    await renamed
    return protocol.Empty()


HANDLERS: dict[str, Handler] = {
    protocol.STAT: stat,
    protocol.READ_DIRECTORY: read_directory,
    protocol.READ_FILE: read_file,
    protocol.WRITE_FILE: write_file,
    protocol.DELETE_FILE: delete,
    protocol.RENAME: rename,
}
