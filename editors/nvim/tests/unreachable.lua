-- A watched snippet whose workspace is gone (#19 item 6): the daemon asks once, with vim.ui.select,
-- whether to stop watching it; "Unwatch" unwatches it (one DELETE of the watch), nothing is asked again,
-- and its open buffer is not reloaded (that read would only fail).
local h = require("helpers")

h.run(function()
  local ctx = h.context
  vim.g.bbsnippets = {
    workspace = ctx.workspace,
    poll_interval_seconds = 0.3,
    daemon_options = { pollBudgetPerHour = 100000 },
  }
  local ref = ctx.gone .. "/" .. ctx.id
  local buf = h.open_snippet(ctx.gone, ctx.id, 1)[1]
  require("bbsnippets.watch").watch({ workspace = ctx.gone, id = ctx.id })
  h.wait_message("watching " .. vim.pesc(ref))
  h.requests() -- forget what came before

  h.will_select("^Unwatch$")
  h.ask("remove_workspace", { workspace = ctx.gone }) -- its list answers 404 from now on
  local function question()
    for _, prompt in ipairs(h.prompts) do
      if prompt.prompt:find(ref .. " is out of reach", 1, true) then
        return prompt
      end
    end
  end
  h.wait_for("the daemon's question", question, 20000)
  h.equal({ "Unwatch", "Keep watching" }, question().items, "the two answers")
  h.wait_for("the unwatch request", function()
    return vim.tbl_contains(h.requests(), "DELETE /2.0/snippets/" .. ref .. "/watch")
  end, 10000)
  vim.wait(1500) -- several more polls: nothing is asked or said again
  local asked = vim.tbl_filter(function(prompt)
    return prompt.prompt:find(ref, 1, true) ~= nil
  end, h.prompts)
  h.equal(1, #asked, "asked once: " .. vim.inspect(h.prompts))
  h.equal("soon gone", h.text(buf), "the open buffer is left as it is (not reloaded from a gone workspace)")
  local errors = vim.tbl_filter(function(entry)
    return entry.level == vim.log.levels.ERROR
  end, h.messages)
  h.equal(0, #errors, "no error: " .. vim.inspect(h.messages))
  h.assert_no_traceback()
end)
