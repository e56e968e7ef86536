--- `:BBSnippet {subcommand}`: only the table of subcommands and their completion. Each entry
--- requires its feature module when it runs (snippets, account, share, picker, files, …), which
--- does the work and says what is wrong with the arguments. Commands on "this snippet" take it from
--- the current buffer.

local M = {}

---@class bbsnippets.CommandOpts
---@field fargs string[]
---@field args string
---@field range integer
---@field line1 integer
---@field line2 integer
---@field bang boolean

---@class bbsnippets.Subcommand
---@field run fun(opts: bbsnippets.CommandOpts)
---@field complete? fun(lead: string, position: integer): string[] `position`: which argument (1 = first after the subcommand)
---@field usage string
---@field bang? boolean whether it takes a `!` (`:BBSnippet insert!`); `opts.bang` then says whether it was given

---@return {workspace: string, id: string, path?: string, revision?: string}?
local function this_snippet()
  return require("bbsnippets.ui").current_snippet()
end

---@param opts bbsnippets.CommandOpts
---@return string the arguments after the subcommand, as typed
local function rest_of(opts)
  return opts.args:match("^%s*%S+%s+(.-)%s*$") or ""
end

local function workspaces()
  return require("bbsnippets.picker").workspace_names()
end

---@param lead string
local function snippet_refs(lead)
  return require("bbsnippets.picker").snippet_refs(lead)
end

---@param run fun(snippet: {workspace: string, id: string})
---@return fun(opts: bbsnippets.CommandOpts)
local function on_snippet(run)
  return function()
    local snippet = this_snippet()
    if snippet then
      run(snippet)
    end
  end
end

---@type table<string, bbsnippets.Subcommand>
M.subcommands = {
  share = {
    usage = "[range]share [workspace]   share the lines (or the whole buffer) as a new snippet",
    run = function(opts)
      require("bbsnippets.share").command(opts)
    end,
    complete = workspaces,
  },
  list = {
    usage = "list [workspace]   pick a snippet and open it",
    run = function(opts)
      require("bbsnippets.picker").list(opts.fargs[2])
    end,
    complete = workspaces,
  },
  open = {
    usage = "open {workspace}/{id}|{url}   open every file of a snippet (also from its Bitbucket web address)",
    run = function(opts)
      require("bbsnippets.picker").open_ref(rest_of(opts))
    end,
    complete = snippet_refs,
  },
  search = {
    usage = "search {query}   every snippet's titles, names and text into the quickfix list",
    run = function(opts)
      require("bbsnippets.search").quickfix(rest_of(opts))
    end,
  },
  insert = {
    usage = "[line]insert[!] [query]   put a snippet file's text below the line (! above); query: pick a hit",
    bang = true,
    run = function(opts)
      require("bbsnippets.insert").command(rest_of(opts), {
        above = opts.bang,
        line = opts.range > 0 and opts.line2 or nil,
      })
    end,
  },
  pull = {
    usage = "pull [{workspace}/{id}] [dir]   write the files into a folder (default: ./{id}, a new one)",
    run = function(opts)
      require("bbsnippets.pull").command(vim.list_slice(opts.fargs, 2))
    end,
    complete = function(lead, position)
      if position == 1 and not lead:find("^[./~]") then
        return snippet_refs(lead)
      end
      return vim.fn.getcompletion(lead, "dir")
    end,
  },
  status = {
    usage = "status [path]   the linked folder's tracked files and their state (d: diff with the snippet)",
    run = function(opts)
      require("bbsnippets.push").status(opts.fargs[2])
    end,
    complete = function(lead)
      return vim.fn.getcompletion(lead, "file")
    end,
  },
  push = {
    usage = "push[!] [add {file}…]   send the linked folder's changes (and new files) to its snippet; ! overwrites",
    bang = true,
    run = function(opts)
      require("bbsnippets.push").command(vim.list_slice(opts.fargs, 2), opts.bang)
    end,
    complete = function(lead, position)
      if position == 1 then
        return { "add" }
      end
      return vim.fn.getcompletion(lead, "file")
    end,
  },
  link = {
    usage = "link {workspace}/{id} [path]   tie the current directory (or path; % this file) to a snippet",
    run = function(opts)
      require("bbsnippets.push").link(vim.list_slice(opts.fargs, 2))
    end,
    complete = function(lead, position)
      if position == 1 then
        return snippet_refs(lead)
      end
      return vim.fn.getcompletion(lead, "file")
    end,
  },
  ["share-diff"] = {
    usage = "share-diff[!] [workspace]   the git repository's changes (! the staged ones) as a patch snippet",
    bang = true,
    run = function(opts)
      require("bbsnippets.patch").share_diff(opts.bang, opts.fargs[2])
    end,
    complete = workspaces,
  },
  apply = {
    usage = "apply [{workspace}/{id}[/{file}]]   apply a patch snippet to the current directory (asks first)",
    run = function(opts)
      require("bbsnippets.patch").apply(opts.fargs[2])
    end,
    complete = snippet_refs,
  },
  comments = {
    usage = "comments   this snippet's comment threads",
    run = on_snippet(function(snippet)
      require("bbsnippets.comments").open(snippet.workspace, snippet.id)
    end),
  },
  comment = {
    usage = "[line]comment   comment on the cursor line of this file",
    run = function(opts)
      require("bbsnippets.comments").comment_on_line(opts.range > 0 and opts.line1 or vim.fn.line("."))
    end,
  },
  watch = {
    usage = "watch   be told when this snippet changes",
    run = on_snippet(function(snippet)
      require("bbsnippets.watch").watch(snippet)
    end),
  },
  unwatch = {
    usage = "unwatch   stop watching this snippet",
    run = on_snippet(function(snippet)
      require("bbsnippets.watch").unwatch(snippet)
    end),
  },
  watchers = {
    usage = "watchers   who watches this snippet",
    run = on_snippet(function(snippet)
      require("bbsnippets.watch").watchers(snippet)
    end),
  },
  history = {
    usage = "history   pick a commit; this file at it opens read-only, diffed against HEAD",
    run = function()
      require("bbsnippets.history").history()
    end,
  },
  diff = {
    usage = "diff [rev]   what a commit changed (default: pick one)",
    run = function(opts)
      require("bbsnippets.history").diff(opts.fargs[2])
    end,
    complete = function()
      return require("bbsnippets.history").known_revisions()
    end,
  },
  restore = {
    usage = "restore [rev]   this file or the whole snippet as it was at a revision, as a new commit",
    run = function(opts)
      require("bbsnippets.history").restore(opts.fargs[2])
    end,
    complete = function()
      return require("bbsnippets.history").known_revisions()
    end,
  },
  rename = {
    usage = "rename {new-name}   rename this file",
    run = function(opts)
      require("bbsnippets.files").rename(rest_of(opts))
    end,
    complete = function()
      local snippet = vim.b.bbsnippets
      return snippet and snippet.path and { snippet.path } or {}
    end,
  },
  add = {
    usage = "add {name}   a new file in this snippet (:w adds it)",
    run = function(opts)
      require("bbsnippets.files").add(rest_of(opts))
    end,
  },
  ["delete-file"] = {
    usage = "delete-file   delete this file from its snippet",
    run = function()
      require("bbsnippets.files").delete_file()
    end,
  },
  delete = {
    usage = "delete   delete this snippet",
    run = function()
      require("bbsnippets.snippets").delete()
    end,
  },
  duplicate = {
    usage = "duplicate [workspace]   a private copy of this snippet (visible to the workspace's members)",
    run = function(opts)
      require("bbsnippets.snippets").duplicate(opts.fargs[2])
    end,
    complete = workspaces,
  },
  title = {
    usage = "title {text}   retitle this snippet",
    run = function(opts)
      require("bbsnippets.snippets").title(rest_of(opts))
    end,
  },
  visibility = {
    usage = "visibility public|private   public: anyone sees it; private: the workspace's members",
    run = function(opts)
      require("bbsnippets.snippets").visibility(opts.fargs[2])
    end,
    complete = function()
      return { "public", "private" }
    end,
  },
  login = {
    usage = "login   store Bitbucket credentials in the OS keyring",
    run = function()
      require("bbsnippets.account").login()
    end,
  },
  logout = {
    usage = "logout   forget them",
    run = function()
      require("bbsnippets.account").logout()
    end,
  },
  whoami = {
    usage = "whoami   the account and default workspace in use",
    run = function()
      require("bbsnippets.account").whoami()
    end,
  },
  install = {
    usage = 'install   the daemon into a venv under stdpath("data") (:h bbsnippets-install)',
    run = function()
      require("bbsnippets.install").command()
    end,
  },
}

---@return string[]
local function names()
  local list = vim.tbl_keys(M.subcommands)
  table.sort(list)
  return list
end

--- Runs `:BBSnippet …`.
---@param opts bbsnippets.CommandOpts
function M.run(opts)
  local name = opts.fargs[1]
  local bang = name ~= nil and name:sub(-1) == "!"
  if bang then
    name = name:sub(1, -2)
  end
  local subcommand = name and M.subcommands[name]
  if not subcommand then
    local lines =
      { (name and ('unknown subcommand "%s". ' or ""):format(name) or "") .. "Usage: :BBSnippet {subcommand}" }
    for _, known in ipairs(names()) do
      table.insert(lines, "  " .. M.subcommands[known].usage)
    end
    vim.notify("bbsnippets: " .. table.concat(lines, "\n"), name and vim.log.levels.ERROR or vim.log.levels.INFO)
    return
  end
  if bang and not subcommand.bang then
    vim.notify(("bbsnippets: :BBSnippet %s takes no !"):format(name), vim.log.levels.ERROR)
    return
  end
  subcommand.run(vim.tbl_extend("force", opts, { bang = bang }))
end

--- Completion of `:BBSnippet …`: subcommands, then what each takes.
---@param lead string
---@param line string
---@param cursor integer
---@return string[]
function M.complete(lead, line, cursor)
  local typed = line:sub(1, cursor):match("BBSnippet!?%s+(.*)$") or ""
  local words = vim.split(typed, "%s+", { trimempty = false })
  local candidates
  if #words <= 1 then
    candidates = names()
  else
    local subcommand = M.subcommands[words[1]]
    if not (subcommand and subcommand.complete) then
      return {}
    end
    candidates = subcommand.complete(lead, #words - 1)
  end
  return vim.tbl_filter(function(candidate)
    return vim.startswith(candidate, lead)
  end, candidates)
end

return M
