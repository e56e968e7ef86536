-- Pull into a folder with one differing local file: reported per file; only that file is asked
-- about; "Cancel" keeps it, a second pull with "Overwrite" replaces it. Progress comes as LspProgress.
local h = require("helpers")

h.run(function()
  local ctx = h.context
  vim.g.bbsnippets = { workspace = ctx.workspace, poll_interval_seconds = 0 }
  local dir = ctx.dir
  local progress = {}
  vim.api.nvim_create_autocmd("LspProgress", {
    callback = function(args)
      table.insert(progress, args.data.params.value.kind)
    end,
  })

  h.will_select("^Cancel$")
  vim.cmd(("BBSnippet pull %s/%s %s"):format(ctx.workspace, ctx.id, vim.fn.fnameescape(dir)))
  local report = h.wait_message("pulled " .. ctx.workspace .. "/" .. ctx.id)
  h.wait_for("the question", function()
    return #h.prompts == 1
  end)
  assert(report.message:find("same%.txt: already up to date"), report.message)
  assert(report.message:find("new%.txt: written"), report.message)
  assert(report.message:find("local%.txt: kept"), report.message)
  local question = h.prompts[1]
  assert(question.prompt:find("^Overwrite 1 local file that differs%? local%.txt$"), question.prompt)
  h.wait_for("work-done progress through LspProgress", function()
    return vim.tbl_contains(progress, "end")
  end)
  h.equal("begin", progress[1], "the daemon's progress, as for any language server")
  h.equal({ "mine\n" }, { table.concat(vim.fn.readfile(dir .. "/local.txt"), "\n") .. "\n" }, "kept")

  h.messages = {}
  h.will_select("^Overwrite$")
  vim.cmd(("BBSnippet pull %s/%s %s"):format(ctx.workspace, ctx.id, vim.fn.fnameescape(dir)))
  h.wait_for("the second report", function()
    return #vim.tbl_filter(function(entry)
      return entry.message:find("pulled ")
    end, h.messages) == 2
  end)
  assert(h.messages[#h.messages].message:find("local%.txt: written"), h.messages[#h.messages].message)

  -- No folder named: a new folder named after the snippet's id inside the current directory; the
  -- current directory itself gets nothing. One GET of the snippet (its files come with it).
  local project = vim.fn.tempname()
  vim.fn.mkdir(project, "p")
  vim.fn.writefile({ "mine" }, project .. "/local.txt")
  vim.cmd.cd(vim.fn.fnameescape(project))
  h.messages = {}
  h.requests()
  local asked = #h.prompts
  vim.cmd(("BBSnippet pull %s/%s"):format(ctx.workspace, ctx.id))
  local into = vim.fs.joinpath(vim.fn.getcwd(), ctx.id)
  local third = h.wait_message("pulled ")
  assert(third.message:find("into " .. vim.pesc(into) .. ":"), third.message)
  h.equal({ "local.txt", "new.txt", "same.txt" }, vim.fn.sort(vim.fn.readdir(into)), "the snippet's files in ./ID")
  h.equal(
    vim.fn.sort({ ctx.id, "local.txt" }),
    vim.fn.sort(vim.fn.readdir(project)),
    "nothing else lands in the current folder"
  )
  h.equal({ "mine" }, vim.fn.readfile(project .. "/local.txt"), "the project's own file is untouched")
  h.equal(asked, #h.prompts, "nothing to ask: the new folder held nothing")
  local requests = h.requests()
  h.equal({ ("GET /2.0/snippets/%s/%s"):format(ctx.workspace, ctx.id) }, requests, "what reached Bitbucket")

  -- In a snippet buffer the snippet may be left out: the same default.
  h.messages = {}
  vim.cmd.edit(vim.fn.fnameescape(require("bbsnippets.uri").build(ctx.workspace, ctx.id, "new.txt")))
  vim.cmd("BBSnippet pull")
  local fourth = h.wait_message("pulled ")
  assert(fourth.message:find("into " .. vim.pesc(into) .. ":"), fourth.message)
  assert(fourth.message:find("new%.txt: already up to date"), fourth.message)
end)
