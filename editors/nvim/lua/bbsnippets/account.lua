--- Account (the daemon's features/account.py): login (the secret is read with inputsecret() and
--- never logged), logout, whoami. The health check is health.lua (:checkhealth bbsnippets).

local client = require("bbsnippets.client")
local protocol = require("bbsnippets.protocol")

local M = {}

---@param params bbsnippets.LoginParams
local function login(params)
  client.command(protocol.LOGIN, params, function(err, result)
    if not err then
      local account = result.account or {}
      client.notify(("logged in as %s; the credentials are in the OS keyring"):format(account.displayName or "?"))
    end
  end, { sensitive = true })
end

--- How the environment's credentials reach a running daemon.
local RESTART = "set in the environment Neovim starts from, :lua require('bbsnippets').restart() picks them up"

--- Runs `on_usable` when the daemon can keep credentials in an OS keyring; else says so, and what to
--- do instead, before the user has typed anything.
---@param on_usable fun()
local function when_keyring_usable(on_usable)
  -- checkApi = false: the keyring and the credentials only, no request to Bitbucket.
  client.command(protocol.HEALTH, { checkApi = false }, function(err, result)
    if err then
      return
    end
    ---@cast result bbsnippets.HealthResult
    local keyring = result.keyring or {}
    if keyring.usable then
      return on_usable()
    end
    local why = keyring.message
      or (
        "No OS keyring is available here (no Secret Service such as gnome-keyring or KeePassXC), so "
        .. "credentials cannot be stored. Set BITBUCKET_USERNAME (your Atlassian account email) and "
        .. "BITBUCKET_API_TOKEN instead."
      )
    client.notify(
      ("%s :BBSnippet login needs the keyring; with the variables %s."):format(why, RESTART),
      vim.log.levels.ERROR
    )
  end)
end

--- `:BBSnippet login`: an API token (with the Atlassian account email) or an OAuth access token,
--- asked only once the daemon said it has an OS keyring to keep it in.
function M.login()
  when_keyring_usable(M.ask_credentials)
end

--- The questions of `:BBSnippet login`.
function M.ask_credentials()
  local kinds = { "API token (with your Atlassian account email)", "OAuth 2.0 access token" }
  vim.ui.select(kinds, { prompt = "Log in to Bitbucket with", kind = "bbsnippets.login" }, function(_, index)
    if index == 1 then
      vim.ui.input({ prompt = "Atlassian account email: " }, function(email)
        if email and email ~= "" then
          local secret = vim.fn.inputsecret("API token: ")
          if secret ~= "" then
            login({ kind = "apiToken", username = email, secret = secret })
          end
        end
      end)
    elseif index == 2 then
      local secret = vim.fn.inputsecret("Access token: ")
      if secret ~= "" then
        login({ kind = "accessToken", secret = secret })
      end
    end
  end)
end

function M.logout()
  client.command(protocol.LOGOUT, nil, function(err)
    if not err then
      client.notify("logged out: the keyring no longer holds your Bitbucket credentials (environment ones still apply)")
    end
  end)
end

function M.whoami()
  client.command(protocol.WHOAMI, nil, function(err, result)
    if err then
      return
    end
    ---@cast result bbsnippets.AccountResult
    local account = result.account or {}
    local text = ("logged in as %s"):format(account.displayName or "?")
    if account.username and account.username ~= vim.NIL then
      text = text .. (" (%s)"):format(account.username)
    end
    if result.workspace then
      text = text .. ("; default workspace %s"):format(result.workspace)
    end
    client.notify(text)
  end)
end

return M
