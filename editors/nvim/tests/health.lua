-- :checkhealth bbsnippets with the daemon installed and credentials in the environment: every
-- check passes; nothing is an ERROR, and the missing keyring is a WARNING.
local h = require("helpers")

h.run(function()
  vim.cmd("checkhealth bbsnippets")
  local report = h.text(0)
  io.stderr:write(report .. "\n")
  assert(report:find("OK Neovim 0%.1%d"), "Neovim version:\n" .. report)
  assert(report:find("OK command: snippet%-daemon"), "the daemon is found:\n" .. report)
  assert(report:find("OK snippet%-daemon %d+%.%d+"), "its version:\n" .. report)
  assert(report:find("OK credentials"), "credentials:\n" .. report)
  assert(report:find("answers"), "the API answers:\n" .. report)
  assert(report:find("logged in as Demo User"), "the account:\n" .. report)
  assert(not report:find("ERROR"), "no errors:\n" .. report)
  -- The test runs without a usable keyring: with credentials in the environment that is a warning.
  assert(report:find("WARNING OS keyring not usable"), "the keyring:\n" .. report)
  assert(report:find("not needed: the credentials come from the environment"), "why only a warning:\n" .. report)
end)
