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

--- Opens snippet `workspace/id`: one request, then each file loads into its buffer from the
--- daemon's cache; the first file is shown. Buffers already open keep unsaved edits.
---@param workspace string
---@param id string
---@param on_done? fun(buffers: integer[])
function M.open(workspace, id, on_done)
  client.command(protocol.OPEN, { workspace = workspace, id = id }, function(err, result)
    if err then
      return
    end
    ---@cast result bbsnippets.OpenResult
    local buffers = {}
    for _, file in ipairs(result.files) do
      local buf = vim.fn.bufadd(file.uri)
      vim.bo[buf].buflisted = true
      if not vim.api.nvim_buf_is_loaded(buf) then
        vim.fn.bufload(buf)
      elseif not vim.bo[buf].modified then
        files.reload(buf)
      end
      table.insert(buffers, buf)
    end
    if #buffers == 0 then
      client.notify(("snippet %s has no files; :BBSnippet add NAME adds one"):format(uri.ref(workspace, id)))
    else
      vim.api.nvim_win_set_buf(0, buffers[1])
      local names = vim.tbl_map(function(file)
        return file.name
      end, result.files)
      client.notify(("opened %s (%s): %s"):format(uri.ref(workspace, id), result.title, table.concat(names, ", ")))
    end
    if on_done then
      on_done(buffers)
    end
  end)
end

--- `:BBSnippet open {ws}/{id}`.
---@param ref string
function M.open_ref(ref)
  local workspace, id = uri.parse_ref(ref or "")
  if not workspace then
    client.notify(":BBSnippet open takes WORKSPACE/ID, e.g. :BBSnippet open myteam/kypj", vim.log.levels.ERROR)
    return
  end
  M.open(workspace, id)
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

--- `:BBSnippet list [workspace]`: pick a snippet (newest first) and open it.
---@param workspace? string nil: the default workspace
function M.list(workspace)
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
      prompt = ("Snippets in %s (%d)"):format(shown, #snippets),
      kind = "bbsnippets.snippet",
      format_item = function(item)
        return item == OTHER and "Other workspace…" or describe(item)
      end,
    }, function(choice)
      if choice == OTHER then
        M.choose_workspace(function(chosen)
          M.list(chosen.slug)
        end)
      elseif choice then
        M.open(choice.workspace, choice.id)
      end
    end)
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
