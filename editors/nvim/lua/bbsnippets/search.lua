--- Search: `:BBSnippet search {query}` asks the daemon's local index (bbsnippets.search: titles,
--- file names and contents of every snippet, no request to Bitbucket) and puts the hits in the
--- quickfix list, as :grep does: `bbsnippet://` file names at their lines, so :cnext, :cc and <CR>
--- in the quickfix window open them through the plugin's BufReadCmd.

local client = require("bbsnippets.client")
local protocol = require("bbsnippets.protocol")
local uri = require("bbsnippets.uri")

local M = {}

--- How many hits a search lists (the daemon answers at most 500).
M.LIMIT = 200

--- Where a hit is: its file's URI (without `#L`) and line (1 for a title or file-name hit).
---@param hit bbsnippets.SearchHit
---@return string file
---@return integer line
function M.location(hit)
  local file, line = uri.without_line(hit.uri)
  return file, hit.line or line or 1
end

--- One line saying what a hit is: the snippet's title, then the matching line (or file name).
---@param hit bbsnippets.SearchHit
---@return string
function M.describe(hit)
  local title = hit.title ~= "" and hit.title or "(untitled)"
  if hit.line or (hit.preview ~= "" and hit.preview ~= hit.title) then
    return title .. " · " .. hit.preview
  end
  return title
end

--- Searches every indexed snippet; `on_result` gets the result, or nothing after a failure
--- (reported, with how to turn search on when indexing is off).
---@param query string
---@param limit integer
---@param on_result fun(result: bbsnippets.SearchResult)
function M.run(query, limit, on_result)
  ---@type bbsnippets.SearchParams
  local params = { query = query, limit = limit }
  client.command(protocol.SEARCH, params, function(err, result)
    if err then
      if err.kind == protocol.ErrorKind.INVALID_ARGUMENT and err.message:find("indexing") then
        client.notify(
          err.message
            .. " In Neovim: vim.g.bbsnippets = { daemon_options = { indexing = true } } (it wins over "
            .. "SNIPPET_DAEMON_INDEXING), then :lua require('bbsnippets').restart()",
          vim.log.levels.WARN
        )
      elseif err.kind == protocol.ErrorKind.INVALID_ARGUMENT then
        client.report(err)
      end
      return
    end
    on_result(result)
  end, { handles = { protocol.ErrorKind.INVALID_ARGUMENT } })
end

--- Says that nothing matched (and why that may change soon).
---@param query string
---@param result bbsnippets.SearchResult
function M.nothing_found(query, result)
  local hint = result.complete and "" or " yet: the index is still filling, try again in a moment"
  client.notify(("no snippet matches %q%s"):format(query, hint), vim.log.levels.WARN)
end

--- `"N hits for "query""`, saying when the index is still filling (contents may be missing).
---@param count integer
---@param query string
---@param result bbsnippets.SearchResult
---@param limit integer
---@return string
local function summary(count, query, result, limit)
  local text = ("%d %s for %q"):format(count, count == 1 and "hit" or "hits", query)
  if #result.results >= limit then
    text = text .. (" (the first %d; a longer query narrows them)"):format(limit)
  end
  if not result.complete then
    text = text .. " (index still filling)"
  end
  return text
end

--- `:BBSnippet search {query}`: the hits in a new quickfix list (the window opens); none leaves the
--- list as it was.
---@param query string
function M.quickfix(query)
  query = vim.trim(query)
  if query == "" then
    vim.ui.input({ prompt = "Search snippets: " }, function(typed)
      if typed and vim.trim(typed) ~= "" then
        M.quickfix(typed)
      end
    end)
    return
  end
  M.run(query, M.LIMIT, function(result)
    if #result.results == 0 then
      return M.nothing_found(query, result)
    end
    local items = {}
    for _, hit in ipairs(result.results) do
      local file, line = M.location(hit)
      table.insert(items, {
        filename = file,
        module = uri.ref(hit.workspace, hit.id) .. (hit.name ~= "" and ("/" .. hit.name) or ""),
        lnum = line,
        text = M.describe(hit),
        user_data = hit,
      })
    end
    vim.fn.setqflist({}, " ", {
      title = "BBSnippet search: " .. query,
      items = items,
      context = { bbsnippets = { query = query, complete = result.complete } },
    })
    vim.cmd("botright copen")
    client.notify(summary(#items, query, result, M.LIMIT))
  end)
end

return M
