# The two commands of the README's quick start, and a few helpers.
.PHONY: demo test install lint bench sandbox

demo: install          ## the main job: a scripted session against the embedded sandbox
	.venv/bin/python scripts/demo.py

test:                  ## every test (lint, types, pytest with a real Secret Service)
	scripts/test.sh

install:
	scripts/install.sh

lint: install
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

sandbox: install       ## a local Bitbucket on http://127.0.0.1:7990/2.0
	.venv/bin/snippet-daemon sandbox
