--- Browse and open: a vim.ui.select picker over a workspace's snippets (bbsnippets.list), other
--- workspaces from bbsnippets.workspaces, and opening a snippet (bbsnippets.open: one request
--- for every file) into bbsnippet:// buffers. Also what command completion knows of both.

local client = require("bbsnippets.client")
local files = require("bbsnippets.files")
local protocol = require("bbsnippets.protocol")
local ui = require("bbsnippets.ui")
local uri = require("bbsnippets.uri")

local M = {}

--- What completion offers: the workspaces and snippet ids seen this session.
M.known = {
  workspaces = nil, ---@type bbsnippets.WorkspaceInfo[]?
  snippets = {}, ---@type table<string, bbsnippets.SnippetSummary[]>
}

local OTHER = { other = true }

---@param snippet bbsnippets.SnippetSummary
---@return string
local function describe(snippet)
  local title = snippet.title ~= "" and snippet.title or "(untitled)"
  return ("%s  ·  %s  ·  updated %s  ·  %s"):format(
    title,
    snippet.isPrivate and "private" or "public",
    ui.date(snippet.updatedOn or snippet.createdOn),
    uri.ref(snippet.workspace, snippet.id)
  )
end

--- Opens a snippet: one request (bbsnippets.open), then each file loads into its buffer from the
--- daemon's cache; the first file is shown (or the one a pasted address pointed at, `#file-NAME`).
--- Buffers already open keep unsaved edits.
---@param params bbsnippets.OpenParams `{workspace, id}`, or `{url}` (what the user typed, parsed by the daemon)
---@param on_done? fun(buffers: integer[])
local function open(params, on_done)
  client.command(protocol.OPEN, params, function(err, result)
    if err then
      return
    end
    ---@cast result bbsnippets.OpenResult
    local ref = uri.ref(result.workspace, result.id)
    local buffers, shown = {}, nil
    for _, file in ipairs(result.files) do
      local buf = vim.fn.bufadd(file.uri)
      vim.bo[buf].buflisted = true
      if not vim.api.nvim_buf_is_loaded(buf) then
        vim.fn.bufload(buf)
      elseif not vim.bo[buf].modified then
        files.reload(buf)
      end
      table.insert(buffers, buf)
      if file.name == result.file then
        shown = buf
      end
    end
    if #buffers == 0 then
      client.notify(("snippet %s has no files; :BBSnippet add NAME adds one"):format(ref))
    else
      vim.api.nvim_win_set_buf(0, shown or buffers[1])
      local names = vim.tbl_map(function(file)
        return file.name
      end, result.files)
      client.notify(("opened %s (%s): %s"):format(ref, result.title, table.concat(names, ", ")))
    end
    if on_done then
      on_done(buffers)
    end
  end)
end

--- Opens every file of snippet `workspace/id` (see `open`).
---@param workspace string
---@param id string
---@param on_done? fun(buffers: integer[])
function M.open(workspace, id, on_done)
  open({ workspace = workspace, id = id }, on_done)
end

--- `:BBSnippet open {ref}`: `ws/id` or the snippet's web address, as typed or pasted; the daemon
--- reads it (one parser for the CLI and both editors) and says what it expected when it is neither.
---@param ref? string
---@param on_done? fun(buffers: integer[])
function M.open_ref(ref, on_done)
  if not ref or vim.trim(ref) == "" then
    client.notify(
      ":BBSnippet open takes WORKSPACE/ID or the snippet's web address, e.g. :BBSnippet open myteam/kypj",
      vim.log.levels.ERROR
    )
    return
  end
  open({ url = vim.trim(ref) }, on_done)
end

--- Asks for one of the workspaces the user can see.
---@param on_choice fun(workspace: bbsnippets.WorkspaceInfo)
function M.choose_workspace(on_choice)
  client.command(protocol.WORKSPACES, nil, function(err, result)
    if err then
      return
    end
    ---@cast result bbsnippets.WorkspacesResult
    M.known.workspaces = result.workspaces
    if result.hint then
      client.notify(result.hint)
    end
    vim.ui.select(result.workspaces, {
      prompt = "Workspace",
      kind = "bbsnippets.workspace",
      format_item = function(workspace)
        return workspace.slug
          .. (workspace.name ~= workspace.slug and ("  ·  " .. workspace.name) or "")
          .. (workspace.isDefault and "  (default)" or "")
      end,
    }, function(choice)
      if choice then
        on_choice(choice)
      end
    end)
  end)
end

--- Asks for one of a workspace's snippets (newest first; "Other workspace…" goes to another one).
---@param workspace? string nil: the default workspace
---@param action string the prompt's start: "Snippets in", "Insert from"
---@param on_choice fun(snippet: bbsnippets.SnippetSummary)
function M.choose_snippet(workspace, action, on_choice)
  client.command(protocol.LIST, { workspace = workspace }, function(err, result)
    if err then
      return
    end
    ---@cast result bbsnippets.ListResult
    local snippets = result.snippets
    table.sort(snippets, function(a, b)
      return (a.updatedOn or "") > (b.updatedOn or "")
    end)
    local shown = workspace or (snippets[1] and snippets[1].workspace) or "your default workspace"
    if snippets[1] then
      M.known.snippets[snippets[1].workspace] = snippets
    end
    local items = vim.list_extend(vim.list_slice(snippets), { OTHER })
    vim.ui.select(items, {
      prompt = ("%s %s (%d)"):format(action, shown, #snippets),
      kind = "bbsnippets.snippet",
      format_item = function(item)
        return item == OTHER and "Other workspace…" or describe(item)
      end,
    }, function(choice)
      if choice == OTHER then
        M.choose_workspace(function(chosen)
          M.choose_snippet(chosen.slug, action, on_choice)
        end)
      elseif choice then
        on_choice(choice)
      end
    end)
  end)
end

--- `:BBSnippet list [workspace]`: pick a snippet (newest first) and open it.
---@param workspace? string nil: the default workspace
function M.list(workspace)
  M.choose_snippet(workspace, "Snippets in", function(snippet)
    M.open(snippet.workspace, snippet.id)
  end)
end

-- ----------------------------------------------------------------------------- completion

--- Workspaces for completion (asks the daemon once, briefly, if it runs).
---@return string[]
function M.workspace_names()
  if not M.known.workspaces and client.running() then
    local err, result = client.wait(function(done)
      client.command(protocol.WORKSPACES, nil, done, { handles = vim.tbl_values(protocol.ErrorKind) })
    end, 3000)
    if not err then
      M.known.workspaces = result.workspaces
    end
  end
  return vim.tbl_map(function(workspace)
    return workspace.slug
  end, M.known.workspaces or {})
end

--- `ws/id` for completion: snippets seen in pickers, and those of `workspace` when asked.
---@param lead string what is typed so far
---@return string[]
function M.snippet_refs(lead)
  local workspace = lead:match("^([^/]+)/")
  if workspace and not M.known.snippets[workspace] and client.running() then
    local err, result = client.wait(function(done)
      client.command(protocol.LIST, { workspace = workspace }, done, { handles = vim.tbl_values(protocol.ErrorKind) })
    end, 3000)
    if not err then
      M.known.snippets[workspace] = result.snippets
    end
  end
  local refs = {}
  for _, snippets in pairs(M.known.snippets) do
    for _, snippet in ipairs(snippets) do
      table.insert(refs, uri.ref(snippet.workspace, snippet.id))
    end
  end
  if not workspace then
    for _, name in ipairs(M.workspace_names()) do
      table.insert(refs, name .. "/")
    end
  end
  return refs
end

return M
