-- bbsnippets: definitions only. Nothing is required here; each command, map and autocommand
-- loads its module when it first runs (see :h bbsnippets).
if vim.g.loaded_bbsnippets then
  return
end
vim.g.loaded_bbsnippets = true

if vim.fn.has("nvim-0.10") ~= 1 then
  vim.api.nvim_create_user_command("BBSnippet", function()
    vim.notify("bbsnippets needs Neovim 0.10 or newer", vim.log.levels.ERROR)
  end, { nargs = "*" })
  return
end

--- Calls `require(module)[name](...)`; a Lua error becomes one message, not a traceback.
local function call(module, name, ...)
  require("bbsnippets.client").guard(function(...)
    require(module)[name](...)
  end, ...)
end

vim.api.nvim_create_user_command("BBSnippet", function(opts)
  if opts.fargs[1] == "install" then
    -- Unguarded: headless, a failed install raises, so scripts and lazy.nvim's build step see it.
    return require("bbsnippets.install").command()
  end
  call("bbsnippets.commands", "run", opts)
end, {
  nargs = "*",
  range = true,
  desc = "Bitbucket snippets (:h bbsnippets)",
  complete = function(lead, line, cursor)
    return require("bbsnippets.commands").complete(lead, line, cursor)
  end,
})

local group = vim.api.nvim_create_augroup("bbsnippets", { clear = true })
vim.api.nvim_create_autocmd("BufReadCmd", {
  group = group,
  pattern = "bbsnippet://*",
  nested = true, -- so FileType (ftplugins, syntax, treesitter) runs for the filetype set here
  callback = function(args)
    call("bbsnippets.files", "read", args)
  end,
})
vim.api.nvim_create_autocmd("FileReadCmd", {
  group = group,
  pattern = "bbsnippet://*",
  callback = function(args)
    call("bbsnippets.files", "read_into", args)
  end,
})
vim.api.nvim_create_autocmd("BufWriteCmd", {
  group = group,
  pattern = "bbsnippet://*",
  callback = function(args)
    call("bbsnippets.files", "write", args)
  end,
})

vim.keymap.set(
  "n",
  "<Plug>(bbsnippets-share)",
  "<Cmd>BBSnippet share<CR>",
  { desc = "bbsnippets: share the buffer as a snippet" }
)
vim.keymap.set("x", "<Plug>(bbsnippets-share)", function()
  call("bbsnippets.share", "visual")
end, { desc = "bbsnippets: share the selection as a snippet" })
vim.keymap.set(
  "n",
  "<Plug>(bbsnippets-list)",
  "<Cmd>BBSnippet list<CR>",
  { desc = "bbsnippets: pick a snippet to open" }
)
vim.keymap.set(
  "n",
  "<Plug>(bbsnippets-search)",
  "<Cmd>BBSnippet search<CR>",
  { desc = "bbsnippets: search every snippet (asks the query)" }
)
vim.keymap.set(
  "n",
  "<Plug>(bbsnippets-insert)",
  "<Cmd>BBSnippet insert<CR>",
  { desc = "bbsnippets: insert a snippet file below the cursor" }
)
vim.keymap.set(
  "n",
  "<Plug>(bbsnippets-comment)",
  "<Cmd>BBSnippet comment<CR>",
  { desc = "bbsnippets: comment on this line" }
)
