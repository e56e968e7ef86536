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
  h.open_snippet(ctx.workspace, ctx.id, 2)
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

  h.messages = {}
  h.ask("write", { workspace = ctx.workspace, id = ctx.id, path = "edited.txt", text = "their line\n" })
  local warning = h.wait_message("unsaved edits in edited%.txt")
  h.equal(vim.log.levels.WARN, warning.level, "a warning")
  h.wait_message("was changed on Bitbucket") -- the daemon says what happened (didChange's watched) …
  local said = vim.tbl_filter(function(entry)
    return entry.message:find("changed on Bitbucket")
  end, h.messages)
  h.equal(1, #said, "… and the plugin does not say it again: " .. vim.inspect(h.messages))
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
  h.equal(
    "their line\n",
    vim.base64.decode(h.ask("file", { workspace = ctx.workspace, id = ctx.id, path = "edited.txt" })),
    "the stale buffer never overwrote their line"
  )

  -- Deleted on Bitbucket while open: the daemon says so once, the plugin adds what it means for the
  -- buffers (kept, :w fails), and the text stays. (:e of the clean file first: the refused save
  -- above made the daemon drop its copy, and it keeps only snippets it holds a copy of current.)
  vim.cmd.buffer(clean)
  vim.cmd.edit()
  h.messages = {}
  h.ask("delete", { workspace = ctx.workspace, id = ctx.id })
  h.wait_message("your buffers of " .. ctx.workspace .. "/" .. ctx.id .. " are kept")
  h.wait_message("was deleted on Bitbucket")
  vim.wait(300)
  local deleted = vim.tbl_filter(function(entry)
    return entry.message:find("deleted")
  end, h.messages)
  h.equal(1, #deleted, "the deletion is told once: " .. vim.inspect(h.messages))
  h.equal("my unsaved line", h.text(edited), "the user's text is kept")
  assert(files.state(edited).deleted, "the buffer knows its snippet is gone")
end)
