"""Benchmark ``snippet-daemon migrate``: N snippets (3 files each) with 20 ms of latency on both sides.

Three processes, as in real life: the sandbox (Bitbucket Cloud) in its own process, the fake add-on
(Bitbucket Server) in this one, and the migration as the user runs it (``python -m snippet_daemon
migrate``). Prints snippets per second (overall, and for the Cloud phase alone) and Cloud requests per
snippet, which should be 1 + comments with ``--provenance-file`` (the default here) and 2 + comments
with the provenance comment. It asserts nothing.

    .venv/bin/python bench/bench_migrate.py [--count N] [--concurrency C] [--provenance comment|file]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fake_addon import FakeAddon  # noqa: E402

API_TOKEN = "bench-token-not-secret"
EMAIL = "demo@sandbox.invalid"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def admin(base: str, method: str, path: str, body: dict[str, int] | None = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the sandbox exited before it served anything")
        try:
            admin(base, "GET", "/_sandbox/faults")
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the sandbox did not come up in 30 s")


def wait_with_cpu(process: subprocess.Popen[Any]) -> tuple[int, float]:
    """Reap ``process``; its exit code and the CPU seconds it and its reaped children used."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--max-comments", type=int, default=2, help="0..N comments per snippet (default 2)")
    parser.add_argument("--provenance", choices=["file", "comment"], default="file")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-migrate-"))
    port = free_port()
    web = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BITBUCKET_")}
    env.update(SNIPPET_SANDBOX_API_TOKEN=API_TOKEN, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    serve = ["sandbox", "--port", str(port), "--data", str(work / "sb"), "--no-demo", "--control"]
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "snippet_daemon", *serve],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(web, sandbox)
        admin(web, "PUT", "/_sandbox/faults", {"latency_ms": args.latency_ms})
        with FakeAddon(latency_ms=args.latency_ms, max_page=100) as addon:
            addon.seed(args.count, files_per_snippet=3, max_comments=args.max_comments)
            comments = sum(len(s.comments) for s in addon.snippets)
            admin(web, "DELETE", "/_sandbox/requests")
            command = [
                sys.executable,
                "-m",
                "snippet_daemon",
                "migrate",
                "--server",
                addon.base_url,
                "--to-workspace",
                "demo",
                "--all-users",
                "--concurrency",
                str(args.concurrency),
                "--state",
                str(work / "state.json"),
            ]
            if args.provenance == "file":
                command.append("--provenance-file")
            env.update(
                BITBUCKET_API_URL=f"{web}/2.0",
                BITBUCKET_USERNAME=EMAIL,
                BITBUCKET_API_TOKEN=API_TOKEN,
                BITBUCKET_SERVER_USERNAME=addon.username,
                BITBUCKET_SERVER_PASSWORD=addon.password,
            )
            started = time.monotonic()
            planned_at = None
            process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
            assert process.stdout is not None
            for line in process.stdout:
                if line.startswith("Plan:") and planned_at is None:
                    planned_at = time.monotonic()
                if line.startswith(("Plan:", "Estimate:", "Finished", "Bitbucket Cloud requests")):
                    print("  migrate> " + line.rstrip())
            code, migrate_cpu = wait_with_cpu(process)
            finished = time.monotonic()
        recorded = admin(web, "GET", "/_sandbox/requests")
    finally:
        sandbox.terminate()
        _, sandbox_cpu = wait_with_cpu(sandbox)
    assert isinstance(recorded, list)
    cloud_requests = len(recorded)
    writes = sum(1 for r in recorded if r.get("method") == "POST")
    total = finished - started
    cloud_phase = finished - (planned_at or started)
    per_snippet_goal = (1 if args.provenance == "file" else 2) + comments / args.count
    print(f"snippets: {args.count} (3 files each), comments: {comments}, exit code {code}")
    print(f"latency: {args.latency_ms} ms on the add-on and on the sandbox; concurrency {args.concurrency}")
    print(f"wall time: {total:.1f} s in all, {cloud_phase:.1f} s of it writing to Cloud")
    print(f"snippets per second: {args.count / total:.1f} overall, {args.count / cloud_phase:.1f} in the Cloud phase")
    print(
        f"CPU seconds: migration {migrate_cpu:.1f}, sandbox {sandbox_cpu:.1f} (with its git processes), "
        f"this process (fake add-on) {time.process_time():.1f}; {os.cpu_count()} cores"
    )
    print(
        f"Cloud requests: {cloud_requests} ({writes} writes) = {cloud_requests / args.count:.3f} per snippet "
        f"(1 + comments per snippet = {per_snippet_goal:.3f}; the rest is the one preflight read)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
