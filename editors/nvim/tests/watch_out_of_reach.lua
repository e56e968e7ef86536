-- Watch trouble: a watch this computer cannot remember (the daemon's data folder cannot hold files) is a
-- warning with the daemon's message; a watched snippet whose workspace is gone is said once to be out of
-- reach, its modified buffer untouched, and only the daemon asks whether to unwatch it.
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
  local ref = ctx.workspace .. "/" .. ctx.id
  h.open_snippet(ctx.workspace, ctx.id, 1)
  local buf = vim.fn.bufnr(uri.build(ctx.workspace, ctx.id, "d.txt"))
  vim.cmd.buffer(buf)
  vim.api.nvim_buf_set_lines(buf, 0, 1, false, { "my unsaved line" })

  vim.cmd("BBSnippet watch")
  local warning = h.wait_message("could not remember")
  h.equal(vim.log.levels.WARN, warning.level, "a warning")
  assert(warning.message:find("restart"), "it says what is lost: " .. warning.message)
  assert(not h.message("you are told when it changes"), "no promise it cannot keep: " .. vim.inspect(h.messages))

  -- The workspace goes away: the daemon's next poll finds it gone and asks (vim.ui.select) whether to unwatch.
  h.will_select("^Keep watching$")
  h.ask("remove_workspace", { workspace = ctx.workspace })
  local notice = h.wait_message("out of reach", 10000)
  h.equal(vim.log.levels.WARN, notice.level, "a warning")
  assert(notice.message:find(ref, 1, true) and notice.message:find("buffers of it are kept"), notice.message)
  h.wait_for("the daemon's question", function()
    return #h.prompts > 0
  end)
  h.equal(1, #h.prompts, "one question: the daemon's")
  assert(h.prompts[1].prompt:find("Stop watching"), h.prompts[1].prompt)
  h.equal({ "Unwatch", "Keep watching" }, h.prompts[1].items, "the daemon's actions")

  vim.wait(1500) -- a few more poll cycles (back-off 1, 2 … cycles): nothing more is said
  local said = vim.tbl_filter(function(entry)
    return entry.message:find("out of reach")
  end, h.messages)
  h.equal(1, #said, "said once: " .. vim.inspect(h.messages))
  h.equal("my unsaved line", h.text(buf), "the user's text is kept")
  assert(vim.bo[buf].modified, "still modified")
  local state = files.state(buf) or {}
  assert(not state.stale and not state.deleted, "neither stale nor deleted: " .. vim.inspect(state))
end)
