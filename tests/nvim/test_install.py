"""`:BBSnippet install` as a new user meets it: a fresh clone of the repository, no daemon on PATH, real headless
Neovim. The daemon lands in a venv under stdpath("data") (pinned by the clone's constraints; pip reaches PyPI
only), the default cmd uses it, and opening and :w a snippet work against the sandbox. Then the same command in
Neovim in a real terminal (tmux): in the background, with progress, one message at the end."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
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

    # Again, as a user in a terminal updates it (the same venv: pip finds everything but the daemon in place).
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (scripts/install.sh installs it): the terminal half of this test")
    install_in_a_terminal(clone, tmp_path, tmp_path / "xdg-data")


def tmux(socket: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, check=False).stdout


def install_in_a_terminal(clone: Path, tmp_path: Path, data_home: Path) -> None:
    """`:BBSnippet install` typed into Neovim in a real terminal (tmux): it returns at once (the next command is
    taken while it runs), each step shows on one line (no hit-enter prompt), and one message ends it."""
    from tests.nvim.editor import nvim_binary

    script = tmp_path / "nvim.sh"
    env = {
        "PATH": path_without_a_daemon(),
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(data_home),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "TERM": "xterm-256color",
    }
    exports = "".join(f"export {key}='{value}'\n" for key, value in env.items())
    script.write_text(f"{exports}exec '{nvim_binary()}' --clean --cmd 'set rtp^={clone / 'editors' / 'nvim'}'\n")
    socket = f"bbsnippets-install-{os.getpid()}"
    tmux(socket, "new-session", "-d", "-x", "160", "-y", "20", f"sh {script}")
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 20
        while "[No Name]" not in tmux(socket, "capture-pane", "-p") and time.monotonic() < deadline:
            time.sleep(0.1)
        tmux(socket, "send-keys", ":BBSnippet install", "Enter")
        # The command returns at once: Neovim takes the next command while the install runs.
        tmux(socket, "send-keys", ":let g:typed = 'still here'", "Enter")
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            screen = tmux(socket, "capture-pane", "-p")
            seen.append(screen)
            if "is installed in" in screen or "install failed" in screen:
                break
            time.sleep(0.2)
        tmux(socket, "send-keys", ":echo g:typed", "Enter")
        time.sleep(0.5)
        typed = tmux(socket, "capture-pane", "-p")
    finally:
        tmux(socket, "kill-server")
    screens = "\n".join(seen)
    assert re.search(r"installing the daemon \(\d/\d: ", screens), screens[-3000:]
    assert "Press ENTER" not in screens, "a message longer than the command line stopped Neovim"
    assert "snippet-daemon 0.1.0 is installed in" in seen[-1], seen[-1]
    assert "still here" in typed, typed
    assert (data_home / "nvim" / "bbsnippets" / "venv" / "bin" / "snippet-daemon").is_file()
