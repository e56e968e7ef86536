-- Comments: the thread in the comments buffer (author, date, replies indented, markdown); a reply
-- from the buffer's map; an edit; a comment on a line of the file, shown at that line as a HINT;
-- deleting it from the comments buffer removes it from the line.
local h = require("helpers")

---@param buf integer
---@param pattern string
---@return integer line (1-based) of the first line matching
local function line_of(buf, pattern)
  for index, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if line:find(pattern) then
      return index
    end
  end
  error(("no line matches %q in:\n%s"):format(pattern, h.text(buf)))
end

---@param keys string
local function press(keys)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), "x", false)
end

h.run(function()
  local ctx = h.context
  vim.g.bbsnippets = { workspace = ctx.workspace, poll_interval_seconds = 0 }
  local uri = require("bbsnippets.uri")
  local file = uri.build(ctx.workspace, ctx.id, "app.py")
  vim.cmd.edit(vim.fn.fnameescape(file))
  local file_buf = vim.api.nvim_get_current_buf()

  vim.cmd("BBSnippet comments")
  local comments = vim.fn.bufnr(uri.comments(ctx.workspace, ctx.id))
  h.wait_for("the thread", function()
    return comments > 0 and h.text(comments):find("Looks good", 1, true)
  end)
  h.equal(comments, vim.api.nvim_get_current_buf(), "the comments buffer is shown")
  h.equal("markdown", vim.bo[comments].filetype, "markdown")
  assert(not vim.bo[comments].modifiable, "not editable by accident")
  local lines = vim.api.nvim_buf_get_lines(comments, 0, 3, false)
  assert(
    lines[2]:find("a add") and lines[2]:find("r reply") and lines[2]:find("e edit") and lines[2]:find("d delete"),
    "the maps at the top: " .. lines[2]
  )
  local root = line_of(comments, "^## Demo User · 20%d%d%-%d%d%-%d%d %d%d:%d%d$")
  assert(root < line_of(comments, "Looks good"), "the header, then the text")

  -- Reply to it with `r`: a draft opens; :w posts it; the thread shows it indented.
  vim.api.nvim_win_set_cursor(0, { line_of(comments, "Looks good"), 0 })
  press("r")
  local draft = vim.api.nvim_get_current_buf()
  assert(draft ~= comments and vim.bo[draft].filetype == "markdown", "a markdown draft")
  assert(vim.wo.winbar:find("Replying"), vim.wo.winbar)
  vim.api.nvim_buf_set_lines(draft, 0, -1, false, { "Thanks!", "Second line." })
  vim.cmd("write")
  h.wait_message("comment posted")
  assert(not vim.api.nvim_buf_is_valid(draft), "the draft is gone")
  local reply = line_of(comments, "^  ↳ Demo User · ")
  h.equal(
    "    Thanks!",
    vim.api.nvim_buf_get_lines(comments, reply, reply + 1, false)[1],
    "the reply is indented under it"
  )
  assert(reply > root, "after its parent")

  -- Edit the reply with `e`.
  vim.cmd.buffer(comments)
  vim.api.nvim_win_set_cursor(0, { reply + 1, 0 })
  press("e")
  local edit = vim.api.nvim_get_current_buf()
  h.equal("Thanks!\nSecond line.", h.text(edit), "the draft holds the comment")
  vim.api.nvim_buf_set_lines(edit, 0, -1, false, { "Thanks, merged." })
  vim.cmd("write")
  h.wait_message("comment edited")
  line_of(comments, "Thanks, merged%.")

  -- A comment on line 2 of the file, from the file's buffer.
  vim.cmd("wincmd p")
  vim.cmd.buffer(file_buf)
  vim.api.nvim_win_set_cursor(0, { 2, 4 })
  vim.cmd("BBSnippet comment")
  local on_line = vim.api.nvim_get_current_buf()
  assert(vim.wo.winbar:find("app.py line 2"), vim.wo.winbar)
  vim.api.nvim_buf_set_lines(on_line, 0, -1, false, { "Why print here?" })
  vim.cmd("write")
  h.wait_message("comment posted")
  local namespace = require("bbsnippets.comments").namespace
  local shown = vim.diagnostic.get(file_buf, { namespace = namespace })
  h.equal(1, #shown, "one comment at a line")
  h.equal(1, shown[1].lnum, "at line 2")
  h.equal(vim.diagnostic.severity.HINT, shown[1].severity, "a hint")
  assert(shown[1].message:find("Why print here%?"), shown[1].message)
  local anchored = line_of(comments, "app%.py line 2")
  assert(vim.api.nvim_buf_get_lines(comments, anchored - 1, anchored, false)[1]:find("^## Demo User"), "a new thread")

  -- <CR> on it goes to the line; `d` deletes it (after a confirmation) and the hint goes.
  vim.cmd.buffer(comments)
  vim.api.nvim_win_set_cursor(0, { anchored + 1, 0 })
  h.will_select("^Delete$")
  press("d")
  h.wait_for("the hint to go", function()
    return #vim.diagnostic.get(file_buf, { namespace = namespace }) == 0
  end)
  assert(not h.text(comments):find("Why print here"), "gone from the thread")
end)
