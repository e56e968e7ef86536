-- Mirrors snippet_daemon/protocol.py (the daemon's contract; tests/test_contract.py holds this file to it).
-- It declares the daemon's names and shapes and does nothing else. Sections follow protocol.py:
-- method names, error kinds, options, params, results. Fields are camelCase, exactly as on the wire;
-- `field?` is left out when it has no value. From Lua, send "no arguments" as vim.empty_dict().

local M = {}

-- ----------------------------------------------------------------------------- names

M.URI_SCHEME = "bbsnippet"

-- Commands (workspace/executeCommand with one object argument).
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

-- Requests: a file system over bbsnippet:// URIs.
M.STAT = "bbsnippets/stat"
M.READ_DIRECTORY = "bbsnippets/readDirectory"
M.READ_FILE = "bbsnippets/readFile"
M.WRITE_FILE = "bbsnippets/writeFile"
M.DELETE_FILE = "bbsnippets/delete"
M.RENAME = "bbsnippets/rename"

-- Server -> client notification.
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
  -- Extensions beyond the first contract.
  SERVER = "server",
  CREDENTIAL_STORE = "credentialStore",
  FILE_EXISTS = "fileExists",
  READ_ONLY = "readOnly",
}

---@class bbsnippets.ConflictData
---@field kind "conflict"
---@field remoteRevision? string the revision on Bitbucket now, to compare against or force over

---@class bbsnippets.SecretFinding
---@field path string
---@field line integer
---@field rule string the kind of credential (never the value)

---@class bbsnippets.SecretDetectedData
---@field kind "secretDetected"
---@field findings bbsnippets.SecretFinding[]

---@class bbsnippets.ForbiddenData
---@field kind "forbidden"
---@field missingScopes? string[]

---@class bbsnippets.InvalidArgumentData
---@field kind "invalidArgument"
---@field fields? table<string, any> what Bitbucket refused

--- `error.data` of a failed request (kind absent only for a daemon bug, -32603).
---@alias bbsnippets.ErrorData bbsnippets.ConflictData|bbsnippets.SecretDetectedData|bbsnippets.ForbiddenData|bbsnippets.InvalidArgumentData|{kind?: bbsnippets.ErrorKind}

-- ----------------------------------------------------------------------------- settings

--- initializationOptions; each falls back to the environment, then to the default.
---@class bbsnippets.InitializationOptions
---@field apiUrl? string
---@field workspace? string
---@field pollIntervalSeconds? number
---@field logLevel? "error"|"warning"|"info"|"debug"
---@field writeBatchMilliseconds? integer extension
---@field pollBudgetPerHour? number extension
---@field clientName? string the editor's name, echoed in the daemon's log and health
---@field indexing? boolean the local search index (default: on, unless SNIPPET_DAEMON_INDEXING says off)
---@field indexWorkspaces? string[] workspaces indexed besides the default one ({ "*" }: every visible one)
---@field indexBudgetPerHour? number the most requests an hour indexing may spend (default 300)
---@field indexRefreshSeconds? number how often the index reads the lists itself (default 300)

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
---@field allowSecrets? boolean

---@class bbsnippets.ListParams
---@field workspace? string
---@field role? "owner"|"contributor"|"member"

---@class bbsnippets.OpenParams
---@field workspace string
---@field id string
---@field revision? string

---@class bbsnippets.UpdateParams
---@field workspace string
---@field id string
---@field title? string
---@field isPrivate? boolean
---@field allowSecrets? boolean

---@class bbsnippets.DuplicateParams
---@field workspace string
---@field id string
---@field toWorkspace? string
---@field title? string
---@field isPrivate? boolean default true
---@field allowSecrets? boolean

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
---@field targetDir string absolute
---@field revision? string
---@field overwrite? boolean default false

---@class bbsnippets.LoginParams
---@field kind "apiToken"|"accessToken"
---@field secret string
---@field username? string

--- The argument of commands that take none (send vim.empty_dict()).
---@class bbsnippets.NoParams

-- ----------------------------------------------------------------------------- request parameters

---@class bbsnippets.UriParams
---@field uri string

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

---@class bbsnippets.ListResult
---@field snippets bbsnippets.SnippetSummary[]

---@class bbsnippets.WorkspaceInfo
---@field slug string
---@field name string
---@field uuid? string
---@field isDefault boolean

---@class bbsnippets.WorkspacesResult
---@field workspaces bbsnippets.WorkspaceInfo[]
---@field hint? string why only the default is listed (a missing scope)

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
---@field deleted? boolean extension: kept (empty) because replies hang off it

---@class bbsnippets.CommentsResult
---@field comments bbsnippets.CommentInfo[]

---@class bbsnippets.WatchResult
---@field watching boolean

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
--- Why a file was kept, refused or failed: a different local file (overwrite replaces it), a name
--- that would land outside the folder, or the OS refused (message says why).
---@alias bbsnippets.PullFileKind "exists"|"unsafePath"|"fileSystem"

---@class bbsnippets.PullFile
---@field name string the snippet's file name
---@field status bbsnippets.PullStatus
---@field path? string where it is (or would be) on disk
---@field kind? bbsnippets.PullFileKind
---@field message? string

---@class bbsnippets.PullResult
---@field written string[] absolute paths
---@field skipped string[] snippet file names
---@field unchanged? string[] absolute paths
---@field reasons? table<string, string> name -> why it was skipped
---@field files? bbsnippets.PullFile[] one per snippet file, in name order

---@class bbsnippets.AccountInfo
---@field displayName string
---@field nickname? string
---@field uuid? string
---@field username? string the login name the credentials carry

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
---@field complete boolean false while contents are still being indexed

---@class bbsnippets.CredentialsHealth
---@field present boolean
---@field source? "environment"|"keyring"
---@field message? string what to do when absent

---@class bbsnippets.KeyringHealth
---@field usable boolean
---@field backend? string
---@field message? string

---@class bbsnippets.ApiHealth
---@field reachable boolean
---@field status? integer the HTTP status of the check
---@field message? string

---@class bbsnippets.HealthResult
---@field version string
---@field apiUrl string
---@field credentials bbsnippets.CredentialsHealth
---@field keyring bbsnippets.KeyringHealth
---@field api bbsnippets.ApiHealth
---@field clientName? string
---@field account? bbsnippets.AccountInfo
---@field workspace? string

--- The result of commands that answer nothing.
---@class bbsnippets.Empty

---@class bbsnippets.StatResult
---@field type "file"|"directory"
---@field size integer
---@field mtime integer milliseconds since the epoch
---@field readonly boolean

---@class bbsnippets.DirectoryEntry
---@field name string
---@field type "file"|"directory"

---@class bbsnippets.ReadDirectoryResult
---@field entries bbsnippets.DirectoryEntry[]

---@class bbsnippets.ReadFileResult
---@field base64 string
---@field text? string when the file is UTF-8 without NUL
---@field revision? string

---@class bbsnippets.WriteFileResult
---@field revision? string

---@class bbsnippets.DidChangeParams
---@field workspace string
---@field id string
---@field kind "commit"|"comment"|"deleted"
---@field revision? string
---@field watched boolean

return M
