-- History: pick an old commit; the file at that revision opens read-only (readonly, nomodifiable)
-- beside the file at HEAD, both in diff mode; :BBSnippet diff shows what a commit changed.
local h = require("helpers")

h.run(function()
  local ctx = h.context
  vim.g.bbsnippets = { workspace = ctx.workspace, poll_interval_seconds = 0 }
  local uri = require("bbsnippets.uri")
  vim.cmd.edit(vim.fn.fnameescape(uri.build(ctx.workspace, ctx.id, "greet.py")))
  local head = vim.api.nvim_get_current_buf()
  h.equal(ctx.v2, h.text(head) .. "\n", "HEAD")

  h.will_select("^" .. ctx.first:sub(1, 7))
  vim.cmd("BBSnippet history")
  h.wait_for("the old revision beside HEAD", function()
    return #vim.api.nvim_tabpage_list_wins(0) == 2
  end)
  local history = h.prompts[#h.prompts]
  h.equal(2, #history.items, "two commits")
  assert(
    history.items[1]:find("^" .. ctx.second:sub(1, 7)) and history.items[1]:find("Demo User"),
    "newest first: " .. history.items[1]
  )
  local old = vim.api.nvim_get_current_buf()
  assert(old ~= head, "a buffer of its own")
  h.equal(uri.build(ctx.workspace, ctx.id, "greet.py", ctx.first), vim.api.nvim_buf_get_name(old), "the ?rev= buffer")
  h.equal(ctx.v1, h.text(old) .. "\n", "the old content")
  assert(vim.bo[old].readonly and not vim.bo[old].modifiable, "read-only")
  h.equal("python", vim.bo[old].filetype, "filetype from the name, not the ?rev=")
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    assert(vim.wo[win].diff, "diffed against HEAD")
  end

  -- Writing a revision is refused with a clear message.
  vim.cmd("write!")
  h.wait_message("cannot be changed")

  -- What the second commit changed.
  vim.cmd("only")
  vim.cmd.buffer(head)
  vim.cmd("BBSnippet diff " .. ctx.second)
  h.wait_for("the diff buffer", function()
    return vim.bo.filetype == "diff"
  end)
  local diff = h.text(0)
  assert(diff:find('%+    return f"Hello, {name}!"') and diff:find('%-    return "Hello"'), diff)
end)
