-- What every flow script shares: the test's context, the user's answers to prompts, captured
-- notifications, waiting, and asking the pytest side (the sandbox's owner and "another writer").
--
-- A flow is plain Lua run in real headless Neovim: `require('helpers').run(function() ... end)`.
-- Prompts are answered by replacing vim.ui.select / vim.ui.input with the user's answers (the
-- plugin's code is not mocked). Exit status: 0 when the flow passed, 1 with the reason on stderr.

local M = {}

---@type table<string, any> from the pytest side (snippet ids, workspace, …)
M.context = vim.json.decode(os.getenv("BBS_TEST_CONTEXT") or "{}")
local channel = assert(os.getenv("BBS_TEST_DIR"), "BBS_TEST_DIR is not set")

---@type {message: string, level: integer}[]
M.messages = {}
---@type {kind: string, prompt: string, items?: string[]}[]
M.prompts = {}

vim.notify = function(message, level)
  table.insert(M.messages, { message = message, level = level or vim.log.levels.INFO })
  io.stderr:write(("[notify %s] %s\n"):format(level or vim.log.levels.INFO, message))
end

-- --------------------------------------------------------------------------- the user's answers

local answers = { select = {}, input = {} }

--- Queues the user's next answers to vim.ui.select: a Lua pattern matched against each item's
--- text (the first match is chosen), or false to cancel.
---@param ... string|false
function M.will_select(...)
  vim.list_extend(answers.select, { ... })
end

--- Queues the user's next answers to vim.ui.input (false cancels).
---@param ... string|false
function M.will_input(...)
  vim.list_extend(answers.input, { ... })
end

vim.ui.select = function(items, opts, on_choice)
  local texts = vim.tbl_map(function(item)
    return opts.format_item and opts.format_item(item) or tostring(item)
  end, items)
  table.insert(M.prompts, { kind = "select", prompt = opts.prompt or "", items = texts })
  local answer = table.remove(answers.select, 1)
  assert(answer ~= nil, ("nobody answered the prompt %q: %s"):format(opts.prompt or "", table.concat(texts, " | ")))
  if answer == false then
    return on_choice(nil, nil)
  end
  for index, text in ipairs(texts) do
    if text:find(answer) then
      return on_choice(items[index], index)
    end
  end
  error(("no item matches %q in the prompt %q: %s"):format(answer, opts.prompt or "", table.concat(texts, " | ")))
end

vim.ui.input = function(opts, on_confirm)
  table.insert(M.prompts, { kind = "input", prompt = opts.prompt or "" })
  local answer = table.remove(answers.input, 1)
  assert(answer ~= nil, ("nobody answered the input %q"):format(opts.prompt or ""))
  on_confirm(answer ~= false and answer or nil)
end

-- --------------------------------------------------------------------------- waiting and asserting

--- Waits until `predicate()` is true; fails naming `what` after `timeout_ms`.
---@param what string
---@param predicate fun(): any
---@param timeout_ms? integer
function M.wait_for(what, predicate, timeout_ms)
  local ok = vim.wait(timeout_ms or 20000, function()
    return predicate() and true or false
  end, 10)
  assert(ok, "timed out waiting for " .. what)
end

--- Opens a snippet as the picker does (every file in a buffer) and waits until its `count` files are
--- open; returns their buffers.
---@param workspace string
---@param id string
---@param count integer
---@return integer[]
function M.open_snippet(workspace, id, count)
  local files = require("bbsnippets.files")
  require("bbsnippets.picker").open(workspace, id)
  M.wait_for(("the %d file(s) of %s/%s open"):format(count, workspace, id), function()
    return #files.buffers_of(workspace, id) == count
  end)
  return files.buffers_of(workspace, id)
end

--- The first notification matching `pattern` (a Lua pattern), if any.
---@param pattern string
---@return {message: string, level: integer}?
function M.message(pattern)
  for _, entry in ipairs(M.messages) do
    if entry.message:find(pattern) then
      return entry
    end
  end
end

---@param pattern string
---@param timeout_ms? integer
---@return {message: string, level: integer}
function M.wait_message(pattern, timeout_ms)
  M.wait_for(("a message matching %q (got: %s)"):format(pattern, vim.inspect(M.messages)), function()
    return M.message(pattern)
  end, timeout_ms)
  return assert(M.message(pattern))
end

--- Fails when any Lua error reached the user (a traceback, E5108 and friends).
function M.assert_no_traceback()
  for _, entry in ipairs(M.messages) do
    assert(not entry.message:find("stack traceback"), "a traceback reached the user: " .. entry.message)
    assert(not entry.message:find("E5%d%d%d"), "a Lua error reached the user: " .. entry.message)
    assert(not entry.message:find("hit a bug"), "the plugin hit a bug: " .. entry.message)
  end
  local errmsg = vim.v.errmsg
  assert(not errmsg:find("stack traceback") and not errmsg:find("E5108"), "v:errmsg holds a Lua error: " .. errmsg)
end

---@param buf integer
---@return string
function M.text(buf)
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
end

---@generic T
---@param expected T
---@param actual T
---@param what string
function M.equal(expected, actual, what)
  assert(
    vim.deep_equal(expected, actual),
    ("%s: expected %s, got %s"):format(what, vim.inspect(expected), vim.inspect(actual))
  )
end

-- --------------------------------------------------------------------------- the pytest side

local asked = 0

--- Asks the pytest side to do `action` (read the sandbox, count its requests, act as another
--- writer) and returns its answer.
---@param action string
---@param args? table
---@return any
function M.ask(action, args)
  asked = asked + 1
  local base = ("%s/%03d"):format(channel, asked)
  local file = assert(io.open(base .. ".ask.tmp", "w"))
  file:write(vim.json.encode({ action = action, args = args or vim.empty_dict() }))
  file:close()
  assert(os.rename(base .. ".ask.tmp", base .. ".ask"))
  M.wait_for("the test driver to " .. action, function()
    return vim.uv.fs_stat(base .. ".answer") ~= nil
  end, 30000)
  local answer = vim.json.decode(table.concat(vim.fn.readfile(base .. ".answer"), "\n"))
  assert(not answer.error, ("the test driver failed to %s: %s"):format(action, answer.error))
  return answer.result
end

--- The Bitbucket requests the sandbox served since the last call (each "METHOD /path").
---@return string[]
function M.requests()
  return M.ask("requests")
end

-- --------------------------------------------------------------------------- running a flow

--- Runs the flow and exits Neovim: 0 when it passed, 1 (reason on stderr) when not.
---@param flow fun()
function M.run(flow)
  local ok, err = xpcall(flow, debug.traceback)
  if ok then
    ok, err = xpcall(M.assert_no_traceback, debug.traceback)
  end
  if ok then
    io.stderr:write("FLOW PASSED\n")
    vim.cmd("qall!")
  else
    io.stderr:write("FLOW FAILED: " .. tostring(err) .. "\n")
    vim.cmd("cquit 1")
  end
end

return M
