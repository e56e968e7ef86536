-- A pulled folder is linked: edit, delete and add files; :BBSnippet status lists the tracked ones
-- with their state and `d` diffs one against the snippet's version at the linked revision; push
-- sends exactly one PUT (nothing untracked swept in), a second push sends nothing; a conflict with
-- another writer asks as a save does (compare, then overwrite). Sharing a whole file offers to keep
-- it linked, and a push then updates that snippet.
local h = require("helpers")

---@param pattern string
---@return integer
local function count(requests, pattern)
  return #vim.tbl_filter(function(request)
    return request:find(pattern) ~= nil
  end, requests)
end

h.run(function()
  local ctx = h.context
  vim.g.bbsnippets = { workspace = ctx.workspace, poll_interval_seconds = 0 }
  local uri = require("bbsnippets.uri")
  local ref = ctx.workspace .. "/" .. ctx.id
  local snippet_path = "/2.0/snippets/" .. ctx.workspace .. "/" .. ctx.id

  vim.cmd(("BBSnippet pull %s %s"):format(ref, vim.fn.fnameescape(ctx.dir)))
  h.wait_message("pulled " .. ref)
  vim.cmd.cd(vim.fn.fnameescape(ctx.dir))
  vim.fn.writefile({ "alpha, mine" }, "a.txt")
  vim.fn.delete("b.txt")
  vim.fn.writefile({ "new" }, "new.txt")
  vim.fn.writefile({ "not for the snippet" }, "extra.txt")
  h.requests()

  -- Status: the tracked files with their state; untracked ones are not listed.
  local started = vim.uv.hrtime()
  vim.cmd("BBSnippet status")
  h.wait_for("the status buffer", function()
    return vim.bo.filetype == "bbsnippets-status"
  end)
  io.stderr:write(("[timing] status: %.0f ms\n"):format((vim.uv.hrtime() - started) / 1e6))
  local status_buf = vim.api.nvim_get_current_buf()
  local lines = vim.api.nvim_buf_get_lines(status_buf, 0, -1, false)
  local text = table.concat(lines, "\n")
  assert(text:find(vim.pesc(ctx.dir) .. " linked to " .. vim.pesc(ref)), text)
  assert(text:find("M modified  a%.txt"), text)
  assert(text:find("D deleted   b%.txt"), text)
  assert(text:find("  unchanged c%.txt"), text)
  assert(not text:find("extra%.txt") and not text:find("new%.txt"), "untracked files are not listed: " .. text)
  assert(text:find("2 files to push"), text)
  local status_requests = h.requests()
  assert(#status_requests <= 1, "status costs at most one request: " .. vim.inspect(status_requests))

  -- `d` on a.txt: a tab with the local file beside the snippet's version at the linked revision.
  local linked = require("bbsnippets.push").views[status_buf].status.revision
  for number, line in ipairs(lines) do
    if line:find("a%.txt$") then
      vim.api.nvim_win_set_cursor(0, { number, 0 })
    end
  end
  local tabs = #vim.api.nvim_list_tabpages()
  vim.api.nvim_feedkeys("d", "x", false)
  h.wait_for("the diff tab", function()
    return #vim.api.nvim_list_tabpages() == tabs + 1 and #vim.api.nvim_tabpage_list_wins(0) == 2
  end)
  local remote_buf
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    assert(vim.wo[win].diff, "both windows in diff mode")
    if vim.api.nvim_win_get_buf(win) ~= vim.api.nvim_get_current_buf() then
      remote_buf = vim.api.nvim_win_get_buf(win)
    end
  end
  h.equal(ctx.dir .. "/a.txt", vim.api.nvim_buf_get_name(0), "the cursor in the local file")
  h.equal(uri.build(ctx.workspace, ctx.id, "a.txt", linked), vim.api.nvim_buf_get_name(remote_buf), "at the link")
  h.equal("alpha", h.text(remote_buf), "the snippet's version")
  assert(vim.bo[remote_buf].readonly, "read-only")
  vim.cmd("tabclose")

  -- Push: exactly one compare-and-swap PUT; extra.txt stays out, new.txt goes in because it was named.
  h.requests()
  started = vim.uv.hrtime()
  vim.cmd("BBSnippet push add new.txt")
  local pushed = h.wait_message("pushed to " .. vim.pesc(ref))
  io.stderr:write(("[timing] push: %.0f ms\n"):format((vim.uv.hrtime() - started) / 1e6))
  assert(pushed.message:find("a%.txt sent") and pushed.message:find("b%.txt deleted"), pushed.message)
  assert(pushed.message:find("new%.txt sent") and not pushed.message:find("extra"), pushed.message)
  h.wait_for("the status buffer refreshed", function()
    return table.concat(vim.api.nvim_buf_get_lines(status_buf, 0, -1, false), "\n"):find("Nothing to push")
  end)
  local push_requests = h.requests()
  h.equal(1, count(push_requests, "^PUT "), "one PUT: " .. vim.inspect(push_requests))
  assert(push_requests[1]:find("^PUT " .. vim.pesc(snippet_path) .. "/" .. linked), "at the linked revision")
  h.equal({ "GET " .. snippet_path }, vim.list_slice(push_requests, 2), "besides, only the refreshed status's one read")

  -- Nothing to send: nothing sent.
  h.messages = {}
  vim.cmd("BBSnippet push")
  h.wait_message("nothing to push")
  h.equal({}, h.requests(), "a no-op push makes no request")

  -- Another writer changes c.txt; the next push conflicts and asks as a save does.
  h.ask("write", { workspace = ctx.workspace, id = ctx.id, path = "c.txt", text = "charlie, theirs\n" })
  vim.fn.writefile({ "alpha, mine again" }, "a.txt")
  h.will_select("^Compare")
  tabs = #vim.api.nvim_list_tabpages()
  vim.cmd("BBSnippet push")
  h.wait_message("beside the version on Bitbucket")
  local question = h.prompts[#h.prompts]
  assert(question.prompt:find("changed on Bitbucket since"), question.prompt)
  h.equal(
    { "Compare with the version on Bitbucket", "Overwrite it with mine", "Cancel" },
    question.items,
    "the same choices as a save"
  )
  h.equal(tabs + 1, #vim.api.nvim_list_tabpages(), "one tab: a.txt, the one changed file")
  h.equal({ "alpha, mine again" }, vim.fn.readfile(ctx.dir .. "/a.txt"), "local files untouched")
  vim.cmd("tabclose")

  h.messages = {}
  h.will_select("^Overwrite")
  vim.cmd("BBSnippet push")
  local forced = h.wait_message("pushed to ")
  assert(forced.message:find("a%.txt sent"), forced.message)

  -- :BBSnippet link ties another folder to the same snippet at HEAD (no request: HEAD is cached).
  local other = vim.fn.tempname()
  vim.fn.mkdir(other, "p")
  vim.fn.writefile({ "alpha, mine again" }, other .. "/a.txt")
  vim.fn.writefile({ "charlie, changed here" }, other .. "/c.txt")
  h.messages = {}
  h.requests()
  vim.cmd(("BBSnippet link %s %s"):format(ref, vim.fn.fnameescape(other)))
  local linked_other = h.wait_message("^bbsnippets: linked ")
  assert(linked_other.message:find("2 tracked files, 1 to push"), linked_other.message)
  assert(#h.requests() <= 1, "linking reads HEAD at most once")

  -- Share a whole file, keep it linked, change it, push it.
  vim.fn.writefile({ "# Notes" }, ctx.single)
  vim.cmd.edit(vim.fn.fnameescape(ctx.single))
  h.messages = {}
  h.will_input("notes")
  h.will_select("^Private", "^Keep it linked$")
  vim.cmd("BBSnippet share")
  h.wait_message("linked " .. vim.pesc(ctx.single) .. " to ")
  local offer = h.prompts[#h.prompts]
  assert(offer.prompt:find("^Keep .*notes%.md linked to "), offer.prompt)
  vim.api.nvim_buf_set_lines(0, -1, -1, false, { "", "linked and pushed" })
  vim.cmd("write")
  h.requests()
  h.messages = {}
  vim.cmd("BBSnippet push")
  local single = h.wait_message("pushed to ")
  assert(single.message:find("notes%.md sent"), single.message)
  local single_requests = h.requests()
  h.equal(1, #single_requests, "one request: " .. vim.inspect(single_requests))
  h.equal(1, count(single_requests, "^PUT "), "a PUT")
end)
