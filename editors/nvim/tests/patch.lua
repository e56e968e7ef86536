-- Share the changes of a real git repository as patch snippets (staged with !, then the unstaged
-- ones with an untracked file included), private by default; apply each to a clean copy: a dry run
-- into the quickfix list, a confirm, then the files (the pytest side compares the trees). Applying
-- again is stale: nothing changes, and the quickfix list says why.
local h = require("helpers")

---@param pattern string
---@return integer
local function count(requests, pattern)
  return #vim.tbl_filter(function(request)
    return request:find(pattern) ~= nil
  end, requests)
end

---@return string[] the quickfix list's texts
local function quickfix_texts()
  return vim.tbl_map(function(item)
    return item.text
  end, vim.fn.getqflist())
end

h.run(function()
  local ctx = h.context
  vim.g.bbsnippets = { workspace = ctx.workspace, poll_interval_seconds = 0 }
  vim.cmd.cd(vim.fn.fnameescape(ctx.repo))
  h.requests()

  -- Staged (!): only staged.txt; no question about untracked files.
  local started = vim.uv.hrtime()
  h.will_input("the staged change")
  h.will_select("^Private")
  vim.cmd("BBSnippet share-diff!")
  local staged = h.wait_message("shared the changes to ")
  io.stderr:write(("[timing] share-diff!: %.0f ms\n"):format((vim.uv.hrtime() - started) / 1e6))
  assert(staged.message:find("to 1 file as"), staged.message)
  assert(staged.message:find("private (visible to the workspace's members)", 1, true), staged.message)
  h.equal({
    "Private: visible to the workspace's members",
    "Public: visible to anyone, also signed out",
  }, h.prompts[#h.prompts].items, "private first, saying who sees it")
  h.equal(2, #h.prompts, "title and visibility only")
  local staged_id = staged.message:match(" as [^/ ]+/(%w+),")
  assert(staged_id, staged.message)
  h.equal({ "POST /2.0/snippets/" .. ctx.workspace }, h.requests(), "one POST")
  local patch = vim.base64.decode(h.ask("file", { workspace = ctx.workspace, id = staged_id, path = "repo.patch" }))
  assert(patch:find("diff --git a/staged.txt b/staged.txt", 1, true), patch)
  assert(not patch:find("app.py", 1, true), "only the staged change: " .. patch)

  -- Unstaged, with the untracked file included.
  h.messages = {}
  h.will_input("")
  h.will_select("^Include", "^Private")
  vim.cmd("BBSnippet share-diff")
  local unstaged = h.wait_message("shared the changes to ")
  assert(unstaged.message:find("to 3 files as"), unstaged.message)
  local untracked = h.prompts[#h.prompts - 1]
  assert(untracked.prompt:find("1 untracked file: fresh%.txt"), untracked.prompt)
  local unstaged_id = unstaged.message:match(" as [^/ ]+/(%w+),")
  h.equal(1, count(h.requests(), "^POST "), "one POST")

  -- Apply both to the clean copy: dry run, confirm, apply; reported into the quickfix list.
  vim.cmd.cd(vim.fn.fnameescape(ctx.clean))
  h.will_select("^Apply$")
  vim.cmd(("BBSnippet apply %s/%s"):format(ctx.workspace, staged_id))
  h.wait_message("applied ")
  h.equal({ "staged.txt: changed" }, quickfix_texts(), "the quickfix list after applying")

  h.messages = {}
  h.requests()
  started = vim.uv.hrtime()
  h.will_select("^Apply$")
  vim.cmd(("BBSnippet apply %s/%s"):format(ctx.workspace, unstaged_id))
  local applied = h.wait_message("applied ")
  io.stderr:write(("[timing] apply (dry run + apply): %.0f ms\n"):format((vim.uv.hrtime() - started) / 1e6))
  assert(applied.message:find("3 files"), applied.message)
  local confirm = h.prompts[#h.prompts]
  assert(confirm.prompt:find("It changes 3 files"), confirm.prompt)
  h.equal(
    { "fresh.txt: created", "gone.txt: deleted", "src/app.py: changed" },
    vim.fn.sort(quickfix_texts()),
    "one quickfix entry per file"
  )
  local items = vim.fn.getqflist()
  for _, item in ipairs(items) do
    if item.text:find("app%.py") then
      h.equal(ctx.clean .. "/src/app.py", vim.api.nvim_buf_get_name(item.bufnr), "the entry opens the file")
    end
  end
  local apply_requests = h.requests()
  assert(count(apply_requests, "^GET ") <= 1 and #apply_requests <= 1, vim.inspect(apply_requests))

  -- Stale: applying again fails at the dry run; nothing is asked and nothing changes.
  h.messages = {}
  local asked = #h.prompts
  vim.cmd(("BBSnippet apply %s/%s"):format(ctx.workspace, unstaged_id))
  local stale = h.wait_message("does not apply")
  h.equal(vim.log.levels.WARN, stale.level, "a warning")
  h.equal(asked, #h.prompts, "nothing to confirm")
  local errors = vim.tbl_filter(function(item)
    return item.type == "E"
  end, vim.fn.getqflist())
  assert(#errors >= 1, "the failing files are errors: " .. vim.inspect(quickfix_texts()))
end)
