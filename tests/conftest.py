"""Shared fixtures: a real sandbox server on loopback for every test that needs Bitbucket."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from snippet_daemon.bitbucket import KeyringStore

if TYPE_CHECKING:
    from snippet_daemon.bitbucket import SnippetsClient
    from snippet_daemon.sandbox import Sandbox
    from tests.daemon import Daemon

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    from snippet_daemon.sandbox import Sandbox

    # started for tests: its control routes (/_sandbox/faults, /_sandbox/requests) answer without credentials
    with Sandbox(data_dir=tmp_path / "sandbox-data", port=0, control_routes=True) as server:
        yield server


# The sandbox's "applied, but the answer never came" knobs, and what the client sees of the first try.
LOST_ANSWERS = {"drop_after_apply_next": 0, "bad_gateway_after_apply_next": 502}


def served(sandbox: Sandbox) -> list[tuple[str, int]]:
    """Each request the sandbox served: method and status (0: no answer at all)."""
    return [(request.method, request.status) for request in sandbox.requests]


@pytest.fixture
async def daemon(sandbox: Sandbox) -> AsyncIterator[Daemon]:
    """The real daemon over stdio, signed in as the sandbox's first user, as VS Code starts it. A test file that
    needs other options or every client's capabilities defines its own ``daemon``."""
    from tests.daemon import start_daemon

    started = await start_daemon(sandbox)
    try:
        yield started
    finally:
        await started.stop()


def _secret_service_available() -> bool:
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return False
    import keyring

    return "SecretService" in type(keyring.get_keyring()).__module__


@pytest.fixture
def secret_service() -> Iterator[KeyringStore]:
    if not _secret_service_available():
        if os.environ.get("SNIPPET_DAEMON_REQUIRE_KEYRING") == "1":
            pytest.fail("a real Secret Service was required (SNIPPET_DAEMON_REQUIRE_KEYRING=1) but none is running")
        pytest.skip("no Secret Service session: run under .ci/run (gnome-keyring in dbus-run-session)")
    store = KeyringStore(service="bitbucket-snippets-test")
    yield store
    for url in ("http://a.invalid/2.0", "http://b.invalid/2.0"):
        store.delete(url)


def require_shared() -> Path:
    """../shared (the Bitbucket API reference: spec, recorded examples), or skip.

    Every such test skips with this one reason, so the summary gives them one line (pytest_terminal_summary).
    """
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside this checkout: the tests against Bitbucket's reference material skip")
    return SHARED


@pytest.fixture
def shared_dir() -> Path:
    return require_shared()


# --------------------------------------------------------------------------- clients

FAST_RETRY_KWARGS: dict[str, Any] = {
    "rate_limit_budget": 2.0,
    "base_delay": 0.01,
    "max_delay": 0.05,
    "transient_attempts": 3,
}


class RecordingTransport(httpx.AsyncBaseTransport):
    """The real HTTP transport, keeping every request it sent so tests can read the wire."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def make_client(
    sandbox: Sandbox,
    user: int = 0,
    *,
    kind: str = "apiToken",
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Any = None,
) -> SnippetsClient:
    """A client for one of the sandbox's users, with back-off shortened for tests."""
    from snippet_daemon.bitbucket import Credentials, RetryPolicy, SnippetsClient

    account = sandbox.users[user]
    if kind == "accessToken":
        credentials = Credentials(kind="accessToken", secret=account.access_token)
    else:
        credentials = Credentials(kind="apiToken", secret=account.api_token, username=account.email)
    extra: dict[str, Any] = {"sleep": sleep} if sleep else {}
    return SnippetsClient(
        credentials, sandbox.base_url, retry=RetryPolicy(**FAST_RETRY_KWARGS), transport=transport, **extra
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per reason why tests skipped ("25 skipped: ../shared is not beside this checkout: ..."), whichever
    file or line they skipped from, so a test that cannot run here says why without a wall of SKIPPED lines."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"{count} skipped: {reason}")
