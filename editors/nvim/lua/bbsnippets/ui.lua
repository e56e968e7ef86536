--- Small prompts shared by the features, all on vim.ui (so dressing.nvim, telescope-ui-select,
--- snacks or fzf-lua pickers replace them), and where a shared link goes.

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
