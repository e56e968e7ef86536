--- Options: the defaults, `vim.g.bbsnippets` and `require('bbsnippets').setup(opts)`, merged and
--- validated. Nothing here starts anything; the daemon reads the options when it starts.

local M = {}

---@class bbsnippets.Options
---@field cmd? string[] the daemon command; default: the one :BBSnippet install made, else { "snippet-daemon" }, else { "python3", "-m", "snippet_daemon" }
---@field install_source? string what :BBSnippet install installs when the plugin is not in a clone: a wheel or a requirement
---@field api_url? string Bitbucket's API (default: the daemon's, https://api.bitbucket.org/2.0 or $BITBUCKET_API_URL)
---@field workspace? string default workspace for list and share (default: your personal one)
---@field poll_interval_seconds? number how often open and watched snippets are checked (0 = never; default 60)
---@field log_level? "error"|"warning"|"info"|"debug" the daemon's log level
---@field private_by_default? boolean share offers Private first (default true)
---@field daemon_options? table<string, any> further initializationOptions, passed as they are (docs/protocol.md)

M.DEFAULT_CMD = { "snippet-daemon" }
M.FALLBACK_CMD = { "python3", "-m", "snippet_daemon" }

---@type bbsnippets.Options
local DEFAULTS = {
  cmd = nil, -- resolved by M.cmd()
  install_source = nil,
  api_url = nil,
  workspace = nil,
  poll_interval_seconds = nil,
  log_level = nil,
  private_by_default = true,
  daemon_options = {},
}

local LOG_LEVELS = { error = true, warning = true, info = true, debug = true }

---@param value any
local function is_string_list(value)
  if type(value) ~= "table" or #value == 0 or not vim.islist(value) then
    return false
  end
  for _, item in ipairs(value) do
    if type(item) ~= "string" or item == "" then
      return false
    end
  end
  return true
end

--- Each option: a check and what a right value looks like (the error names both).
---@type table<string, {check: fun(value: any): boolean, expected: string}>
local SPEC = {
  cmd = { check = is_string_list, expected = 'a list of strings, e.g. { "snippet-daemon" }' },
  install_source = {
    check = function(value)
      return type(value) == "string" and value ~= ""
    end,
    expected = 'a wheel\'s path or a pip requirement, e.g. "~/Downloads/snippet_daemon-0.1.0-py3-none-any.whl"',
  },
  api_url = {
    check = function(value)
      return type(value) == "string" and value:match("^https?://") ~= nil
    end,
    expected = 'a URL string, e.g. "https://api.bitbucket.org/2.0"',
  },
  workspace = {
    check = function(value)
      return type(value) == "string" and value ~= "" and not value:find("/")
    end,
    expected = 'a workspace slug string, e.g. "myteam"',
  },
  poll_interval_seconds = {
    check = function(value)
      return type(value) == "number" and value >= 0
    end,
    expected = "a number of seconds >= 0 (0 turns polling off)",
  },
  log_level = {
    check = function(value)
      return LOG_LEVELS[value] == true
    end,
    expected = 'one of "error", "warning", "info", "debug"',
  },
  private_by_default = {
    check = function(value)
      return type(value) == "boolean"
    end,
    expected = "true or false",
  },
  daemon_options = {
    check = function(value)
      return type(value) == "table" and (next(value) == nil or not vim.islist(value))
    end,
    expected = "a table of initializationOptions, e.g. { pollBudgetPerHour = 50 }",
  },
}

---@type table the options given to setup(), as given
local from_setup = {}
local reported = {} ---@type table<string, true>

--- The valid options of `opts`, and a message for each invalid one (naming it; it is left out).
---@param opts table
---@param where string
---@return bbsnippets.Options valid
---@return string[] problems
local function validate(opts, where)
  local valid, problems = {}, {}
  for name, value in pairs(opts) do
    local spec = SPEC[name]
    if not spec then
      local known = vim.tbl_keys(SPEC)
      table.sort(known)
      table.insert(problems, ("unknown option `%s` in %s (known: %s)"):format(name, where, table.concat(known, ", ")))
    elseif value ~= nil and value ~= vim.NIL then
      if spec.check(value) then
        valid[name] = value
      else
        table.insert(
          problems,
          ("option `%s` in %s must be %s, got %s; using the default"):format(
            name,
            where,
            spec.expected,
            vim.inspect(value)
          )
        )
      end
    end
  end
  return valid, problems
end

--- Every option source, validated: defaults, then vim.g.bbsnippets, then setup().
---@return bbsnippets.Options merged
---@return string[] problems
local function resolve()
  local problems = {}
  local global = vim.g.bbsnippets
  if global ~= nil and type(global) ~= "table" then
    table.insert(problems, "vim.g.bbsnippets must be a table of options, got " .. type(global))
    global = {}
  end
  if type(from_setup) ~= "table" then
    table.insert(problems, "setup() takes a table of options, got " .. type(from_setup))
    from_setup = {}
  end
  local from_global, global_problems = validate(global or {}, "vim.g.bbsnippets")
  local from_call, setup_problems = validate(from_setup, "setup()")
  vim.list_extend(problems, global_problems)
  vim.list_extend(problems, setup_problems)
  return vim.tbl_extend("force", DEFAULTS, from_global, from_call), problems
end

--- Merges `opts` over `vim.g.bbsnippets` and validates them (errors name the option).
---@param opts? bbsnippets.Options
function M.setup(opts)
  from_setup = opts == nil and {} or opts
  M.get()
end

--- The options in effect; each invalid one is reported once with vim.notify and replaced by its default.
---@return bbsnippets.Options
function M.get()
  local options, problems = resolve()
  for _, problem in ipairs(problems) do
    if not reported[problem] then
      reported[problem] = true
      vim.notify("bbsnippets: " .. problem, vim.log.levels.ERROR)
    end
  end
  return options
end

--- What is wrong with the options (for :checkhealth), without notifying.
---@return string[]
function M.problems()
  local _, problems = resolve()
  return problems
end

--- The daemon command: the option, else the daemon :BBSnippet install made, else snippet-daemon on PATH, else
--- python3 -m snippet_daemon.
---@param opts bbsnippets.Options
---@return string[]
function M.cmd(opts)
  if opts.cmd then
    return opts.cmd
  end
  local installed = require("bbsnippets.install").installed()
  if installed then
    return { installed }
  end
  if vim.fn.executable(M.DEFAULT_CMD[1]) == 1 then
    return M.DEFAULT_CMD
  end
  return M.FALLBACK_CMD
end

--- initializationOptions (camelCase) for the daemon.
---@param opts bbsnippets.Options
---@return bbsnippets.InitializationOptions
function M.initialization_options(opts)
  return vim.tbl_extend("force", {}, opts.daemon_options or {}, {
    apiUrl = opts.api_url,
    workspace = opts.workspace,
    pollIntervalSeconds = opts.poll_interval_seconds,
    logLevel = opts.log_level,
    clientName = "neovim",
  })
end

return M
