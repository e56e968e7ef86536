--- One daemon per Neovim: started on first use with vim.lsp.start (so progress, logging and
--- :checkhealth vim.lsp work as for any language server), attached to no buffer.
---
--- Everything the plugin asks goes through `request(method, params, callback, opts)`: requests wait
--- for the daemon to initialize, a failure's `data.kind` becomes one user message here, and a
--- daemon that is missing or exits gives one clear message (with the install fix) instead of a
--- Lua traceback, failing every waiting request so no caller hangs.

local config = require("bbsnippets.config")
local protocol = require("bbsnippets.protocol")

local M = {}

M.NAME = "bbsnippets"

M.INSTALL_HELP = "Install it with :BBSnippet install (:h bbsnippets-install), or point the `cmd` option at it: "
  .. 'vim.g.bbsnippets = { cmd = { "/path/to/snippet-daemon" } }. See :checkhealth bbsnippets.'

--- A failed request, as callbacks see it. `kind` is a protocol ErrorKind, or "daemon" when the
--- daemon is not running (already reported), or nil for a daemon bug.
---@class bbsnippets.Error
---@field kind? string
---@field message string
---@field code? integer
---@field data bbsnippets.ErrorData

---@class bbsnippets.RequestOpts
---@field handles? string[] error kinds the caller shows itself (the rest are reported here)
---@field sensitive? boolean params hold a secret: never let vim.lsp's debug log see them

local state = {
  id = nil, ---@type integer?
  cmd = nil, ---@type string[]?
  ready = false,
  stopping = false,
  queue = {}, ---@type fun(err: bbsnippets.Error?)[] waiting for initialization
  pending = {}, ---@type table<integer, fun(err: bbsnippets.Error?, result: any)>
  next_token = 0,
}

---@type bbsnippets.Error
local NOT_RUNNING = { kind = "daemon", message = "snippet-daemon is not running", data = {} }

local WARNING_KINDS = {
  [protocol.ErrorKind.CONFLICT] = true,
  [protocol.ErrorKind.RATE_LIMITED] = true,
  [protocol.ErrorKind.FILE_EXISTS] = true,
  [protocol.ErrorKind.READ_ONLY] = true,
  [protocol.ErrorKind.SECRET_DETECTED] = true,
  [protocol.ErrorKind.NOT_FOUND] = true,
  -- a sign-in as another account interrupted a read or save: the message says what to do again
  [protocol.ErrorKind.ACCOUNT_CHANGED] = true,
}

local MESSAGE_LEVELS = { vim.log.levels.ERROR, vim.log.levels.WARN, vim.log.levels.INFO, vim.log.levels.DEBUG }

---@param message string
---@param level? integer
function M.notify(message, level)
  vim.notify("bbsnippets: " .. message, level or vim.log.levels.INFO, { title = "bbsnippets" })
end

--- The one place a failure becomes a message: the daemon's text, in words (it says what to do);
--- the kind only chooses the level.
---@param err bbsnippets.Error
function M.report(err)
  if err.kind == "daemon" then
    return -- the daemon's absence or exit was reported once already
  end
  if err.kind == nil then
    M.notify(
      ("%s (snippet-daemon failed unexpectedly; its log: :lua vim.cmd.tabedit(vim.lsp.get_log_path()))"):format(
        err.message
      ),
      vim.log.levels.ERROR
    )
    return
  end
  M.notify(err.message, WARNING_KINDS[err.kind] and vim.log.levels.WARN or vim.log.levels.ERROR)
end

--- Runs `fn(...)`; a Lua error in the plugin becomes one message (the traceback goes to the LSP
--- log), never a traceback over the user's screen.
---@param fn function
---@param ... any
function M.guard(fn, ...)
  local ok, failure = xpcall(fn, debug.traceback, ...)
  if not ok then
    vim.lsp.log.error("bbsnippets:", failure)
    M.notify(
      ("bbsnippets hit a bug: %s. Nothing was lost; please report it with the log (:lua vim.cmd.tabedit(vim.lsp.get_log_path()))."):format(
        tostring(failure):match("^[^\n]*")
      ),
      vim.log.levels.ERROR
    )
  end
end

---@param err any an LSP ResponseError, or whatever the transport gave
---@return bbsnippets.Error?
local function normalize(err)
  if err == nil then
    return nil
  end
  if type(err) ~= "table" then
    return { message = tostring(err), data = {} }
  end
  local data = type(err.data) == "table" and err.data or {}
  return { kind = data.kind, message = err.message or vim.inspect(err), code = err.code, data = data }
end

---@param err bbsnippets.Error?
local function flush_queue(err)
  local queue = state.queue
  state.queue = {}
  for _, waiting in ipairs(queue) do
    waiting(err)
  end
end

---@param code integer
---@param signal integer
---@param client_id integer
local function on_exit(code, signal, client_id)
  if client_id ~= state.id then
    return
  end
  local was_ready, expected, cmd = state.ready, state.stopping, state.cmd or {}
  state.id, state.ready, state.stopping = nil, false, false
  local how = signal ~= 0 and ("signal %d"):format(signal) or ("exit code %d"):format(code)
  if not was_ready then
    M.notify(
      ("the daemon (%s) stopped before it started (%s). %s Its log: :lua vim.cmd.tabedit(vim.lsp.get_log_path())"):format(
        table.concat(cmd, " "),
        how,
        M.INSTALL_HELP
      ),
      vim.log.levels.ERROR
    )
  elseif not expected and (code ~= 0 or signal ~= 0) then
    M.notify(
      (
        "snippet-daemon stopped unexpectedly (%s). Your buffers and unsaved edits are kept; the next "
        .. "command starts it again. Its log: :lua vim.cmd.tabedit(vim.lsp.get_log_path())"
      ):format(how),
      vim.log.levels.ERROR
    )
  end
  flush_queue(NOT_RUNNING)
  local pending = state.pending
  state.pending = {}
  for _, callback in pairs(pending) do
    callback(NOT_RUNNING, nil)
  end
end

---@return table<string, lsp.Handler>
local function handlers()
  return {
    [protocol.DID_CHANGE] = function(_, params)
      require("bbsnippets.watch").on_did_change(params)
    end,
    [vim.lsp.protocol.Methods.window_showMessage] = function(_, params)
      M.notify(params.message, MESSAGE_LEVELS[params.type] or vim.log.levels.INFO)
    end,
  }
end

--- Starts the daemon unless it runs; false (after one message) when it cannot be started.
---@return boolean
local function start()
  if state.id then
    return true
  end
  local opts = config.get()
  local cmd = config.cmd(opts)
  if vim.fn.executable(cmd[1]) ~= 1 then
    M.notify(("the daemon `%s` was not found. %s"):format(cmd[1], M.INSTALL_HELP), vim.log.levels.ERROR)
    return false
  end
  ---@type vim.lsp.ClientConfig
  local lsp_config = {
    name = M.NAME,
    cmd = cmd,
    init_options = config.initialization_options(opts),
    handlers = handlers(),
    on_init = function(client)
      if client.id == state.id then
        state.ready = true
        flush_queue(nil)
      end
    end,
    on_exit = function(code, signal, client_id)
      vim.schedule(function()
        on_exit(code, signal, client_id)
      end)
    end,
  }
  local ok, id
  if vim.fn.has("nvim-0.11") == 1 then
    ok, id = pcall(vim.lsp.start, lsp_config, { attach = false, silent = true })
  else
    ok, id = pcall(vim.lsp.start_client, lsp_config)
  end
  if not ok or not id then
    M.notify(
      ("could not start the daemon (%s): %s %s"):format(table.concat(cmd, " "), tostring(id), M.INSTALL_HELP),
      vim.log.levels.ERROR
    )
    return false
  end
  state.id, state.cmd, state.ready, state.stopping = id, cmd, false, false
  vim.api.nvim_create_autocmd("VimLeavePre", {
    group = vim.api.nvim_create_augroup("bbsnippets.client", { clear = true }),
    callback = function()
      state.stopping = true
    end,
  })
  return true
end

--- Runs `fn` once the daemon is ready (starting it if needed), or with the reason it is not.
---@param fn fun(err: bbsnippets.Error?)
local function when_ready(fn)
  if not start() then
    fn(NOT_RUNNING)
  elseif state.ready then
    fn(nil)
  else
    table.insert(state.queue, fn)
  end
end

---@param client vim.lsp.Client
---@param method string
---@param params table
---@param handler fun(err: any, result: any)
---@return boolean
local function send(client, method, params, handler)
  if vim.fn.has("nvim-0.11") == 1 then
    return (client:request(method, params, handler))
  end
  return (client.request(method, params, handler)) ---@diagnostic disable-line: missing-parameter
end

--- Sends one request (starting the daemon on first use). `callback(err, result)` always runs;
--- errors whose kind is not in `opts.handles` have already been shown to the user.
---@param method string a protocol request constant (protocol.READ_FILE, …)
---@param params table?
---@param callback? fun(err: bbsnippets.Error?, result: any)
---@param opts? bbsnippets.RequestOpts
function M.request(method, params, callback, opts)
  opts = opts or {}
  local function finish(err, result)
    if err and not vim.tbl_contains(opts.handles or {}, err.kind) then
      M.report(err)
    end
    if callback then
      M.guard(callback, err, result)
    end
  end
  when_ready(function(start_err)
    if start_err then
      return finish(start_err, nil)
    end
    local client = state.id and vim.lsp.get_client_by_id(state.id)
    if not client then
      return finish(NOT_RUNNING, nil)
    end
    state.next_token = state.next_token + 1
    local token = state.next_token
    state.pending[token] = finish
    local log_level = vim.lsp.log.get_level()
    if opts.sensitive and log_level < vim.log.levels.WARN then
      vim.lsp.log.set_level(vim.log.levels.WARN) -- the RPC debug log would record the secret
    end
    local ok, sent = pcall(send, client, method, params or vim.empty_dict(), function(err, result)
      if state.pending[token] then
        state.pending[token] = nil
        finish(normalize(err), result)
      end
    end)
    vim.lsp.log.set_level(log_level)
    if not (ok and sent) and state.pending[token] then
      state.pending[token] = nil
      finish(ok and NOT_RUNNING or normalize(sent), nil)
    end
  end)
end

--- `workspace/executeCommand` of one of the daemon's commands, with its one object argument.
---@param name string a protocol command constant (protocol.LIST, …), never a string literal
---@param params table?
---@param callback? fun(err: bbsnippets.Error?, result: any)
---@param opts? bbsnippets.RequestOpts
function M.command(name, params, callback, opts)
  local arguments = { params and next(params) and params or vim.empty_dict() }
  M.request(
    vim.lsp.protocol.Methods.workspace_executeCommand,
    { command = name, arguments = arguments },
    callback,
    opts
  )
end

--- Waits for an asynchronous call (`M.request` or `M.command` as `call`), for reading and
--- writing buffers, which Neovim expects to be done when the autocommand returns.
---@param call fun(callback: fun(err: bbsnippets.Error?, result: any))
---@param timeout_ms? integer
---@return bbsnippets.Error? err
---@return any result
function M.wait(call, timeout_ms)
  local done, err, result = false, nil, nil
  call(function(e, r)
    done, err, result = true, e, r
  end)
  if not done and not vim.wait(timeout_ms or 120000, function()
    return done
  end, 10) then
    local waited = {
      kind = "timeout",
      message = "the daemon did not answer in time (or you interrupted); nothing was lost, try again",
      data = {},
    }
    M.report(waited)
    return waited, nil
  end
  return err, result
end

--- Whether the daemon runs (for :checkhealth); never starts it.
---@return boolean
function M.running()
  return state.id ~= nil and state.ready
end

--- The running daemon's LSP client (for :checkhealth and tests).
---@return vim.lsp.Client?
function M.lsp_client()
  return state.id and vim.lsp.get_client_by_id(state.id) or nil
end

--- Stops the daemon (the next request starts a new one, with the options then in effect).
function M.stop()
  local client = M.lsp_client()
  if client then
    state.stopping = true
    if vim.fn.has("nvim-0.11") == 1 then
      client:stop()
    else
      client.stop() ---@diagnostic disable-line: missing-parameter
    end
  end
end

return M
