"""Running the sandbox in the foreground for ``snippet-daemon sandbox``, and where it keeps its data.

The banner printed here is the one place where tokens are shown: the user needs them to point the
product (or curl) at the sandbox. Tokens are random per run unless ``api_token`` fixes ``users[0]``'s.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TextIO

from snippet_daemon.paths import user_data_dir

from .accounts import default_users
from .server import Sandbox

__all__ = ["default_data_dir", "run_sandbox"]


def default_data_dir() -> Path:
    """``sandbox`` under the per-user data folder (``$XDG_DATA_HOME/snippet-daemon`` on Linux)."""
    return user_data_dir() / "sandbox"


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
    lines += ["", "Press Ctrl+C to stop."]
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
) -> int:
    """Serve until Ctrl+C or SIGTERM, then stop cleanly. Returns the process exit code."""
    users = default_users()
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
