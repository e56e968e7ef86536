-- No daemon: one clear message with the install fix, never a traceback; a daemon that exits at
-- once says so; a daemon that crashes mid-session keeps the user's edit, and the next :w starts a
-- new one and saves it. Bad options are reported naming the option, and the defaults used.
local h = require("helpers")

h.run(function()
  local ctx = h.context
  local uri = require("bbsnippets.uri")

  -- Not installed.
  vim.g.bbsnippets = { cmd = { "/nonexistent/snippet-daemon" }, workspace = ctx.workspace }
  vim.cmd("BBSnippet list")
  local missing = h.wait_message("was not found")
  h.equal(vim.log.levels.ERROR, missing.level, "an error")
  assert(missing.message:find(":BBSnippet install") and missing.message:find("`cmd` option"), missing.message)
  h.equal(1, #h.messages, "one message")
  vim.cmd.edit(vim.fn.fnameescape(uri.build(ctx.workspace, ctx.id, "app.py")))
  vim.cmd("write")
  h.wait_message("never read, so it is not saved over")

  -- Installed but exits at once.
  h.messages = {}
  vim.g.bbsnippets = { cmd = { "python3", "-c", "import sys; sys.exit(3)" }, workspace = ctx.workspace }
  vim.cmd("BBSnippet whoami")
  local exited = h.wait_message("stopped before it started")
  assert(exited.message:find("exit code 3") and exited.message:find(":BBSnippet install"), exited.message)

  -- Bad options: named, and the defaults used (the real daemon works).
  h.messages = {}
  vim.g.bbsnippets = { workspace = ctx.workspace, poll_interval_seconds = "often", colour = "blue" }
  vim.cmd("bwipeout!")
  vim.cmd.edit(vim.fn.fnameescape(uri.build(ctx.workspace, ctx.id, "app.py")))
  local bad = h.wait_message("option `poll_interval_seconds`")
  assert(bad.message:find("must be a number of seconds"), bad.message)
  h.wait_message("unknown option `colour`")
  local buf = vim.api.nvim_get_current_buf()
  h.equal("x = 1", h.text(buf), "read through the daemon")

  -- The daemon crashes while the user has an unsaved edit.
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { "x = 2  # survives a crash" })
  for _, pid in ipairs(vim.api.nvim_get_proc_children(vim.fn.getpid())) do
    vim.uv.kill(pid, "sigkill")
  end
  h.wait_message("stopped unexpectedly")
  vim.cmd("write")
  h.equal("x = 2  # survives a crash", h.text(buf), "the edit is kept")
  h.wait_for("the save through a new daemon", function()
    return not vim.bo[buf].modified
  end)
  h.equal(
    "x = 2  # survives a crash\n",
    vim.base64.decode(h.ask("file", { workspace = ctx.workspace, id = ctx.id, path = "app.py" })),
    "saved"
  )
end)
