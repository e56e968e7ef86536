-- A binary file opens read-only with a message, holds the exact bytes, and is never saved over.
local h = require("helpers")

h.run(function()
  local ctx = h.context
  vim.g.bbsnippets = { workspace = ctx.workspace, poll_interval_seconds = 0 }
  local uri = require("bbsnippets.uri")
  h.open_snippet(ctx.workspace, ctx.id, 2)
  local bin = vim.fn.bufnr(uri.build(ctx.workspace, ctx.id, "all-bytes.bin"))
  local message = h.wait_message("all%-bytes%.bin is a binary file %(256 bytes%)")
  assert(message.message:find("read%-only"), message.message)
  assert(vim.bo[bin].readonly and not vim.bo[bin].modifiable and vim.bo[bin].binary, "read-only, binary")

  -- The buffer holds the bytes.
  local bytes = table.concat(vim.api.nvim_buf_get_lines(bin, 0, -1, false), "\n")
  local expected = {}
  for byte = 0, 255 do
    expected[#expected + 1] = string.char(byte)
  end
  h.equal(table.concat(expected), bytes, "the 256 bytes")

  vim.cmd.buffer(bin)
  h.messages = {}
  h.requests()
  vim.cmd("write!")
  h.wait_message("binary file and read%-only here")
  h.equal({}, h.requests(), "nothing sent")

  local text = vim.fn.bufnr(uri.build(ctx.workspace, ctx.id, "notes.txt"))
  assert(not vim.bo[text].readonly and vim.bo[text].modifiable, "the text file beside it is editable")
end)
