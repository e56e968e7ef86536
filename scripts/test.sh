#!/usr/bin/env bash
# Every check, as CI runs it: lint, types, then the whole pytest suite inside a private D-Bus
# session with an unlocked gnome-keyring, so the keyring tests talk to a real Secret Service.
# Extra arguments go to pytest (e.g. scripts/test.sh -k client -x).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "== ruff"
ruff check .
ruff format --check . >/dev/null || { ruff format --diff . | head -50; exit 1; }
echo "== mypy"
mypy
echo "== stylua (editors/nvim)"
if [ -d editors/nvim/node_modules/@johnnymorganz/stylua ]; then
  npm --prefix editors/nvim run -s lint
else
  echo "(npm missing: StyLua not installed, the Lua style check is skipped)"
fi
# ---- VS Code client (editors/vscode) -------------------------------------------------- begin
# Types, lint, unit tests (node --test), then real VS Code: code-server + Chromium against the real daemon
# and sandbox (editors/vscode/test/e2e/run.mjs; it runs its own D-Bus session with gnome-keyring).
echo "== VS Code"
vscode_began=$SECONDS
(
  cd editors/vscode
  npm run --silent typecheck
  npm run --silent lint
  unit_log=$(mktemp)
  npm run --silent test:unit >"$unit_log" 2>&1 || { cat "$unit_log"; rm -f "$unit_log"; exit 1; }
  grep -E '^# (tests|pass|fail)' "$unit_log" | tr '\n' ' ' | sed 's/^/unit tests: /;s/ $/\n/'
  rm -f "$unit_log"
  node test/e2e/run.mjs
)
echo "== VS Code stage: $((SECONDS - vscode_began)) s"
# ---- VS Code client (editors/vscode) ---------------------------------------------------- end
echo "== pytest"
if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
  session=$(mktemp -d)
  trap 'rm -rf "$session"' EXIT
  mkdir -p "$session/run" "$session/data" && chmod 700 "$session/run"
  export SNIPPET_DAEMON_REQUIRE_KEYRING=1
  HOME="$session" XDG_DATA_HOME="$session/data" XDG_RUNTIME_DIR="$session/run" \
    dbus-run-session -- sh -c \
      'printf unlock | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec pytest "$@"' \
      sh "$@" 2> >(grep -v -e 'dbus-daemon\[' -e 'Unable to set up transient service directory' >&2)
else
  echo "(no dbus-run-session/gnome-keyring: the Secret Service tests will skip)"
  pytest "$@"
fi
