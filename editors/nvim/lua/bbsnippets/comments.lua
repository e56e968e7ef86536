--- Comments (bbsnippets.comments.*): a comments buffer per snippet showing its threads, with
--- buffer-local maps to add, reply, edit and delete; drafts are written in a Markdown buffer that
--- `:w` posts. Comments anchored to a line show at that line in the file's buffer, as HINT
--- diagnostics in the plugin's own namespace (`require('bbsnippets.comments').namespace`).

local client = require("bbsnippets.client")
local files = require("bbsnippets.files")
local protocol = require("bbsnippets.protocol")
local ui = require("bbsnippets.ui")
local uri = require("bbsnippets.uri")

local M = {}

M.namespace = vim.api.nvim_create_namespace("bbsnippets.comments")
local highlights = vim.api.nvim_create_namespace("bbsnippets.comments.highlights")
vim.diagnostic.config({ virtual_text = { spacing = 2 }, signs = true, underline = false }, M.namespace)

local function define_highlights()
  vim.api.nvim_set_hl(0, "BBSnippetsCommentHeader", { default = true, link = "Title" })
  vim.api.nvim_set_hl(0, "BBSnippetsCommentAnchor", { default = true, link = "Underlined" })
  vim.api.nvim_set_hl(0, "BBSnippetsCommentDeleted", { default = true, link = "Comment" })
  vim.api.nvim_set_hl(0, "BBSnippetsHelp", { default = true, link = "Comment" })
end
define_highlights()
vim.api.nvim_create_autocmd("ColorScheme", {
  group = vim.api.nvim_create_augroup("bbsnippets.comments", { clear = true }),
  callback = define_highlights,
})

local HELP = "a add · r reply · e edit · d delete · <CR> go to its line · R refresh · q close"

---@type table<string, bbsnippets.CommentInfo[]> "ws/id" -> the snippet's comments, oldest first
local threads = {}
---@type table<integer, table<integer, bbsnippets.CommentInfo>> comments buffer -> line -> comment
local comment_at = {}
local drafts = 0

---@param workspace string
---@param id string
---@return integer? buf the snippet's comments buffer, if it exists
local function comments_buffer(workspace, id)
  local buf = vim.fn.bufnr(uri.comments(workspace, id))
  return buf ~= -1 and buf or nil
end

--- The comments in thread order: each root, then its replies (depth-first), with their depth.
---@param comments bbsnippets.CommentInfo[]
---@return {comment: bbsnippets.CommentInfo, depth: integer}[]
local function in_thread_order(comments)
  local children, known, ordered = {}, {}, {}
  for _, comment in ipairs(comments) do
    known[comment.id] = true
  end
  local roots = {}
  for _, comment in ipairs(comments) do
    local parent = comment.parentId
    if parent and parent ~= vim.NIL and known[parent] then
      children[parent] = children[parent] or {}
      table.insert(children[parent], comment)
    else
      table.insert(roots, comment)
    end
  end
  local function visit(comment, depth)
    table.insert(ordered, { comment = comment, depth = depth })
    for _, child in ipairs(children[comment.id] or {}) do
      visit(child, depth + 1)
    end
  end
  for _, root in ipairs(roots) do
    visit(root, 0)
  end
  return ordered
end

---@param buf integer
---@param workspace string
---@param id string
local function render(buf, workspace, id)
  local comments = threads[uri.ref(workspace, id)] or {}
  local lines = { ("# Comments on %s (%d)"):format(uri.ref(workspace, id), #comments), HELP, "" }
  local at, marks = {}, {}
  if #comments == 0 then
    table.insert(lines, "No comments yet: press a to write the first.")
  end
  for _, entry in ipairs(in_thread_order(comments)) do
    local comment, indent = entry.comment, string.rep("  ", entry.depth)
    local header = indent .. (entry.depth > 0 and "↳ " or "## ") .. (comment.author or "someone")
    header = header .. " · " .. ui.date(comment.createdOn)
    local anchor_col
    if comment.path and comment.line then
      anchor_col = #header + 3
      header = header .. (" · %s line %d"):format(comment.path, comment.line)
    end
    table.insert(lines, header)
    at[#lines] = comment
    table.insert(marks, { line = #lines, group = "BBSnippetsCommentHeader", anchor_col = anchor_col })
    local body = comment.deleted and { "(deleted)" } or vim.split(comment.raw, "\n", { plain = true })
    for _, text in ipairs(body) do
      table.insert(lines, indent .. (entry.depth > 0 and "  " or "") .. text)
      at[#lines] = comment
      if comment.deleted then
        table.insert(marks, { line = #lines, group = "BBSnippetsCommentDeleted" })
      end
    end
    table.insert(lines, "")
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable, vim.bo[buf].modified = false, false
  vim.api.nvim_buf_clear_namespace(buf, highlights, 0, -1)
  vim.api.nvim_buf_set_extmark(buf, highlights, 1, 0, { end_row = 2, hl_group = "BBSnippetsHelp", hl_eol = false })
  for _, mark in ipairs(marks) do
    vim.api.nvim_buf_set_extmark(buf, highlights, mark.line - 1, 0, {
      end_col = mark.anchor_col and (mark.anchor_col - 3) or #lines[mark.line],
      hl_group = mark.group,
    })
    if mark.anchor_col then
      vim.api.nvim_buf_set_extmark(buf, highlights, mark.line - 1, mark.anchor_col, {
        end_col = #lines[mark.line],
        hl_group = "BBSnippetsCommentAnchor",
      })
    end
  end
  comment_at[buf] = at
end

--- Shows the snippet's line-anchored comments in a file buffer (no request: from the last list).
---@param buf integer
function M.decorate(buf)
  local state = files.state(buf)
  if not (state and state.path) or state.revision or not vim.api.nvim_buf_is_loaded(buf) then
    return
  end
  local comments = threads[uri.ref(state.workspace, state.id)]
  if not comments then
    return
  end
  local line_count = vim.api.nvim_buf_line_count(buf)
  local diagnostics = {}
  for _, comment in ipairs(comments) do
    if comment.path == state.path and comment.line and not comment.deleted then
      table.insert(diagnostics, {
        lnum = math.min(comment.line, line_count) - 1,
        col = 0,
        severity = vim.diagnostic.severity.HINT,
        source = "bbsnippets",
        message = ("%s: %s"):format(comment.author or "someone", comment.raw),
        user_data = { commentId = comment.id },
      })
    end
  end
  vim.diagnostic.set(M.namespace, buf, diagnostics)
end

--- Redraws what shows the snippet's comments: its comments buffer and its files' diagnostics.
---@param workspace string
---@param id string
local function show(workspace, id)
  local buf = comments_buffer(workspace, id)
  if buf and vim.api.nvim_buf_is_loaded(buf) then
    render(buf, workspace, id)
  end
  for _, file_buf in ipairs(files.buffers_of(workspace, id)) do
    M.decorate(file_buf)
  end
end

--- Lists the snippet's comments again (one request) and redraws.
---@param workspace string
---@param id string
---@param on_done? fun()
function M.refresh(workspace, id, on_done)
  client.command(protocol.COMMENTS_LIST, { workspace = workspace, id = id }, function(err, result)
    if not err then
      threads[uri.ref(workspace, id)] = result.comments
      show(workspace, id)
    end
    if on_done then
      on_done()
    end
  end)
end

--- Whether the plugin shows this snippet's comments anywhere (so a change should refresh them).
---@param workspace string
---@param id string
---@return boolean
function M.shown(workspace, id)
  return threads[uri.ref(workspace, id)] ~= nil
end

---@param buf integer
---@return bbsnippets.CommentInfo?
local function comment_under_cursor(buf)
  local comment = (comment_at[buf] or {})[vim.api.nvim_win_get_cursor(0)[1]]
  if not comment then
    client.notify("put the cursor on a comment first", vim.log.levels.WARN)
  end
  return comment
end

---@param workspace string
---@param id string
---@param comment bbsnippets.CommentInfo
local function go_to_line(workspace, id, comment)
  if not (comment.path and comment.line) then
    client.notify("this comment is not on a line of a file", vim.log.levels.WARN)
    return
  end
  local name = uri.build(workspace, id, comment.path)
  local win = vim.fn.bufwinid(name)
  if win ~= -1 then
    vim.api.nvim_set_current_win(win)
  else
    vim.cmd("wincmd p")
    vim.cmd.edit(vim.fn.fnameescape(name))
  end
  local line = math.min(comment.line, vim.api.nvim_buf_line_count(0))
  vim.api.nvim_win_set_cursor(0, { line, 0 })
end

---@param workspace string
---@param id string
---@param comment bbsnippets.CommentInfo
local function delete(workspace, id, comment)
  ui.confirm(("Delete the comment by %s?"):format(comment.author or "someone"), "Delete", function()
    client.command(protocol.COMMENTS_DELETE, { workspace = workspace, id = id, commentId = comment.id }, function(err)
      if not err then
        M.refresh(workspace, id)
      end
    end)
  end)
end

---@param buf integer
---@param workspace string
---@param id string
local function set_maps(buf, workspace, id)
  local function map(lhs, fn, desc)
    vim.keymap.set("n", lhs, fn, { buffer = buf, nowait = true, desc = "bbsnippets: " .. desc })
  end
  map("a", function()
    M.compose(workspace, id, {})
  end, "add a comment")
  --- A map acting on the comment under the cursor (nothing happens between comments).
  local function on_comment(lhs, act, desc)
    map(lhs, function()
      local comment = comment_under_cursor(buf)
      if comment then
        act(comment)
      end
    end, desc)
  end
  on_comment("r", function(comment)
    M.compose(workspace, id, { parentId = comment.id })
  end, "reply to the comment under the cursor")
  on_comment("e", function(comment)
    M.compose(workspace, id, { edit = comment })
  end, "edit the comment under the cursor")
  on_comment("d", function(comment)
    delete(workspace, id, comment)
  end, "delete the comment under the cursor")
  on_comment("<CR>", function(comment)
    go_to_line(workspace, id, comment)
  end, "go to the comment's line")
  map("R", function()
    M.refresh(workspace, id)
  end, "list the comments again")
  map("q", "<Cmd>close<CR>", "close")
end

--- `:BBSnippet comments`: the snippet's comments buffer, in a split.
---@param workspace string
---@param id string
---@param on_done? fun(buf: integer)
function M.open(workspace, id, on_done)
  local buf = comments_buffer(workspace, id)
  if not buf then
    buf = vim.api.nvim_create_buf(true, true)
    vim.api.nvim_buf_set_name(buf, uri.comments(workspace, id))
    vim.bo[buf].filetype = "markdown"
    vim.bo[buf].bufhidden = "hide"
    vim.b[buf].bbsnippets = { workspace = workspace, id = id }
    set_maps(buf, workspace, id)
  end
  local win = vim.fn.bufwinid(buf)
  if win == -1 then
    vim.cmd("botright split")
    vim.api.nvim_win_set_buf(0, buf)
  else
    vim.api.nvim_set_current_win(win)
  end
  render(buf, workspace, id)
  M.refresh(workspace, id, function()
    if on_done then
      on_done(buf)
    end
  end)
end

---@class bbsnippets.Draft
---@field parentId? integer a reply to this comment
---@field path? string on this file…
---@field line? integer …at this line
---@field edit? bbsnippets.CommentInfo an edit of this comment

--- Opens a Markdown draft; `:w` posts it (add, reply or edit) and closes it, `:q!` discards it.
---@param workspace string
---@param id string
---@param draft bbsnippets.Draft
---@return integer buf
function M.compose(workspace, id, draft)
  drafts = drafts + 1
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(buf, uri.comments(workspace, id, "draft-" .. drafts))
  local bo = vim.bo[buf]
  bo.buftype, bo.bufhidden, bo.swapfile, bo.filetype = "acwrite", "wipe", false, "markdown"
  vim.api.nvim_buf_set_lines(
    buf,
    0,
    -1,
    false,
    draft.edit and vim.split(draft.edit.raw, "\n", { plain = true }) or { "" }
  )
  bo.modified = false
  vim.b[buf].bbsnippets = { workspace = workspace, id = id }
  local what = draft.edit and "Editing a comment"
    or draft.parentId and "Replying"
    or draft.path and ("Comment on %s line %d"):format(draft.path, draft.line)
    or ("Comment on %s"):format(uri.ref(workspace, id))
  vim.cmd("belowright 8split")
  vim.api.nvim_win_set_buf(0, buf)
  vim.wo.winbar = what .. " — :w posts it, :q! discards it"
  vim.api.nvim_create_autocmd("BufWriteCmd", {
    buffer = buf,
    callback = function()
      M.post(buf, workspace, id, draft)
    end,
  })
  return buf
end

--- Posts a draft buffer; on success the draft closes and the threads are redrawn.
---@param buf integer
---@param workspace string
---@param id string
---@param draft bbsnippets.Draft
function M.post(buf, workspace, id, draft)
  local raw = vim.trim(table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n"))
  if raw == "" then
    client.notify("the comment is empty; write something, or :q! to discard it", vim.log.levels.WARN)
    return
  end
  local name, params
  if draft.edit then
    name, params = protocol.COMMENTS_EDIT, { workspace = workspace, id = id, commentId = draft.edit.id, raw = raw }
  else
    name = protocol.COMMENTS_ADD
    params =
      { workspace = workspace, id = id, raw = raw, parentId = draft.parentId, path = draft.path, line = draft.line }
  end
  local err, comment = client.wait(function(done)
    client.command(name, params, done)
  end)
  if err then
    return -- reported; the draft stays, with the text
  end
  ---@cast comment bbsnippets.CommentInfo
  local key = uri.ref(workspace, id)
  local list = threads[key] or {}
  local replaced = false
  for index, known in ipairs(list) do
    if known.id == comment.id then
      list[index], replaced = comment, true
    end
  end
  if not replaced then
    table.insert(list, comment)
  end
  threads[key] = list
  vim.bo[buf].modified = false
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    if #vim.api.nvim_list_wins() > 1 then
      vim.api.nvim_win_close(win, true)
    end
  end
  if vim.api.nvim_buf_is_valid(buf) then
    vim.api.nvim_buf_delete(buf, { force = true })
  end
  show(workspace, id)
  client.notify(draft.edit and "comment edited" or "comment posted")
end

--- `:BBSnippet comment`: a comment on the cursor line (or the range's first line) of this file.
---@param line integer
function M.comment_on_line(line)
  local buf = vim.api.nvim_get_current_buf()
  local state = files.state(buf)
  if not (state and state.path) or state.revision or state.new then
    client.notify(":BBSnippet comment works in a saved bbsnippet:// file buffer at HEAD", vim.log.levels.WARN)
    return
  end
  M.compose(state.workspace, state.id, { path = state.path, line = line })
end

return M
