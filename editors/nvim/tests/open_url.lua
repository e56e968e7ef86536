-- :BBSnippet open with what a user pastes from the browser: bitbucket.org's address with a slug and
-- #file-NAME (that file is shown), the sandbox's own page address, and plain ws/id; one request for
-- the snippet. An address that names no snippet says what was expected, in words, and sends nothing.
local h = require("helpers")

h.run(function()
  local ctx = h.context
  vim.g.bbsnippets = { workspace = ctx.workspace, poll_interval_seconds = 0 }
  local uri = require("bbsnippets.uri")

  h.requests()
  vim.cmd(
    ("BBSnippet open https://bitbucket.org/%s/workspace/snippets/%s/three-files#file-app.py"):format(
      ctx.workspace,
      ctx.id
    )
  )
  h.wait_message("opened " .. ctx.workspace .. "/" .. ctx.id)
  h.equal(uri.build(ctx.workspace, ctx.id, "app.py"), vim.api.nvim_buf_get_name(0), "the file the address names")
  h.equal("def main() -> None:", vim.api.nvim_buf_get_lines(0, 0, 1, false)[1], "its text")
  h.equal({ ("GET /2.0/snippets/%s/%s"):format(ctx.workspace, ctx.id) }, h.requests(), "one request")

  vim.cmd.enew()
  h.messages = {}
  vim.cmd("BBSnippet open " .. ctx.html_url)
  h.wait_message("opened " .. ctx.workspace .. "/" .. ctx.id)
  h.equal(uri.build(ctx.workspace, ctx.id, "README.md"), vim.api.nvim_buf_get_name(0), "no #file-: the first file")

  vim.cmd.enew()
  h.messages = {}
  vim.cmd(("BBSnippet open  %s/%s "):format(ctx.workspace, ctx.id))
  h.wait_message("opened " .. ctx.workspace .. "/" .. ctx.id)

  h.requests()
  h.messages = {}
  vim.cmd("BBSnippet open https://example.com/demo/snippets/x")
  local refused = h.wait_message("does not name a snippet")
  h.equal(vim.log.levels.ERROR, refused.level, "an error")
  assert(refused.message:find("bitbucket.org", 1, true), "says what it expected: " .. refused.message)
  assert(not refused.message:find("invalidArgument"), "in words: " .. refused.message)
  h.equal({}, h.requests(), "nothing reached Bitbucket")

  h.messages = {}
  vim.cmd("BBSnippet open")
  h.wait_message(":BBSnippet open takes WORKSPACE/ID or the snippet's web address")
end)
