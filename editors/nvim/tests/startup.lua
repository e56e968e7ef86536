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
  assert(
    vim.fn.maparg("<Plug>(bbsnippets-list)", "n") ~= "" and vim.fn.maparg("<Plug>(bbsnippets-comment)", "n") ~= "",
    "the other maps"
  )
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
  for _, tag in ipairs({
    "bbsnippets",
    "bbsnippets-conflicts",
    ":BBSnippet-share",
    "g:bbsnippets",
    "<Plug>(bbsnippets-share)",
  }) do
    vim.cmd.help(tag)
    assert(vim.api.nvim_buf_get_name(0):find("bbsnippets%.txt$"), tag)
    vim.cmd.close()
  end

  -- setup() only merges and validates.
  require("bbsnippets").setup({ private_by_default = "yes" })
  assert(h.message("option `private_by_default` in setup%(%) must be true or false"), vim.inspect(h.messages))
  h.equal(0, #vim.lsp.get_clients(), "setup() starts nothing")
end)
