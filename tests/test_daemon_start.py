"""Starting the daemon the ways editors do, and its settings: options first, then the environment."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from snippet_daemon import protocol
from snippet_daemon.sandbox import Sandbox
from tests.daemon import CLIENTS, Daemon, DaemonError, daemon_env, start_daemon, user_env

CONSOLE_SCRIPT = Path(sys.executable).with_name("snippet-daemon")


@pytest.mark.parametrize(
    "command",
    [
        pytest.param([str(CONSOLE_SCRIPT)], id="snippet-daemon"),
        pytest.param([str(CONSOLE_SCRIPT), "--stdio"], id="snippet-daemon --stdio"),
        pytest.param([sys.executable, "-m", "snippet_daemon"], id="python -m snippet_daemon"),
    ],
)
async def test_every_way_of_starting_it_speaks_lsp_and_lists_every_command(
    sandbox: Sandbox, command: list[str]
) -> None:
    if not shutil.which(command[0]):
        pytest.skip(f"{command[0]} is not installed")
    config = ClientServerConfig(server_command=command, server_env=daemon_env(sandbox, user_env(sandbox), None))
    client = await config.start()
    assert isinstance(client, LanguageClient)
    try:
        result = await client.initialize_session(
            types.InitializeParams(capabilities=client_capabilities("visual-studio-code"))
        )
        assert result.server_info is not None and result.server_info.name == "snippet-daemon"
        provider = result.capabilities.execute_command_provider
        assert provider is not None and sorted(provider.commands) == sorted(protocol.COMMANDS)
        listed = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=protocol.LIST, arguments=[{"workspace": "demo"}])
        )
        assert listed == {"snippets": []}
    finally:
        await client.shutdown_session()
        await client.stop()


@pytest.mark.parametrize("capabilities", CLIENTS)
async def test_workspace_falls_back_to_the_environment(sandbox: Sandbox, capabilities: str) -> None:
    sandbox.seed_demo()
    daemon = await start_daemon(
        sandbox, capabilities=capabilities, options={"workspace": None}, env={"BITBUCKET_WORKSPACE": "demo"}
    )
    try:
        listed = await daemon.command(protocol.LIST)
        assert listed["snippets"] and {s["workspace"] for s in listed["snippets"]} == {"demo"}
    finally:
        await daemon.stop()


@pytest.mark.parametrize("capabilities", CLIENTS)
async def test_bad_options_are_reported_and_the_defaults_used(sandbox: Sandbox, capabilities: str) -> None:
    daemon = await start_daemon(sandbox, capabilities=capabilities, options={"pollIntervalSeconds": "often"})
    try:
        assert any("pollIntervalSeconds" in message for message in daemon.shown_messages)
        assert (await daemon.command(protocol.LIST, workspace="demo")) == {"snippets": []}
    finally:
        await daemon.stop()


async def _log_lines(daemon: Daemon) -> list[str]:
    await daemon.command(protocol.LIST, workspace="demo")
    return daemon.log_messages


@pytest.mark.parametrize(
    ("options", "env_level", "expect_debug"),
    [
        pytest.param({"logLevel": "debug"}, "info", True, id="option debug"),
        pytest.param({"logLevel": "info"}, "debug", False, id="option info wins over env"),
        pytest.param({}, "info", False, id="env info"),
        pytest.param({}, "debug", True, id="env debug"),
    ],
)
async def test_log_level_option_then_env_controls_what_reaches_the_client(
    sandbox: Sandbox, options: dict[str, Any], env_level: str, expect_debug: bool
) -> None:
    daemon = await start_daemon(sandbox, options=options, env={"SNIPPET_DAEMON_LOG": env_level})
    try:
        lines = await _log_lines(daemon)
        assert any("ready" in line for line in lines)  # info always arrives
        assert any("GET " in line and "/snippets/demo" in line for line in lines) == expect_debug
    finally:
        await daemon.stop()


async def test_the_api_url_option_wins_over_the_environment(sandbox: Sandbox) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/2.0"
    daemon = await start_daemon(sandbox, options={"apiUrl": sandbox.base_url}, env={"BITBUCKET_API_URL": closed})
    try:
        assert await daemon.command(protocol.LIST, workspace="demo") == {"snippets": []}
    finally:
        await daemon.stop()


def test_start_up_does_not_import_the_http_client_keyring_sandbox_or_sqlite() -> None:
    # Those cost ~400 ms; the daemon loads them on first use, after it has answered initialize
    # (SQLite when the search index opens: never, with indexing off).
    heavy = ("httpx", "keyring", "snippet_daemon.bitbucket", "snippet_daemon.sandbox", "sqlite3")
    probe = (
        "import sys; from snippet_daemon.app import create_server; create_server(); "
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


async def test_a_missing_required_argument_says_which(sandbox: Sandbox) -> None:
    daemon = await start_daemon(sandbox)
    try:
        with pytest.raises(DaemonError) as caught:
            await daemon.command(protocol.OPEN, workspace="demo")
        assert caught.value.kind == "invalidArgument" and "id is missing" in caught.value.message
        with pytest.raises(DaemonError) as caught:
            await daemon.request(protocol.READ_FILE, uri="file:///etc/passwd")
        assert caught.value.kind == "invalidArgument" and "bbsnippet://" in caught.value.message
        args: list[Any] = [{"workspace": "demo"}, {"extra": True}]
        with pytest.raises(Exception, match="one object argument"):
            await daemon.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command=protocol.LIST, arguments=args)
            )
    finally:
        await daemon.stop()


def _frame(message: dict[str, Any]) -> bytes:
    import json

    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_a_quick_exit_while_work_is_still_logging_ends_the_process(sandbox: Sandbox) -> None:
    """Right after ``initialized`` the daemon looks up credentials in the background and logs it; when
    ``exit`` has already closed stdout, that log line must not loop (it used to spin at 100% CPU)."""

    env = daemon_env(sandbox, user_env(sandbox), None)  # logs "credentials from the environment" when found
    daemon = subprocess.Popen(
        [sys.executable, "-m", "snippet_daemon", "--stdio"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert daemon.stdin is not None
    try:
        for message in (
            {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}},
            {"jsonrpc": "2.0", "method": "initialized", "params": {}},
            {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
            {"jsonrpc": "2.0", "method": "exit"},
        ):
            daemon.stdin.write(_frame(message))
        daemon.stdin.flush()
        daemon.wait(timeout=15)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            pytest.fail("the daemon did not exit after shutdown + exit")
