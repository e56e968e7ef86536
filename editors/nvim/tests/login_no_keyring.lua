-- :BBSnippet login on a machine without an OS keyring (a headless box): it says so, and what to do
-- instead (the environment variables), before asking anything; nothing is sent to Bitbucket.
local h = require("helpers")

h.run(function()
  vim.g.bbsnippets = { workspace = "demo", poll_interval_seconds = 0 }
  vim.fn.inputsecret = function(prompt)
    error("a secret was asked for: " .. prompt)
  end
  vim.cmd("BBSnippet login")
  local message = h.wait_message("^bbsnippets: No OS keyring")
  h.equal(vim.log.levels.ERROR, message.level, "an error")
  h.equal({}, h.prompts, "nothing was asked")
  for _, words in ipairs({ "BITBUCKET_USERNAME", "BITBUCKET_API_TOKEN", ":BBSnippet login", "restart()" }) do
    assert(message.message:find(words, 1, true), ("names %s: %s"):format(words, message.message))
  end
  assert(not message.message:find("VS Code"), "names only Neovim's commands: " .. message.message)
  assert(not message.message:find("credentialStore"), "words, not the error kind: " .. message.message)
  vim.wait(300)
  h.equal(1, #h.messages, "one message: " .. vim.inspect(h.messages))
  h.equal({}, h.requests(), "nothing reached Bitbucket")
end)
