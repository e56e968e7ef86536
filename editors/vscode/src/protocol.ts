// Generated from snippet_daemon/protocol.py by scripts/gen_protocol.py: do not edit; run `.venv/bin/python scripts/gen_protocol.py`.
// Declarations only, in protocol.py's order. Fields are camelCase exactly as on the wire; a Python
// `X | None` (left out when empty) and a parameter with a default are `field?: X`.

import { NotificationType, RequestType } from "vscode-languageserver-protocol";

// --------------------------------------------------------------------------- names

export const URI_SCHEME = "bbsnippet";

// Commands (`workspace/executeCommand` with one object argument).
export const CREATE = "bbsnippets.create";
export const LIST = "bbsnippets.list";
export const OPEN = "bbsnippets.open";
export const UPDATE = "bbsnippets.update";
export const DELETE = "bbsnippets.delete";
export const DUPLICATE = "bbsnippets.duplicate";
export const WORKSPACES = "bbsnippets.workspaces";
export const COMMENTS_LIST = "bbsnippets.comments.list";
export const COMMENTS_ADD = "bbsnippets.comments.add";
export const COMMENTS_EDIT = "bbsnippets.comments.edit";
export const COMMENTS_DELETE = "bbsnippets.comments.delete";
export const WATCH = "bbsnippets.watch";
export const UNWATCH = "bbsnippets.unwatch";
export const WATCH_STATUS = "bbsnippets.watchStatus";
export const WATCHERS = "bbsnippets.watchers";
export const HISTORY = "bbsnippets.history";
export const DIFF = "bbsnippets.diff";
export const PULL = "bbsnippets.pull";
export const LOGIN = "bbsnippets.login";
export const LOGOUT = "bbsnippets.logout";
export const WHOAMI = "bbsnippets.whoami";
export const HEALTH = "bbsnippets.health";
export const SEARCH = "bbsnippets.search";
export const LINK = "bbsnippets.link";
export const STATUS = "bbsnippets.status";
export const PUSH = "bbsnippets.push";
export const APPLY_PATCH = "bbsnippets.applyPatch";
export const SHARE_DIFF = "bbsnippets.shareDiff";
export const RESTORE = "bbsnippets.restore";
export const LINKS = "bbsnippets.links";
export const UNLINK = "bbsnippets.unlink";

// Requests (a file system over bbsnippet:// URIs).
export const STAT = new RequestType<StatParams, StatResult, void>("bbsnippets/stat");
export const READ_DIRECTORY = new RequestType<UriParams, ReadDirectoryResult, void>("bbsnippets/readDirectory");
export const READ_FILE = new RequestType<UriParams, ReadFileResult, void>("bbsnippets/readFile");
export const WRITE_FILE = new RequestType<WriteFileParams, WriteFileResult, void>("bbsnippets/writeFile");
export const DELETE_FILE = new RequestType<DeleteParams, Empty, void>("bbsnippets/delete");
export const RENAME = new RequestType<RenameParams, Empty, void>("bbsnippets/rename");

// Notifications, server -> client.
export const DID_CHANGE = new NotificationType<DidChangeParams>("bbsnippets/didChange");

// --------------------------------------------------------------------------- errors

/** The values of `error.data.kind` on a failed request. */
export const ErrorKind = {
  NOT_AUTHENTICATED: "notAuthenticated",
  FORBIDDEN: "forbidden",
  NOT_FOUND: "notFound",
  CONFLICT: "conflict",
  RATE_LIMITED: "rateLimited",
  UNSAFE_PATH: "unsafePath",
  INVALID_ARGUMENT: "invalidArgument",
  NETWORK: "network",
  PLAN: "plan",
  SECRET_DETECTED: "secretDetected",
  // Extensions beyond the first contract (documented in docs/protocol.md).
  SERVER: "server",
  CREDENTIAL_STORE: "credentialStore",
  FILE_EXISTS: "fileExists",
  READ_ONLY: "readOnly",
  ACCOUNT_CHANGED: "accountChanged",
} as const;
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

/** `data` of `conflict`: the revision that won, to compare against or to force over. */
export interface ConflictData {
  remoteRevision?: string;
}

export interface SecretFinding {
  path: string;
  line: number;
  /** The kind of credential (never the value). */
  rule: string;
}

/** `data` of `secretDetected`: where each suspected credential is. */
export interface SecretDetectedData {
  findings: SecretFinding[];
}

/** `data` of `forbidden` when Bitbucket named the scopes the credentials lack. */
export interface ForbiddenData {
  missingScopes: string[];
}

/** `data` of `invalidArgument` when Bitbucket named the fields it refused. */
export interface InvalidArgumentData {
  fields: Record<string, unknown>;
}

/** A failed request's `error.data`: `{kind, ...}` plus what that kind has to say. */
export type ErrorData = { kind?: ErrorKind } & Partial<ConflictData & SecretDetectedData & ForbiddenData & InvalidArgumentData>;

// --------------------------------------------------------------------------- settings

/** `initializationOptions`; each falls back to the environment, then to the default. */
export interface InitializationOptions {
  apiUrl?: string;
  workspace?: string;
  /** Default 60. */
  pollIntervalSeconds?: number;
  logLevel?: string;
  // Extensions: how long writes to one snippet are gathered into one request, and the most
  // requests an hour polling may spend (10% of Bitbucket's 1,000).
  /** Default 30. */
  writeBatchMilliseconds?: number;
  /** Default 100. */
  pollBudgetPerHour?: number;
  // The editor's name ("vscode", "neovim", ...), echoed in the daemon's logs.
  clientName?: string;
  // The local search index: on or off, which workspaces besides the default one (["*"]: every workspace
  // bbsnippets.workspaces lists), the most requests an hour it may spend, and how often it reads lists itself.
  /** Absent: SNIPPET_DAEMON_INDEXING, else on. */
  indexing?: boolean;
  indexWorkspaces?: string[];
  /** Default 300. */
  indexBudgetPerHour?: number;
  /** Default 300. */
  indexRefreshSeconds?: number;
}

// --------------------------------------------------------------------------- command parameters

export interface SnippetRef {
  workspace: string;
  id: string;
}

export interface FileInput {
  name: string;
  text?: string;
  base64?: string;
}

export interface CreateParams {
  files: FileInput[];
  workspace?: string;
  title?: string;
  /** Default true. */
  isPrivate?: boolean;
  /** Default false. */
  allowSecrets?: boolean;
}

export interface ListParams {
  workspace?: string;
  role?: "owner" | "contributor" | "member";
}

/** `{workspace, id}`, or `{url}`: `WORKSPACE/ID` or one of the snippet's web addresses as a user pastes it, parsed by the daemon (`.../{ws}/workspace/snippets/{id}[/{slug}]`, `.../snippets/{ws}/{id}[/{slug}]` on bitbucket.org or the sandbox, with or without `#file-{name}`). */
export interface OpenParams {
  workspace?: string;
  id?: string;
  revision?: string;
  /** Extension: instead of workspace and id. */
  url?: string;
}

export interface UpdateParams {
  workspace: string;
  id: string;
  title?: string;
  isPrivate?: boolean;
  /** Default false. */
  allowSecrets?: boolean;
}

/** Copy a snippet (every file at HEAD) into a new one: "fork" in every gist tool. */
export interface DuplicateParams {
  workspace: string;
  id: string;
  /** Default: the source's workspace. */
  toWorkspace?: string;
  /** Default: the source's title. */
  title?: string;
  /** Default true. */
  isPrivate?: boolean;
  /** Default false. */
  allowSecrets?: boolean;
}

export interface SearchParams {
  /** Every word must match (case-insensitive substrings). */
  query: string;
  /** Default: every indexed workspace. */
  workspace?: string;
  /** Default 50. */
  limit?: number;
}

export interface CommentAddParams {
  workspace: string;
  id: string;
  raw: string;
  parentId?: number;
  path?: string;
  line?: number;
}

export interface CommentEditParams {
  workspace: string;
  id: string;
  commentId: number;
  raw: string;
}

export interface CommentDeleteParams {
  workspace: string;
  id: string;
  commentId: number;
}

export interface DiffParams {
  workspace: string;
  id: string;
  revision: string;
  path?: string;
}

export interface PullParams {
  workspace: string;
  id: string;
  /** Absolute: the folder, used as it is. */
  targetDir?: string;
  revision?: string;
  /** Default false. */
  overwrite?: boolean;
  // Extension, instead of targetDir when the user named no folder: the files go to {baseDir}/{id}, a new folder
  // named after the snippet's id, the one default every tool shares (the CLI's current folder, Neovim's current
  // directory, VS Code's first workspace folder).
  baseDir?: string;
}

/** Tie `folder` (absolute: a folder, or one file) to a snippet at its HEAD. */
export interface LinkParams {
  folder: string;
  workspace: string;
  id: string;
}

export interface FolderParams {
  /** Absolute: a linked folder or file. */
  folder: string;
}

export interface LinksParams {
  /** Absolute: only the links of this folder and below; default: every link. */
  under?: string;
}

export interface PushParams {
  folder: string;
  /** Names relative to the folder, sent although the snippet never had them. */
  add?: string[];
  /** Default false. */
  force?: boolean;
  /** A push to a public snippet is secret-scanned, as a save is (default false). */
  allowSecrets?: boolean;
}

export interface ApplyPatchParams {
  workspace: string;
  id: string;
  /** Absolute; the patch's names are relative to it. */
  folder: string;
  /** The snippet's .patch/.diff file; default: its only one. */
  path?: string;
  /** Default false. */
  dryRun?: boolean;
}

export interface ShareDiffParams {
  /** Absolute; any folder inside a git repository. */
  folder: string;
  /** Default false. */
  staged?: boolean;
  /** Untracked files (not ignored ones) as new files (default false). */
  includeUntracked?: boolean;
  workspace?: string;
  title?: string;
  /** Default true. */
  isPrivate?: boolean;
  /** Default false. */
  allowSecrets?: boolean;
}

export interface RestoreParams {
  workspace: string;
  id: string;
  revision: string;
  /** One file; default: every file. */
  path?: string;
}

export interface LoginParams {
  kind: "apiToken" | "accessToken";
  secret: string;
  username?: string;
}

/** The argument of commands that take none (from Lua: `vim.empty_dict()`). */
export type NoParams = Record<string, never>;

/** `checkApi: false`: no request at all (the keyring and the credentials only), so that a sign-in can say there is no OS keyring before it asks anything. */
export interface HealthParams {
  /** Default true. */
  checkApi?: boolean;
}

// --------------------------------------------------------------------------- request parameters

export interface UriParams {
  uri: string;
}

export interface StatParams {
  uri: string;
  // The client is about to write this file (VS Code: a save): a cached copy older than
  // STAT_FRESH_SECONDS (documents.py; 0: any) is read again first (one GET), so the answer shows another
  // writer's change.
  /** Default false. */
  fresh?: boolean;
}

export interface WriteFileParams {
  uri: string;
  base64?: string;
  text?: string;
  /** Default true. */
  create?: boolean;
  /** Default true. */
  overwrite?: boolean;
  /** Default false. */
  force?: boolean;
  /** Default false. */
  allowSecrets?: boolean;
}

export interface DeleteParams {
  uri: string;
  /** Default true. */
  recursive?: boolean;
}

export interface RenameParams {
  oldUri: string;
  newUri: string;
  /** Default false. */
  overwrite?: boolean;
}

// --------------------------------------------------------------------------- results

export interface CreateResult {
  workspace: string;
  id: string;
  title: string;
  isPrivate: boolean;
  htmlUrl?: string;
  uri: string;
}

export interface SnippetSummary {
  workspace: string;
  id: string;
  title: string;
  isPrivate: boolean;
  createdOn?: string;
  updatedOn?: string;
  htmlUrl?: string;
  // bbsnippets.list: the user watches it (from the daemon's own watch list: no request per snippet).
  watching: boolean;
}

export interface ListResult {
  snippets: SnippetSummary[];
}

export interface FileInfo {
  name: string;
  uri: string;
  binary: boolean;
  size: number;
}

export interface OpenResult {
  workspace: string;
  id: string;
  title: string;
  isPrivate: boolean;
  revision?: string;
  htmlUrl?: string;
  files: FileInfo[];
  /** Extension: the file an opened address pointed at (#file-NAME), one of files' names. */
  file?: string;
}

export interface Deleted {
  deleted: boolean;
}

export interface CommentInfo {
  id: number;
  parentId?: number;
  author?: string;
  createdOn?: string;
  updatedOn?: string;
  raw: string;
  html: string;
  path?: string;
  line?: number;
  /** Extension: a deleted comment kept (empty) because replies hang off it. */
  deleted?: boolean;
}

export interface CommentsResult {
  comments: CommentInfo[];
}

export interface WatchResult {
  watching: boolean;
  // False (with `message`, to show) when watching.json could not be written: Bitbucket has the change, but
  // this computer forgets it at the next start. Left out when it was saved.
  saved?: boolean;
  message?: string;
}

export interface WatcherInfo {
  displayName: string;
  uuid?: string;
}

export interface WatchersResult {
  watchers: WatcherInfo[];
}

export interface CommitInfo {
  hash: string;
  date?: string;
  author: string;
  message: string;
}

export interface HistoryResult {
  /** Newest first. */
  commits: CommitInfo[];
}

export interface DiffResult {
  diff: string;
}

export type PullStatus = "written" | "unchanged" | "kept" | "refused" | "failed";

// Why a file was kept, refused or failed: `exists` (a different local file; `overwrite: true` replaces it),
// `unsafePath` (a name that would land outside the folder or fool the user), `fileSystem` (the OS refused).
export type PullFileKind = "exists" | "unsafePath" | "fileSystem";

export interface PullFile {
  /** The snippet's file name. */
  name: string;
  status: PullStatus;
  /** Where it is (or would be) on disk; absent for a refused name. */
  path?: string;
  kind?: PullFileKind;
  message?: string;
}

export interface PullResult {
  /** Absolute paths. */
  written: string[];
  /** Snippet file names. */
  skipped: string[];
  // Extensions: why each skipped file was skipped, and files already identical.
  unchanged: string[];
  /** Name -> why it was skipped. */
  reasons: Record<string, string>;
  /** One entry per snippet file, in name order. */
  files: PullFile[];
  /** Extension: the folder the files went to (absolute). */
  targetDir?: string;
}

export type FileState = "unchanged" | "modified" | "deleted";

export interface TrackedFile {
  /** The snippet's file name. */
  name: string;
  /** Where it is on disk. */
  path: string;
  state: FileState;
}

export interface StatusResult {
  workspace: string;
  id: string;
  /** The revision the folder is linked at. */
  revision: string;
  files: TrackedFile[];
  /** Present when the snippet moved since `revision`. */
  remoteRevision?: string;
  /** Extension: the linked folder (or file), as the link holds it. */
  folder?: string;
}

export interface LinkInfo {
  /** The linked folder, or the one linked file. */
  folder: string;
  workspace: string;
  id: string;
  revision: string;
  /** For a linked file: the snippet file it is. */
  file?: string;
}

export interface LinksResult {
  links: LinkInfo[];
}

export interface UnlinkResult {
  /** False: it was not linked. */
  unlinked: boolean;
}

export type PushFileStatus = "sent" | "deleted";

export interface PushedFile {
  name: string;
  status: PushFileStatus;
}

export interface PushResult {
  revision: string;
  files: PushedFile[];
}

export type PatchFileStatus = "applied" | "created" | "deleted" | "failed" | "refused";

// unsafePath: a name outside the folder (refused); binary: a binary change (refused); mismatch: the file is not
// what the patch expects (failed); fileSystem: the OS refused a write (failed).
export type PatchFileKind = "unsafePath" | "binary" | "mismatch" | "fileSystem";

export interface PatchedFile {
  /** Where on disk (absolute); for a refused name, the name as the patch gives it. */
  path: string;
  status: PatchFileStatus;
  kind?: PatchFileKind;
  message?: string;
  /** Extension: the name in the patch, relative to the folder. */
  name?: string;
}

export interface ApplyPatchResult {
  /** False: nothing changed on disk (also for a dry run that would fail). */
  applied: boolean;
  files: PatchedFile[];
}

export interface LeftOutFile {
  name: string;
  reason: string;
}

export interface ShareDiffResult {
  workspace: string;
  id: string;
  title: string;
  isPrivate: boolean;
  htmlUrl?: string;
  /** The .patch file's bbsnippet:// URI. */
  uri: string;
  /** The .patch file's name in the snippet. */
  name: string;
  /** The files the patch changes (relative to the repository). */
  files: string[];
  /** Binary changes, each with why. */
  leftOut: LeftOutFile[];
}

export interface RestoreResult {
  /** The new HEAD (the restored content as one new commit); unchanged when nothing differed. */
  revision?: string;
  /** The files the restore changed. */
  files: string[];
}

export interface AccountInfo {
  displayName: string;
  nickname?: string;
  uuid?: string;
  /** The login name the credentials were given with (an email for API tokens). */
  username?: string;
}

export interface AccountResult {
  account?: AccountInfo;
  /** The default workspace in effect. */
  workspace?: string;
}

export interface SearchHit {
  workspace: string;
  id: string;
  title: string;
  /** The file. */
  name: string;
  /** The matching line, or the title or file name that matched. */
  preview: string;
  /** The file's bbsnippet:// URI, with #L{line} for a content hit. */
  uri: string;
  /** 1-based, for a content hit. */
  line?: number;
}

export interface SearchResult {
  /** Title and file-name hits first, then content hits. */
  results: SearchHit[];
  /** False while contents are still being indexed (titles and names are searchable at once). */
  complete: boolean;
}

export interface WorkspaceInfo {
  slug: string;
  name: string;
  uuid?: string;
  isDefault: boolean;
}

export interface WorkspacesResult {
  workspaces: WorkspaceInfo[];
  /** Why only the default is listed, and which scope would list the rest. */
  hint?: string;
}

export interface CredentialsHealth {
  present: boolean;
  /** "environment" or "keyring". */
  source?: string;
  /** What to do when absent. */
  message?: string;
}

export interface KeyringHealth {
  usable: boolean;
  backend?: string;
  message?: string;
}

export interface ApiHealth {
  reachable: boolean;
  /** The HTTP status of the check (GET /user). */
  status?: number;
  message?: string;
  /** Extension: false when asked not to (checkApi: false); then reachable says nothing. */
  checked?: boolean;
}

/** Everything a `:checkhealth` or a status view shows, in one call that never fails for a missing login. */
export interface HealthResult {
  version: string;
  apiUrl: string;
  credentials: CredentialsHealth;
  keyring: KeyringHealth;
  api: ApiHealth;
  clientName?: string;
  account?: AccountInfo;
  workspace?: string;
}

/** The result of requests and commands that answer nothing. */
export type Empty = Record<string, never>;

export interface StatResult {
  type: "file" | "directory";
  size: number;
  /** Milliseconds since the epoch, as VS Code's FileStat. */
  mtime: number;
  readonly: boolean;
  // A file at HEAD that someone else changed since this client read it: saving it now would be a conflict.
  stale: boolean;
}

export interface DirectoryEntry {
  name: string;
  type: "file" | "directory";
}

export interface ReadDirectoryResult {
  entries: DirectoryEntry[];
}

export interface ReadFileResult {
  base64: string;
  /** When the file is UTF-8 without NUL. */
  text?: string;
  /** Extension: the revision the content was read at. */
  revision?: string;
}

export interface WriteFileResult {
  revision?: string;
}

export interface DidChangeParams {
  workspace: string;
  id: string;
  // "unreachable": a watched snippet's workspace answers 404/403 (gone, or access lost): it is skipped with a
  // back-off of its own, and the user is asked once (window/showMessageRequest) whether to unwatch it.
  kind: "commit" | "comment" | "deleted" | "unreachable";
  revision?: string;
  // True when the user watches the snippet: a window/showMessage about this change follows at once.
  watched: boolean;
}

// --------------------------------------------------------------------------- the typed command map

/** Every `workspace/executeCommand` of the daemon: its one object argument and its result. */
export interface Commands {
  [CREATE]: [CreateParams, CreateResult];
  [LIST]: [ListParams, ListResult];
  [OPEN]: [OpenParams, OpenResult];
  [UPDATE]: [UpdateParams, OpenResult];
  [DELETE]: [SnippetRef, Deleted];
  [DUPLICATE]: [DuplicateParams, CreateResult];
  [WORKSPACES]: [NoParams, WorkspacesResult];
  [COMMENTS_LIST]: [SnippetRef, CommentsResult];
  [COMMENTS_ADD]: [CommentAddParams, CommentInfo];
  [COMMENTS_EDIT]: [CommentEditParams, CommentInfo];
  [COMMENTS_DELETE]: [CommentDeleteParams, Deleted];
  [WATCH]: [SnippetRef, WatchResult];
  [UNWATCH]: [SnippetRef, WatchResult];
  [WATCH_STATUS]: [SnippetRef, WatchResult];
  [WATCHERS]: [SnippetRef, WatchersResult];
  [HISTORY]: [SnippetRef, HistoryResult];
  [DIFF]: [DiffParams, DiffResult];
  [PULL]: [PullParams, PullResult];
  [LOGIN]: [LoginParams, AccountResult];
  [LOGOUT]: [NoParams, Empty];
  [WHOAMI]: [NoParams, AccountResult];
  [HEALTH]: [HealthParams, HealthResult];
  [SEARCH]: [SearchParams, SearchResult];
  [LINK]: [LinkParams, StatusResult];
  [STATUS]: [FolderParams, StatusResult];
  [PUSH]: [PushParams, PushResult];
  [LINKS]: [LinksParams, LinksResult];
  [UNLINK]: [FolderParams, UnlinkResult];
  [APPLY_PATCH]: [ApplyPatchParams, ApplyPatchResult];
  [SHARE_DIFF]: [ShareDiffParams, ShareDiffResult];
  [RESTORE]: [RestoreParams, RestoreResult];
}

export type CommandName = keyof Commands;
export type CommandParams<K extends CommandName> = Commands[K][0];
export type CommandResult<K extends CommandName> = Commands[K][1];
