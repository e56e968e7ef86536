--- :checkhealth bbsnippets — Neovim, the options, the daemon (found, its version), and through it
--- (bbsnippets.health, one call) the credentials, the keyring and the API. Each problem says how
--- to fix it; only what stops the plugin working is an ERROR.

local client = require("bbsnippets.client")
local config = require("bbsnippets.config")
local protocol = require("bbsnippets.protocol")

local M = {}

local health = vim.health

local LOGIN_ADVICE = {
  "Run :BBSnippet login (or `snippet-daemon login` in a terminal): it stores an API token in the OS keyring",
  "or set BITBUCKET_USERNAME (your Atlassian account email) and BITBUCKET_API_TOKEN in the environment",
  "create a token at https://id.atlassian.com/manage-profile/security/api-tokens with the scopes "
    .. "read:snippet:bitbucket, write:snippet:bitbucket, delete:snippet:bitbucket",
}

---@param result bbsnippets.HealthResult
local function report_daemon(result)
  health.ok(("snippet-daemon %s, API %s"):format(result.version, result.apiUrl))
  health.start("bbsnippets: Bitbucket")
  local credentials = result.credentials or {}
  if credentials.present then
    health.ok(("credentials: from the %s"):format(credentials.source or "daemon"))
  else
    health.error(
      "no Bitbucket credentials" .. (credentials.message and (": " .. credentials.message) or ""),
      LOGIN_ADVICE
    )
  end
  local keyring = result.keyring or {}
  if keyring.usable then
    health.ok(("OS keyring: %s"):format(keyring.backend or "usable"))
  else
    local text = ("OS keyring not usable%s"):format(keyring.message and (": " .. keyring.message) or "")
    local advice = {
      "install and unlock a Secret Service (gnome-keyring, KeePassXC) to keep credentials there",
      "or keep them in BITBUCKET_USERNAME and BITBUCKET_API_TOKEN",
    }
    if credentials.present and credentials.source ~= "keyring" then
      health.warn(text .. " (not needed: the credentials come from the environment)", advice)
    else
      health.error(text, advice)
    end
  end
  local api = result.api or {}
  if api.reachable then
    health.ok(("%s answers%s"):format(result.apiUrl, api.status and (" (HTTP %d)"):format(api.status) or ""))
  else
    health.error(("%s does not answer: %s"):format(result.apiUrl, api.message or "no answer"), {
      "check the network, or the api_url option (vim.g.bbsnippets = { api_url = ... })",
    })
  end
  if result.account then
    local account = result.account
    health.ok(
      ("logged in as %s%s"):format(account.displayName, account.username and (" (" .. account.username .. ")") or "")
    )
  end
  if result.workspace then
    health.ok(("default workspace: %s"):format(result.workspace))
  elseif credentials.present then
    health.warn("no default workspace", { "set the workspace option, or BITBUCKET_WORKSPACE" })
  end
end

--- A daemon older than bbsnippets.health: its version from the handshake, the rest from whoami.
---@param health_err bbsnippets.Error
local function report_without_health(health_err)
  local lsp_client = client.lsp_client()
  local info = lsp_client and lsp_client.server_info or {}
  health.ok(("snippet-daemon %s"):format(info.version or "(version unknown)"))
  health.warn(
    ("this daemon has no bbsnippets.health (%s): keyring and API checks are partial"):format(health_err.message),
    {
      "update snippet-daemon: :BBSnippet install",
    }
  )
  health.start("bbsnippets: Bitbucket")
  local err, result = client.wait(function(done)
    client.command(protocol.WHOAMI, nil, done, { handles = vim.tbl_values(protocol.ErrorKind) })
  end, 30000)
  if not err then
    local account = result.account or {}
    health.ok("credentials: present")
    health.ok("the API answers")
    health.ok(("logged in as %s"):format(account.displayName or "?"))
  elseif err.kind == protocol.ErrorKind.NOT_AUTHENTICATED then
    health.error("no Bitbucket credentials", LOGIN_ADVICE)
  elseif err.kind == protocol.ErrorKind.CREDENTIAL_STORE then
    health.error(
      "OS keyring not usable: " .. err.message,
      { "or keep the credentials in BITBUCKET_USERNAME and BITBUCKET_API_TOKEN" }
    )
  else
    health.error(("the API does not answer: %s"):format(err.message), {
      "check the network, or the api_url option (vim.g.bbsnippets = { api_url = ... })",
    })
  end
end

function M.check()
  health.start("bbsnippets: Neovim")
  local version = vim.version()
  local text = ("Neovim %d.%d.%d"):format(version.major, version.minor, version.patch)
  if vim.fn.has("nvim-0.10") == 1 then
    health.ok(text)
  else
    health.error(text .. " is too old", { "bbsnippets needs Neovim 0.10 or newer" })
  end

  health.start("bbsnippets: options")
  local problems = config.problems()
  if #problems == 0 then
    health.ok("vim.g.bbsnippets / setup(): valid")
  end
  for _, problem in ipairs(problems) do
    health.warn(problem, { "fix it in vim.g.bbsnippets or setup(); see :h bbsnippets-options" })
  end

  health.start("bbsnippets: daemon")
  local opts = config.get()
  local cmd = config.cmd(opts)
  local install = require("bbsnippets.install")
  if vim.fn.executable(cmd[1]) ~= 1 then
    health.error(("`%s` not found"):format(cmd[1]), {
      ("run :BBSnippet install: the daemon in a venv under %s (:h bbsnippets-install)"):format(install.venv()),
      'or set the cmd option: vim.g.bbsnippets = { cmd = { "/path/to/snippet-daemon" } }',
    })
    return
  end
  health.ok(("command: %s (%s)"):format(table.concat(cmd, " "), vim.fn.exepath(cmd[1])))
  if cmd[1] == install.installed() then
    health.ok(("installed by :BBSnippet install in %s (run it again to update)"):format(install.venv()))
  elseif not opts.cmd then
    health.info(("not the plugin's own daemon: :BBSnippet install puts one in %s"):format(install.venv()))
  end
  local err, result = client.wait(function(done)
    client.command(protocol.HEALTH, nil, done, { handles = vim.tbl_values(protocol.ErrorKind) })
  end, 30000)
  if err and err.kind == "daemon" then
    health.error("the daemon did not start", {
      "reinstall it: :BBSnippet install (or fix the cmd option)",
      "its log: :lua vim.cmd.tabedit(vim.lsp.get_log_path())",
    })
    return
  elseif err then
    return report_without_health(err)
  end
  report_daemon(result)
end

return M
