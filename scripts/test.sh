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
