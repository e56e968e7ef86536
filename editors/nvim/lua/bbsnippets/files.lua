--- bbsnippet:// buffers: BufReadCmd, FileReadCmd and BufWriteCmd over the daemon's file system
--- (bbsnippets/readFile, writeFile, rename, delete), and the conflict flow.
---
--- A file buffer is `buftype=acwrite`; its filetype comes from the file name. `b:bbsnippets`
--- holds what the buffer is: { workspace, id, path, revision (nil at HEAD), readRevision,
--- binary, new, stale, failed }. Reads are served from the daemon's cache (opening a snippet
--- fills it in one request), so loading and switching buffers costs Bitbucket nothing; a save is
--- one compare-and-swap PUT, and 'modified' is cleared only once the daemon confirmed it.

local client = require("bbsnippets.client")
local protocol = require("bbsnippets.protocol")
local ui = require("bbsnippets.ui")
local uri = require("bbsnippets.uri")

local M = {}

local ErrorKind = protocol.ErrorKind

---@class bbsnippets.BufferState
---@field workspace string
---@field id string
---@field path? string nil for a directory buffer
---@field revision? string the revision a read-only buffer shows (nil: HEAD)
---@field readRevision? string the revision the text was read at
---@field binary? boolean
---@field new? boolean not on Bitbucket yet: `:w` creates it
---@field stale? boolean changed on Bitbucket while the buffer had unsaved edits
---@field failed? boolean could not be read: nothing to save
---@field deleted? boolean the snippet was deleted on Bitbucket

---@param buf integer
---@return bbsnippets.BufferState?
function M.state(buf)
  return vim.b[buf].bbsnippets
end

---@param buf integer
---@param changes table fields to set (vim.NIL removes one)
local function update_state(buf, changes)
  local state = vim.b[buf].bbsnippets or {}
  for key, value in pairs(changes) do
    state[key] = value ~= vim.NIL and value or nil
  end
  vim.b[buf].bbsnippets = state
end
M.update_state = update_state

-- ----------------------------------------------------------------------------- bytes <-> lines

--- A file's bytes as buffer lines (NUL bytes stay in them), whether it ended with a newline, and
--- whether its lines end in CRLF.
---@param data string
---@return string[] lines
---@return boolean eol
---@return boolean dos
function M.to_lines(data)
  local _, newlines = data:gsub("\n", "")
  local _, crlfs = data:gsub("\r\n", "")
  local dos = newlines > 0 and newlines == crlfs
  local eol = data:sub(-1) == "\n"
  if eol then
    data = data:sub(1, -2)
  end
  local lines = vim.split(data, "\n", { plain = true })
  for index, line in ipairs(lines) do
    if dos and (index < #lines or eol) then
      lines[index] = line:sub(1, -2) -- the CR of a CRLF
    end
  end
  return lines, eol, dos
end

--- The buffer's text as the bytes to save: its lines, 'fileformat' line ends, and a final newline
--- when 'endofline' (or 'fixendofline') asks for one, as Neovim writes a file.
---@param buf integer
---@return string
function M.from_lines(buf)
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local bo = vim.bo[buf]
  if #lines == 1 and lines[1] == "" and not bo.endofline then
    return "" -- an empty buffer is an empty file
  end
  local separator = bo.fileformat == "dos" and "\r\n" or "\n"
  local text = table.concat(lines, separator)
  if bo.endofline or (bo.fixendofline and not bo.binary) then
    text = text .. separator
  end
  return text
end

local locked ---@type fun()?

--- Runs `fn` under |:lockmarks|, as Neovim reads a file: loading text must not move the marks and
--- quickfix entries already set on the buffer (`:BBSnippet search` puts hits at their lines first).
---@param fn fun()
local function with_lockmarks(fn)
  locked = fn
  vim.cmd("lockmarks lua require('bbsnippets.files')._run_locked()")
end

---@private
function M._run_locked()
  local fn = assert(locked)
  locked = nil
  fn()
end

--- Replaces the buffer's text without an undo step of its own and without marking it modified.
---@param buf integer
---@param data string
---@param opts? {keep_undo?: boolean}
local function set_content(buf, data, opts)
  local lines, eol, dos = M.to_lines(data)
  local bo = vim.bo[buf]
  local undolevels = bo.undolevels
  if not (opts and opts.keep_undo) then
    bo.undolevels = -1
  end
  bo.modifiable = true
  bo.readonly = false
  bo.endofline = eol
  bo.fileformat = dos and "dos" or "unix"
  with_lockmarks(function()
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  end)
  bo.undolevels = undolevels
  bo.modified = false
end

---@param result bbsnippets.ReadFileResult
---@return string
local function bytes_of(result)
  return result.text or vim.base64.decode(result.base64)
end

-- ----------------------------------------------------------------------------- reading

---@param buf integer
---@param name string
---@param target bbsnippets.Uri
local function read_directory(buf, name, target)
  local err, result = client.wait(function(done)
    client.request(protocol.READ_DIRECTORY, { uri = name }, done)
  end)
  local bo = vim.bo[buf]
  bo.buftype, bo.swapfile, bo.bufhidden = "nofile", false, "hide"
  bo.modifiable = true
  local children, lines = {}, {}
  for _, entry in ipairs(not err and result.entries or {}) do
    local child
    if not target.id then
      child = uri.build(target.workspace, entry.name)
    else
      local path = target.path and (target.path .. "/" .. entry.name) or entry.name
      child = entry.type == "directory" and uri.build(target.workspace, target.id, path) .. "/"
        or uri.build(target.workspace, target.id, path)
    end
    table.insert(children, child)
    table.insert(lines, entry.name .. (entry.type == "directory" and "/" or ""))
  end
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  bo.modifiable, bo.modified, bo.filetype = false, false, "bbsnippets"
  vim.b[buf].bbsnippets = { workspace = target.workspace, id = target.id, path = target.path }
  vim.keymap.set("n", "<CR>", function()
    local child = children[vim.api.nvim_win_get_cursor(0)[1]]
    if child then
      vim.cmd.edit(vim.fn.fnameescape(child))
    end
  end, { buffer = buf, desc = "bbsnippets: open the entry under the cursor" })
end

--- A name with `#L{line}` (a search hit's URI) is the file itself: its windows show the file's own
--- buffer at that line instead, so one file never gets two buffers.
---@param buf integer
---@param name string
local function open_at_line(buf, name)
  local file, line = uri.without_line(name)
  local bo = vim.bo[buf]
  bo.buftype, bo.swapfile, bo.bufhidden, bo.buflisted = "nofile", false, "wipe", false
  vim.schedule(function()
    local file_buf = vim.fn.bufadd(file)
    vim.bo[file_buf].buflisted = true
    vim.fn.bufload(file_buf)
    local last = vim.api.nvim_buf_line_count(file_buf)
    for _, win in ipairs(vim.fn.win_findbuf(buf)) do
      vim.api.nvim_win_call(win, function()
        vim.cmd("keepalt buffer " .. file_buf) -- CTRL-^ still goes back to where :edit came from
      end)
      vim.api.nvim_win_set_cursor(win, { math.min(line or 1, last), 0 })
    end
    if vim.api.nvim_buf_is_valid(buf) then
      vim.api.nvim_buf_delete(buf, { force = true })
    end
  end)
end

--- BufReadCmd: loads a bbsnippet:// file (or lists a directory) into its buffer.
---@param args {buf: integer, match: string}
function M.read(args)
  local buf, name = args.buf, args.match
  local target = uri.parse(name)
  if not target then
    client.notify(
      ("%s is not a snippet URI; expected bbsnippet://WORKSPACE/ID/PATH[#L{line}]"):format(name),
      vim.log.levels.ERROR
    )
    return
  end
  if target.line then
    return open_at_line(buf, name)
  end
  if not uri.is_file(target) then
    return read_directory(buf, name, target)
  end
  local err, result = client.wait(function(done)
    client.request(protocol.READ_FILE, { uri = name }, done, { handles = { ErrorKind.NOT_FOUND } })
  end)
  local bo = vim.bo[buf]
  bo.buftype, bo.swapfile = "acwrite", false
  ---@type bbsnippets.BufferState
  local state = { workspace = target.workspace, id = target.id, path = target.path, revision = target.revision }
  if err and err.kind == ErrorKind.NOT_FOUND and not target.revision then
    set_content(buf, "")
    state.new = true
    vim.api.nvim_echo(
      { { ('"%s" [New] — :w adds it to snippet %s'):format(target.path, uri.ref(target.workspace, target.id)) } },
      false,
      {}
    )
  elseif err then
    if err.kind == ErrorKind.NOT_FOUND then
      client.report(err)
    end
    set_content(buf, "")
    bo.modifiable = false
    state.failed = true
    client.notify(
      ("%s could not be read, so there is nothing to save; :e to try again"):format(target.path),
      vim.log.levels.WARN
    )
  else
    set_content(buf, bytes_of(result))
    state.readRevision = result.revision
    if result.text == nil then
      state.binary = true
      bo.binary = true
      client.notify(
        ("%s is a binary file (%d bytes): shown read-only. :BBSnippet pull writes it to disk byte for byte."):format(
          target.path,
          #vim.base64.decode(result.base64)
        )
      )
    end
  end
  vim.b[buf].bbsnippets = state
  if target.revision or state.binary then
    bo.readonly, bo.modifiable = true, false
  end
  local filetype = vim.filetype.match({ filename = target.path, buf = buf })
  if filetype and not state.binary then
    bo.filetype = filetype
  end
  local comments = package.loaded["bbsnippets.comments"]
  if comments then
    comments.decorate(buf) -- comments already listed for this snippet show at their lines
  end
end

--- FileReadCmd: `:read bbsnippet://…` puts the file's text below the line.
---@param args {buf: integer, match: string}
function M.read_into(args)
  local target = uri.parse(args.match)
  if not uri.is_file(target) then
    client.notify(("%s is not a snippet file"):format(args.match), vim.log.levels.ERROR)
    return
  end
  local err, result = client.wait(function(done)
    client.request(protocol.READ_FILE, { uri = args.match }, done)
  end)
  if err then
    return
  end
  if result.text == nil then
    client.notify(("%s is binary; :read takes text files only"):format(target.path), vim.log.levels.WARN)
    return
  end
  local lines = M.to_lines(result.text)
  local after = vim.fn.line("'[")
  vim.api.nvim_buf_set_lines(args.buf, after, after, false, lines)
end

--- Re-reads an unmodified buffer in place (after a change on Bitbucket), keeping every window's
--- cursor and view; the reload is one undo step, so `u` brings the old text back.
---@param buf integer
---@param on_done? fun(ok: boolean)
function M.reload(buf, on_done)
  local name = vim.api.nvim_buf_get_name(buf)
  client.request(protocol.READ_FILE, { uri = name }, function(err, result)
    if err or not vim.api.nvim_buf_is_loaded(buf) then
      return on_done and on_done(false)
    end
    if vim.bo[buf].modified then
      return on_done and on_done(false) -- edited meanwhile: never overwrite the user's text
    end
    local views = {}
    for _, win in ipairs(vim.fn.win_findbuf(buf)) do
      views[win] = vim.api.nvim_win_call(win, vim.fn.winsaveview)
    end
    local readonly = vim.bo[buf].readonly
    set_content(buf, bytes_of(result), { keep_undo = true })
    vim.bo[buf].readonly, vim.bo[buf].modifiable = readonly, not readonly
    update_state(buf, { readRevision = result.revision or vim.NIL, stale = vim.NIL })
    for win, view in pairs(views) do
      vim.api.nvim_win_call(win, function()
        vim.fn.winrestview(view)
      end)
    end
    if on_done then
      on_done(true)
    end
  end)
end

-- ----------------------------------------------------------------------------- writing

--- Saves the buffer's text to `name` (its own URI, or another one for `:w bbsnippet://…`).
--- Returns whether the daemon confirmed. A conflict or a secret finding asks what to do next.
---@param buf integer
---@param name string
---@param opts? {force?: boolean, allow_secrets?: boolean}
---@return boolean
function M.save(buf, name, opts)
  opts = opts or {}
  local own = name == vim.api.nvim_buf_get_name(buf)
  local state = own and M.state(buf) or {}
  local target = uri.parse(name) --[[@as bbsnippets.Uri]]
  local tick = vim.b[buf].changedtick
  ---@type bbsnippets.WriteFileParams
  local params = {
    uri = name,
    text = M.from_lines(buf),
    force = opts.force or nil,
    allowSecrets = opts.allow_secrets or nil,
    overwrite = state.new and false or nil,
  }
  local err, result = client.wait(function(done)
    client.request(protocol.WRITE_FILE, params, done, { handles = { ErrorKind.CONFLICT, ErrorKind.SECRET_DETECTED } })
  end)
  if not err then
    if own then
      if vim.b[buf].changedtick == tick then
        vim.bo[buf].modified = false
      end
      update_state(buf, { readRevision = result.revision or vim.NIL, new = vim.NIL, stale = vim.NIL })
    end
    vim.api.nvim_echo({ { ('"%s" saved to %s'):format(target.path, uri.ref(target.workspace, target.id)) } }, false, {})
    return true
  end
  if err.kind == ErrorKind.CONFLICT then
    vim.schedule(function()
      M.resolve_conflict(buf, name, err)
    end)
  elseif err.kind == ErrorKind.SECRET_DETECTED then
    vim.schedule(function()
      ui.confirm_secrets(err, function()
        M.save(buf, name, { force = opts.force, allow_secrets = true })
      end)
    end)
  elseif err.kind ~= "daemon" and err.kind ~= "timeout" then
    client.notify("not saved; your text is still in the buffer", vim.log.levels.WARN)
  end
  return false
end

--- BufWriteCmd: `:w` saves (compare-and-swap), `:w!` overwrites whatever is on Bitbucket.
---@param args {buf: integer, match: string}
function M.write(args)
  local buf, name = args.buf, args.match
  local target = uri.parse(name)
  local own = name == vim.api.nvim_buf_get_name(buf)
  local state = own and M.state(buf) or {}
  if not uri.is_file(target) then
    client.notify(("%s is not a file; write to bbsnippet://WORKSPACE/ID/PATH"):format(name), vim.log.levels.ERROR)
  elseif target.revision then
    client.notify(
      ("%s is revision %s and cannot be changed; save to the file at HEAD (the same name without ?rev=)"):format(
        target.path,
        target.revision:sub(1, 12)
      ),
      vim.log.levels.WARN
    )
  elseif state.binary then
    client.notify(("%s is a binary file and read-only here"):format(target.path), vim.log.levels.WARN)
  elseif state.failed then
    client.notify(
      ("%s was never read, so it is not saved over; :e to read it again"):format(target.path),
      vim.log.levels.WARN
    )
  else
    M.save(buf, name, { force = vim.v.cmdbang == 1 })
  end
end

--- Someone else changed the snippet since this buffer was read: compare, overwrite or cancel.
--- The buffer keeps the user's text whatever they choose.
---@param buf integer
---@param name string
---@param err bbsnippets.Error
function M.resolve_conflict(buf, name, err)
  local target = uri.parse(name) --[[@as bbsnippets.Uri]]
  local choices = { "Compare with the version on Bitbucket", "Overwrite it with mine", "Cancel" }
  vim.ui.select(choices, {
    prompt = ("%s changed on Bitbucket since you opened it; your text is kept. Save how?"):format(target.path),
    kind = "bbsnippets.conflict",
  }, function(_, index)
    if index == 1 then
      M.compare(buf, name, err.data.remoteRevision)
    elseif index == 2 then
      M.save(buf, name, { force = true })
    else
      client.notify(
        "not saved; your text is still in the buffer. :w! overwrites the version on Bitbucket.",
        vim.log.levels.WARN
      )
    end
  end)
end

--- `:diffsplit` of the buffer against the file as it is on Bitbucket now (a read-only buffer).
---@param buf integer
---@param name string
---@param remote_revision? string
function M.compare(buf, name, remote_revision)
  local target = uri.parse(name) --[[@as bbsnippets.Uri]]
  if not remote_revision then
    client.notify(
      "the daemon did not say which revision is on Bitbucket; :BBSnippet history lists them",
      vim.log.levels.WARN
    )
    return
  end
  local win = vim.fn.bufwinid(buf)
  if win == -1 then
    vim.cmd.sbuffer(buf)
  else
    vim.api.nvim_set_current_win(win)
  end
  vim.cmd(
    "vertical diffsplit " .. vim.fn.fnameescape(uri.build(target.workspace, target.id, target.path, remote_revision))
  )
  vim.cmd.wincmd("p") -- back to the user's text
  client.notify(
    "the other window shows the version on Bitbucket (read-only). Take its changes with do (:h copy-diffs), "
      .. "then :w (asks again) or :w! to overwrite it with yours."
  )
end

-- ----------------------------------------------------------------------------- file operations

--- `:BBSnippet add {name}`: a new, empty file in this snippet; `:w` adds it.
---@param name string
function M.add(name)
  if name == "" then
    return client.notify(":BBSnippet add takes the new file name, e.g. :BBSnippet add notes.md", vim.log.levels.ERROR)
  end
  local snippet = ui.current_snippet()
  if not snippet then
    return
  end
  vim.cmd.edit(vim.fn.fnameescape(uri.build(snippet.workspace, snippet.id, name)))
end

--- The current buffer and its state when it is a snippet file at HEAD; else a warning naming `command`.
---@param command string the :BBSnippet subcommand asking
---@return integer buf
---@return bbsnippets.BufferState?
local function head_file(command)
  local buf = vim.api.nvim_get_current_buf()
  local state = M.state(buf)
  if not (state and state.path) or state.revision then
    client.notify((":BBSnippet %s works in a bbsnippet:// file buffer at HEAD"):format(command), vim.log.levels.WARN)
    return buf, nil
  end
  return buf, state
end

--- `:BBSnippet rename {new-name}`: renames the current file (one request); the buffer follows.
---@param new_name string
function M.rename(new_name)
  if new_name == "" then
    return client.notify(":BBSnippet rename takes the new name, e.g. :BBSnippet rename main.py", vim.log.levels.ERROR)
  end
  local buf, state = head_file("rename")
  if not state then
    return
  end
  local old_uri = vim.api.nvim_buf_get_name(buf)
  local new_uri = uri.build(state.workspace, state.id, new_name)
  if state.new then
    return M.rename_buffer(buf, new_uri, new_name) -- not on Bitbucket yet: only the buffer is renamed
  end
  client.request(protocol.RENAME, { oldUri = old_uri, newUri = new_uri }, function(err)
    if not err then
      M.rename_buffer(buf, new_uri, new_name)
      client.notify(("renamed %s to %s"):format(state.path, new_name))
    end
  end)
end

---@param buf integer
---@param new_uri string
---@param new_path string
function M.rename_buffer(buf, new_uri, new_path)
  local old_uri = vim.api.nvim_buf_get_name(buf)
  vim.api.nvim_buf_set_name(buf, new_uri)
  local alternate = vim.fn.bufnr(old_uri)
  if alternate ~= -1 and alternate ~= buf then
    vim.api.nvim_buf_delete(alternate, { force = true }) -- the old name left behind by the rename
  end
  update_state(buf, { path = new_path })
  local filetype = vim.filetype.match({ filename = new_path, buf = buf })
  if filetype then
    vim.bo[buf].filetype = filetype
  end
end

--- `:BBSnippet delete-file`: deletes the current file from its snippet after a confirmation.
function M.delete_file()
  local buf, state = head_file("delete-file")
  if not state then
    return
  end
  local name = vim.api.nvim_buf_get_name(buf)
  ui.confirm(("Delete %s from snippet %s?"):format(state.path, uri.ref(state.workspace, state.id)), "Delete", function()
    client.request(protocol.DELETE_FILE, { uri = name, recursive = false }, function(err)
      if err then
        return
      end
      client.notify(("deleted %s from %s"):format(state.path, uri.ref(state.workspace, state.id)))
      if vim.api.nvim_buf_is_valid(buf) then
        if vim.bo[buf].modified then
          update_state(buf, { new = true }) -- the user's text stays; :w would add it back
        else
          vim.api.nvim_buf_delete(buf, { force = true })
        end
      end
    end)
  end)
end

--- The names of every file of snippet `workspace/id`, sorted (bbsnippets/readDirectory, down into its
--- folders: served from the daemon's cache, so one request at most). `on_done(nil)` after a failure
--- (already reported).
---@param workspace string
---@param id string
---@param on_done fun(names: string[]?)
function M.file_names(workspace, id, on_done)
  local names, waiting, failed = {}, 0, false
  local function walk(path)
    waiting = waiting + 1
    client.request(protocol.READ_DIRECTORY, { uri = uri.build(workspace, id, path) }, function(err, result)
      waiting = waiting - 1
      if err then
        failed = true
      else
        ---@cast result bbsnippets.ReadDirectoryResult
        for _, entry in ipairs(result.entries) do
          local child = path and (path .. "/" .. entry.name) or entry.name
          if entry.type == "directory" then
            walk(child)
          else
            table.insert(names, child)
          end
        end
      end
      if waiting == 0 then
        table.sort(names)
        on_done(not failed and names or nil)
      end
    end)
  end
  walk(nil)
end

--- Every loaded buffer of snippet `workspace/id` (files at HEAD unless `all`).
---@param workspace string
---@param id string
---@param all? boolean include revisions, directories and comments buffers
---@return integer[]
function M.buffers_of(workspace, id, all)
  local found = {}
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    local state = vim.api.nvim_buf_is_loaded(buf) and vim.b[buf].bbsnippets
    if state and state.workspace == workspace and state.id == id then
      if all or (state.path and not state.revision and vim.bo[buf].buftype == "acwrite") then
        table.insert(found, buf)
      end
    end
  end
  return found
end

return M
