-- Restore a version from history: pick the first commit; "this file" restores greet.py alone as a
-- new commit (one PUT, at most one GET), the open buffer shows it, and history lists the new commit.
-- Then, in the old revision that history opens, "every file" restores the whole snippet.
local h = require("helpers")

h.run(function()
  local ctx = h.context
  vim.g.bbsnippets = { workspace = ctx.workspace, poll_interval_seconds = 0 }
  local uri = require("bbsnippets.uri")
  vim.cmd.edit(vim.fn.fnameescape(uri.build(ctx.workspace, ctx.id, "greet.py")))
  local head = vim.api.nvim_get_current_buf()
  h.equal(ctx.v2, h.text(head) .. "\n", "HEAD")

  h.will_select("^" .. ctx.first:sub(1, 7), "^Restore greet%.py")
  h.requests()
  local started = vim.uv.hrtime()
  vim.cmd("BBSnippet restore")
  local restored = h.wait_message("restored greet%.py as it was at " .. ctx.first:sub(1, 7))
  io.stderr:write(("[timing] restore: %.0f ms\n"):format((vim.uv.hrtime() - started) / 1e6))
  local question = h.prompts[#h.prompts]
  h.equal({
    "Restore greet.py as it was at " .. ctx.first:sub(1, 7),
    "Restore every file as it was at " .. ctx.first:sub(1, 7),
    "Cancel",
  }, question.items, "this file, or the whole snippet")
  local requests = h.requests()
  local puts = vim.tbl_filter(function(request)
    return request:find("^PUT ")
  end, requests)
  h.equal(1, #puts, "one PUT: " .. vim.inspect(requests))
  assert(#requests - #puts <= 2, "the history and at most one GET: " .. vim.inspect(requests))
  h.wait_for("the open buffer to show the restored file", function()
    return h.text(head) .. "\n" == ctx.v1
  end)
  assert(not vim.bo[head].modified, "reloaded, not edited")
  h.equal(
    ctx.v1,
    vim.base64.decode(h.ask("file", { workspace = ctx.workspace, id = ctx.id, path = "greet.py" })),
    "on Bitbucket"
  )
  h.equal(
    "two\n",
    vim.base64.decode(h.ask("file", { workspace = ctx.workspace, id = ctx.id, path = "other.txt" })),
    "the other file untouched"
  )
  local new_revision = restored.message:match("new revision (%x+)")
  assert(new_revision, restored.message)

  -- History shows the restore as a new commit, newest first; the second commit opens read-only.
  h.will_select("^" .. ctx.second:sub(1, 7))
  vim.cmd("BBSnippet history")
  h.wait_for("the old revision beside HEAD", function()
    return #vim.api.nvim_tabpage_list_wins(0) == 2
  end)
  local history = h.prompts[#h.prompts]
  h.equal(3, #history.items, "three commits")
  assert(history.items[1]:find("^" .. new_revision), "the restore is the newest: " .. history.items[1])

  -- In that old revision, "Restore every file".
  h.equal(ctx.second, vim.b.bbsnippets.revision, "in the ?rev= buffer")
  h.messages = {}
  h.will_select("^Restore every file")
  vim.cmd("BBSnippet restore")
  h.wait_message("restored greet%.py as it was at " .. ctx.second:sub(1, 7))
  h.wait_for("HEAD's buffer to follow", function()
    return h.text(head) .. "\n" == ctx.v2
  end)
end)
