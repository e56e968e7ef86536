--- The round trip with a folder: link (bbsnippets.link), status (bbsnippets.status, shown in a
--- scratch buffer whose `d` opens a `:diffsplit` against the snippet's version at the linked
--- revision) and push (bbsnippets.push: one compare-and-swap PUT; a conflict asks as a save does:
--- compare, overwrite, or cancel). Which folder: the deepest link holding the current file, else the
--- current directory (bbsnippets.links, which makes no request).

local client = require("bbsnippets.client")
local protocol = require("bbsnippets.protocol")
local ui = require("bbsnippets.ui")
local uri = require("bbsnippets.uri")

local M = {}

local STATUS_FILETYPE = "bbsnippets-status"

---@class bbsnippets.StatusView
---@field folder string
---@field status bbsnippets.StatusResult
---@field by_line table<integer, bbsnippets.TrackedFile>

--- The status buffers' contents, by buffer number.
---@type table<integer, bbsnippets.StatusView>
M.views = {}

--- What each state looks like in the status buffer.
---@type table<bbsnippets.FileState, string>
local MARKS = { modified = "M", deleted = "D", unchanged = " " }

--- An absolute, normalized path without a trailing slash.
---@param path string
---@return string
local function absolute(path)
  local full = vim.fs.normalize(vim.fn.fnamemodify(vim.fn.expand(path), ":p"))
  return (full:gsub("(.)/$", "%1"))
end

--- Where "here" is: the current buffer's file when it is one on disk, else the current directory.
---@return string
local function here()
  local name = vim.api.nvim_buf_get_name(0)
  if name ~= "" and vim.bo.buftype == "" and not name:find("://", 1, true) then
    return absolute(name)
  end
  return absolute(vim.fn.getcwd())
end

--- Whether `path` is `folder` or inside it.
---@param path string
---@param folder string
---@return boolean
local function within(path, folder)
  return path == folder or vim.startswith(path, folder == "/" and "/" or folder .. "/")
end

--- The linked folder (or file) that `path` is in: the deepest link holding it, else `path` itself
--- (whose status then says how to link it). `on_found(nil)` after a reported failure.
---@param path string
---@param on_found fun(folder: string?)
function M.linked_folder(path, on_found)
  client.command(protocol.LINKS, vim.empty_dict(), function(err, result)
    if err then
      return on_found(nil)
    end
    ---@cast result bbsnippets.LinksResult
    local best
    for _, link in ipairs(result.links) do
      if within(path, link.folder) and (not best or #link.folder > #best) then
        best = link.folder
      end
    end
    on_found(best or path)
  end)
end

-- ----------------------------------------------------------------------------- status

---@param status bbsnippets.StatusResult
---@param folder string
---@return string[] lines
---@return table<integer, bbsnippets.TrackedFile> by_line
local function status_lines(status, folder)
  local lines = {
    ("%s linked to %s at %s"):format(
      status.folder or folder,
      uri.ref(status.workspace, status.id),
      status.revision:sub(1, 12)
    ),
  }
  if status.remoteRevision then
    table.insert(
      lines,
      ("The snippet moved to %s since: a push asks first (compare, or overwrite)."):format(
        status.remoteRevision:sub(1, 12)
      )
    )
  end
  table.insert(lines, "<CR> open  d diff with the snippet  P push  R refresh  q close")
  table.insert(lines, "")
  local by_line = {}
  local changed = 0
  for _, file in ipairs(status.files) do
    table.insert(lines, ("%s %-9s %s"):format(MARKS[file.state] or "?", file.state, file.name))
    by_line[#lines] = file
    if file.state ~= "unchanged" then
      changed = changed + 1
    end
  end
  if #status.files == 0 then
    table.insert(lines, "(no tracked files)")
  end
  table.insert(lines, "")
  table.insert(
    lines,
    changed == 0 and "Nothing to push."
      or ("%d file%s to push (:BBSnippet push)."):format(changed, changed == 1 and "" or "s")
  )
  return lines, by_line
end

--- The status buffer of `folder` (one per folder, reused), filled with `status`; shown and focused
--- unless `refresh_only` (then only its text changes, wherever the cursor is).
---@param folder string
---@param status bbsnippets.StatusResult
---@param refresh_only? boolean
local function show_status(folder, status, refresh_only)
  local name = "bbsnippets-status://" .. folder
  local buf = vim.fn.bufnr(name)
  if buf == -1 then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, name)
    vim.bo[buf].bufhidden = "hide"
  end
  local lines, by_line = status_lines(status, folder)
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable, vim.bo[buf].modified = false, false
  vim.bo[buf].filetype = STATUS_FILETYPE
  M.views[buf] = { folder = folder, status = status, by_line = by_line }

  local function file_here()
    local view = M.views[buf]
    return view and view.by_line[vim.api.nvim_win_get_cursor(0)[1]]
  end
  local function map(lhs, rhs, desc)
    vim.keymap.set("n", lhs, function()
      client.guard(rhs)
    end, { buffer = buf, desc = "bbsnippets: " .. desc, nowait = true })
  end
  map("<CR>", function()
    local file = file_here()
    if file then
      vim.cmd("wincmd p")
      vim.cmd.edit(vim.fn.fnameescape(file.path))
    end
  end, "open the file")
  map("d", function()
    local file = file_here()
    if file then
      M.diff(M.views[buf].status, file)
    end
  end, "diff with the snippet's version at the linked revision")
  map("P", function()
    M.push(folder, {})
  end, "push")
  map("R", function()
    M.status(folder)
  end, "refresh")
  map("q", "<Cmd>close<CR>", "close")

  if refresh_only then
    return
  end
  local win = vim.fn.bufwinid(buf)
  if win == -1 then
    vim.cmd("botright split")
    vim.api.nvim_win_set_buf(0, buf)
    vim.api.nvim_win_set_height(0, math.min(#lines + 1, 15))
  else
    vim.api.nvim_set_current_win(win)
  end
end

--- `:diffsplit` of a tracked file against the snippet's version of it at revision `revision`
--- (default: the linked one), in a new tab: the local file (or nothing, when it was deleted) on the
--- right, the snippet's version (read-only) on the left.
---@param status bbsnippets.StatusResult
---@param file bbsnippets.TrackedFile
---@param revision? string
function M.diff(status, file, revision)
  local remote = uri.build(status.workspace, status.id, file.name, revision or status.revision)
  if file.state == "deleted" then
    vim.cmd.tabedit(vim.fn.fnameescape(remote))
    client.notify(("%s is deleted here; this is the snippet's version"):format(file.name))
    return
  end
  vim.cmd.tabedit(vim.fn.fnameescape(file.path))
  vim.cmd("leftabove vertical diffsplit " .. vim.fn.fnameescape(remote))
  vim.cmd.wincmd("p") -- back to the local file
end

--- `:BBSnippet status [path]`: the tracked files of the linked folder holding `path` (default: the
--- current file, else the current directory), with their state, in a scratch buffer.
---@param path? string
function M.status(path)
  local function show(folder)
    client.command(protocol.STATUS, { folder = folder }, function(err, result)
      if not err then
        show_status(folder, result)
      end
    end)
  end
  local view = M.views[vim.api.nvim_get_current_buf()]
  if path and view and path == view.folder then
    return show(path) -- a refresh: the folder is known
  end
  M.linked_folder(path and absolute(path) or here(), function(folder)
    if folder then
      show(folder)
    end
  end)
end

-- ----------------------------------------------------------------------------- link

--- `:BBSnippet link {workspace}/{id} [path]`: ties `path` (default: the current directory; `%`: this
--- file) to the snippet at its HEAD.
---@param args string[]
function M.link(args)
  local workspace, id = uri.parse_ref(args[1] or "")
  if not workspace then
    client.notify(
      ":BBSnippet link takes WORKSPACE/ID [PATH] (default: the current directory; % for this file)",
      vim.log.levels.ERROR
    )
    return
  end
  M.link_path(args[2] and absolute(args[2]) or absolute(vim.fn.getcwd()), workspace, id)
end

--- Links `path` (a folder or one file, absolute) to `workspace/id` and says what it tracks.
---@param path string
---@param workspace string
---@param id string
---@param on_done? fun(status: bbsnippets.StatusResult?)
function M.link_path(path, workspace, id, on_done)
  ---@type bbsnippets.LinkParams
  local params = { folder = path, workspace = workspace, id = id }
  client.command(protocol.LINK, params, function(err, result)
    if err then
      return on_done and on_done(nil)
    end
    ---@cast result bbsnippets.StatusResult
    local changed = #vim.tbl_filter(function(file)
      return file.state ~= "unchanged"
    end, result.files)
    client.notify(
      ("linked %s to %s at %s: %d tracked file%s, %d to push; :BBSnippet status lists them"):format(
        path,
        uri.ref(workspace, id),
        result.revision:sub(1, 12),
        #result.files,
        #result.files == 1 and "" or "s",
        changed
      )
    )
    if on_done then
      on_done(result)
    end
  end)
end

-- ----------------------------------------------------------------------------- push

--- Re-reads the open, unmodified buffers of the pushed files (the daemon tells no didChange for a
--- push: the client that asked knows what changed).
---@param workspace string
---@param id string
local function reload_open(workspace, id)
  local files = require("bbsnippets.files")
  for _, buf in ipairs(files.buffers_of(workspace, id)) do
    if not vim.bo[buf].modified then
      files.reload(buf)
    end
  end
end

--- The snippet moved since the link: compare (each changed file in a tab, diffed against the
--- snippet's version now), overwrite (force), or cancel. Local files stay as they are.
---@param folder string
---@param add string[]
---@param err bbsnippets.Error
local function resolve_conflict(folder, add, err)
  local remote = err.data and err.data.remoteRevision
  local choices = { "Compare with the version on Bitbucket", "Overwrite it with mine", "Cancel" }
  vim.ui.select(choices, {
    prompt = ("The snippet changed on Bitbucket since %s was linked; your files are kept. Push how?"):format(folder),
    kind = "bbsnippets.conflict",
  }, function(_, index)
    if index == 2 then
      return M.push(folder, add, { force = true })
    elseif index ~= 1 then
      return client.notify(
        "nothing was pushed; your files are as they were. :BBSnippet push! overwrites the snippet.",
        vim.log.levels.WARN
      )
    end
    client.command(protocol.STATUS, { folder = folder }, function(status_err, status)
      if status_err then
        return
      end
      ---@cast status bbsnippets.StatusResult
      local shown = 0
      for _, file in ipairs(status.files) do
        if file.state ~= "unchanged" then
          M.diff(status, file, remote or status.remoteRevision)
          shown = shown + 1
        end
      end
      client.notify(
        ("%d tab%s show%s your file beside the version on Bitbucket (read-only). Take its changes with do "):format(
          shown,
          shown == 1 and "" or "s",
          shown == 1 and "s" or ""
        ) .. "(:h copy-diffs), :w, then :BBSnippet push! to overwrite the snippet with yours."
      )
    end)
  end)
end

---@param result bbsnippets.PushResult
---@param ref string
local function report(result, ref)
  if #result.files == 0 then
    return client.notify(("nothing to push: every tracked file is as %s holds it"):format(ref))
  end
  local parts = vim.tbl_map(function(file)
    return ("%s %s"):format(file.name, file.status)
  end, result.files)
  client.notify(("pushed to %s (revision %s): %s"):format(ref, result.revision:sub(1, 12), table.concat(parts, ", ")))
end

--- Pushes the linked folder `folder`: every modified and deleted tracked file plus `add` (names
--- relative to it), in one compare-and-swap PUT.
---@param folder string
---@param add string[]
---@param opts? {force?: boolean}
---@param on_done? fun(result: bbsnippets.PushResult?)
function M.push(folder, add, opts)
  opts = opts or {}
  ---@type bbsnippets.PushParams
  local params = { folder = folder, add = #add > 0 and add or nil, force = opts.force or nil }
  ui.secret_checked(protocol.PUSH, params, function(err, result)
    if err then
      if err.kind == protocol.ErrorKind.CONFLICT then
        resolve_conflict(folder, add, err)
      end
      return
    end
    ---@cast result bbsnippets.PushResult
    client.command(protocol.LINKS, { under = folder }, function(links_err, links)
      local ref = folder
      for _, link in ipairs(not links_err and links.links or {}) do
        if link.folder == folder then
          ref = uri.ref(link.workspace, link.id)
          reload_open(link.workspace, link.id)
        end
      end
      report(result, ref)
      local status_buf = vim.fn.bufnr("bbsnippets-status://" .. folder)
      if #result.files > 0 and status_buf ~= -1 and vim.fn.bufwinid(status_buf) ~= -1 then
        client.command(protocol.STATUS, { folder = folder }, function(status_err, status)
          if not status_err then
            show_status(folder, status, true)
          end
        end)
      end
    end)
  end, { protocol.ErrorKind.CONFLICT })
end

--- `:BBSnippet push[!] [add {file}…]`: the linked folder holding the current file (or the current
--- directory); `add` names files the snippet does not have yet (relative to the current directory);
--- `!` overwrites the snippet even when it moved since the link.
---@param args string[]
---@param force boolean
function M.command(args, force)
  local names = {}
  if args[1] then
    if args[1] ~= "add" or not args[2] then
      client.notify(":BBSnippet push takes add FILE… (files the snippet does not have yet)", vim.log.levels.ERROR)
      return
    end
    names = vim.list_slice(args, 2)
  end
  M.linked_folder(here(), function(folder)
    if not folder then
      return
    end
    local add = {}
    for _, name in ipairs(names) do
      local path = absolute(name)
      if not within(path, folder) or path == folder then
        client.notify(("%s is not inside the linked folder %s"):format(name, folder), vim.log.levels.ERROR)
        return
      end
      table.insert(add, path:sub(#folder + 2))
    end
    M.push(folder, add, { force = force })
  end)
end

return M
