--- `:BBSnippet install`: the daemon in a virtual environment of its own under stdpath("data"), so the plugin
--- needs nothing but a Python 3.11-3.14 on the machine (see :h bbsnippets-install).
---
--- Where from: the repository the plugin sits in (`<plugin>/../..` holding pyproject.toml), pinned by its
--- requirements/constraints.txt; else the `install_source` option (a wheel's path or a pip requirement); else it
--- fails saying what to set. Headless (scripts, lazy.nvim's headless sync) it returns only when done and raises
--- on failure; in a UI it works in the background, shows each step, and ends with one message.

local M = {}

local PYTHONS = { "python3", "python3.14", "python3.13", "python3.12", "python3.11", "python" }
local SUPPORTED = "Python 3.11 to 3.14"

---@return string the folder of the virtual environment
function M.venv()
  return vim.fs.joinpath(vim.fn.stdpath("data") --[[@as string]], "bbsnippets", "venv")
end

local function windows()
  return vim.fn.has("win32") == 1
end

---@param venv? string
---@return string the daemon's program inside the venv (it may not exist yet)
function M.daemon_path(venv)
  venv = venv or M.venv()
  if windows() then
    return vim.fs.joinpath(venv, "Scripts", "snippet-daemon.exe")
  end
  return vim.fs.joinpath(venv, "bin", "snippet-daemon")
end

---@return string? the daemon `:BBSnippet install` made, when it is there
function M.installed()
  local path = M.daemon_path()
  return vim.fn.executable(path) == 1 and path or nil
end

---@return string the plugin's folder (editors/nvim in a clone)
function M.plugin_dir()
  local this = debug.getinfo(1, "S").source:sub(2)
  return vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(vim.fs.normalize(vim.fn.fnamemodify(this, ":p")))))
end

---@class bbsnippets.InstallSource
---@field spec string what pip installs (a folder, a wheel, a requirement)
---@field repository? boolean `spec` is the clone the plugin sits in
---@field constraints? string requirements/constraints.txt when installing from the repository
---@field describe string for messages

--- Where the daemon comes from, or why there is no source.
---@param install_source? string the option
---@param plugin_dir? string
---@return bbsnippets.InstallSource? source
---@return string? problem
function M.source(install_source, plugin_dir)
  local repo = vim.fs.normalize(vim.fs.joinpath(plugin_dir or M.plugin_dir(), "..", ".."))
  repo = vim.fn.fnamemodify(repo, ":p"):gsub("[/\\]$", "")
  if vim.fn.filereadable(vim.fs.joinpath(repo, "pyproject.toml")) == 1 then
    local constraints = vim.fs.joinpath(repo, "requirements", "constraints.txt")
    return {
      spec = repo,
      repository = true,
      constraints = vim.fn.filereadable(constraints) == 1 and constraints or nil,
      describe = "the repository " .. repo,
    }
  end
  if type(install_source) == "string" and install_source ~= "" then
    return { spec = install_source, describe = install_source }
  end
  return nil,
    "the plugin is not inside a clone of the snippet-daemon repository, so it does not know what to install: "
      .. 'set the install_source option to a wheel or a requirement, e.g. vim.g.bbsnippets = { install_source = "'
      .. '~/Downloads/snippet_daemon-0.1.0-py3-none-any.whl" }, then :BBSnippet install again'
end

---@return string? python the first Python 3.11-3.14 found
---@return string? problem
function M.find_python()
  local candidates = {}
  if type(vim.g.python3_host_prog) == "string" then
    table.insert(candidates, vim.fn.expand(vim.g.python3_host_prog))
  end
  vim.list_extend(candidates, PYTHONS)
  local rejected, seen = {}, {}
  for _, name in ipairs(candidates) do
    local path = vim.fn.exepath(name)
    if path ~= "" and not seen[path] then
      seen[path] = true
      local probe = vim.system({ path, "-c", "import sys; print(*sys.version_info[:2])" }, { text = true }):wait()
      local major, minor = (probe.stdout or ""):match("^(%d+) (%d+)")
      local version = tonumber(major or "") and (tonumber(major) * 100 + tonumber(minor)) or nil
      if probe.code == 0 and version and version >= 311 and version <= 314 then
        return path
      end
      table.insert(rejected, ("%s is %s"):format(path, major and (major .. "." .. minor) or "not runnable"))
    end
  end
  local found = #rejected > 0 and (" (found: " .. table.concat(rejected, "; ") .. ")") or ""
  return nil,
    ("the daemon needs %s%s: install one, e.g. `sudo apt install python3` or from python.org"):format(SUPPORTED, found)
end

---@class bbsnippets.InstallStep
---@field title string
---@field cmd string[]
---@field cleanup? string a temporary folder to delete once the step is over

--- The commands that install the daemon into the venv.
---@param python string
---@param source bbsnippets.InstallSource
---@return bbsnippets.InstallStep[]
function M.steps(python, source)
  local venv = M.venv()
  local venv_python = windows() and vim.fs.joinpath(venv, "Scripts", "python.exe")
    or vim.fs.joinpath(venv, "bin", "python")
  local steps = {}
  if vim.fn.executable(venv_python) ~= 1 then
    vim.fn.delete(venv, "rf") -- a broken venv (its Python gone) is made anew
    table.insert(steps, { title = "creating " .. venv, cmd = { python, "-m", "venv", venv } })
  end
  local spec = source.spec
  if source.repository then
    -- pip builds a folder in place (build/, *.egg-info): it builds a copy of the package's files instead, so
    -- nothing is written into the user's clone.
    spec = vim.fn.tempname()
    table.insert(steps, {
      title = "copying the package's files",
      cmd = {
        python,
        "-c",
        "import shutil, sys; shutil.copytree(sys.argv[1], sys.argv[2], ignore=shutil.ignore_patterns("
          .. "'.*', 'editors', 'tests', 'bench', 'build', 'dist', '*.egg-info', '__pycache__', 'node_modules'))",
        source.spec,
        spec,
      },
    })
  end
  local pip = { venv_python, "-m", "pip", "install", "--disable-pip-version-check", "--quiet", "--upgrade" }
  if source.constraints then
    vim.list_extend(pip, { "-c", source.constraints })
  end
  table.insert(pip, spec)
  table.insert(steps, {
    title = "installing from " .. source.describe,
    cmd = pip,
    cleanup = source.repository and spec or nil,
  })
  table.insert(steps, { title = "checking it starts", cmd = { M.daemon_path(venv), "--version" } })
  return steps
end

---@param result vim.SystemCompleted
---@return string
local function last_lines(result)
  local text = vim.trim((result.stderr or "") .. "\n" .. (result.stdout or ""))
  local lines = vim.split(text, "\n", { trimempty = true })
  return table.concat(vim.list_slice(lines, math.max(1, #lines - 5)), "\n")
end

---@param step bbsnippets.InstallStep
---@param result vim.SystemCompleted
local function failure(step, result)
  return ("bbsnippets: :BBSnippet install failed while %s (exit code %d):\n%s"):format(
    step.title,
    result.code,
    last_lines(result)
  )
end

---@param version_output string
local function done_message(version_output)
  local version = vim.trim(version_output):match("[%d%.]+%w*") or "?"
  return ("bbsnippets: snippet-daemon %s is installed in %s"):format(version, vim.fn.fnamemodify(M.venv(), ":~"))
end

--- Runs every step and waits: returns the success message, raises (error) on failure.
---@param steps bbsnippets.InstallStep[]
---@return string
local function run_blocking(steps)
  local last
  for _, step in ipairs(steps) do
    last = vim.system(step.cmd, { text = true }):wait()
    if step.cleanup then
      vim.fn.delete(step.cleanup, "rf")
    end
    if last.code ~= 0 then
      error(failure(step, last), 0)
    end
  end
  return done_message(last.stdout or "")
end

--- Runs the steps one after another in the background, showing each; `done(ok, message)` at the end.
---@param steps bbsnippets.InstallStep[]
---@param done fun(ok: boolean, message: string)
local function run_background(steps, done)
  local index = 0
  local function next_step(previous)
    index = index + 1
    local step = steps[index]
    if not step then
      return done(true, done_message(previous and previous.stdout or ""))
    end
    -- One line that fits the command line (a longer one would stop Neovim at a hit-enter prompt).
    local line = ("bbsnippets: installing the daemon (%d/%d: %s)…"):format(index, #steps, step.title)
    local room = math.max(20, vim.v.echospace - 1)
    if vim.fn.strdisplaywidth(line) > room then
      line = vim.fn.strcharpart(line, 0, room - 1) .. "…"
    end
    vim.api.nvim_echo({ { line } }, false, {})
    vim.system(
      step.cmd,
      { text = true },
      vim.schedule_wrap(function(result)
        if step.cleanup then
          vim.fn.delete(step.cleanup, "rf")
        end
        if result.code ~= 0 then
          return done(false, failure(step, result))
        end
        next_step(result)
      end)
    )
  end
  next_step(nil)
end

local running = false

--- `:BBSnippet install`. Headless: blocks, raises on failure. In a UI: background, one message at the end.
function M.command()
  local headless = #vim.api.nvim_list_uis() == 0
  local function fail(message)
    if headless then
      error(message, 0)
    end
    vim.notify(message, vim.log.levels.ERROR, { title = "bbsnippets" })
  end
  if running then
    return fail("bbsnippets: an install is already running")
  end
  local source, problem = M.source(require("bbsnippets.config").get().install_source)
  if not source then
    return fail("bbsnippets: " .. problem)
  end
  local python, no_python = M.find_python()
  if not python then
    return fail("bbsnippets: " .. no_python)
  end
  local steps = M.steps(python, source)
  if headless then
    local message = run_blocking(steps)
    io.stdout:write(message .. "\n")
    return
  end
  running = true
  run_background(steps, function(ok, message)
    running = false
    vim.api.nvim_echo({ { "" } }, false, {})
    vim.notify(message, ok and vim.log.levels.INFO or vim.log.levels.ERROR, { title = "bbsnippets" })
  end)
end

return M
