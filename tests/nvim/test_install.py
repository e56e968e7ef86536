"""`:BBSnippet install` as a new user meets it: a fresh clone of the repository, no daemon on PATH, real headless
Neovim. The daemon lands in a venv under stdpath("data") (pinned by the clone's constraints; pip reaches PyPI
only), the default cmd uses it, and opening and :w a snippet work against the sandbox."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from snippet_daemon.sandbox import Sandbox
from tests.conftest import make_client
from tests.nvim.editor import run_flow

ROOT = Path(__file__).resolve().parents[2]
WORKSPACE = "demo"


def path_without_a_daemon() -> str:
    """PATH less this venv's bin (and any other folder holding a snippet-daemon)."""
    venv_bin = str(Path(sys.executable).parent)
    folders = [
        folder
        for folder in os.environ.get("PATH", "").split(os.pathsep)
        if folder and folder != venv_bin and not (Path(folder) / "snippet-daemon").exists()
    ]
    return os.pathsep.join(folders)


@pytest.mark.timeout(300)
async def test_install_from_a_fresh_clone_then_open_and_write(sandbox: Sandbox, tmp_path: Path) -> None:
    clone = tmp_path / "snippet-daemon"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    async with make_client(sandbox) as client:
        snippet = await client.create_snippet(WORKSPACE, {"app.py": b"print('before')\n"}, title="install")
    path = path_without_a_daemon()
    assert shutil.which("snippet-daemon", path=path) is None
    result = await run_flow(
        "install",
        sandbox,
        tmp_path,
        context={"workspace": WORKSPACE, "id": snippet.id},
        env={"PATH": path},
        plugin=clone / "editors" / "nvim",
        timeout=240,
    )
    venv = tmp_path / "xdg-data" / "nvim" / "bbsnippets" / "venv"
    assert (venv / "bin" / "snippet-daemon").is_file()
    status = subprocess.run(
        ["git", "status", "--porcelain", "--ignored"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout
    assert status == "", f"the install wrote into the clone:\n{status}"
    async with make_client(sandbox) as client:
        content = await client.get_snippet_content(WORKSPACE, snippet.id)
    assert content.files["app.py"] == b"print('before')\nprint('after :BBSnippet install')\n"
    print(next(line for line in result.stderr.splitlines() if line.startswith("[install]")))
