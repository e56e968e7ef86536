--- Small prompts shared by the features, all on vim.ui (so dressing.nvim, telescope-ui-select,
--- snacks or fzf-lua pickers replace them), where a shared link goes, and the one answer to the
--- daemon's secret scan (`secretDetected`): say where, ask "share anyway?", send again.

local M = {}

--- Asks a yes/no question; `on_yes` runs only on an explicit yes.
---@param prompt string
---@param yes string the label of the yes answer, e.g. "Delete"
---@param on_yes fun()
---@param on_no? fun()
function M.confirm(prompt, yes, on_yes, on_no)
  vim.ui.select({ yes, "Cancel" }, { prompt = prompt, kind = "bbsnippets.confirm" }, function(choice)
    if choice == yes then
      on_yes()
    elseif on_no then
      on_no()
    end
  end)
end

--- The daemon refused to publish text that looks like a credential (`secretDetected`): says which
--- file and line, asks whether to publish it anyway, and on yes calls `retry` (which sends the same
--- request again with `allowSecrets = true`). On no, says that nothing was published.
---@param err bbsnippets.Error a secretDetected error
---@param retry fun()
---@param on_no? fun()
function M.confirm_secrets(err, retry, on_no)
  local where = {}
  local data = err.data --[[@as bbsnippets.SecretDetectedData]]
  for _, finding in ipairs(data.findings or {}) do
    table.insert(where, ("%s line %d (%s)"):format(finding.path, finding.line, finding.rule))
  end
  M.confirm(
    ("This looks like a credential: %s. Publish it anyway?"):format(table.concat(where, "; ")),
    "Share anyway",
    retry,
    function()
      require("bbsnippets.client").notify(
        "nothing was published: remove the secret, or keep the snippet private",
        vim.log.levels.WARN
      )
      if on_no then
        on_no()
      end
    end
  )
end

--- Runs one of the daemon's commands that publish text (create, update, duplicate), which the daemon
--- refuses with `secretDetected` when the text looks like a credential: then asks as
--- `confirm_secrets` does and, on yes, sends it again with `allowSecrets = true`. `on_done` gets
--- the final answer (or the refusal when the user said no); other errors are already reported,
--- except the kinds in `handles`, which the caller shows itself (e.g. a push's `conflict`).
---@param method string a protocol command constant (protocol.CREATE, protocol.UPDATE, …)
---@param params table
---@param on_done fun(err: bbsnippets.Error?, result: any)
---@param handles? string[] more error kinds the caller shows itself
function M.secret_checked(method, params, on_done, handles)
  local client = require("bbsnippets.client")
  local protocol = require("bbsnippets.protocol")
  local kind = protocol.ErrorKind.SECRET_DETECTED
  client.command(method, params, function(err, result)
    if not (err and err.kind == kind) then
      return on_done(err, result)
    end
    M.confirm_secrets(err, function()
      M.secret_checked(method, vim.tbl_extend("force", params, { allowSecrets = true }), on_done, handles)
    end, function()
      on_done(err, nil)
    end)
  end, { handles = vim.list_extend({ kind }, handles or {}) })
end

--- Who sees a snippet of each visibility, in the words every prompt and message uses (on Bitbucket a
--- private snippet is visible to the members of its workspace, not only to its author).
M.VISIBILITY = {
  private = "Private: visible to the workspace's members",
  public = "Public: visible to anyone, also signed out",
}

--- "private (visible to the workspace's members)" or "public (visible to anyone, also signed out)".
---@param is_private boolean
---@return string
function M.visibility(is_private)
  local words = is_private and M.VISIBILITY.private or M.VISIBILITY.public
  local name, who = words:match("^(%w+): (.*)$")
  return ("%s (%s)"):format(name:lower(), who)
end

--- Puts a link in the clipboard register when Neovim has a clipboard, else the unnamed one.
---@param link string
---@return string register the register it went to
function M.copy_link(link)
  local register = vim.fn.has("clipboard") == 1 and "+" or '"'
  vim.fn.setreg(register, link)
  return register
end

--- The snippet the current buffer belongs to (a file, comments or directory buffer), or nil
--- after telling the user how to get one.
---@param buf? integer
---@return {workspace: string, id: string, path?: string, revision?: string}?
function M.current_snippet(buf)
  local state = vim.b[buf or 0].bbsnippets
  if state and state.id then
    return state
  end
  require("bbsnippets.client").notify(
    "this is not a snippet buffer; open one with :BBSnippet list or :BBSnippet open WORKSPACE/ID",
    vim.log.levels.WARN
  )
  return nil
end

--- A date from the daemon ("2026-11-01T12:34:56.789+00:00") as "2026-11-01 12:34".
---@param iso? string
---@return string
function M.date(iso)
  if not iso then
    return ""
  end
  local day, time = iso:match("^(%d%d%d%d%-%d%d%-%d%d)T(%d%d:%d%d)")
  return day and (day .. " " .. time) or iso
end

return M
