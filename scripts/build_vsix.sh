#!/usr/bin/env bash
# `make vsix`: the VS Code extension with its daemon, for this machine's platform, as
# editors/vscode/dist/bitbucket-snippets.vsix (the only .vsix left there).
#   1. the daemon's wheel (make dist), unless one is already newer than every source file;
#   2. scripts/bundle_daemon.py: the wheel and its dependencies (pinned by requirements/constraints.txt), binary
#      wheels for CPython 3.11 to 3.14, into editors/vscode/bundled/libs;
#   3. the extension's build (esbuild) and `vsce package --target <this platform>`.
# Another platform: run `make vsix` there (compiled parts and platform markers are that machine's).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh dist
wheel=dist/snippet_daemon-$(.venv/bin/python -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')-py3-none-any.whl
if [ ! -f "$wheel" ] || [ -n "$(find snippet_daemon pyproject.toml -newer "$wheel" -type f -print -quit)" ]; then
  rm -rf build
  env -u PYTHONDONTWRITEBYTECODE .venv/bin/python -m build --no-isolation --wheel --outdir dist . >dist-build.log 2>&1 ||
    { tail -30 dist-build.log >&2; echo "vsix: building the wheel failed" >&2; exit 1; }
  rm -rf build dist-build.log
fi
bundle=editors/vscode/bundled/bundle.json
if [ ! -f "$bundle" ] || [ "$wheel" -nt "$bundle" ] || [ requirements/constraints.txt -nt "$bundle" ] ||
   [ scripts/bundle_daemon.py -nt "$bundle" ]; then
  .venv/bin/python scripts/bundle_daemon.py --wheel "$wheel"
fi
target=$(.venv/bin/python scripts/bundle_daemon.py --print-target)
cd editors/vscode
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
rm -f dist/*.vsix
npx vsce package --no-dependencies --target "$target" --out dist/bitbucket-snippets.vsix >.package.log 2>&1 ||
  { cat .package.log >&2; exit 1; }
size=$(stat -c %s dist/bitbucket-snippets.vsix 2>/dev/null || stat -f %z dist/bitbucket-snippets.vsix)
echo "vsix: editors/vscode/dist/bitbucket-snippets.vsix ($target, $((size / 1000)) kB)"
