"""Running the sandbox in the foreground for ``snippet-daemon sandbox``, and where it keeps its data.

The banner printed here is the one place where tokens are shown: the user needs them to point the
product (or curl) at the sandbox. Tokens are random the first time, then kept in the data folder
(``credentials.json``, 0600, as the sandbox's own users are no real accounts) so that a sign-in stored in an
editor survives a restart; ``new_tokens`` makes new ones, and ``api_token`` fixes ``users[0]``'s for one run.
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TextIO

from snippet_daemon.paths import user_data_dir, write_private

from .accounts import SandboxUser, default_users
from .server import Sandbox

__all__ = ["CREDENTIALS_FILE", "default_data_dir", "run_sandbox", "sandbox_users"]

CREDENTIALS_FILE = "credentials.json"


def default_data_dir() -> Path:
    """``sandbox`` under the per-user data folder (``$XDG_DATA_HOME/snippet-daemon`` on Linux)."""
    return user_data_dir() / "sandbox"


def sandbox_users(data_dir: Path, *, new_tokens: bool = False) -> list[SandboxUser]:
    """The default users with the tokens this data folder handed out before, so that what a user signed in with
    keeps working after a restart; fresh tokens (saved, 0600) the first time, for a user it has none for, or when
    ``new_tokens`` asks for them."""
    users = default_users()
    path = data_dir / CREDENTIALS_FILE
    stored: dict[str, object] = {}
    if not new_tokens:
        try:
            document = json.loads(path.read_bytes())
            stored = document.get("users", {}) if isinstance(document, dict) else {}
        except (OSError, ValueError):
            stored = {}  # none yet, or unreadable: new tokens, saved below
    changed = new_tokens or not stored
    for user in users:
        tokens = stored.get(user.nickname)
        if isinstance(tokens, dict) and all(isinstance(tokens.get(k), str) for k in ("apiToken", "accessToken")):
            user.api_token, user.access_token = tokens["apiToken"], tokens["accessToken"]
        else:
            changed = True
    if changed:
        saved = {user.nickname: {"apiToken": user.api_token, "accessToken": user.access_token} for user in users}
        write_private(path, json.dumps({"users": saved}, indent=2).encode())
    return users


def _banner(sandbox: Sandbox, demo_ids: list[str]) -> str:
    first, *others = sandbox.users
    lines = [
        f"Snippet sandbox (Bitbucket Cloud snippets API) at {sandbox.base_url}",
        f"Web pages at {sandbox.web_url}, data in {sandbox.data_dir}",
        "",
        f"Use it as {first.display_name} ({first.nickname}), scopes: {', '.join(sorted(first.scopes))}",
        f"  export BITBUCKET_API_URL={sandbox.base_url}",
        f"  export BITBUCKET_USERNAME={first.email}",
        f"  export BITBUCKET_API_TOKEN={first.api_token}",
        f"  Bearer token: {first.access_token}",
    ]
    if others:
        lines += ["", "Other users (email / API token / Bearer token / scopes):"]
        for user in others:
            lines.append(
                f"  {user.nickname}: {user.email} / {user.api_token} / {user.access_token} / "
                f"{', '.join(sorted(user.scopes))}"
            )
    lines += [
        "",
        f"Workspaces: {', '.join(sorted({first.nickname, 'sandbox-team'}))} (and free-plan, which has no snippets)",
    ]
    if demo_ids:
        lines.append(f"Demo snippets in {first.nickname}: {', '.join(demo_ids)}")
    lines += [
        "",
        f"Tokens stay the same across restarts (in {sandbox.data_dir / CREDENTIALS_FILE}); --new-tokens renews them.",
        "Press Ctrl+C to stop.",
    ]
    return "\n".join(lines)


def run_sandbox(
    host: str,
    port: int,
    data_dir: Path,
    *,
    seed_demo: bool,
    api_token: str | None,
    stream: TextIO,
    control_routes: bool = False,
    new_tokens: bool = False,
) -> int:
    """Serve until Ctrl+C or SIGTERM, then stop cleanly. Returns the process exit code."""
    try:
        users = sandbox_users(data_dir, new_tokens=new_tokens)
    except OSError as error:
        print(f"snippet-daemon sandbox: cannot keep its data in {data_dir}: {error.strerror or error}", file=stream)
        return 1
    if api_token:
        users[0].api_token = api_token
    sandbox = Sandbox(data_dir, host=host, port=port, users=users, control_routes=control_routes)
    try:
        sandbox.start()
    except OSError as error:
        print(f"snippet-daemon sandbox: cannot serve on {host}:{port}: {error}", file=stream)
        sandbox.stop()
        return 1
    stopping = threading.Event()

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    # Signal handlers can only be installed from the main thread; elsewhere only Ctrl+C stops us.
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_sigterm) if in_main_thread else None
    try:
        demo_ids = sandbox.seed_demo() if seed_demo else []
        print(_banner(sandbox, demo_ids), file=stream, flush=True)
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    print("Sandbox stopped.", file=stream, flush=True)
    return 0
