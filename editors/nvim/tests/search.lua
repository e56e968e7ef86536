-- :BBSnippet search fills the quickfix list from the daemon's index (no request to Bitbucket), and
-- :cfirst / :cnext open the hits at their lines (one request for the snippet, then its cache). The
-- index budget (2: one list page, one content) leaves the older snippet's text unread, so the
-- search says the index is still filling. A hit's #L URI opens the file's own buffer at the line;
-- :BBSnippet insert {query} picks among the hits.
local h = require("helpers")

h.run(function()
  local ctx = h.context
  vim.g.bbsnippets = {
    workspace = ctx.workspace,
    poll_interval_seconds = 0,
    daemon_options = { indexing = true, indexBudgetPerHour = 2, indexRefreshSeconds = 3600 },
  }
  local uri = require("bbsnippets.uri")
  local readme = uri.build(ctx.workspace, ctx.id, "README.md")
  local deploy = uri.build(ctx.workspace, ctx.id, "deploy.sh")

  -- The daemon fills its index in the background: wait (through the Lua API) until the newer
  -- snippet's text is in it.
  local indexed = false
  for _ = 1, 200 do
    local answer
    require("bbsnippets").search("kubectl", function(result)
      answer = result
    end)
    h.wait_for("an answer", function()
      return answer
    end)
    if #answer.results == 3 then
      indexed = true
      break
    end
    vim.wait(50)
  end
  assert(indexed, "the index never held deploy.sh's text")
  h.requests() -- start counting here

  vim.cmd("BBSnippet search kubectl")
  h.wait_for("the quickfix list", function()
    return vim.fn.getqflist({ title = 1 }).title == "BBSnippet search: kubectl"
  end)
  local found = h.wait_message('3 hits for "kubectl" %(index still filling%)')
  h.equal(vim.log.levels.INFO, found.level, "the summary is information")
  local entries = vim.tbl_map(function(item)
    return { vim.fn.bufname(item.bufnr), item.lnum, item.text }
  end, vim.fn.getqflist())
  h.equal({
    { readme, 1, "Deploy with kubectl" }, -- the title hit first, at the snippet's first file
    { deploy, 3, "Deploy with kubectl · kubectl apply -f app.yaml" },
    { deploy, 5, "Deploy with kubectl · kubectl rollout status deploy/app" },
  }, entries, "the quickfix entries")
  h.equal("quickfix", vim.bo.buftype, "the quickfix window is open")
  assert(
    vim.api.nvim_get_current_line():find("^" .. vim.pesc(ctx.workspace .. "/" .. ctx.id .. "/README.md") .. "|1|"),
    vim.api.nvim_get_current_line()
  )
  h.equal({}, h.requests(), "searching asks Bitbucket nothing")

  -- :cfirst, :cnext open the hits through BufReadCmd, at their lines.
  vim.cmd("cfirst")
  h.equal(readme, vim.api.nvim_buf_get_name(0), ":cfirst opens the title hit")
  h.equal("acwrite", vim.bo.buftype, "a snippet file buffer")
  h.equal(1, vim.api.nvim_win_get_cursor(0)[1], "at line 1")
  vim.cmd("cnext")
  h.equal(deploy, vim.api.nvim_buf_get_name(0), ":cnext opens deploy.sh")
  h.equal(3, vim.api.nvim_win_get_cursor(0)[1], "at the hit's line")
  h.equal("kubectl apply -f app.yaml", vim.api.nvim_get_current_line(), "the line that matched")
  h.equal("sh", vim.bo.filetype, "its filetype")
  vim.cmd("cnext")
  h.equal(5, vim.api.nvim_win_get_cursor(0)[1], "the next hit's line")
  h.equal("kubectl rollout status deploy/app", vim.api.nvim_get_current_line(), "the line that matched")
  h.equal(
    { "GET /2.0/snippets/" .. ctx.workspace .. "/" .. ctx.id },
    h.requests(),
    "one request for the snippet, then its cache"
  )

  -- No hits: a message, and the quickfix list stays as it was.
  vim.cmd("BBSnippet search nowhere-to-be-found")
  local none = h.wait_message('no snippet matches "nowhere%-to%-be%-found"')
  h.equal(vim.log.levels.WARN, none.level, "no hits is a warning")
  h.equal("BBSnippet search: kubectl", vim.fn.getqflist({ title = 1 }).title, "the list is kept")
  h.equal(3, #vim.fn.getqflist(), "with its entries")

  -- A hit's own URI (with #L5) opens the file's buffer at that line: no second buffer for the file.
  local hit_uri = vim.fn.getqflist()[3].user_data.uri
  h.equal(deploy .. "#L5", hit_uri, "a content hit's URI points at its line")
  h.equal(
    { workspace = ctx.workspace, id = ctx.id, path = "deploy.sh", line = 5 },
    uri.parse(hit_uri),
    "the codec reads the line"
  )
  h.equal(hit_uri, uri.build(ctx.workspace, ctx.id, "deploy.sh", nil, 5), "and writes it")
  h.equal("a#L1.txt", uri.parse(uri.build("ws", "id", "a#L1.txt")).path, "a # in a name is %23, not a fragment")
  h.equal(nil, uri.parse(deploy .. "#top"), "the only fragment is #L{line}")
  local deploy_buf = vim.fn.bufnr(deploy)
  vim.cmd("cfirst")
  vim.cmd.edit(vim.fn.fnameescape(hit_uri))
  h.wait_for("the file's buffer at line 5", function()
    return vim.api.nvim_get_current_buf() == deploy_buf and vim.api.nvim_win_get_cursor(0)[1] == 5
  end)
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    assert(not vim.api.nvim_buf_get_name(buf):find("#L"), "a buffer named " .. vim.api.nvim_buf_get_name(buf))
  end
  h.equal(readme, vim.fn.bufname("#"), "CTRL-^ goes back to where :edit came from")

  -- :BBSnippet insert {query} picks a hit: a file hit goes straight in, a title hit asks the file.
  vim.cmd("enew")
  vim.api.nvim_buf_set_lines(0, 0, -1, false, { "top", "bottom" })
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  h.will_select("deploy%.sh:3")
  vim.cmd("BBSnippet insert kubectl")
  h.wait_message("inserted " .. vim.pesc(ctx.workspace .. "/" .. ctx.id) .. "/deploy%.sh")
  h.equal("top\n" .. ctx.deploy .. "bottom", h.text(0), "deploy.sh below the cursor line")
  local picked = h.prompts[#h.prompts]
  h.equal(2, #picked.items, "one item for the title hit, one for the file (its two lines are one)")
  assert(picked.items[1]:find("%(pick a file%)"), picked.items[1])
  vim.cmd("normal! u")
  h.equal("top\nbottom", h.text(0), "u undoes the insert")
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  h.will_select("pick a file", "^README%.md$")
  vim.cmd("BBSnippet insert! kubectl")
  h.wait_message("inserted " .. vim.pesc(ctx.workspace .. "/" .. ctx.id) .. "/README%.md")
  h.equal("Run deploy.sh\ntop\nbottom", h.text(0), "README.md above the cursor line")
  h.equal({}, h.requests(), "inserting a cached snippet's file asks Bitbucket nothing")
end)
