-- A conflict from another writer: :w asks; "compare" opens a diff against the version on
-- Bitbucket (read-only) and keeps the user's text; a second :w then "overwrite" saves it.
-- Cancel keeps the text too, and :w! is the explicit overwrite.
local h = require("helpers")

h.run(function()
  local ctx = h.context
  vim.g.bbsnippets = { workspace = ctx.workspace, poll_interval_seconds = 0 }
  local uri = require("bbsnippets.uri")
  local name = uri.build(ctx.workspace, ctx.id, "app.py")
  vim.cmd.edit(vim.fn.fnameescape(name))
  local buf = vim.api.nvim_get_current_buf()
  h.equal("x = 1", h.text(buf), "as read")

  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { "x = 2  # mine" })
  h.ask("write", { workspace = ctx.workspace, id = ctx.id, path = "app.py", text = "x = 3  # theirs\n" })

  h.will_select("^Compare")
  vim.cmd("write")
  h.wait_for("the diff against Bitbucket", function()
    return #vim.api.nvim_tabpage_list_wins(0) == 2
  end)
  local conflict = h.prompts[#h.prompts]
  assert(conflict.prompt:find("app.py changed on Bitbucket"), conflict.prompt)
  h.equal(
    { "Compare with the version on Bitbucket", "Overwrite it with mine", "Cancel" },
    conflict.items,
    "the choices"
  )
  h.equal(buf, vim.api.nvim_get_current_buf(), "the cursor stays in the user text")
  local remote
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    assert(vim.wo[win].diff, "both windows in diff mode")
    if vim.api.nvim_win_get_buf(win) ~= buf then
      remote = vim.api.nvim_win_get_buf(win)
    end
  end
  h.equal("x = 3  # theirs", h.text(remote), "the remote window shows the other writer's version")
  assert(vim.bo[remote].readonly and not vim.bo[remote].modifiable, "the remote version is read-only")
  assert(vim.api.nvim_buf_get_name(remote):find("?rev=", 1, true), "at its revision")
  h.equal("x = 2  # mine", h.text(buf), "the user text is kept")
  assert(vim.bo[buf].modified, "still modified: nothing was saved")

  -- After comparing: cancel first (text kept), then overwrite.
  h.will_select("^Cancel$")
  vim.cmd("write")
  h.wait_message("not saved; your text is still in the buffer")
  assert(vim.bo[buf].modified and h.text(buf) == "x = 2  # mine", "cancel keeps everything")

  h.will_select("^Overwrite")
  vim.cmd("write")
  h.wait_for("the overwrite", function()
    return not vim.bo[buf].modified
  end)
  h.equal(
    "x = 2  # mine\n",
    vim.base64.decode(h.ask("file", { workspace = ctx.workspace, id = ctx.id, path = "app.py" })),
    "overwritten"
  )

  -- :w! overwrites without asking.
  vim.cmd("diffoff!")
  h.ask("write", { workspace = ctx.workspace, id = ctx.id, path = "app.py", text = "x = 4  # theirs again\n" })
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { "x = 5  # mine again" })
  local asked = #h.prompts
  vim.cmd("write!")
  assert(not vim.bo[buf].modified, ":w! saved")
  h.equal(asked, #h.prompts, ":w! asks nothing")
  h.equal(
    "x = 5  # mine again\n",
    vim.base64.decode(h.ask("file", { workspace = ctx.workspace, id = ctx.id, path = "app.py" })),
    ":w! overwrote"
  )
end)
