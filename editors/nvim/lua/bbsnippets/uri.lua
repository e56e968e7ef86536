--- The one codec for the plugin's buffer names; nothing else builds or takes them apart.
---
--- Snippet files and folders (the daemon's URIs, as snippet_daemon/uri.py; every segment is
--- percent-encoded and `{path}` may contain `/`):
---
---   bbsnippet://{workspace}/                        the workspace's snippets, as directories
---   bbsnippet://{workspace}/{id}/                   a snippet, as a directory of its files
---   bbsnippet://{workspace}/{id}                    the same (no trailing slash)
---   bbsnippet://{workspace}/{id}/{path}             a file at HEAD (read/write)
---   bbsnippet://{workspace}/{id}/{path}?rev={hash}  a file at a revision (read-only)
---
--- The plugin's own scratch buffers (never sent to the daemon):
---
---   bbsnippets-comments://{workspace}/{id}          a snippet's comment threads
---   bbsnippets-comments://{workspace}/{id}/{draft}  a comment being written (`:w` posts it)

local SCHEME = require("bbsnippets.protocol").URI_SCHEME
local COMMENTS_SCHEME = "bbsnippets-comments"

local M = {}

---@class bbsnippets.Uri
---@field workspace string
---@field id? string nil: the workspace itself
---@field path? string nil: the snippet as a directory
---@field revision? string nil: HEAD

--- Percent-encodes as Python's `quote(segment, safe="-._~!$&'()*+,;=:@")`, so both sides agree byte for byte.
---@param segment string
---@return string
local function quote(segment)
  return (
    segment:gsub("[^%w%-%._~!%$&'%(%)%*%+,;=:@]", function(char)
      return string.format("%%%02X", char:byte())
    end)
  )
end

---@param segment string
---@return string
local function unquote(segment)
  return (segment:gsub("%%(%x%x)", function(hex)
    return string.char(tonumber(hex, 16))
  end))
end

--- The URI of a workspace, a snippet (`path` nil) or a file (at `revision`, or HEAD).
---@param workspace string
---@param id? string
---@param path? string
---@param revision? string
---@return string
function M.build(workspace, id, path, revision)
  local text = SCHEME .. "://" .. quote(workspace) .. "/"
  if id then
    text = text .. quote(id) .. "/"
    if path then
      local segments = vim.tbl_map(quote, vim.split(path, "/", { plain = true }))
      text = text .. table.concat(segments, "/")
    end
  end
  if revision then
    text = text .. "?rev=" .. quote(revision)
  end
  return text
end

--- `name` taken apart, or nil when it is not a well-formed bbsnippet:// URI.
---@param name string
---@return bbsnippets.Uri?
function M.parse(name)
  local rest = name:match("^" .. SCHEME .. "://(.*)$")
  if not rest then
    return nil
  end
  local revision
  local query_at = rest:find("?", 1, true)
  if query_at then
    revision = rest:sub(query_at + 1):match("^rev=([^&]+)$")
    if not revision then
      return nil
    end
    revision = unquote(revision)
    rest = rest:sub(1, query_at - 1)
  end
  local segments = vim.split(rest, "/", { plain = true })
  local workspace = unquote(table.remove(segments, 1))
  if workspace == "" then
    return nil
  end
  if segments[#segments] == "" then
    table.remove(segments) -- a trailing slash names the directory itself
  end
  if #segments == 0 then
    return { workspace = workspace, revision = revision }
  end
  local id = unquote(table.remove(segments, 1))
  local parts = vim.tbl_map(unquote, segments)
  for _, part in ipairs(parts) do
    if part == "" or part == "." or part == ".." then
      return nil
    end
  end
  if id == "" then
    return nil
  end
  return { workspace = workspace, id = id, path = #parts > 0 and table.concat(parts, "/") or nil, revision = revision }
end

--- Whether `name` is a file URI (not a directory).
---@param parsed bbsnippets.Uri?
---@return boolean
function M.is_file(parsed)
  return parsed ~= nil and parsed.id ~= nil and parsed.path ~= nil
end

--- `ws/id`, the way commands take a snippet and messages name it.
---@param workspace string
---@param id string
---@return string
function M.ref(workspace, id)
  return workspace .. "/" .. id
end

--- A `ws/id` argument taken apart (nil when it is not one).
---@param text string
---@return string? workspace
---@return string? id
function M.parse_ref(text)
  local workspace, id = text:match("^([^/]+)/([^/]+)/?$")
  return workspace, id
end

--- The name of a snippet's comments buffer, or of a draft in it (`draft` e.g. "new-3").
---@param workspace string
---@param id string
---@param draft? string
---@return string
function M.comments(workspace, id, draft)
  local text = COMMENTS_SCHEME .. "://" .. quote(workspace) .. "/" .. quote(id)
  if draft then
    text = text .. "/" .. quote(draft)
  end
  return text
end

return M
