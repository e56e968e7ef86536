--- History: bbsnippets.history (commits, newest first), a file at an old revision (a read-only
--- `?rev=` buffer) diffed against HEAD, bbsnippets.diff (what a commit changed) and
--- bbsnippets.restore ("restore this version" of one file or the whole snippet, as a new commit).

local client = require("bbsnippets.client")
local protocol = require("bbsnippets.protocol")
local ui = require("bbsnippets.ui")
local uri = require("bbsnippets.uri")

local M = {}

---@type table<string, bbsnippets.CommitInfo[]> "ws/id" -> commits (for completion)
M.known = {}

--- The revisions completion offers for the current snippet buffer: the commits seen this session.
---@return string[]
function M.known_revisions()
  local snippet = vim.b.bbsnippets
  local commits = snippet and snippet.id and M.known[uri.ref(snippet.workspace, snippet.id)]
  return vim.tbl_map(function(commit)
    return commit.hash
  end, commits or {})
end

---@param commit bbsnippets.CommitInfo
---@return string
local function describe(commit)
  local message = vim.split(commit.message or "", "\n", { plain = true })[1]
  return ("%s  %s  %s  %s"):format(commit.hash:sub(1, 7), ui.date(commit.date), commit.author, message)
end

---@param snippet {workspace: string, id: string}
---@param prompt string
---@param on_choice fun(commit: bbsnippets.CommitInfo)
local function choose_commit(snippet, prompt, on_choice)
  client.command(protocol.HISTORY, { workspace = snippet.workspace, id = snippet.id }, function(err, result)
    if err then
      return
    end
    ---@cast result bbsnippets.HistoryResult
    M.known[uri.ref(snippet.workspace, snippet.id)] = result.commits
    vim.ui.select(
      result.commits,
      { prompt = prompt, kind = "bbsnippets.commit", format_item = describe },
      function(commit)
        if commit then
          on_choice(commit)
        end
      end
    )
  end)
end

--- Opens `path` at `revision` beside the current window, read-only, in diff mode with it.
---@param snippet {workspace: string, id: string}
---@param path string
---@param revision string
function M.diffsplit(snippet, path, revision)
  vim.cmd("vertical diffsplit " .. vim.fn.fnameescape(uri.build(snippet.workspace, snippet.id, path, revision)))
end

--- `:BBSnippet history`: pick a commit; the current file at that revision opens read-only,
--- diffed against the file at HEAD (from a comments buffer: the snippet's diff instead).
function M.history()
  local snippet = ui.current_snippet()
  if not snippet then
    return
  end
  choose_commit(snippet, ("History of %s"):format(uri.ref(snippet.workspace, snippet.id)), function(commit)
    if not snippet.path then
      return M.show_diff(snippet, commit.hash)
    end
    if snippet.revision then
      vim.cmd.edit(vim.fn.fnameescape(uri.build(snippet.workspace, snippet.id, snippet.path)))
    end
    M.diffsplit(snippet, snippet.path, commit.hash)
  end)
end

--- `:BBSnippet diff [rev]`: what a commit changed (default: the newest), as a `diff` buffer;
--- in a file buffer, only that file's part.
---@param revision? string
function M.diff(revision)
  local snippet = ui.current_snippet()
  if not snippet then
    return
  end
  if revision then
    return M.show_diff(snippet, revision)
  end
  choose_commit(snippet, "Show the changes of", function(commit)
    M.show_diff(snippet, commit.hash)
  end)
end

---@param snippet {workspace: string, id: string, path?: string}
---@param revision string
function M.show_diff(snippet, revision)
  local params = { workspace = snippet.workspace, id = snippet.id, revision = revision, path = snippet.path }
  client.command(protocol.DIFF, params, function(err, result)
    if err then
      return
    end
    local buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(result.diff, "\n", { plain = true }))
    vim.bo[buf].filetype, vim.bo[buf].modifiable, vim.bo[buf].bufhidden = "diff", false, "wipe"
    vim.b[buf].bbsnippets = { workspace = snippet.workspace, id = snippet.id }
    vim.cmd("botright split")
    vim.api.nvim_win_set_buf(0, buf)
    vim.keymap.set("n", "q", "<Cmd>close<CR>", { buffer = buf, desc = "bbsnippets: close" })
  end)
end

-- ----------------------------------------------------------------------------- restore

--- Re-reads the snippet's open, unmodified buffers at HEAD after a restore (the daemon tells no
--- didChange for it); a buffer with unsaved edits keeps them and is named.
---@param snippet {workspace: string, id: string}
---@param changed string[] the restored files
local function reload_after_restore(snippet, changed)
  local files = require("bbsnippets.files")
  local kept = {}
  for _, buf in ipairs(files.buffers_of(snippet.workspace, snippet.id)) do
    local path = vim.b[buf].bbsnippets.path
    if vim.tbl_contains(changed, path) then
      if vim.bo[buf].modified then
        table.insert(kept, path)
      else
        files.reload(buf)
      end
    end
  end
  if #kept > 0 then
    client.notify(
      ("your unsaved edits of %s are kept; :e! shows the restored version"):format(table.concat(kept, ", ")),
      vim.log.levels.WARN
    )
  end
end

---@param snippet {workspace: string, id: string}
---@param revision string
---@param path? string nil: every file
local function restore(snippet, revision, path)
  ---@type bbsnippets.RestoreParams
  local params = { workspace = snippet.workspace, id = snippet.id, revision = revision, path = path }
  client.command(protocol.RESTORE, params, function(err, result)
    if err then
      return
    end
    ---@cast result bbsnippets.RestoreResult
    local what = path or "every file"
    if #result.files == 0 then
      return client.notify(("nothing to restore: %s is already as it was at %s"):format(what, revision:sub(1, 7)))
    end
    client.notify(
      ("restored %s as it was at %s: new revision %s (:BBSnippet history shows it)"):format(
        table.concat(result.files, ", "),
        revision:sub(1, 7),
        (result.revision or ""):sub(1, 7)
      )
    )
    reload_after_restore(snippet, result.files)
  end)
end

--- Asks whether to restore this file or the whole snippet as it was at `revision`.
---@param snippet {workspace: string, id: string, path?: string}
---@param revision string
local function ask_restore(snippet, revision)
  local short = revision:sub(1, 7)
  local choices = {}
  if snippet.path then
    table.insert(choices, ("Restore %s as it was at %s"):format(snippet.path, short))
  end
  table.insert(choices, ("Restore every file as it was at %s"):format(short))
  table.insert(choices, "Cancel")
  vim.ui.select(choices, {
    prompt = ("Restore %s? It becomes a new commit; history keeps every version."):format(
      uri.ref(snippet.workspace, snippet.id)
    ),
    kind = "bbsnippets.confirm",
  }, function(_, index)
    if not index or index == #choices then
      return
    end
    restore(snippet, revision, (snippet.path and index == 1) and snippet.path or nil)
  end)
end

--- `:BBSnippet restore [rev]`: "restore this version" of this file or of the whole snippet. In a
--- file at an old revision (what `:BBSnippet history` opens) that revision; else `rev`, or pick one.
---@param revision? string
function M.restore(revision)
  local snippet = ui.current_snippet()
  if not snippet then
    return
  end
  revision = revision or snippet.revision
  if revision then
    return ask_restore(snippet, revision)
  end
  choose_commit(snippet, "Restore which version?", function(commit)
    ask_restore(snippet, commit.hash)
  end)
end

return M
