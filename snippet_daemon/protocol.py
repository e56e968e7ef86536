"""The daemon's custom LSP protocol: every method name, parameter and result type, in one place.

This module is the single source of truth for the contract documented in ``docs/protocol.md``;
``editors/vscode/src/protocol.ts`` and ``editors/nvim/lua/bbsnippets/protocol.lua`` are generated from it
by ``scripts/gen_protocol.py``, comments and order included (``tests/test_contract.py`` regenerates and
compares). Names are fixed once published: add, never rename. Sections: names, errors (kinds, codes, typed
``data``), settings, command parameters, request parameters, results, and :data:`METHODS`, the table that binds
each method's name, kind, params and result types and feature (as rust-analyzer's ``lsp/ext.rs`` does); the
server registers its handlers and ``executeCommandProvider`` from it.

On the wire everything is camelCase (``snippetId``, ``isPrivate``); in Python the attrs fields
are snake_case. :func:`structure` turns a client's JSON into one of the parameter classes (a
wrong or missing argument becomes :class:`ProtocolError` ``invalidArgument`` naming it), and
:func:`unstructure` turns a result into JSON, leaving out fields that are ``None``.
"""

from __future__ import annotations

import enum
import re
from typing import Any, Literal, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

# Part of the contract; defined apart so that bitbucket/ can use it without importing this module.
from snippet_daemon.error_kinds import ErrorKind as ErrorKind

# --------------------------------------------------------------------------- names

URI_SCHEME = "bbsnippet"

# Commands (``workspace/executeCommand`` with one object argument).
CREATE = "bbsnippets.create"
LIST = "bbsnippets.list"
OPEN = "bbsnippets.open"
UPDATE = "bbsnippets.update"
DELETE = "bbsnippets.delete"
DUPLICATE = "bbsnippets.duplicate"
WORKSPACES = "bbsnippets.workspaces"
COMMENTS_LIST = "bbsnippets.comments.list"
COMMENTS_ADD = "bbsnippets.comments.add"
COMMENTS_EDIT = "bbsnippets.comments.edit"
COMMENTS_DELETE = "bbsnippets.comments.delete"
WATCH = "bbsnippets.watch"
UNWATCH = "bbsnippets.unwatch"
WATCH_STATUS = "bbsnippets.watchStatus"
WATCHERS = "bbsnippets.watchers"
HISTORY = "bbsnippets.history"
DIFF = "bbsnippets.diff"
PULL = "bbsnippets.pull"
LOGIN = "bbsnippets.login"
LOGOUT = "bbsnippets.logout"
WHOAMI = "bbsnippets.whoami"
HEALTH = "bbsnippets.health"
SEARCH = "bbsnippets.search"
LINK = "bbsnippets.link"
STATUS = "bbsnippets.status"
PUSH = "bbsnippets.push"
APPLY_PATCH = "bbsnippets.applyPatch"
SHARE_DIFF = "bbsnippets.shareDiff"
RESTORE = "bbsnippets.restore"
LINKS = "bbsnippets.links"
UNLINK = "bbsnippets.unlink"

# Requests (a file system over bbsnippet:// URIs).
STAT = "bbsnippets/stat"
READ_DIRECTORY = "bbsnippets/readDirectory"
READ_FILE = "bbsnippets/readFile"
WRITE_FILE = "bbsnippets/writeFile"
DELETE_FILE = "bbsnippets/delete"
RENAME = "bbsnippets/rename"

# Notifications, server -> client.
DID_CHANGE = "bbsnippets/didChange"

# --------------------------------------------------------------------------- errors

# JSON-RPC error codes: LSP reserves -32899..-32800; -32001..-32099 is free for servers.
ERROR_CODES: dict[ErrorKind, int] = {
    ErrorKind.NOT_AUTHENTICATED: -32001,
    ErrorKind.FORBIDDEN: -32002,
    ErrorKind.NOT_FOUND: -32003,
    ErrorKind.CONFLICT: -32004,
    ErrorKind.RATE_LIMITED: -32005,
    ErrorKind.UNSAFE_PATH: -32006,
    ErrorKind.INVALID_ARGUMENT: -32602,  # JSON-RPC "Invalid params"
    ErrorKind.NETWORK: -32007,
    ErrorKind.PLAN: -32008,
    ErrorKind.SECRET_DETECTED: -32009,
    ErrorKind.SERVER: -32010,
    ErrorKind.CREDENTIAL_STORE: -32011,
    ErrorKind.FILE_EXISTS: -32012,
    ErrorKind.READ_ONLY: -32013,
    ErrorKind.ACCOUNT_CHANGED: -32014,
}


@attrs.define
class ConflictData:
    """``data`` of ``conflict``: the revision that won, to compare against or to force over."""

    remote_revision: str | None


@attrs.define
class SecretFinding:
    path: str
    line: int
    rule: str  # the kind of credential (never the value)


@attrs.define
class SecretDetectedData:
    """``data`` of ``secretDetected``: where each suspected credential is."""

    findings: list[SecretFinding]


@attrs.define
class ForbiddenData:
    """``data`` of ``forbidden`` when Bitbucket named the scopes the credentials lack."""

    missing_scopes: list[str]


@attrs.define
class InvalidArgumentData:
    """``data`` of ``invalidArgument`` when Bitbucket named the fields it refused."""

    fields: dict[str, Any]


ErrorData = ConflictData | SecretDetectedData | ForbiddenData | InvalidArgumentData


class ProtocolError(Exception):
    """A request failed in a way the user can act on; sent as a JSON-RPC error with ``data.kind``.

    ``data`` carries what the kind has to say beyond its message (on the wire: ``{"kind": ..., **data}``).
    """

    def __init__(self, kind: ErrorKind, message: str, data: ErrorData | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        """The JSON-RPC error's ``data``."""
        return {"kind": str(self.kind), **(unstructure(self.data) if self.data is not None else {})}


# --------------------------------------------------------------------------- settings


@attrs.define
class InitializationOptions:
    """``initializationOptions``; each falls back to the environment, then to the default."""

    api_url: str | None = None
    workspace: str | None = None
    poll_interval_seconds: float = 60.0
    log_level: str | None = None
    # Extensions: how long writes to one snippet are gathered into one request, and the most
    # requests an hour polling may spend (10% of Bitbucket's 1,000).
    write_batch_milliseconds: int = 30
    poll_budget_per_hour: float = 100.0
    # The editor's name ("vscode", "neovim", ...), echoed in the daemon's logs.
    client_name: str | None = None
    # The local search index: on or off, which workspaces besides the default one (["*"]: every workspace
    # bbsnippets.workspaces lists), the most requests an hour it may spend, and how often it reads lists itself.
    indexing: bool | None = None  # absent: SNIPPET_DAEMON_INDEXING, else on
    index_workspaces: list[str] = attrs.Factory(list)
    index_budget_per_hour: float = 300.0
    index_refresh_seconds: float = 300.0


# --------------------------------------------------------------------------- command parameters


@attrs.define
class SnippetRef:
    workspace: str
    id: str


@attrs.define
class FileInput:
    name: str
    text: str | None = None
    base64: str | None = None


@attrs.define
class CreateParams:
    files: list[FileInput]
    workspace: str | None = None
    title: str | None = None
    is_private: bool = True
    allow_secrets: bool = False


@attrs.define
class ListParams:
    workspace: str | None = None
    role: Literal["owner", "contributor", "member"] | None = None


@attrs.define
class OpenParams:
    """``{workspace, id}``, or ``{url}``: ``WORKSPACE/ID`` or one of the snippet's web addresses as a user pastes
    it, parsed by the daemon (``.../{ws}/workspace/snippets/{id}[/{slug}]``, ``.../snippets/{ws}/{id}[/{slug}]``
    on bitbucket.org or the sandbox, with or without ``#file-{name}``)."""

    workspace: str | None = None
    id: str | None = None
    revision: str | None = None
    url: str | None = None  # extension: instead of workspace and id


@attrs.define
class UpdateParams:
    workspace: str
    id: str
    title: str | None = None
    is_private: bool | None = None
    allow_secrets: bool = False


@attrs.define
class DuplicateParams:
    """Copy a snippet (every file at HEAD) into a new one: "fork" in every gist tool."""

    workspace: str
    id: str
    to_workspace: str | None = None  # default: the source's workspace
    title: str | None = None  # default: the source's title
    is_private: bool = True
    allow_secrets: bool = False


@attrs.define
class SearchParams:
    query: str  # every word must match (case-insensitive substrings)
    workspace: str | None = None  # default: every indexed workspace
    limit: int = 50


@attrs.define
class CommentAddParams:
    workspace: str
    id: str
    raw: str
    parent_id: int | None = None
    path: str | None = None
    line: int | None = None


@attrs.define
class CommentEditParams:
    workspace: str
    id: str
    comment_id: int
    raw: str


@attrs.define
class CommentDeleteParams:
    workspace: str
    id: str
    comment_id: int


@attrs.define
class DiffParams:
    workspace: str
    id: str
    revision: str
    path: str | None = None


@attrs.define
class PullParams:
    workspace: str
    id: str
    target_dir: str | None = None  # absolute: the folder, used as it is
    revision: str | None = None
    overwrite: bool = False
    # Extension, instead of targetDir when the user named no folder: the files go to {baseDir}/{id}, a new folder
    # named after the snippet's id, the one default every tool shares (the CLI's current folder, Neovim's current
    # directory, VS Code's first workspace folder).
    base_dir: str | None = None


@attrs.define
class LinkParams:
    """Tie ``folder`` (absolute: a folder, or one file) to a snippet at its HEAD."""

    folder: str
    workspace: str
    id: str


@attrs.define
class FolderParams:
    folder: str  # absolute: a linked folder or file


@attrs.define
class LinksParams:
    under: str | None = None  # absolute: only the links of this folder and below; default: every link


@attrs.define
class PushParams:
    folder: str
    add: list[str] = attrs.Factory(list)  # names relative to the folder, sent although the snippet never had them
    force: bool = False
    allow_secrets: bool = False  # a push to a public snippet is secret-scanned, as a save is


@attrs.define
class ApplyPatchParams:
    workspace: str
    id: str
    folder: str  # absolute; the patch's names are relative to it
    path: str | None = None  # the snippet's .patch/.diff file; default: its only one
    dry_run: bool = False


@attrs.define
class ShareDiffParams:
    folder: str  # absolute; any folder inside a git repository
    staged: bool = False
    include_untracked: bool = False  # untracked files (not ignored ones) as new files
    workspace: str | None = None
    title: str | None = None
    is_private: bool = True
    allow_secrets: bool = False


@attrs.define
class RestoreParams:
    workspace: str
    id: str
    revision: str
    path: str | None = None  # one file; default: every file


@attrs.define
class LoginParams:
    kind: Literal["apiToken", "accessToken"]
    secret: str = attrs.field(repr=False)
    username: str | None = None


@attrs.define
class NoParams:
    """The argument of commands that take none (from Lua: ``vim.empty_dict()``)."""


@attrs.define
class HealthParams:
    """``checkApi: false``: no request at all (the keyring and the credentials only), so that a sign-in can say
    there is no OS keyring before it asks anything."""

    check_api: bool = True


# --------------------------------------------------------------------------- request parameters


@attrs.define
class UriParams:
    uri: str


@attrs.define
class StatParams:
    uri: str
    # The client is about to write this file (VS Code: a save): a cached copy older than
    # STAT_FRESH_SECONDS (documents.py; 0: any) is read again first (one GET), so the answer shows another
    # writer's change.
    fresh: bool = False


@attrs.define
class WriteFileParams:
    uri: str
    base64: str | None = None
    text: str | None = None
    create: bool = True
    overwrite: bool = True
    force: bool = False
    allow_secrets: bool = False


@attrs.define
class DeleteParams:
    uri: str
    recursive: bool = True


@attrs.define
class RenameParams:
    old_uri: str
    new_uri: str
    overwrite: bool = False


# --------------------------------------------------------------------------- results


@attrs.define
class CreateResult:
    workspace: str
    id: str
    title: str
    is_private: bool
    html_url: str | None
    uri: str


@attrs.define
class SnippetSummary:
    workspace: str
    id: str
    title: str
    is_private: bool
    created_on: str | None
    updated_on: str | None
    html_url: str | None
    # bbsnippets.list: the user watches it (from the daemon's own watch list: no request per snippet).
    watching: bool = False


@attrs.define
class ListResult:
    snippets: list[SnippetSummary]


@attrs.define
class FileInfo:
    name: str
    uri: str
    binary: bool
    size: int


@attrs.define
class OpenResult:
    workspace: str
    id: str
    title: str
    is_private: bool
    revision: str | None
    html_url: str | None
    files: list[FileInfo]
    file: str | None = None  # extension: the file an opened address pointed at (#file-NAME), one of files' names


@attrs.define
class Deleted:
    deleted: bool = True


@attrs.define
class CommentInfo:
    id: int
    parent_id: int | None
    author: str | None
    created_on: str | None
    updated_on: str | None
    raw: str
    html: str
    path: str | None = None
    line: int | None = None
    deleted: bool | None = None  # extension: a deleted comment kept (empty) because replies hang off it


@attrs.define
class CommentsResult:
    comments: list[CommentInfo]


@attrs.define
class WatchResult:
    watching: bool
    # False (with ``message``, to show) when watching.json could not be written: Bitbucket has the change, but
    # this computer forgets it at the next start. Left out when it was saved.
    saved: bool | None = None
    message: str | None = None


@attrs.define
class WatcherInfo:
    display_name: str
    uuid: str | None


@attrs.define
class WatchersResult:
    watchers: list[WatcherInfo]


@attrs.define
class CommitInfo:
    hash: str
    date: str | None
    author: str
    message: str


@attrs.define
class HistoryResult:
    commits: list[CommitInfo]  # newest first


@attrs.define
class DiffResult:
    diff: str


PullStatus = Literal["written", "unchanged", "kept", "refused", "failed"]
# Why a file was kept, refused or failed: ``exists`` (a different local file; ``overwrite: true`` replaces it),
# ``unsafePath`` (a name that would land outside the folder or fool the user), ``fileSystem`` (the OS refused).
PullFileKind = Literal["exists", "unsafePath", "fileSystem"]


@attrs.define
class PullFile:
    name: str  # the snippet's file name
    status: PullStatus
    path: str | None = None  # where it is (or would be) on disk; absent for a refused name
    kind: PullFileKind | None = None
    message: str | None = None


@attrs.define
class PullResult:
    written: list[str]  # absolute paths
    skipped: list[str]  # snippet file names
    # Extensions: why each skipped file was skipped, and files already identical.
    unchanged: list[str] = attrs.Factory(list)
    reasons: dict[str, str] = attrs.Factory(dict)  # name -> why it was skipped
    files: list[PullFile] = attrs.Factory(list)  # one entry per snippet file, in name order
    target_dir: str | None = None  # extension: the folder the files went to (absolute)


FileState = Literal["unchanged", "modified", "deleted"]


@attrs.define
class TrackedFile:
    name: str  # the snippet's file name
    path: str  # where it is on disk
    state: FileState


@attrs.define
class StatusResult:
    workspace: str
    id: str
    revision: str  # the revision the folder is linked at
    files: list[TrackedFile]
    remote_revision: str | None = None  # present when the snippet moved since ``revision``
    folder: str | None = None  # extension: the linked folder (or file), as the link holds it


@attrs.define
class LinkInfo:
    folder: str  # the linked folder, or the one linked file
    workspace: str
    id: str
    revision: str
    file: str | None = None  # for a linked file: the snippet file it is


@attrs.define
class LinksResult:
    links: list[LinkInfo]


@attrs.define
class UnlinkResult:
    unlinked: bool  # false: it was not linked


PushFileStatus = Literal["sent", "deleted"]


@attrs.define
class PushedFile:
    name: str
    status: PushFileStatus


@attrs.define
class PushResult:
    revision: str
    files: list[PushedFile]


PatchFileStatus = Literal["applied", "created", "deleted", "failed", "refused"]
# unsafePath: a name outside the folder (refused); binary: a binary change (refused); mismatch: the file is not
# what the patch expects (failed); fileSystem: the OS refused a write (failed).
PatchFileKind = Literal["unsafePath", "binary", "mismatch", "fileSystem"]


@attrs.define
class PatchedFile:
    path: str  # where on disk (absolute); for a refused name, the name as the patch gives it
    status: PatchFileStatus
    kind: PatchFileKind | None = None
    message: str | None = None
    name: str | None = None  # extension: the name in the patch, relative to the folder


@attrs.define
class ApplyPatchResult:
    applied: bool  # false: nothing changed on disk (also for a dry run that would fail)
    files: list[PatchedFile]


@attrs.define
class LeftOutFile:
    name: str
    reason: str


@attrs.define
class ShareDiffResult:
    workspace: str
    id: str
    title: str
    is_private: bool
    html_url: str | None
    uri: str  # the .patch file's bbsnippet:// URI
    name: str  # the .patch file's name in the snippet
    files: list[str]  # the files the patch changes (relative to the repository)
    left_out: list[LeftOutFile]  # binary changes, each with why


@attrs.define
class RestoreResult:
    revision: str | None  # the new HEAD (the restored content as one new commit); unchanged when nothing differed
    files: list[str] = attrs.Factory(list)  # the files the restore changed


@attrs.define
class AccountInfo:
    display_name: str
    nickname: str | None
    uuid: str | None
    username: str | None  # the login name the credentials were given with (an email for API tokens)


@attrs.define
class AccountResult:
    account: AccountInfo | None
    workspace: str | None = None  # the default workspace in effect


@attrs.define
class SearchHit:
    workspace: str
    id: str
    title: str
    name: str  # the file
    preview: str  # the matching line, or the title or file name that matched
    uri: str  # the file's bbsnippet:// URI, with #L{line} for a content hit
    line: int | None = None  # 1-based, for a content hit


@attrs.define
class SearchResult:
    results: list[SearchHit]  # title and file-name hits first, then content hits
    complete: bool  # false while contents are still being indexed (titles and names are searchable at once)


@attrs.define
class WorkspaceInfo:
    slug: str
    name: str
    uuid: str | None
    is_default: bool


@attrs.define
class WorkspacesResult:
    workspaces: list[WorkspaceInfo]
    hint: str | None = None  # why only the default is listed, and which scope would list the rest


@attrs.define
class CredentialsHealth:
    present: bool
    source: str | None = None  # "environment" or "keyring"
    message: str | None = None  # what to do when absent


@attrs.define
class KeyringHealth:
    usable: bool
    backend: str | None = None
    message: str | None = None


@attrs.define
class ApiHealth:
    reachable: bool
    status: int | None = None  # the HTTP status of the check (GET /user)
    message: str | None = None
    checked: bool | None = None  # extension: false when asked not to (checkApi: false); then reachable says nothing


@attrs.define
class HealthResult:
    """Everything a ``:checkhealth`` or a status view shows, in one call that never fails for a missing login."""

    version: str
    api_url: str
    credentials: CredentialsHealth
    keyring: KeyringHealth
    api: ApiHealth
    client_name: str | None = None
    account: AccountInfo | None = None
    workspace: str | None = None


@attrs.define
class Empty:
    """The result of requests and commands that answer nothing."""


@attrs.define
class StatResult:
    type: Literal["file", "directory"]
    size: int
    mtime: int  # milliseconds since the epoch, as VS Code's FileStat
    readonly: bool
    # A file at HEAD that someone else changed since this client read it: saving it now would be a conflict.
    stale: bool = False


@attrs.define
class DirectoryEntry:
    name: str
    type: Literal["file", "directory"]


@attrs.define
class ReadDirectoryResult:
    entries: list[DirectoryEntry]


@attrs.define
class ReadFileResult:
    base64: str
    text: str | None = None  # when the file is UTF-8 without NUL
    revision: str | None = None  # extension: the revision the content was read at


@attrs.define
class WriteFileResult:
    revision: str | None


@attrs.define
class DidChangeParams:
    workspace: str
    id: str
    # "unreachable": a watched snippet's workspace answers 404/403 (gone, or access lost): it is skipped with a
    # back-off of its own, and the user is asked once (window/showMessageRequest) whether to unwatch it.
    kind: Literal["commit", "comment", "deleted", "unreachable"]
    revision: str | None = None
    # True when the user watches the snippet: a window/showMessage about this change follows at once.
    watched: bool = False


# --------------------------------------------------------------------------- the method table


class MethodKind(enum.StrEnum):
    COMMAND = "command"  # workspace/executeCommand, one object argument
    REQUEST = "request"  # a custom request, params: one object
    NOTIFICATION = "notification"  # server -> client


@attrs.frozen
class Method:
    """One method of the contract: its wire name, how it is called, its params and result types, and its feature."""

    name: str
    kind: MethodKind
    params: type[Any]
    result: type[Any] | None = None  # None for notifications
    # The feature that serves it: features/<feature>.py, and <feature>.ts / <feature>.lua in the clients.
    feature: str = attrs.field(kw_only=True)


_C, _R, _N = MethodKind.COMMAND, MethodKind.REQUEST, MethodKind.NOTIFICATION

# Every method the daemon answers or sends. Registration and ``executeCommandProvider`` come from this
# table, and tests/test_contract.py holds docs/protocol.md and the editor mirrors to it.
METHODS: tuple[Method, ...] = (
    Method(CREATE, _C, CreateParams, CreateResult, feature="snippets"),
    Method(LIST, _C, ListParams, ListResult, feature="snippets"),
    Method(OPEN, _C, OpenParams, OpenResult, feature="snippets"),
    Method(UPDATE, _C, UpdateParams, OpenResult, feature="snippets"),
    Method(DELETE, _C, SnippetRef, Deleted, feature="snippets"),
    Method(DUPLICATE, _C, DuplicateParams, CreateResult, feature="snippets"),
    Method(WORKSPACES, _C, NoParams, WorkspacesResult, feature="snippets"),
    Method(COMMENTS_LIST, _C, SnippetRef, CommentsResult, feature="comments"),
    Method(COMMENTS_ADD, _C, CommentAddParams, CommentInfo, feature="comments"),
    Method(COMMENTS_EDIT, _C, CommentEditParams, CommentInfo, feature="comments"),
    Method(COMMENTS_DELETE, _C, CommentDeleteParams, Deleted, feature="comments"),
    Method(WATCH, _C, SnippetRef, WatchResult, feature="watch"),
    Method(UNWATCH, _C, SnippetRef, WatchResult, feature="watch"),
    Method(WATCH_STATUS, _C, SnippetRef, WatchResult, feature="watch"),
    Method(WATCHERS, _C, SnippetRef, WatchersResult, feature="watch"),
    Method(HISTORY, _C, SnippetRef, HistoryResult, feature="history"),
    Method(DIFF, _C, DiffParams, DiffResult, feature="history"),
    Method(PULL, _C, PullParams, PullResult, feature="pull"),
    Method(LOGIN, _C, LoginParams, AccountResult, feature="account"),
    Method(LOGOUT, _C, NoParams, Empty, feature="account"),
    Method(WHOAMI, _C, NoParams, AccountResult, feature="account"),
    Method(HEALTH, _C, HealthParams, HealthResult, feature="account"),
    Method(SEARCH, _C, SearchParams, SearchResult, feature="search"),
    Method(LINK, _C, LinkParams, StatusResult, feature="push"),
    Method(STATUS, _C, FolderParams, StatusResult, feature="push"),
    Method(PUSH, _C, PushParams, PushResult, feature="push"),
    Method(LINKS, _C, LinksParams, LinksResult, feature="push"),
    Method(UNLINK, _C, FolderParams, UnlinkResult, feature="push"),
    Method(APPLY_PATCH, _C, ApplyPatchParams, ApplyPatchResult, feature="patch"),
    Method(SHARE_DIFF, _C, ShareDiffParams, ShareDiffResult, feature="patch"),
    Method(RESTORE, _C, RestoreParams, RestoreResult, feature="history"),
    Method(STAT, _R, StatParams, StatResult, feature="files"),
    Method(READ_DIRECTORY, _R, UriParams, ReadDirectoryResult, feature="files"),
    Method(READ_FILE, _R, UriParams, ReadFileResult, feature="files"),
    Method(WRITE_FILE, _R, WriteFileParams, WriteFileResult, feature="files"),
    Method(DELETE_FILE, _R, DeleteParams, Empty, feature="files"),
    Method(RENAME, _R, RenameParams, Empty, feature="files"),
    Method(DID_CHANGE, _N, DidChangeParams, feature="watch"),
)

METHODS_BY_NAME: dict[str, Method] = {method.name: method for method in METHODS}
COMMANDS: tuple[str, ...] = tuple(method.name for method in METHODS if method.kind is MethodKind.COMMAND)
REQUESTS: tuple[str, ...] = tuple(method.name for method in METHODS if method.kind is MethodKind.REQUEST)


# --------------------------------------------------------------------------- JSON conversion

_CAMEL_BOUNDARY = re.compile(r"_([a-z])")


def camel_case(name: str) -> str:
    return _CAMEL_BOUNDARY.sub(lambda match: match.group(1).upper(), name)


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=False)

    def structure_factory(cls: type[Any]) -> Any:
        renames = {field.name: override(rename=camel_case(field.name)) for field in attrs.fields(cls)}
        return make_dict_structure_fn(cls, converter, **renames)  # type: ignore[arg-type]

    def unstructure_factory(cls: type[Any]) -> Any:
        renames = {field.name: override(rename=camel_case(field.name)) for field in attrs.fields(cls)}
        plain = make_dict_unstructure_fn(cls, converter, **renames)  # type: ignore[arg-type]

        def unstructure_without_none(instance: Any) -> dict[str, Any]:
            return {key: value for key, value in plain(instance).items() if value is not None}

        return unstructure_without_none

    def strict_bool(value: Any, _: type) -> bool:
        if not isinstance(value, bool):
            raise TypeError(f"expected true or false, got {value!r}")
        return value

    def strict_int(value: Any, _: type) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).lstrip("-").isdigit():
            raise TypeError(f"expected a whole number, got {value!r}")
        return int(value)

    def strict_str(value: Any, _: type) -> str:
        if not isinstance(value, str):
            raise TypeError(f"expected a string, got {value!r}")
        return value

    converter.register_structure_hook(bool, strict_bool)
    converter.register_structure_hook(int, strict_int)
    converter.register_structure_hook(str, strict_str)
    converter.register_structure_hook_factory(attrs.has, structure_factory)
    converter.register_unstructure_hook_factory(attrs.has, unstructure_factory)
    return converter


CONVERTER = _make_converter()

T = TypeVar("T")


def describe_errors(error: BaseException, prefix: str = "") -> list[str]:
    """Readable reasons from a cattrs validation error tree (``'workspace' is missing``)."""
    if isinstance(error, cattrs.ClassValidationError | cattrs.IterableValidationError):
        reasons: list[str] = []
        with_notes, without_notes = error.group_exceptions()
        for inner in without_notes:
            reasons.extend(describe_errors(inner, prefix))
        for inner, note in with_notes:
            name = getattr(note, "name", None)
            index = getattr(note, "index", None)
            where = f"{prefix}.{camel_case(name)}" if name else f"{prefix}[{index}]" if index is not None else prefix
            reasons.extend(describe_errors(inner, where))
        return reasons
    where = prefix.lstrip(".") or "the arguments"
    if isinstance(error, KeyError):
        return [f"{where} is missing"]
    return [f"{where} is not valid ({error})"]


def _without_nulls(data: Any) -> Any:
    """``null`` means "not given" (Lua clients cannot always leave a key out)."""
    if isinstance(data, dict):
        return {key: _without_nulls(value) for key, value in data.items() if value is not None}
    if isinstance(data, list):
        return [_without_nulls(value) for value in data]
    return data


def structure(data: Any, cls: type[T], *, what: str) -> T:
    """A client's JSON (camelCase) as ``cls``; :class:`ProtocolError` ``invalidArgument`` if it does not fit."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProtocolError(ErrorKind.INVALID_ARGUMENT, f"{what} takes one object argument, e.g. {{...}}.")
    try:
        return CONVERTER.structure(_without_nulls(data), cls)
    except Exception as error:
        reasons = "; ".join(describe_errors(error)) or str(error)
        raise ProtocolError(ErrorKind.INVALID_ARGUMENT, f"{what}: {reasons}.") from None


def unstructure(value: Any) -> Any:
    """A result as JSON (camelCase, ``None`` fields left out)."""
    return CONVERTER.unstructure(value)
