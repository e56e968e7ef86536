-- Share a visual selection: the title is asked, then the visibility (Private first); the link
-- lands in the unnamed register (no clipboard here) and the snippet holds exactly the selection.
-- Then a public share of text with a credential is refused, names the line, and "share anyway" works.
local h = require("helpers")

h.run(function()
  local ctx = h.context
  vim.g.bbsnippets = { workspace = ctx.workspace, poll_interval_seconds = 0 }
  vim.fn.writefile({
    "import time",
    "",
    "def retry(fn, attempts=3):",
    "    for attempt in range(attempts):",
    "        try:",
    "            return fn()",
    "        except OSError:",
    "            time.sleep(2 ** attempt)",
  }, "retry.py")
  vim.cmd.edit("retry.py")
  vim.keymap.set("x", "<F5>", "<Plug>(bbsnippets-share)")

  -- Characterwise: from "def" on line 3 to the end of line 6's "fn()".
  h.will_input("retry helper")
  h.will_select("^Private")
  vim.api.nvim_win_set_cursor(0, { 3, 0 })
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes("v3j$h<F5>", true, false, true), "x", false)
  local shared = h.wait_message("shared ")
  h.equal("input", h.prompts[1].kind, "the title is asked first")
  h.equal("select", h.prompts[2].kind, "then the visibility")
  h.equal({
    "Private: visible to the workspace's members",
    "Public: visible to anyone, also signed out",
  }, h.prompts[2].items, "private is the default, and says who sees it")
  local link = vim.fn.getreg('"')
  assert(
    link:match("^http://127%.0%.0%.1:%d+/snippets/" .. ctx.workspace .. "/%w+$"),
    "the link in the register: " .. link
  )
  assert(shared.message:find(link, 1, true), shared.message)
  assert(shared.message:find("private (visible to the workspace's members)", 1, true), shared.message)
  local id = link:match("/(%w+)$")
  local text = vim.base64.decode(h.ask("file", { workspace = ctx.workspace, id = id, path = "retry.py" }))
  h.equal(
    "def retry(fn, attempts=3):\n    for attempt in range(attempts):\n        try:\n            return fn()",
    text,
    "the selection, byte for byte"
  )
  h.equal("n", vim.fn.mode(), "back in normal mode")

  -- Linewise with an Ex range, public, with something that looks like an AWS key.
  vim.api.nvim_buf_set_lines(0, 1, 1, false, { 'AWS_KEY = "AKIAQWERTYUIOP1234ZX"' })
  h.messages = {}
  h.will_input("")
  h.will_select("^Public", "^Share anyway$")
  vim.cmd("1,2BBSnippet share")
  local again = h.wait_message("shared ")
  local refusal = h.prompts[#h.prompts]
  assert(
    refusal.prompt:find("retry.py line 2") and refusal.prompt:find("AWS"),
    "the finding names the file and line: " .. refusal.prompt
  )
  assert(again.message:find("public (visible to anyone", 1, true), again.message)
  local second = vim.fn.getreg('"'):match("/(%w+)$")
  assert(second ~= id, "a new snippet")
  local public_text = vim.base64.decode(h.ask("file", { workspace = ctx.workspace, id = second, path = "retry.py" }))
  h.equal('import time\nAWS_KEY = "AKIAQWERTYUIOP1234ZX"\n', public_text, "the two lines, with their newline")
end)
