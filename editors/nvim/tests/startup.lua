-- Start-up: plugin/ defines the command, the <Plug> maps and the autocommands, requires none of
-- the plugin's modules, maps no keys, and starts no daemon; completion offers the subcommands.
local h = require("helpers")

h.run(function()
  for name in pairs(package.loaded) do
    assert(not name:find("^bbsnippets"), name .. " was required at start-up")
  end
  assert(vim.fn.exists(":BBSnippet") == 2, "the command")
  for _, mode in ipairs({ "n", "x" }) do
    assert(vim.fn.maparg("<Plug>(bbsnippets-share)", mode) ~= "", "the share map in mode " .. mode)
  end
  for _, map in ipairs({ "list", "search", "insert", "comment" }) do
    assert(vim.fn.maparg("<Plug>(bbsnippets-" .. map .. ")", "n") ~= "", "the " .. map .. " map")
  end
  for _, mode in ipairs({ "n", "x", "i" }) do
    for _, map in ipairs(vim.api.nvim_get_keymap(mode)) do
      local ours = (map.rhs or ""):find("BBSnippet") or (map.desc or ""):find("^bbsnippets")
      assert(not ours or map.lhs:find("^<Plug>"), "a default key map: " .. map.lhs)
    end
  end
  h.equal(3, #vim.api.nvim_get_autocmds({ group = "bbsnippets" }), "BufReadCmd, FileReadCmd, BufWriteCmd")
  h.equal(0, #vim.lsp.get_clients(), "no daemon until first use")

  local subcommands = vim.fn.getcompletion("BBSnippet ", "cmdline")
  for _, name in ipairs({
    "share",
    "list",
    "open",
    "search",
    "insert",
    "pull",
    "comments",
    "comment",
    "watch",
    "unwatch",
    "watchers",
    "history",
    "diff",
    "rename",
    "add",
    "delete-file",
    "delete",
    "duplicate",
    "title",
    "visibility",
    "login",
    "logout",
    "whoami",
  }) do
    assert(vim.tbl_contains(subcommands, name), "completes " .. name .. ": " .. table.concat(subcommands, " "))
  end
  h.equal({ "public", "private" }, vim.fn.getcompletion("BBSnippet visibility ", "cmdline"), "visibility values")
  h.equal({ "delete", "delete-file" }, vim.fn.getcompletion("BBSnippet del", "cmdline"), "a prefix")
  h.equal(0, #vim.lsp.get_clients(), "completion did not start the daemon")

  -- :BBSnippet alone lists the subcommands; an unknown one says so.
  vim.cmd("BBSnippet")
  assert(h.message("Usage: :BBSnippet {subcommand}"), vim.inspect(h.messages))
  vim.cmd("BBSnippet frobnicate")
  assert(h.message('unknown subcommand "frobnicate"'), vim.inspect(h.messages))

  -- The help file's tags are unique, and :help finds them.
  local docs = vim.fn.tempname()
  vim.fn.mkdir(docs .. "/doc", "p")
  local help = vim.api.nvim_get_runtime_file("doc/bbsnippets.txt", false)[1]
  vim.fn.writefile(vim.fn.readfile(help), docs .. "/doc/bbsnippets.txt")
  vim.opt.runtimepath:append(docs)
  vim.cmd.helptags(docs .. "/doc")
  vim.cmd.help("bbsnippets")
  h.equal(2, vim.fn.line("."), ":h bbsnippets lands at the top of the manual")
  vim.cmd.close()
  for _, tag in ipairs({
    "bbsnippets",
    "bbsnippets-conflicts",
    ":BBSnippet-share",
    ":BBSnippet-search",
    ":BBSnippet-insert",
    "bbsnippets-search",
    "g:bbsnippets",
    "<Plug>(bbsnippets-share)",
  }) do
    vim.cmd.help(tag)
    assert(vim.api.nvim_buf_get_name(0):find("bbsnippets%.txt$"), tag)
    vim.cmd.close()
  end
  -- Every |link| of the manual leads somewhere (ours, or Neovim's own help).
  local links = {}
  for line in io.lines(help) do
    for link in line:gmatch("|([^|%s]+)|") do
      links[link] = true
    end
  end
  for link in pairs(links) do
    local ok, err = pcall(vim.cmd.help, vim.fn.escape(link, " "))
    assert(ok, ("the manual links to |%s|, which :help does not know: %s"):format(link, tostring(err)))
    vim.cmd.close()
  end

  -- setup() only merges and validates.
  require("bbsnippets").setup({ private_by_default = "yes" })
  assert(h.message("option `private_by_default` in setup%(%) must be true or false"), vim.inspect(h.messages))
  h.equal(0, #vim.lsp.get_clients(), "setup() starts nothing")
end)
