--- bbsnippets: Bitbucket Cloud snippets in Neovim, through snippet-daemon (a language server).
---
--- No setup() is needed: `plugin/bbsnippets.lua` defines :BBSnippet, the <Plug> maps and the
--- bbsnippet:// autocommands, and the daemon starts on first use. setup() only merges and
--- validates options (as vim.g.bbsnippets does). The functions below are for mappings and scripts.

local M = {}

--- Merges and validates options; errors name the option. Options apply when the daemon starts.
---@param opts? bbsnippets.Options
function M.setup(opts)
  require("bbsnippets.config").setup(opts)
end

--- The picker over a workspace's snippets (nil: the default workspace).
---@param workspace? string
function M.list(workspace)
  require("bbsnippets.picker").list(workspace)
end

--- Opens every file of snippet `workspace/id` into buffers.
---@param workspace string
---@param id string
function M.open(workspace, id)
  require("bbsnippets.picker").open(workspace, id)
end

--- Shares `text` as a new snippet file `name` (asks the title and the visibility).
---@param text string
---@param name string
---@param workspace? string
function M.share(text, name, workspace)
  require("bbsnippets.share").share(text, name, workspace)
end

--- Stops the daemon; the next command starts a new one with the options then in effect.
function M.restart()
  require("bbsnippets.client").stop()
end

return M
