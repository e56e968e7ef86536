-- Generated from snippet_daemon/protocol.py by scripts/gen_protocol.py: do not edit; run `.venv/bin/python scripts/gen_protocol.py`.
-- Declarations only, in protocol.py's order. Fields are camelCase exactly as on the wire; `field?` is left
-- out when it has no value (or, sent to the daemon, takes its default). No arguments: vim.empty_dict().

local M = {}

-- ----------------------------------------------------------------------------- names

M.URI_SCHEME = "bbsnippet"

-- Commands (`workspace/executeCommand` with one object argument).
M.CREATE = "bbsnippets.create"
M.LIST = "bbsnippets.list"
M.OPEN = "bbsnippets.open"
M.UPDATE = "bbsnippets.update"
M.DELETE = "bbsnippets.delete"
M.DUPLICATE = "bbsnippets.duplicate"
M.WORKSPACES = "bbsnippets.workspaces"
M.COMMENTS_LIST = "bbsnippets.comments.list"
M.COMMENTS_ADD = "bbsnippets.comments.add"
M.COMMENTS_EDIT = "bbsnippets.comments.edit"
M.COMMENTS_DELETE = "bbsnippets.comments.delete"
M.WATCH = "bbsnippets.watch"
M.UNWATCH = "bbsnippets.unwatch"
M.WATCH_STATUS = "bbsnippets.watchStatus"
M.WATCHERS = "bbsnippets.watchers"
M.HISTORY = "bbsnippets.history"
M.DIFF = "bbsnippets.diff"
M.PULL = "bbsnippets.pull"
M.LOGIN = "bbsnippets.login"
M.LOGOUT = "bbsnippets.logout"
M.WHOAMI = "bbsnippets.whoami"
M.HEALTH = "bbsnippets.health"
M.SEARCH = "bbsnippets.search"
M.LINK = "bbsnippets.link"
M.STATUS = "bbsnippets.status"
M.PUSH = "bbsnippets.push"
M.APPLY_PATCH = "bbsnippets.applyPatch"
M.SHARE_DIFF = "bbsnippets.shareDiff"
M.RESTORE = "bbsnippets.restore"
M.LINKS = "bbsnippets.links"
M.UNLINK = "bbsnippets.unlink"

-- Requests (a file system over bbsnippet:// URIs).
M.STAT = "bbsnippets/stat"
M.READ_DIRECTORY = "bbsnippets/readDirectory"
M.READ_FILE = "bbsnippets/readFile"
M.WRITE_FILE = "bbsnippets/writeFile"
M.DELETE_FILE = "bbsnippets/delete"
M.RENAME = "bbsnippets/rename"

-- Notifications, server -> client.
M.DID_CHANGE = "bbsnippets/didChange"

-- ----------------------------------------------------------------------------- errors

--- The values of `error.data.kind` on a failed request.
---@enum bbsnippets.ErrorKind
M.ErrorKind = {
  NOT_AUTHENTICATED = "notAuthenticated",
  FORBIDDEN = "forbidden",
  NOT_FOUND = "notFound",
  CONFLICT = "conflict",
  RATE_LIMITED = "rateLimited",
  UNSAFE_PATH = "unsafePath",
  INVALID_ARGUMENT = "invalidArgument",
  NETWORK = "network",
  PLAN = "plan",
  SECRET_DETECTED = "secretDetected",
  -- Extensions beyond the first contract (documented in docs/protocol.md).
  SERVER = "server",
  CREDENTIAL_STORE = "credentialStore",
  FILE_EXISTS = "fileExists",
  READ_ONLY = "readOnly",
  ACCOUNT_CHANGED = "accountChanged",
}

--- `data` of `conflict`: the revision that won, to compare against or to force over.
---@class bbsnippets.ConflictData
---@field remoteRevision? string

---@class bbsnippets.SecretFinding
---@field path string
---@field line integer
---@field rule string the kind of credential (never the value)

--- `data` of `secretDetected`: where each suspected credential is.
---@class bbsnippets.SecretDetectedData
---@field findings bbsnippets.SecretFinding[]

--- `data` of `forbidden` when Bitbucket named the scopes the credentials lack.
---@class bbsnippets.ForbiddenData
---@field missingScopes string[]

--- `data` of `invalidArgument` when Bitbucket named the fields it refused.
---@class bbsnippets.InvalidArgumentData
---@field fields table<string, any>

--- A failed request's `error.data`: `{kind, ...}` plus what that kind has to say.
---@alias bbsnippets.ErrorData {kind?: bbsnippets.ErrorKind, remoteRevision?: string, findings?: bbsnippets.SecretFinding[], missingScopes?: string[], fields?: table<string, any>}

-- ----------------------------------------------------------------------------- settings

--- `initializationOptions`; each falls back to the environment, then to the default.
---@class bbsnippets.InitializationOptions
---@field apiUrl? string
---@field workspace? string
---@field pollIntervalSeconds? number default 60
---@field logLevel? string
--- Extensions: how long writes to one snippet are gathered into one request, and the most
--- requests an hour polling may spend (10% of Bitbucket's 1,000).
---@field writeBatchMilliseconds? integer default 30
---@field pollBudgetPerHour? number default 100
--- The editor's name ("vscode", "neovim", ...), echoed in the daemon's logs.
---@field clientName? string
--- The local search index: on or off, which workspaces besides the default one (["*"]: every workspace
--- bbsnippets.workspaces lists), the most requests an hour it may spend, and how often it reads lists itself.
---@field indexing? boolean absent: SNIPPET_DAEMON_INDEXING, else on
---@field indexWorkspaces? string[]
---@field indexBudgetPerHour? number default 300
---@field indexRefreshSeconds? number default 300

-- ----------------------------------------------------------------------------- command parameters

---@class bbsnippets.SnippetRef
---@field workspace string
---@field id string

---@class bbsnippets.FileInput
---@field name string
---@field text? string
---@field base64? string

---@class bbsnippets.CreateParams
---@field files bbsnippets.FileInput[]
---@field workspace? string
---@field title? string
---@field isPrivate? boolean default true
---@field allowSecrets? boolean default false

---@class bbsnippets.ListParams
---@field workspace? string
---@field role? "owner"|"contributor"|"member"

--- `{workspace, id}`, or `{url}`: `WORKSPACE/ID` or one of the snippet's web addresses as a user pastes it, parsed by the daemon (`.../{ws}/workspace/snippets/{id}[/{slug}]`, `.../snippets/{ws}/{id}[/{slug}]` on bitbucket.org or the sandbox, with or without `#file-{name}`).
---@class bbsnippets.OpenParams
---@field workspace? string
---@field id? string
---@field revision? string
---@field url? string extension: instead of workspace and id

---@class bbsnippets.UpdateParams
---@field workspace string
---@field id string
---@field title? string
---@field isPrivate? boolean
---@field allowSecrets? boolean default false

--- Copy a snippet (every file at HEAD) into a new one: "fork" in every gist tool.
---@class bbsnippets.DuplicateParams
---@field workspace string
---@field id string
---@field toWorkspace? string default: the source's workspace
---@field title? string default: the source's title
---@field isPrivate? boolean default true
---@field allowSecrets? boolean default false

---@class bbsnippets.SearchParams
---@field query string every word must match (case-insensitive substrings)
---@field workspace? string default: every indexed workspace
---@field limit? integer default 50

---@class bbsnippets.CommentAddParams
---@field workspace string
---@field id string
---@field raw string
---@field parentId? integer
---@field path? string
---@field line? integer

---@class bbsnippets.CommentEditParams
---@field workspace string
---@field id string
---@field commentId integer
---@field raw string

---@class bbsnippets.CommentDeleteParams
---@field workspace string
---@field id string
---@field commentId integer

---@class bbsnippets.DiffParams
---@field workspace string
---@field id string
---@field revision string
---@field path? string

---@class bbsnippets.PullParams
---@field workspace string
---@field id string
---@field targetDir? string absolute: the folder, used as it is
---@field revision? string
---@field overwrite? boolean default false
--- Extension, instead of targetDir when the user named no folder: the files go to {baseDir}/{id}, a new folder
--- named after the snippet's id, the one default every tool shares (the CLI's current folder, Neovim's current
--- directory, VS Code's first workspace folder).
---@field baseDir? string

--- Tie `folder` (absolute: a folder, or one file) to a snippet at its HEAD.
---@class bbsnippets.LinkParams
---@field folder string
---@field workspace string
---@field id string

---@class bbsnippets.FolderParams
---@field folder string absolute: a linked folder or file

---@class bbsnippets.LinksParams
---@field under? string absolute: only the links of this folder and below; default: every link

---@class bbsnippets.PushParams
---@field folder string
---@field add? string[] names relative to the folder, sent although the snippet never had them
---@field force? boolean default false
---@field allowSecrets? boolean a push to a public snippet is secret-scanned, as a save is (default false)

---@class bbsnippets.ApplyPatchParams
---@field workspace string
---@field id string
---@field folder string absolute; the patch's names are relative to it
---@field path? string the snippet's .patch/.diff file; default: its only one
---@field dryRun? boolean default false

---@class bbsnippets.ShareDiffParams
---@field folder string absolute; any folder inside a git repository
---@field staged? boolean default false
---@field includeUntracked? boolean untracked files (not ignored ones) as new files (default false)
---@field workspace? string
---@field title? string
---@field isPrivate? boolean default true
---@field allowSecrets? boolean default false

---@class bbsnippets.RestoreParams
---@field workspace string
---@field id string
---@field revision string
---@field path? string one file; default: every file

---@class bbsnippets.LoginParams
---@field kind "apiToken"|"accessToken"
---@field secret string
---@field username? string

--- The argument of commands that take none (from Lua: `vim.empty_dict()`).
---@class bbsnippets.NoParams

--- `checkApi: false`: no request at all (the keyring and the credentials only), so that a sign-in can say there is no OS keyring before it asks anything.
---@class bbsnippets.HealthParams
---@field checkApi? boolean default true

-- ----------------------------------------------------------------------------- request parameters

---@class bbsnippets.UriParams
---@field uri string

---@class bbsnippets.StatParams
---@field uri string
--- The client is about to write this file (VS Code: a save): a cached copy older than
--- STAT_FRESH_SECONDS (documents.py; 0: any) is read again first (one GET), so the answer shows another
--- writer's change.
---@field fresh? boolean default false

---@class bbsnippets.WriteFileParams
---@field uri string
---@field base64? string
---@field text? string
---@field create? boolean default true
---@field overwrite? boolean default true
---@field force? boolean default false
---@field allowSecrets? boolean default false

---@class bbsnippets.DeleteParams
---@field uri string
---@field recursive? boolean default true

---@class bbsnippets.RenameParams
---@field oldUri string
---@field newUri string
---@field overwrite? boolean default false

-- ----------------------------------------------------------------------------- results

---@class bbsnippets.CreateResult
---@field workspace string
---@field id string
---@field title string
---@field isPrivate boolean
---@field htmlUrl? string
---@field uri string

---@class bbsnippets.SnippetSummary
---@field workspace string
---@field id string
---@field title string
---@field isPrivate boolean
---@field createdOn? string
---@field updatedOn? string
---@field htmlUrl? string
--- bbsnippets.list: the user watches it (from the daemon's own watch list: no request per snippet).
---@field watching boolean

---@class bbsnippets.ListResult
---@field snippets bbsnippets.SnippetSummary[]

---@class bbsnippets.FileInfo
---@field name string
---@field uri string
---@field binary boolean
---@field size integer

---@class bbsnippets.OpenResult
---@field workspace string
---@field id string
---@field title string
---@field isPrivate boolean
---@field revision? string
---@field htmlUrl? string
---@field files bbsnippets.FileInfo[]
---@field file? string extension: the file an opened address pointed at (#file-NAME), one of files' names

---@class bbsnippets.Deleted
---@field deleted boolean

---@class bbsnippets.CommentInfo
---@field id integer
---@field parentId? integer
---@field author? string
---@field createdOn? string
---@field updatedOn? string
---@field raw string
---@field html string
---@field path? string
---@field line? integer
---@field deleted? boolean extension: a deleted comment kept (empty) because replies hang off it

---@class bbsnippets.CommentsResult
---@field comments bbsnippets.CommentInfo[]

---@class bbsnippets.WatchResult
---@field watching boolean
--- False (with `message`, to show) when watching.json could not be written: Bitbucket has the change, but
--- this computer forgets it at the next start. Left out when it was saved.
---@field saved? boolean
---@field message? string

---@class bbsnippets.WatcherInfo
---@field displayName string
---@field uuid? string

---@class bbsnippets.WatchersResult
---@field watchers bbsnippets.WatcherInfo[]

---@class bbsnippets.CommitInfo
---@field hash string
---@field date? string
---@field author string
---@field message string

---@class bbsnippets.HistoryResult
---@field commits bbsnippets.CommitInfo[] newest first

---@class bbsnippets.DiffResult
---@field diff string

---@alias bbsnippets.PullStatus "written"|"unchanged"|"kept"|"refused"|"failed"

--- Why a file was kept, refused or failed: `exists` (a different local file; `overwrite: true` replaces it),
--- `unsafePath` (a name that would land outside the folder or fool the user), `fileSystem` (the OS refused).
---@alias bbsnippets.PullFileKind "exists"|"unsafePath"|"fileSystem"

---@class bbsnippets.PullFile
---@field name string the snippet's file name
---@field status bbsnippets.PullStatus
---@field path? string where it is (or would be) on disk; absent for a refused name
---@field kind? bbsnippets.PullFileKind
---@field message? string

---@class bbsnippets.PullResult
---@field written string[] absolute paths
---@field skipped string[] snippet file names
--- Extensions: why each skipped file was skipped, and files already identical.
---@field unchanged string[]
---@field reasons table<string, string> name -> why it was skipped
---@field files bbsnippets.PullFile[] one entry per snippet file, in name order
---@field targetDir? string extension: the folder the files went to (absolute)

---@alias bbsnippets.FileState "unchanged"|"modified"|"deleted"

---@class bbsnippets.TrackedFile
---@field name string the snippet's file name
---@field path string where it is on disk
---@field state bbsnippets.FileState

---@class bbsnippets.StatusResult
---@field workspace string
---@field id string
---@field revision string the revision the folder is linked at
---@field files bbsnippets.TrackedFile[]
---@field remoteRevision? string present when the snippet moved since `revision`
---@field folder? string extension: the linked folder (or file), as the link holds it

---@class bbsnippets.LinkInfo
---@field folder string the linked folder, or the one linked file
---@field workspace string
---@field id string
---@field revision string
---@field file? string for a linked file: the snippet file it is

---@class bbsnippets.LinksResult
---@field links bbsnippets.LinkInfo[]

---@class bbsnippets.UnlinkResult
---@field unlinked boolean false: it was not linked

---@alias bbsnippets.PushFileStatus "sent"|"deleted"

---@class bbsnippets.PushedFile
---@field name string
---@field status bbsnippets.PushFileStatus

---@class bbsnippets.PushResult
---@field revision string
---@field files bbsnippets.PushedFile[]

---@alias bbsnippets.PatchFileStatus "applied"|"created"|"deleted"|"failed"|"refused"

--- unsafePath: a name outside the folder (refused); binary: a binary change (refused); mismatch: the file is not
--- what the patch expects (failed); fileSystem: the OS refused a write (failed).
---@alias bbsnippets.PatchFileKind "unsafePath"|"binary"|"mismatch"|"fileSystem"

---@class bbsnippets.PatchedFile
---@field path string where on disk (absolute); for a refused name, the name as the patch gives it
---@field status bbsnippets.PatchFileStatus
---@field kind? bbsnippets.PatchFileKind
---@field message? string
---@field name? string extension: the name in the patch, relative to the folder

---@class bbsnippets.ApplyPatchResult
---@field applied boolean false: nothing changed on disk (also for a dry run that would fail)
---@field files bbsnippets.PatchedFile[]

---@class bbsnippets.LeftOutFile
---@field name string
---@field reason string

---@class bbsnippets.ShareDiffResult
---@field workspace string
---@field id string
---@field title string
---@field isPrivate boolean
---@field htmlUrl? string
---@field uri string the .patch file's bbsnippet:// URI
---@field name string the .patch file's name in the snippet
---@field files string[] the files the patch changes (relative to the repository)
---@field leftOut bbsnippets.LeftOutFile[] binary changes, each with why

---@class bbsnippets.RestoreResult
---@field revision? string the new HEAD (the restored content as one new commit); unchanged when nothing differed
---@field files string[] the files the restore changed

---@class bbsnippets.AccountInfo
---@field displayName string
---@field nickname? string
---@field uuid? string
---@field username? string the login name the credentials were given with (an email for API tokens)

---@class bbsnippets.AccountResult
---@field account? bbsnippets.AccountInfo
---@field workspace? string the default workspace in effect

---@class bbsnippets.SearchHit
---@field workspace string
---@field id string
---@field title string
---@field name string the file
---@field preview string the matching line, or the title or file name that matched
---@field uri string the file's bbsnippet:// URI, with #L{line} for a content hit
---@field line? integer 1-based, for a content hit

---@class bbsnippets.SearchResult
---@field results bbsnippets.SearchHit[] title and file-name hits first, then content hits
---@field complete boolean false while contents are still being indexed (titles and names are searchable at once)

---@class bbsnippets.WorkspaceInfo
---@field slug string
---@field name string
---@field uuid? string
---@field isDefault boolean

---@class bbsnippets.WorkspacesResult
---@field workspaces bbsnippets.WorkspaceInfo[]
---@field hint? string why only the default is listed, and which scope would list the rest

---@class bbsnippets.CredentialsHealth
---@field present boolean
---@field source? string "environment" or "keyring"
---@field message? string what to do when absent

---@class bbsnippets.KeyringHealth
---@field usable boolean
---@field backend? string
---@field message? string

---@class bbsnippets.ApiHealth
---@field reachable boolean
---@field status? integer the HTTP status of the check (GET /user)
---@field message? string
---@field checked? boolean extension: false when asked not to (checkApi: false); then reachable says nothing

--- Everything a `:checkhealth` or a status view shows, in one call that never fails for a missing login.
---@class bbsnippets.HealthResult
---@field version string
---@field apiUrl string
---@field credentials bbsnippets.CredentialsHealth
---@field keyring bbsnippets.KeyringHealth
---@field api bbsnippets.ApiHealth
---@field clientName? string
---@field account? bbsnippets.AccountInfo
---@field workspace? string

--- The result of requests and commands that answer nothing.
---@class bbsnippets.Empty

---@class bbsnippets.StatResult
---@field type "file"|"directory"
---@field size integer
---@field mtime integer milliseconds since the epoch, as VS Code's FileStat
---@field readonly boolean
--- A file at HEAD that someone else changed since this client read it: saving it now would be a conflict.
---@field stale boolean

---@class bbsnippets.DirectoryEntry
---@field name string
---@field type "file"|"directory"

---@class bbsnippets.ReadDirectoryResult
---@field entries bbsnippets.DirectoryEntry[]

---@class bbsnippets.ReadFileResult
---@field base64 string
---@field text? string when the file is UTF-8 without NUL
---@field revision? string extension: the revision the content was read at

---@class bbsnippets.WriteFileResult
---@field revision? string

---@class bbsnippets.DidChangeParams
---@field workspace string
---@field id string
--- "unreachable": a watched snippet's workspace answers 404/403 (gone, or access lost): it is skipped with a
--- back-off of its own, and the user is asked once (window/showMessageRequest) whether to unwatch it.
---@field kind "commit"|"comment"|"deleted"|"unreachable"
---@field revision? string
--- True when the user watches the snippet: a window/showMessage about this change follows at once.
---@field watched boolean

return M
