--- Share: a range or visual selection becomes a new snippet (bbsnippets.create), asked for a
--- title and then who may see it; the link goes to the clipboard (or the unnamed register).
--- Sharing a whole file on disk offers to keep it linked (bbsnippets.link), so `:BBSnippet push`
--- sends its later changes.

local client = require("bbsnippets.client")
local config = require("bbsnippets.config")
local protocol = require("bbsnippets.protocol")
local ui = require("bbsnippets.ui")

local M = {}

--- The name the shared file gets: the buffer's file name, else snippet.txt.
---@param buf integer
---@return string
local function file_name(buf)
  local state = vim.b[buf].bbsnippets
  if state and state.path then
    return vim.fs.basename(state.path)
  end
  local name = vim.api.nvim_buf_get_name(buf)
  if name ~= "" and not name:find("://", 1, true) then
    return vim.fn.fnamemodify(name, ":t")
  end
  return "snippet.txt"
end

--- Asks whether to keep the shared file `path` linked to the new snippet, and links it on yes.
---@param path string
---@param result bbsnippets.CreateResult
local function offer_link(path, result)
  ui.confirm(
    ("Keep %s linked to %s? :BBSnippet push then sends your later changes."):format(
      vim.fn.fnamemodify(path, ":~:."),
      require("bbsnippets.uri").ref(result.workspace, result.id)
    ),
    "Keep it linked",
    function()
      require("bbsnippets.push").link_path(path, result.workspace, result.id)
    end
  )
end

---@param params bbsnippets.CreateParams
---@param link_path? string the file on disk that was shared whole
local function create(params, link_path)
  ui.secret_checked(protocol.CREATE, params, function(err, result)
    if err then
      return
    end
    ---@cast result bbsnippets.CreateResult
    local link = result.htmlUrl or result.uri
    local register = ui.copy_link(link)
    client.notify(
      ("shared %s/%s, %s: %s (in the %s register)"):format(
        result.workspace,
        result.id,
        ui.visibility(result.isPrivate),
        link,
        register
      )
    )
    if link_path then
      offer_link(link_path, result)
    end
  end)
end

--- Shares `text` as the file `name`: asks the title, then the visibility, then creates the snippet.
---@param text string
---@param name string
---@param workspace? string nil: the default workspace
---@param link_path? string the file on disk shared whole: offers to keep it linked afterwards
function M.share(text, name, workspace, link_path)
  vim.ui.input({ prompt = "Snippet title: " }, function(title)
    if title == nil then
      return -- cancelled
    end
    local private, public = ui.VISIBILITY.private, ui.VISIBILITY.public
    local choices = config.get().private_by_default and { private, public } or { public, private }
    vim.ui.select(choices, { prompt = "Who may see the new snippet?", kind = "bbsnippets.visibility" }, function(choice)
      if not choice then
        return
      end
      create({
        workspace = workspace,
        title = title ~= "" and title or nil,
        isPrivate = choice == private,
        files = { { name = name, text = text } },
      }, link_path)
    end)
  end)
end

--- `:[range]BBSnippet share [workspace]`: the lines of the range, or the whole buffer.
---@param opts {range: integer, line1: integer, line2: integer, fargs: string[]}
function M.command(opts)
  local buf = vim.api.nvim_get_current_buf()
  local first, last = 0, -1
  if opts.range > 0 then
    first, last = opts.line1 - 1, opts.line2
  end
  local lines = vim.api.nvim_buf_get_lines(buf, first, last, false)
  local path = vim.api.nvim_buf_get_name(buf)
  local whole_file = opts.range == 0
    and vim.bo[buf].buftype == ""
    and path ~= ""
    and not path:find("://", 1, true)
    and vim.uv.fs_stat(path) ~= nil
  M.share(
    table.concat(lines, "\n") .. "\n",
    file_name(buf),
    opts.fargs[2],
    whole_file and vim.fs.normalize(vim.fn.fnamemodify(path, ":p")) or nil
  )
end

--- The visual-mode map: exactly the selected text (characterwise, linewise or blockwise).
---@param workspace? string
function M.visual(workspace)
  local mode = vim.fn.mode()
  local region = vim.fn.getregion(vim.fn.getpos("v"), vim.fn.getpos("."), { type = mode })
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes("<Esc>", true, false, true), "nx", false)
  local text = table.concat(region, "\n")
  if mode ~= "v" then
    text = text .. "\n" -- whole lines (or block rows) end with a newline
  end
  M.share(text, file_name(vim.api.nvim_get_current_buf()), workspace)
end

return M
