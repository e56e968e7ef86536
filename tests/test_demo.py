"""``make demo`` (scripts/demo.py) runs end to end against a real sandbox and daemon, and says each step."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "scripts" / "demo.py"

STEPS = (
    "Start the sandbox",
    "Step 0: Start the language server",
    "Step 1: Share a selection",
    "Step 2: Open it as virtual documents",
    "Step 3: Edit and save",
    "Step 4: A second writer changes the snippet",
    "Step 5: Comment on a line, and reply",
    "Step 6: Watch the snippet",
    "Step 7: History and diff",
    "Step 8: Pull it into a folder",
    "Step 9: Search every snippet by content",
    "Demo finished",
    "What to try next",
)


@pytest.mark.timeout(60)
def test_the_demo_runs_every_step_and_exits_0() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BITBUCKET_", "SNIPPET_"))}
    result = subprocess.run(
        [sys.executable, str(DEMO)], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=50
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for title in STEPS:
        assert title in result.stdout, f"{title!r} is missing from the demo's output:\n{output}"
    assert "kind 'conflict', remoteRevision" in result.stdout
    assert "bbsnippets/didChange {kind: 'commit'" in result.stdout
    assert "bbsnippet://demo/" in result.stdout
    assert "wrote " in result.stdout
