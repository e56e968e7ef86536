"""The README's main job: try snippet-daemon end to end against the embedded sandbox.

Starts ``snippet-daemon sandbox`` on a free loopback port with a throw-away data folder, then
runs the CLI as a user would, printing every command and what it answered:
share a selection -> list -> pull into a folder -> it changes remotely -> pull refuses to
overwrite a local edit -> pull --overwrite. Exits non-zero if any step does not do what it should.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

SANDBOX_EMAIL = "demo@sandbox.invalid"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def step(title: str) -> None:
    print(f"\n\033[1m== {title}\033[0m", flush=True)


def run(args: list[str], env: dict[str, str], *, expect: int = 0) -> str:
    print("$ snippet-daemon " + " ".join(shlex.quote(a) for a in args), flush=True)
    result = subprocess.run(
        [sys.executable, "-m", "snippet_daemon", *args], env=env, capture_output=True, text=True, timeout=60
    )
    for line in (result.stdout + result.stderr).splitlines():
        print("  " + line)
    if result.returncode != expect:
        raise SystemExit(f"demo: expected exit {expect}, got {result.returncode}")
    return result.stdout


def wait_until_up(base_url: str, token: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("demo: the sandbox exited early")
        try:
            if httpx.get(f"{base_url}/user", auth=(SANDBOX_EMAIL, token), timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("demo: the sandbox did not start within 30 s")


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="snippet-daemon-demo-"))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/2.0"
    token = secrets.token_urlsafe(24)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BITBUCKET_")}
    env.update(
        {
            "SNIPPET_SANDBOX_API_TOKEN": token,
            "BITBUCKET_API_URL": base_url,
            "BITBUCKET_USERNAME": SANDBOX_EMAIL,
            "BITBUCKET_API_TOKEN": token,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",  # never touch the user's keyring
        }
    )

    step(f"Start the sandbox (a local Bitbucket) on {base_url}")
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "snippet_daemon", "sandbox", "--port", str(port), "--data", str(work / "data")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_up(base_url, token, sandbox)
        run(["whoami"], env)

        step("Share lines 3-6 of a file as a private snippet")
        source = work / "project" / "retry.py"
        source.parent.mkdir(parents=True)
        source.write_text(
            "import time\n\n"
            "def retry(call, attempts=3):\n"
            "    for attempt in range(attempts):\n"
            "        try: return call()\n"
            "        except OSError: time.sleep(2 ** attempt)\n"
        )
        link = run(["share", f"{source}:3-6", "--title", "retry helper"], env).strip()
        snippet_ref = "/".join(link.rstrip("/").split("/")[-2:])

        step("List the workspace's snippets")
        run(["list"], env)

        step("Pull the snippet into a folder")
        folder = work / "pulled"
        run(["pull", snippet_ref, str(folder)], env)
        for line in (folder / "retry.py").read_text().splitlines():
            print(f"    | {line}")

        step("Someone changes the snippet on Bitbucket (a form-data PUT, as curl -F sends); we edit our copy")
        workspace, snippet_id = snippet_ref.split("/")
        httpx.put(
            f"{base_url}/snippets/{workspace}/{snippet_id}",
            auth=(SANDBOX_EMAIL, token),
            files={"file": ("retry.py", b"def retry(call, attempts=5):\n    ...\n")},
            timeout=10,
        ).raise_for_status()
        (folder / "retry.py").write_text("# my local notes\n")
        run(["pull", snippet_ref, str(folder)], env, expect=3)
        assert (folder / "retry.py").read_text() == "# my local notes\n", "a local edit was overwritten"

        step("Overwrite on purpose")
        run(["pull", snippet_ref, str(folder), "--overwrite"], env)
        print("\nDemo finished: every step did what it should.")
        return 0
    finally:
        sandbox.terminate()
        try:
            sandbox.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sandbox.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
