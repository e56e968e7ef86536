-- :BBSnippet insert picks a snippet (then its file, when it has several) and puts the file's exact
-- lines below the cursor line; insert! above; one `u` undoes it. Reading costs what the daemon's
-- cache says: the snippet once, then nothing. Binary files, non-modifiable buffers and search
-- with indexing off (as in these flows) each get a clear message.
local h = require("helpers")

h.run(function()
  local ctx = h.context
  vim.g.bbsnippets = { workspace = ctx.workspace, poll_interval_seconds = 0 }
  local ref = vim.pesc(ctx.workspace .. "/" .. ctx.helpers)
  local list = "GET /2.0/snippets/" .. ctx.workspace

  vim.cmd("enew")
  local buf = vim.api.nvim_get_current_buf()
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { "first", "second" })
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  h.requests() -- start counting here

  -- insert: the snippet, then which of its files (those in folders too), below the cursor line.
  h.will_select("^helpers", "^retry%.py$")
  h.messages = {}
  vim.cmd("BBSnippet insert")
  h.wait_message("inserted " .. ref .. "/retry%.py %(5 lines%)")
  h.equal("first\n" .. ctx.retry .. "second", h.text(buf), "retry.py below line 1")
  h.equal({ "logo.png", "retry.py", "util/strings.py" }, h.prompts[#h.prompts].items, "the files to pick from")
  assert(h.prompts[#h.prompts - 1].prompt:find("^Insert from " .. ctx.workspace), h.prompts[#h.prompts - 1].prompt)
  h.equal({ 6, 0 }, vim.api.nvim_win_get_cursor(0), "the cursor on the last new line, as :put")
  h.equal({ list, list .. "/" .. ctx.helpers }, h.requests(), "the list, then the snippet")
  vim.cmd("normal! u")
  h.equal("first\nsecond", h.text(buf), "one u undoes the whole insert, and only it")

  -- insert! of a one-file snippet (no file prompt): above the cursor line; CRLF lines go in as lines.
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  h.will_select("^one liner")
  h.messages = {}
  vim.cmd("BBSnippet insert!")
  h.wait_message("inserted " .. vim.pesc(ctx.workspace .. "/" .. ctx.one) .. "/hello%.txt %(2 lines%)")
  h.equal("first\nhello, world\n  indented\nsecond", h.text(buf), "hello.txt above line 2")
  h.equal({ list, list .. "/" .. ctx.one }, h.requests(), "the list, then the snippet")
  vim.cmd("normal! u")
  h.equal("first\nsecond", h.text(buf), "u undoes it")

  -- [line]insert, of a snippet read before: its file comes from the daemon's cache.
  h.will_select("^helpers", "^util/strings%.py$")
  h.messages = {}
  vim.cmd("2BBSnippet insert")
  h.wait_message("inserted " .. ref .. "/util/strings%.py")
  h.equal("first\nsecond\nUPPER = str.upper", h.text(buf), "below line 2")
  h.equal({ list }, h.requests(), "only the list: the file is cached")

  -- A binary file is refused; the buffer is untouched.
  local before = h.text(buf)
  h.will_select("^helpers", "^logo%.png$")
  h.messages = {}
  vim.cmd("BBSnippet insert")
  h.wait_message("logo%.png is a binary file")
  h.equal(before, h.text(buf), "nothing inserted")

  -- A new, empty buffer gets exactly the file's lines (no empty line left above them).
  vim.cmd("enew")
  h.will_select("^one liner")
  h.messages = {}
  vim.cmd("BBSnippet insert")
  h.wait_message("inserted " .. vim.pesc(ctx.workspace .. "/" .. ctx.one))
  h.equal({ "hello, world", "  indented" }, vim.api.nvim_buf_get_lines(0, 0, -1, false), "the file's lines")

  -- A buffer that cannot change, and a ! that makes no sense, are refused before anything is asked.
  vim.bo.modifiable = false
  local prompts = #h.prompts
  h.requests()
  h.messages = {}
  vim.cmd("BBSnippet insert")
  assert(h.message("this buffer is not modifiable"), vim.inspect(h.messages))
  vim.cmd("BBSnippet list!")
  assert(h.message(":BBSnippet list takes no !"), vim.inspect(h.messages))
  h.equal(prompts, #h.prompts, "nothing was asked")
  h.equal({}, h.requests(), "nor sent")

  -- Search needs the index, which these flows turn off: the message says how to turn it on here.
  h.messages = {}
  vim.cmd("BBSnippet search retry")
  local off = h.wait_message("Search is off")
  assert(off.message:find("daemon_options = { indexing = true }", 1, true), off.message)
end)
