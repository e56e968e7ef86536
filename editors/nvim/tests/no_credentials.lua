-- No credentials anywhere: a command gives one clear message saying how to log in (no
-- traceback), and :checkhealth makes it an ERROR with the fix.
local h = require("helpers")

h.run(function()
  vim.g.bbsnippets = { workspace = "demo", poll_interval_seconds = 0 }
  vim.cmd("BBSnippet list")
  local message = h.wait_message("Not %a+ in to Bitbucket")
  h.equal(vim.log.levels.ERROR, message.level, "an error")
  assert(not message.message:find("notAuthenticated"), "words, not the error kind: " .. message.message)
  assert(
    not message.message:find("VS Code") and not message.message:find("Sign in"),
    "Neovim's commands only: " .. message.message
  )
  assert(message.message:find(":BBSnippet login", 1, true), "says how to log in: " .. message.message)
  vim.wait(300)
  h.equal(1, #h.messages, "one message: " .. vim.inspect(h.messages))
  h.equal(0, #h.prompts, "no picker without snippets")

  vim.cmd("checkhealth bbsnippets")
  local report = h.text(0)
  assert(report:find("ERROR no Bitbucket credentials"), report)
  assert(report:find(":BBSnippet login", 1, true), "the fix: " .. report)
end)
