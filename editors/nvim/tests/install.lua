-- :BBSnippet install from a fresh clone, with no daemon on PATH: headless, it returns when the daemon is in
-- its venv under stdpath("data"); the default cmd then uses it, and opening and :w a snippet work.
local h = require("helpers")

h.run(function()
  local ctx = h.context
  local install = require("bbsnippets.install")
  assert(vim.fn.executable("snippet-daemon") == 0, "a snippet-daemon is on PATH: " .. vim.fn.exepath("snippet-daemon"))
  assert(install.installed() == nil, "nothing installed yet")

  -- Outside a clone and without install_source it says what to set (and installs nothing).
  local source, problem = install.source(nil, vim.fn.tempname())
  assert(source == nil and problem:find("install_source"), problem)

  local began = vim.uv.hrtime()
  vim.cmd("BBSnippet install") -- headless: returns when done, raises when it failed
  io.stderr:write(("[install] %.1f s\n"):format((vim.uv.hrtime() - began) / 1e9))
  local daemon = install.installed()
  assert(daemon, "the daemon is in the venv")
  assert(vim.startswith(daemon, vim.fn.stdpath("data")), daemon)
  local config = require("bbsnippets.config")
  h.equal({ daemon }, config.cmd(config.get()), "the default cmd uses it")

  vim.g.bbsnippets = { workspace = ctx.workspace, poll_interval_seconds = 0 }
  local uri = require("bbsnippets.uri")
  vim.cmd.edit(vim.fn.fnameescape(uri.build(ctx.workspace, ctx.id, "app.py")))
  local buf = vim.api.nvim_get_current_buf()
  h.wait_for("the file's text", function()
    return h.text(buf) == "print('before')"
  end)
  vim.api.nvim_buf_set_lines(buf, -1, -1, false, { "print('after :BBSnippet install')" })
  vim.cmd("write")
  h.wait_for("the save", function()
    return not vim.bo[buf].modified
  end)
  local client = require("bbsnippets.client").lsp_client()
  h.equal(daemon, client and client.config.cmd[1], "the installed daemon answered")
end)
