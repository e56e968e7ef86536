--- Patches: `:BBSnippet share-diff[!]` shares the repository's changes as a snippet with one
--- `.patch` file (bbsnippets.shareDiff; `!`: the staged ones), and `:BBSnippet apply` applies a
--- patch snippet to the current directory (bbsnippets.applyPatch): a dry run first into the
--- quickfix list, a confirm, then the real run, reported into the quickfix list again.

local client = require("bbsnippets.client")
local protocol = require("bbsnippets.protocol")
local ui = require("bbsnippets.ui")
local uri = require("bbsnippets.uri")

local M = {}

-- ----------------------------------------------------------------------------- share-diff

--- The folder to work in: the current file's folder when it is a file on disk, else the current
--- directory.
---@return string
local function here()
  local name = vim.api.nvim_buf_get_name(0)
  if name ~= "" and vim.bo.buftype == "" and not name:find("://", 1, true) then
    return vim.fs.dirname(vim.fs.normalize(vim.fn.fnamemodify(name, ":p")))
  end
  return vim.fs.normalize(vim.fn.getcwd())
end

--- Files git does not track yet (not ignored ones) under `folder`'s repository, for the question
--- whether to include them; empty outside a repository (the daemon then says so).
---@param folder string
---@return string[]
local function untracked(folder)
  local result = vim
    .system({ "git", "ls-files", "--others", "--exclude-standard", "--full-name", ":/" }, {
      cwd = folder,
      text = true,
    })
    :wait()
  if result.code ~= 0 then
    return {}
  end
  return vim.split(vim.trim(result.stdout or ""), "\n", { trimempty = true })
end

---@param result bbsnippets.ShareDiffResult
local function shared(result)
  local link = result.htmlUrl or result.uri
  local register = ui.copy_link(link)
  client.notify(
    ("shared the changes to %d file%s as %s, %s: %s (in the %s register)"):format(
      #result.files,
      #result.files == 1 and "" or "s",
      uri.ref(result.workspace, result.id),
      ui.visibility(result.isPrivate),
      link,
      register
    )
  )
  if #result.leftOut > 0 then
    local parts = vim.tbl_map(function(file)
      return ("%s (%s)"):format(file.name, file.reason)
    end, result.leftOut)
    client.notify("left out of the patch: " .. table.concat(parts, "; "), vim.log.levels.WARN)
  end
end

--- `:BBSnippet share-diff[!] [workspace]`: asks the title, whether to include untracked files (when
--- there are any, unstaged only), and who may see it (private first), then shares.
---@param staged boolean
---@param workspace? string
function M.share_diff(staged, workspace)
  local folder = here()
  vim.ui.input({ prompt = "Patch title (empty: named after the changes): " }, function(title)
    if title == nil then
      return -- cancelled
    end
    local function choose_visibility(include)
      local private, public = ui.VISIBILITY.private, ui.VISIBILITY.public
      vim.ui.select({ private, public }, {
        prompt = "Who may see the patch?",
        kind = "bbsnippets.visibility",
      }, function(choice)
        if not choice then
          return
        end
        ---@type bbsnippets.ShareDiffParams
        local params = {
          folder = folder,
          staged = staged or nil,
          includeUntracked = include or nil,
          workspace = workspace,
          title = title ~= "" and title or nil,
          isPrivate = choice == private,
        }
        ui.secret_checked(protocol.SHARE_DIFF, params, function(err, result)
          if not err then
            shared(result)
          end
        end)
      end)
    end
    local new = not staged and untracked(folder) or {}
    if #new == 0 then
      return choose_visibility(false)
    end
    vim.ui.select({ "Include them as new files", "Leave them out" }, {
      prompt = ("%d untracked file%s: %s"):format(#new, #new == 1 and "" or "s", table.concat(new, ", ")),
      kind = "bbsnippets.confirm",
    }, function(_, index)
      if index then
        choose_visibility(index == 1)
      end
    end)
  end)
end

-- ----------------------------------------------------------------------------- apply

local LABELS = {
  applied = "changed",
  created = "created",
  deleted = "deleted",
  failed = "failed",
  refused = "refused",
}

--- The quickfix list of a (dry) run: one entry per file, errors for failed and refused ones.
---@param title string
---@param result bbsnippets.ApplyPatchResult
---@param dry_run boolean
local function quickfix(title, result, dry_run)
  local items = {}
  for _, file in ipairs(result.files) do
    local bad = file.status == "failed" or file.status == "refused"
    local label = LABELS[file.status] or file.status
    if dry_run and not bad then
      label = "would be " .. label
    end
    table.insert(items, {
      filename = file.status ~= "refused" and file.path or nil,
      lnum = 1,
      text = ("%s: %s%s"):format(file.name or file.path, label, file.message and (" — " .. file.message) or ""),
      type = bad and "E" or "I",
      valid = file.status ~= "refused" and file.status ~= "deleted",
    })
  end
  vim.fn.setqflist({}, " ", { title = title, items = items })
end

---@param params bbsnippets.ApplyPatchParams
local function apply(params)
  local ref = uri.ref(params.workspace, params.id)
  local dry = vim.tbl_extend("force", params, { dryRun = true })
  client.command(protocol.APPLY_PATCH, dry, function(err, preview)
    if err then
      return
    end
    ---@cast preview bbsnippets.ApplyPatchResult
    quickfix(("Apply %s (dry run)"):format(ref), preview, true)
    if not preview.applied then
      vim.cmd("botright copen")
      return client.notify(
        ("the patch %s does not apply to %s: nothing was changed (:copen lists why)"):format(ref, params.folder),
        vim.log.levels.WARN
      )
    end
    local count = #preview.files
    ui.confirm(
      ("Apply %s to %s? It changes %d file%s (listed in the quickfix list)."):format(
        ref,
        params.folder,
        count,
        count == 1 and "" or "s"
      ),
      "Apply",
      function()
        client.command(protocol.APPLY_PATCH, params, function(apply_err, result)
          if apply_err then
            return
          end
          ---@cast result bbsnippets.ApplyPatchResult
          quickfix(("Applied %s"):format(ref), result, false)
          vim.cmd("silent! checktime") -- buffers of changed files follow the disk
          if result.applied then
            client.notify(
              ("applied %s to %s: %d file%s (:copen lists them)"):format(
                ref,
                params.folder,
                count,
                count == 1 and "" or "s"
              )
            )
          else
            vim.cmd("botright copen")
            client.notify(("the patch %s did not apply: nothing was changed"):format(ref), vim.log.levels.WARN)
          end
        end)
      end,
      function()
        client.notify("nothing was applied")
      end
    )
  end)
end

---@param name string
---@return boolean
local function is_patch(name)
  return name:match("%.patch$") ~= nil or name:match("%.diff$") ~= nil
end

--- `:BBSnippet apply [{workspace}/{id}[/{file}]]` (in a snippet buffer the snippet may be left out;
--- in a `.patch` file, that file): into the current directory. A snippet with several patch files
--- asks which.
---@param ref? string
function M.apply(ref)
  local folder = vim.fs.normalize(vim.fn.getcwd())
  local workspace, id, path
  if ref and ref ~= "" then
    workspace, id, path = ref:match("^([^/]+)/([^/]+)/(.+)$")
    if not workspace then
      workspace, id = uri.parse_ref(ref)
    end
    if not workspace then
      return client.notify(":BBSnippet apply takes WORKSPACE/ID[/FILE]", vim.log.levels.ERROR)
    end
  else
    local snippet = vim.b.bbsnippets
    if not (snippet and snippet.id) then
      return client.notify(
        ":BBSnippet apply takes WORKSPACE/ID[/FILE] (outside a snippet buffer)",
        vim.log.levels.ERROR
      )
    end
    workspace, id = snippet.workspace, snippet.id
    path = snippet.path and is_patch(snippet.path) and snippet.path or nil
  end
  ---@type bbsnippets.ApplyPatchParams
  local params = { workspace = workspace, id = id, folder = folder, path = path }
  if path then
    return apply(params)
  end
  -- The snippet's patch files (from the daemon's cache, which applyPatch then reads too).
  require("bbsnippets.files").file_names(workspace, id, function(names)
    if not names then
      return
    end
    local patches = vim.tbl_filter(is_patch, names)
    if #patches == 0 then
      return client.notify(
        ("%s has no .patch or .diff file: %s"):format(uri.ref(workspace, id), table.concat(names, ", ")),
        vim.log.levels.WARN
      )
    elseif #patches == 1 then
      return apply(vim.tbl_extend("force", params, { path = patches[1] }))
    end
    vim.ui.select(patches, { prompt = "Apply which patch?", kind = "bbsnippets.file" }, function(choice)
      if choice then
        apply(vim.tbl_extend("force", params, { path = choice }))
      end
    end)
  end)
end

return M
