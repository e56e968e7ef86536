-- Files and snippet commands: add a file (:w creates it), rename the current file, delete a file,
-- retitle, make public (secret-scanned: "share anyway"), delete the snippet after a confirmation.
local h = require("helpers")

h.run(function()
  local ctx = h.context
  vim.g.bbsnippets = { workspace = ctx.workspace, poll_interval_seconds = 0 }
  local uri = require("bbsnippets.uri")
  local function remote(path)
    local data = h.ask("file", { workspace = ctx.workspace, id = ctx.id, path = path })
    return data ~= vim.NIL and vim.base64.decode(data) or nil
  end
  vim.cmd.edit(vim.fn.fnameescape(uri.build(ctx.workspace, ctx.id, "main.py")))

  -- add
  vim.cmd("BBSnippet add lib/util.py")
  local added = vim.api.nvim_get_current_buf()
  h.equal(uri.build(ctx.workspace, ctx.id, "lib/util.py"), vim.api.nvim_buf_get_name(added), "the new file buffer")
  h.equal("python", vim.bo[added].filetype, "its filetype")
  vim.api.nvim_buf_set_lines(added, 0, -1, false, { "def helper():", "    return 42" })
  vim.cmd("write")
  assert(not vim.bo[added].modified, "saved")
  h.equal("def helper():\n    return 42\n", remote("lib/util.py"), "added on Bitbucket")

  -- rename (one request; the buffer follows)
  h.requests()
  vim.cmd("BBSnippet rename lib/helpers.py")
  h.wait_for("the rename", function()
    return vim.api.nvim_buf_get_name(added) == uri.build(ctx.workspace, ctx.id, "lib/helpers.py")
  end)
  h.equal(1, #h.requests(), "one request")
  h.equal(nil, remote("lib/util.py"), "the old name is gone")
  h.equal("def helper():\n    return 42\n", remote("lib/helpers.py"), "the new name has the text")
  h.equal(-1, vim.fn.bufnr(uri.build(ctx.workspace, ctx.id, "lib/util.py")), "no buffer left with the old name")

  -- delete-file (after a confirmation)
  h.will_select("^Delete$")
  vim.cmd("BBSnippet delete-file")
  h.wait_for("the buffer to go", function()
    return not vim.api.nvim_buf_is_valid(added)
  end)
  h.equal(nil, remote("lib/helpers.py"), "deleted on Bitbucket")

  -- title, then visibility public: the daemon scans main.py, finds the key; "share anyway"
  vim.cmd.edit(vim.fn.fnameescape(uri.build(ctx.workspace, ctx.id, "main.py")))
  vim.cmd("BBSnippet title A better title")
  h.wait_message('is now titled "A better title"')
  h.will_select("^Share anyway$")
  vim.cmd("BBSnippet visibility public")
  h.wait_message("is now public %(visible to anyone")
  assert(h.prompts[#h.prompts].prompt:find("main%.py line 1"), h.prompts[#h.prompts].prompt)

  -- :w of another credential into the now public snippet meets the same question (ui.lua's one
  -- secret check): Cancel sends nothing and keeps the text; Share anyway saves it.
  local key_line = 'GITHUB = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"'
  vim.api.nvim_buf_set_lines(0, -1, -1, false, { key_line })
  h.requests()
  h.messages = {}
  h.will_select("^Cancel$")
  vim.cmd("write")
  h.wait_message("nothing was published")
  assert(h.prompts[#h.prompts].prompt:find("main%.py line 2"), h.prompts[#h.prompts].prompt)
  h.equal({}, h.requests(), "a refused save reaches no server")
  assert(vim.bo.modified, "the text is kept, unsaved")
  h.will_select("^Share anyway$")
  vim.cmd("write")
  h.wait_for("the save", function()
    return not vim.bo.modified
  end)
  h.equal('AWS_KEY = "AKIAQWERTYUIOP1234ZX"\n' .. key_line .. "\n", remote("main.py"), "saved after Share anyway")
  h.equal(1, #vim.tbl_filter(function(request)
    return request:find("^PUT ")
  end, h.requests()), "one PUT")

  -- duplicate: a private copy, opened in buffers
  vim.cmd("BBSnippet duplicate")
  local copied = h.wait_message("duplicated " .. ctx.workspace .. "/" .. ctx.id .. " as ")
  assert(copied.message:find("private (visible to the workspace's members)", 1, true), copied.message)
  local copy = copied.message:match(" as [^/]+/(%w+)")
  h.wait_for("the copy opened", function()
    return vim.api.nvim_buf_get_name(0) == uri.build(ctx.workspace, copy, "main.py")
  end)
  h.equal('AWS_KEY = "AKIAQWERTYUIOP1234ZX"\n' .. key_line, h.text(0), "the copy holds the file")
  h.equal(vim.fn.getreg('"'):match("/(%w+)$"), copy, "its link in the register")

  -- the picker's other workspaces (bbsnippets.workspaces)
  h.will_select("^Other workspace", "^sandbox%-team", "team snippet")
  vim.cmd("BBSnippet list")
  h.wait_for("the team snippet to open", function()
    return vim.api.nvim_buf_get_name(0) == uri.build("sandbox-team", ctx.team_id, "team.txt")
  end)
  local workspaces = h.prompts[#h.prompts - 1]
  assert(workspaces.items[1]:find("^demo") and workspaces.items[1]:find("%(default%)"), vim.inspect(workspaces.items))
  vim.cmd.edit(vim.fn.fnameescape(uri.build(ctx.workspace, ctx.id, "main.py")))

  -- delete the snippet: cancel keeps it, Delete deletes it and closes its buffers
  h.will_select("^Cancel$")
  vim.cmd("BBSnippet delete")
  assert(remote("main.py"), "still there after Cancel")
  h.will_select("^Delete$")
  vim.cmd("BBSnippet delete")
  h.wait_message("deleted " .. ctx.workspace .. "/" .. ctx.id)
  h.equal(-1, vim.fn.bufnr(uri.build(ctx.workspace, ctx.id, "main.py")), "its buffer is closed")
end)
