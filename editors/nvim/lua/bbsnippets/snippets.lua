--- Snippets as a whole (the daemon's features/snippets.py): retitle, change the visibility, delete
--- and duplicate the current snippet. Creating one is share.lua, listing and opening picker.lua.

local client = require("bbsnippets.client")
local files = require("bbsnippets.files")
local protocol = require("bbsnippets.protocol")
local ui = require("bbsnippets.ui")
local uri = require("bbsnippets.uri")

local M = {}

---@param snippet {workspace: string, id: string}
---@param changes {title?: string, isPrivate?: boolean}
---@param done_message string
local function update(snippet, changes, done_message)
  local params = vim.tbl_extend("force", { workspace = snippet.workspace, id = snippet.id }, changes)
  ui.secret_checked(protocol.UPDATE, params, function(err)
    if not err then
      client.notify(done_message)
    end
  end)
end

--- `:BBSnippet title {text}`
---@param text string
function M.title(text)
  local snippet = ui.current_snippet()
  if not snippet then
    return
  end
  if vim.trim(text) == "" then
    client.notify(":BBSnippet title takes the new title, e.g. :BBSnippet title retry helper", vim.log.levels.ERROR)
    return
  end
  update(snippet, { title = text }, ('%s is now titled "%s"'):format(uri.ref(snippet.workspace, snippet.id), text))
end

--- `:BBSnippet visibility public|private` (making it public is secret-scanned by the daemon).
---@param visibility string
function M.visibility(visibility)
  local snippet = ui.current_snippet()
  if not snippet then
    return
  end
  if visibility ~= "public" and visibility ~= "private" then
    client.notify(
      (":BBSnippet visibility takes public or private (%s; %s)"):format(ui.VISIBILITY.private, ui.VISIBILITY.public),
      vim.log.levels.ERROR
    )
    return
  end
  local is_private = visibility == "private"
  update(
    snippet,
    { isPrivate = is_private },
    ("%s is now %s"):format(uri.ref(snippet.workspace, snippet.id), ui.visibility(is_private))
  )
end

--- `:BBSnippet delete`: deletes the snippet after a confirmation. Buffers with unsaved edits stay.
function M.delete()
  local snippet = ui.current_snippet()
  if not snippet then
    return
  end
  local ref = uri.ref(snippet.workspace, snippet.id)
  ui.confirm(("Delete snippet %s and all its files? This cannot be undone."):format(ref), "Delete", function()
    client.command(protocol.DELETE, { workspace = snippet.workspace, id = snippet.id }, function(err)
      if err then
        return
      end
      local kept = 0
      for _, buf in ipairs(files.buffers_of(snippet.workspace, snippet.id, true)) do
        if vim.bo[buf].modified then
          files.update_state(buf, { deleted = true })
          kept = kept + 1
        else
          vim.api.nvim_buf_delete(buf, { force = true })
        end
      end
      client.notify(
        ("deleted %s%s"):format(ref, kept > 0 and (" (%d buffers with unsaved edits kept)"):format(kept) or "")
      )
    end)
  end)
end

--- `:BBSnippet duplicate [workspace]`: a private copy (in this or another workspace), opened.
---@param to_workspace? string
function M.duplicate(to_workspace)
  local snippet = ui.current_snippet()
  if not snippet then
    return
  end
  ---@type bbsnippets.DuplicateParams
  local params = { workspace = snippet.workspace, id = snippet.id, toWorkspace = to_workspace }
  ui.secret_checked(protocol.DUPLICATE, params, function(err, result)
    if err then
      return
    end
    ---@cast result bbsnippets.CreateResult
    local register = ui.copy_link(result.htmlUrl or result.uri)
    client.notify(
      ("duplicated %s as %s, %s (link in the %s register)"):format(
        uri.ref(snippet.workspace, snippet.id),
        uri.ref(result.workspace, result.id),
        ui.visibility(result.isPrivate),
        register
      )
    )
    require("bbsnippets.picker").open(result.workspace, result.id)
  end)
end

return M
