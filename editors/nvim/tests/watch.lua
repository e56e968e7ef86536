-- Watch: another writer's change reloads an unmodified buffer in place (cursor kept) and marks a
-- modified one stale with a warning, never touching its text; the daemon's showMessage for a
-- watched snippet reaches vim.notify; watchers and unwatch.
local h = require("helpers")

h.run(function()
  local ctx = h.context
  vim.g.bbsnippets = {
    workspace = ctx.workspace,
    poll_interval_seconds = 0.3,
    daemon_options = { pollBudgetPerHour = 100000 },
  }
  local uri = require("bbsnippets.uri")
  local files = require("bbsnippets.files")
  require("bbsnippets.picker").open(ctx.workspace, ctx.id)
  h.wait_for("both files open", function()
    return #files.buffers_of(ctx.workspace, ctx.id) == 2
  end)
  local clean = vim.fn.bufnr(uri.build(ctx.workspace, ctx.id, "clean.txt"))
  local edited = vim.fn.bufnr(uri.build(ctx.workspace, ctx.id, "edited.txt"))

  vim.cmd("BBSnippet watch")
  h.wait_message("watching " .. ctx.workspace .. "/" .. ctx.id)

  vim.cmd.buffer(edited)
  vim.api.nvim_buf_set_lines(edited, 0, 1, false, { "my unsaved line" })
  vim.cmd.buffer(clean)
  vim.api.nvim_win_set_cursor(0, { 3, 2 })

  h.ask("write", { workspace = ctx.workspace, id = ctx.id, path = "clean.txt", text = "one\ntwo\nthree\nfour\n" })
  h.wait_for("the clean buffer to reload", function()
    return h.text(clean) == "one\ntwo\nthree\nfour"
  end)
  h.equal({ 3, 2 }, vim.api.nvim_win_get_cursor(0), "the cursor is kept")
  assert(not vim.bo[clean].modified, "a reload is not an edit")
  h.wait_message("was changed on Bitbucket") -- the daemon's showMessage for a watched snippet

  h.ask("write", { workspace = ctx.workspace, id = ctx.id, path = "edited.txt", text = "their line\n" })
  local warning = h.wait_message("unsaved edits in edited%.txt")
  h.equal(vim.log.levels.WARN, warning.level, "a warning")
  h.equal("my unsaved line", h.text(edited), "the modified buffer keeps the user text")
  assert(vim.bo[edited].modified, "still modified")
  assert(files.state(edited).stale, "marked stale")

  -- Saving the stale buffer is a conflict (never a silent overwrite); cancel keeps the text.
  vim.cmd.buffer(edited)
  h.will_select("^Cancel$")
  vim.cmd("write")
  h.wait_message("not saved")
  h.equal("my unsaved line", h.text(edited), "still the user text")

  vim.cmd("BBSnippet watchers")
  h.wait_message("is watched by: Demo User")
  vim.cmd("BBSnippet unwatch")
  h.wait_message("no longer watching")
end)
