--- Insert: `:[line]BBSnippet insert [query]` picks a snippet file and puts its text below the line
--- (`insert!`: above), as |:put| does. The file is read through the daemon (bbsnippets/readFile,
--- from its cache when the snippet was read before); its lines go in exactly, as one undo step.
---
--- Without a query the picker starts from the default workspace's snippets (bbsnippets.list), then
--- asks which file when the snippet has several; with one it offers the search hits (bbsnippets.search).

local client = require("bbsnippets.client")
local files = require("bbsnippets.files")
local protocol = require("bbsnippets.protocol")
local search = require("bbsnippets.search")
local uri = require("bbsnippets.uri")

local M = {}

local namespace = vim.api.nvim_create_namespace("bbsnippets.insert")

--- Where the text goes: an extmark on the line, so edits made while the user picks keep it right.
---@class bbsnippets.InsertTarget
---@field buf integer
---@field win integer
---@field mark integer
---@field above boolean

---@param target bbsnippets.InsertTarget
local function forget(target)
  if vim.api.nvim_buf_is_valid(target.buf) then
    vim.api.nvim_buf_del_extmark(target.buf, namespace, target.mark)
  end
end

--- Puts `lines` at the target as one undo step; the cursor goes to the last of them (as :put).
---@param target bbsnippets.InsertTarget
---@param lines string[]
---@return boolean
local function put(target, lines)
  local buf = target.buf
  if not vim.api.nvim_buf_is_valid(buf) then
    client.notify("the buffer to insert into is gone; nothing inserted", vim.log.levels.WARN)
    return false
  end
  if not vim.bo[buf].modifiable then
    client.notify("the buffer is not modifiable ('modifiable' is off); nothing inserted", vim.log.levels.WARN)
    return false
  end
  local row = vim.api.nvim_buf_get_extmark_by_id(buf, namespace, target.mark, {})[1] or 0
  local first
  vim.api.nvim_buf_call(buf, function()
    vim.go.undolevels = vim.go.undolevels -- closes the undo block: `u` undoes exactly this insert
    local empty = vim.api.nvim_buf_line_count(buf) == 1 and vim.api.nvim_buf_get_lines(buf, 0, 1, false)[1] == ""
    if empty then
      first = 0 -- a new buffer: the text replaces its one empty line
      vim.api.nvim_buf_set_lines(buf, 0, 1, false, lines)
    else
      first = target.above and row or row + 1
      vim.api.nvim_buf_set_lines(buf, first, first, false, lines)
    end
    vim.go.undolevels = vim.go.undolevels
  end)
  local last = first + #lines
  vim.api.nvim_buf_set_mark(buf, "[", first + 1, 0, {})
  vim.api.nvim_buf_set_mark(buf, "]", last, 0, {})
  if vim.api.nvim_win_is_valid(target.win) and vim.api.nvim_win_get_buf(target.win) == buf then
    vim.api.nvim_win_set_cursor(target.win, { last, math.max((lines[#lines]:find("%S") or 1) - 1, 0) })
  end
  return true
end

--- Reads file `file` (a bbsnippet:// URI) and inserts its text; a binary or empty file is refused.
---@param file string
---@param target bbsnippets.InsertTarget
function M.insert_file(file, target)
  local parsed = uri.parse(file) --[[@as bbsnippets.Uri]]
  local where = uri.ref(parsed.workspace, parsed.id) .. "/" .. (parsed.path or "")
  client.request(protocol.READ_FILE, { uri = file }, function(err, result)
    if err then
      return forget(target)
    end
    ---@cast result bbsnippets.ReadFileResult
    if result.text == nil then
      client.notify(
        ("%s is a binary file; :BBSnippet insert puts text only (:BBSnippet pull writes the bytes to disk)"):format(
          where
        ),
        vim.log.levels.WARN
      )
    elseif result.text == "" then
      client.notify(("%s is empty; nothing inserted"):format(where), vim.log.levels.WARN)
    else
      local lines = files.to_lines(result.text)
      if put(target, lines) then
        client.notify(("inserted %s (%d %s)"):format(where, #lines, #lines == 1 and "line" or "lines"))
      end
    end
    forget(target)
  end)
end

--- Asks which file of snippet `workspace/id` (none asked when it has one), then inserts it.
---@param workspace string
---@param id string
---@param title string
---@param target bbsnippets.InsertTarget
function M.choose_file(workspace, id, title, target)
  files.file_names(workspace, id, function(names)
    if not names then
      return forget(target)
    end
    if #names == 0 then
      forget(target)
      return client.notify(("snippet %s has no files to insert"):format(uri.ref(workspace, id)), vim.log.levels.WARN)
    end
    if #names == 1 then
      return M.insert_file(uri.build(workspace, id, names[1]), target)
    end
    vim.ui.select(names, {
      prompt = ("Insert which file of %s (%s)?"):format(title ~= "" and title or "(untitled)", uri.ref(workspace, id)),
      kind = "bbsnippets.file",
    }, function(name)
      if name then
        M.insert_file(uri.build(workspace, id, name), target)
      else
        forget(target)
      end
    end)
  end)
end

--- The hits as things to insert: one per file (its first hit says why it matched), and a title hit
--- as the whole snippet (its file is asked next).
---@param hits bbsnippets.SearchHit[]
---@return {hit: bbsnippets.SearchHit, file?: string}[]
local function choices(hits)
  local items, seen = {}, {}
  for _, hit in ipairs(hits) do
    local title_hit = hit.line == nil and hit.preview ~= hit.name
    local file = not title_hit and search.location(hit) or nil
    local key = file or uri.ref(hit.workspace, hit.id)
    if not seen[key] then
      seen[key] = true
      table.insert(items, { hit = hit, file = file })
    end
  end
  return items
end

--- `:[line]BBSnippet[!] insert [query]`.
---@param query string
---@param opts {above: boolean, line?: integer} line: where (default: the cursor line)
function M.command(query, opts)
  local buf, win = vim.api.nvim_get_current_buf(), vim.api.nvim_get_current_win()
  if not vim.bo[buf].modifiable then
    client.notify(
      "this buffer is not modifiable; go to the buffer to insert into and run :BBSnippet insert there",
      vim.log.levels.WARN
    )
    return
  end
  local line = math.min(math.max(opts.line or vim.api.nvim_win_get_cursor(win)[1], 1), vim.api.nvim_buf_line_count(buf))
  ---@type bbsnippets.InsertTarget
  local target = {
    buf = buf,
    win = win,
    mark = vim.api.nvim_buf_set_extmark(buf, namespace, line - 1, 0, {}),
    above = opts.above,
  }
  query = vim.trim(query)
  if query == "" then
    require("bbsnippets.picker").choose_snippet(nil, "Insert from", function(snippet)
      M.choose_file(snippet.workspace, snippet.id, snippet.title, target)
    end)
    return
  end
  search.run(query, 50, function(result)
    if #result.results == 0 then
      forget(target)
      return search.nothing_found(query, result)
    end
    vim.ui.select(choices(result.results), {
      prompt = ("Insert a snippet file matching %q"):format(query),
      kind = "bbsnippets.search",
      format_item = function(item)
        local hit = item.hit
        local where = item.file and (uri.ref(hit.workspace, hit.id) .. "/" .. hit.name)
          or (uri.ref(hit.workspace, hit.id) .. " (pick a file)")
        return search.describe(hit) .. "  ·  " .. where .. (hit.line and (":" .. hit.line) or "")
      end,
    }, function(item)
      if not item then
        forget(target)
      elseif item.file then
        M.insert_file(item.file, target)
      else
        M.choose_file(item.hit.workspace, item.hit.id, item.hit.title, target)
      end
    end)
  end)
end

return M
