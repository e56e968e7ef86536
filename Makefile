# The README's commands. `make demo` installs only the Python package; `make test` installs the rest.
.PHONY: demo test install dist vsix lint bench sandbox

demo:                  ## a scripted session against the embedded sandbox (installs the package into .venv)
	@scripts/install.sh package
	.venv/bin/python scripts/demo.py

test:                  ## every test (lint, types, pytest with a real Secret Service); installs everything
	scripts/test.sh

install:
	scripts/install.sh

dist:                  ## the wheel and the sdist, in dist/
	@scripts/install.sh dist
	rm -rf build dist/snippet_daemon-*
	env -u PYTHONDONTWRITEBYTECODE .venv/bin/python -m build --no-isolation --outdir dist .
	@rm -rf build
	@ls -l dist/snippet_daemon-*

vsix: dist             ## the VS Code extension with its daemon, for this machine's platform, in editors/vscode/dist/
	scripts/build_vsix.sh

lint: install
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

sandbox:               ## a local Bitbucket on http://127.0.0.1:7990/2.0
	@scripts/install.sh package
	.venv/bin/snippet-daemon sandbox
