-- list -> open -> edit -> :w. Opening a 3-file snippet from the picker is one Bitbucket request
-- (after the list), switching between its buffers none, and :w of one buffer one PUT.
local h = require("helpers")

h.run(function()
  local ctx = h.context
  vim.g.bbsnippets = { workspace = ctx.workspace, poll_interval_seconds = 0 }
  h.requests() -- start counting here

  h.will_select(vim.pesc(ctx.workspace .. "/" .. ctx.id))
  vim.cmd("BBSnippet list")
  local files = require("bbsnippets.files")
  h.wait_for("the three files in buffers", function()
    return #files.buffers_of(ctx.workspace, ctx.id) == 3
  end)
  local picker = h.prompts[1]
  assert(picker.prompt:find("Snippets in " .. ctx.workspace), picker.prompt)
  assert(
    picker.items[1]:find("three files") and picker.items[1]:find("private") and picker.items[1]:find("updated 20"),
    picker.items[1]
  )
  h.equal(
    { "GET /2.0/snippets/" .. ctx.workspace, "GET /2.0/snippets/" .. ctx.workspace .. "/" .. ctx.id },
    h.requests(),
    "list, then open"
  )

  local uri = require("bbsnippets.uri")
  local app = vim.fn.bufnr(uri.build(ctx.workspace, ctx.id, "app.py"))
  local readme = vim.fn.bufnr(uri.build(ctx.workspace, ctx.id, "README.md"))
  local todo = vim.fn.bufnr(uri.build(ctx.workspace, ctx.id, "notes/todo.txt"))
  assert(app > 0 and readme > 0 and todo > 0, "a buffer per file")
  h.equal("python", vim.bo[app].filetype, "filetype from the name")
  h.equal("markdown", vim.bo[readme].filetype, "filetype from the name")
  h.equal("acwrite", vim.bo[app].buftype, "buftype")
  h.equal(ctx.files["app.py"], h.text(app) .. "\n", "app.py as on Bitbucket")
  h.equal(ctx.files["notes/todo.txt"], h.text(todo) .. "\n", "todo.txt as on Bitbucket")
  assert(not vim.bo[app].modified and not vim.bo[app].readonly, "fresh buffer")
  h.equal(readme, vim.api.nvim_get_current_buf(), "the first file (by name) is shown")

  -- Switching between the buffers costs nothing.
  for _, buf in ipairs({ readme, todo, app, todo, readme }) do
    vim.cmd.buffer(buf)
  end
  vim.cmd("bnext")
  vim.cmd("bprevious")
  h.equal({}, h.requests(), "switching buffers")

  -- Edit one file and save it: one PUT; 'modified' is cleared once the daemon confirmed.
  vim.cmd.buffer(todo)
  vim.api.nvim_buf_set_lines(todo, 1, 1, false, { "- [ ] saved from Neovim" })
  assert(vim.bo[todo].modified, "edited")
  vim.cmd("write")
  assert(not vim.bo[todo].modified, "modified cleared after the save")
  local sent = h.requests()
  h.equal(1, #sent, "one request for :w (" .. vim.inspect(sent) .. ")")
  assert(sent[1]:find("^PUT /2.0/snippets/" .. ctx.workspace .. "/" .. ctx.id), sent[1])
  local saved = vim.base64.decode(h.ask("file", { workspace = ctx.workspace, id = ctx.id, path = "notes/todo.txt" }))
  h.equal(h.text(todo) .. "\n", saved, "the sandbox has the new content")

  -- A second :w with nothing changed sends nothing.
  vim.cmd("write")
  h.equal({}, h.requests(), "an unchanged :w")

  -- :read puts a snippet file's text into any buffer (FileReadCmd), from the cache.
  vim.cmd("enew")
  vim.api.nvim_buf_set_lines(0, 0, -1, false, { "first", "last" })
  vim.cmd("1read " .. vim.fn.fnameescape(uri.build(ctx.workspace, ctx.id, "app.py")))
  h.equal("first\n" .. ctx.files["app.py"] .. "last", h.text(0), ":read inserts below the line")
  h.equal({}, h.requests(), ":read of an open snippet")
end)
