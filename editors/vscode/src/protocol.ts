// Mirrors snippet_daemon/protocol.py (the daemon's contract, docs/protocol.md); tests/test_contract.py holds it to that.
// Declarations only, in protocol.py's order: names, error kinds, options, parameters, results.
// Fields are camelCase exactly as on the wire; a Python `X | None` left out of results is `field?: X`.

import { NotificationType, RequestType } from "vscode-languageserver-protocol";

// --------------------------------------------------------------------------- names

export const URI_SCHEME = "bbsnippet";

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

export const STAT = new RequestType<UriParams, StatResult, void>("bbsnippets/stat");
export const READ_DIRECTORY = new RequestType<UriParams, ReadDirectoryResult, void>("bbsnippets/readDirectory");
export const READ_FILE = new RequestType<UriParams, ReadFileResult, void>("bbsnippets/readFile");
export const WRITE_FILE = new RequestType<WriteFileParams, WriteFileResult, void>("bbsnippets/writeFile");
export const DELETE_FILE = new RequestType<DeleteParams, Empty, void>("bbsnippets/delete");
export const RENAME = new RequestType<RenameParams, Empty, void>("bbsnippets/rename");

/** Server -> client. */
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
  SERVER: "server",
  CREDENTIAL_STORE: "credentialStore",
  FILE_EXISTS: "fileExists",
  READ_ONLY: "readOnly",
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

export interface InitializationOptions {
  apiUrl?: string;
  workspace?: string;
  pollIntervalSeconds?: number;
  logLevel?: "error" | "warning" | "info" | "debug";
  writeBatchMilliseconds?: number;
  pollBudgetPerHour?: number;
  /** The editor's name ("vscode"), echoed in the daemon's logs. */
  clientName?: string;
  /** The local search index: on or off (absent: SNIPPET_DAEMON_INDEXING, else on). */
  indexing?: boolean;
  /** Workspaces indexed besides the default one (["*"]: every workspace bbsnippets.workspaces lists). */
  indexWorkspaces?: string[];
  indexBudgetPerHour?: number;
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
  isPrivate?: boolean;
  allowSecrets?: boolean;
}

export interface ListParams {
  workspace?: string;
  role?: "owner" | "contributor" | "member";
}

export interface OpenParams {
  workspace: string;
  id: string;
  revision?: string;
}

export interface UpdateParams {
  workspace: string;
  id: string;
  title?: string;
  isPrivate?: boolean;
  allowSecrets?: boolean;
}

/** Copy a snippet (every file at HEAD) into a new one; private unless isPrivate is false. */
export interface DuplicateParams {
  workspace: string;
  id: string;
  toWorkspace?: string;
  title?: string;
  isPrivate?: boolean;
  allowSecrets?: boolean;
}

export interface SearchParams {
  query: string;
  /** Default: every indexed workspace. */
  workspace?: string;
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
  targetDir: string;
  revision?: string;
  overwrite?: boolean;
}

export interface LoginParams {
  kind: "apiToken" | "accessToken";
  secret: string;
  username?: string;
}

export type NoParams = Record<string, never>;

// --------------------------------------------------------------------------- request parameters

export interface UriParams {
  uri: string;
}

export interface WriteFileParams {
  uri: string;
  base64?: string;
  text?: string;
  create?: boolean;
  overwrite?: boolean;
  force?: boolean;
  allowSecrets?: boolean;
}

export interface DeleteParams {
  uri: string;
  recursive?: boolean;
}

export interface RenameParams {
  oldUri: string;
  newUri: string;
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
}

export interface ListResult {
  snippets: SnippetSummary[];
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
  deleted?: boolean;
}

export interface CommentsResult {
  comments: CommentInfo[];
}

export interface WatchResult {
  watching: boolean;
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
  commits: CommitInfo[];
}

export interface DiffResult {
  diff: string;
}

export type PullStatus = "written" | "unchanged" | "kept" | "refused" | "failed";
/** exists: a different local file (overwrite: true replaces it); unsafePath: a refused name; fileSystem: the OS refused. */
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
  written: string[];
  skipped: string[];
  unchanged: string[];
  reasons: Record<string, string>;
  /** One entry per snippet file, in name order. */
  files: PullFile[];
}

export interface AccountInfo {
  displayName: string;
  nickname?: string;
  uuid?: string;
  username?: string;
}

export interface AccountResult {
  account?: AccountInfo;
  /** The default workspace in effect. */
  workspace?: string;
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
}

/** Everything a status view shows, in one call that never fails for a missing login. */
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

export type Empty = Record<string, never>;

export interface StatResult {
  type: "file" | "directory";
  size: number;
  mtime: number;
  readonly: boolean;
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
  text?: string;
  revision?: string;
}

export interface WriteFileResult {
  revision?: string;
}

export interface DidChangeParams {
  workspace: string;
  id: string;
  kind: "commit" | "comment" | "deleted";
  revision?: string;
  /** The user watches this snippet: the daemon's window/showMessage about this change follows at once. */
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
  [HEALTH]: [NoParams, HealthResult];
  [SEARCH]: [SearchParams, SearchResult];
}

export type CommandName = keyof Commands;
export type CommandParams<K extends CommandName> = Commands[K][0];
export type CommandResult<K extends CommandName> = Commands[K][1];
