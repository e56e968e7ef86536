--- Watch: bbsnippets.watch / unwatch / watchers, and what a `bbsnippets/didChange` does to the
--- buffers: an unmodified one reloads in place (cursor kept), a modified one is marked stale
--- (never reloaded over the user's text), comments shown are listed again. For watched snippets
--- (`watched` in the notification) the daemon also tells the user itself, so nothing is said twice. A
--- watched snippet out of reach (`unreachable`) is said once, buffers untouched (the daemon asks whether to
--- unwatch it); a watch this computer could not remember (`saved: false`) is a warning.

local client = require("bbsnippets.client")
local files = require("bbsnippets.files")
local protocol = require("bbsnippets.protocol")
local uri = require("bbsnippets.uri")

local M = {}

--- Watched snippets already said to be out of reach this session (the daemon may say it again after a restart).
---@type table<string, true>
local told_unreachable = {}

--- A watch or unwatch took effect; `saved == false`: this computer could not remember it (the daemon's
--- message says what that means), so that is what is said, as a warning.
---@param result bbsnippets.WatchResult
---@param done string what is said when it was remembered
local function watch_answered(result, done)
  if result.saved == false and result.message then
    client.notify(result.message, vim.log.levels.WARN)
  else
    client.notify(done)
  end
end

---@param snippet {workspace: string, id: string}
function M.watch(snippet)
  client.command(protocol.WATCH, { workspace = snippet.workspace, id = snippet.id }, function(err, result)
    if not err then
      local ref = uri.ref(snippet.workspace, snippet.id)
      watch_answered(result, ("watching %s: you are told when it changes, also after a restart"):format(ref))
    end
  end)
end

---@param snippet {workspace: string, id: string}
function M.unwatch(snippet)
  client.command(protocol.UNWATCH, { workspace = snippet.workspace, id = snippet.id }, function(err, result)
    if not err then
      watch_answered(result, ("no longer watching %s"):format(uri.ref(snippet.workspace, snippet.id)))
    end
  end)
end

--- A watched snippet's workspace answers 404/403: said once; its buffers are left as they are. The daemon
--- itself asks (window/showMessageRequest) whether to unwatch it, so nothing is asked here.
---@param params bbsnippets.DidChangeParams
local function out_of_reach(params)
  local ref = uri.ref(params.workspace, params.id)
  if told_unreachable[ref] then
    return
  end
  told_unreachable[ref] = true
  local buffers = files.buffers_of(params.workspace, params.id)
  client.notify(
    ("watched snippet %s is out of reach: Bitbucket says its workspace is gone or no longer yours%s"):format(
      ref,
      #buffers > 0 and "; your buffers of it are kept" or ""
    ),
    vim.log.levels.WARN
  )
end

---@param snippet {workspace: string, id: string}
function M.watchers(snippet)
  client.command(protocol.WATCHERS, { workspace = snippet.workspace, id = snippet.id }, function(err, result)
    if err then
      return
    end
    ---@cast result bbsnippets.WatchersResult
    local names = vim.tbl_map(function(watcher)
      return watcher.displayName
    end, result.watchers)
    client.notify(
      #names == 0 and ("nobody watches %s"):format(uri.ref(snippet.workspace, snippet.id))
        or ("%s is watched by: %s"):format(uri.ref(snippet.workspace, snippet.id), table.concat(names, ", "))
    )
  end)
end

---@param params bbsnippets.DidChangeParams
function M.on_did_change(params)
  if params.kind == "unreachable" then
    -- A watched snippet whose workspace answers 404/403: its files did not change (reading them again
    -- would only fail). The daemon asks the user once itself (window/showMessageRequest, which Neovim shows
    -- with vim.ui.select: Unwatch / Keep watching); dismissed, `:BBSnippet unwatch` is still there.
    -- Said once here too (the question may be dismissed; :messages keeps this).
    return out_of_reach(params)
  end
  local buffers = files.buffers_of(params.workspace, params.id)
  if params.kind == "comment" then
    local comments = package.loaded["bbsnippets.comments"]
    if comments and comments.shown(params.workspace, params.id) then
      comments.refresh(params.workspace, params.id)
    end
    return
  end
  local stale = {}
  for _, buf in ipairs(buffers) do
    local state = files.state(buf) or {}
    if params.kind == "deleted" then
      files.update_state(buf, { deleted = true })
    elseif vim.bo[buf].modified or state.new then
      files.update_state(buf, { stale = true })
      table.insert(stale, state.path)
    elseif not state.failed then
      files.reload(buf)
    end
  end
  local ref = uri.ref(params.workspace, params.id)
  if params.kind == "deleted" and #buffers > 0 then
    -- With `watched` the daemon's own window/showMessage says what happened on Bitbucket: then only
    -- what it means for the buffers is added here (the same for a change below).
    client.notify(
      params.watched and ("your buffers of %s are kept (:w fails)"):format(ref)
        or ("snippet %s was deleted on Bitbucket; your buffers are kept (:w fails)"):format(ref),
      vim.log.levels.WARN
    )
  elseif #stale > 0 then
    local what = params.watched and "%s: your unsaved edits in %s are kept. "
      or "%s changed on Bitbucket while you had unsaved edits in %s; they are kept. "
    client.notify(
      (what .. ":w asks how to save (compare/overwrite), :e! takes the new version."):format(
        ref,
        table.concat(stale, ", ")
      ),
      vim.log.levels.WARN
    )
  end
end

return M
