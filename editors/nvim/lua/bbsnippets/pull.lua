--- Pull: a snippet's files into a folder (default: a new folder named after the snippet's id in the
--- current directory) through
--- bbsnippets.pull, reported per file; only local files that differ ("exists") are asked about
--- before they are overwritten, with one more pull.

local client = require("bbsnippets.client")
local protocol = require("bbsnippets.protocol")
local ui = require("bbsnippets.ui")
local uri = require("bbsnippets.uri")

local M = {}

--- The per-file report; from `files` when the daemon gives it, else from the older lists.
---@param result bbsnippets.PullResult
---@return bbsnippets.PullFile[]
local function per_file(result)
  if result.files then
    return result.files
  end
  local report = {}
  for _, path in ipairs(result.written or {}) do
    table.insert(report, { name = vim.fs.basename(path), path = path, status = "written" })
  end
  for _, path in ipairs(result.unchanged or {}) do
    table.insert(report, { name = vim.fs.basename(path), path = path, status = "unchanged" })
  end
  for _, name in ipairs(result.skipped or {}) do
    local reason = (result.reasons or {})[name] or ""
    local exists = not reason:lower():find("unsafe")
    table.insert(report, {
      name = name,
      status = exists and "kept" or "refused",
      kind = exists and "exists" or "unsafePath",
      message = reason,
    })
  end
  return report
end

local LABELS = {
  written = "written",
  unchanged = "already up to date",
  kept = "kept (your local file differs)",
  refused = "refused",
  failed = "failed",
}

---@param ref string
---@param dir string
---@param report bbsnippets.PullFile[]
local function show(ref, dir, report)
  local lines = { ("pulled %s into %s:"):format(ref, dir) }
  local worst = vim.log.levels.INFO
  for _, file in ipairs(report) do
    local line = ("  %s: %s"):format(file.name, LABELS[file.status] or file.status)
    if file.message and file.status ~= "kept" then
      line = line .. " — " .. file.message
    end
    if file.status == "failed" or file.status == "refused" then
      worst = vim.log.levels.WARN
    end
    table.insert(lines, line)
  end
  client.notify(table.concat(lines, "\n"), worst)
end

---@param params bbsnippets.PullParams
---@param on_done? fun(report: bbsnippets.PullFile[])
local function pull(params, on_done)
  local ref = uri.ref(params.workspace, params.id)
  client.command(protocol.PULL, params, function(err, result)
    if err then
      return
    end
    ---@cast result bbsnippets.PullResult
    local report = per_file(result)
    show(ref, result.targetDir or params.targetDir, report)
    local differing = vim.tbl_filter(function(file)
      return file.kind == "exists"
    end, report)
    if #differing == 0 or params.overwrite then
      return on_done and on_done(report)
    end
    local names = vim.tbl_map(function(file)
      return file.name
    end, differing)
    ui.confirm(
      ("Overwrite %d local file%s that differ%s? %s"):format(
        #names,
        #names == 1 and "" or "s",
        #names == 1 and "s" or "",
        table.concat(names, ", ")
      ),
      "Overwrite",
      function()
        pull(vim.tbl_extend("force", params, { overwrite = true }), on_done)
      end,
      function()
        if on_done then
          on_done(report)
        end
      end
    )
  end)
end

--- `:BBSnippet pull [{ws}/{id}] [dir]` (in a snippet buffer the snippet may be left out).
---@param args string[]
---@param on_done? fun(report: bbsnippets.PullFile[])
function M.command(args, on_done)
  local workspace, id = uri.parse_ref(args[1] or "")
  local dir = args[2]
  if not workspace then
    local snippet = vim.b.bbsnippets
    if not (snippet and snippet.id) then
      client.notify(":BBSnippet pull takes WORKSPACE/ID [DIR] (outside a snippet buffer)", vim.log.levels.ERROR)
      return
    end
    workspace, id, dir = snippet.workspace, snippet.id, args[1]
  end
  -- A folder the user names is the exact target; with none, the daemon's one default for every tool:
  -- a new folder named after the snippet's id inside the base folder (here the current directory),
  -- so nothing lands loose in a project.
  if dir then
    local target = vim.fs.normalize(vim.fn.fnamemodify(vim.fn.expand(dir), ":p")):gsub("(.)/$", "%1")
    pull({ workspace = workspace, id = id, targetDir = target }, on_done)
  else
    pull({ workspace = workspace, id = id, baseDir = vim.fn.getcwd() }, on_done)
  end
end

return M
