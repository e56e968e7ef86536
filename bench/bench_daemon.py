"""Benchmark the language server itself: start-up, per-command overhead, and a 20 MB file.

(a) start-up: from spawning ``python -m snippet_daemon --stdio`` to the ``initialize`` response,
    median of N, beside a bare pygls server (``LanguageServer("bare", "1").start_io()``) measured
    in the same run, interleaved. Goal: daemon <= 1.1x bare.
(b) per-command overhead over the raw HTTP round trip, against an in-process sandbox (optionally
    with latency): p50/p90 of ``bbsnippets.history`` and of ``bbsnippets/readDirectory`` of the
    workspace (both always hit Bitbucket; the sandbox's request log proves it), beside the same
    Bitbucket request made directly with httpx and with the project's SnippetsClient, interleaved.
    overhead = daemon p50 - httpx p50. Goal: <= 5 ms. Also the floor: ``readDirectory`` of a
    snippet, served from the daemon's cache with no HTTP at all.
(d) a 20 MB text file: created over HTTP, then through the daemon ``bbsnippets.open`` +
    ``bbsnippets/readFile`` + ``bbsnippets/writeFile`` (changed content): wall time of each and the
    daemon's peak RSS (``VmHWM`` in /proc/PID/status) after each. Goal: peak <= 250 MB.

The client here is a minimal JSON-RPC-over-stdio one (a few microseconds per message), so the
figures are the daemon's, not an LSP client library's. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_daemon.py [--starts 10] [--iterations 100] [--latency-ms 0] [--size-mb 20]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from snippet_daemon.bitbucket import Credentials, SnippetsClient  # noqa: E402
from snippet_daemon.sandbox import Sandbox  # noqa: E402

BARE_SERVER = textwrap.dedent(
    """
    from pygls.lsp.server import LanguageServer

    LanguageServer("bare", "1").start_io()
    """
)


# --------------------------------------------------------------------------- a minimal LSP client


class RpcError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message"))
        self.error = error


class StdioClient:
    """JSON-RPC over a child's stdin/stdout: requests by id, notifications kept, nothing converted."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def spawn(cls, args: list[str], env: dict[str, str] | None = None) -> StdioClient:
        process = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
            limit=2**20,
        )
        return cls(process)

    def _write(self, message: dict[str, Any]) -> None:
        body = json.dumps(message, separators=(",", ":")).encode("utf-8")
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = 0
            while True:
                line = await stream.readline()
                if not line:
                    for future in self._pending.values():
                        if not future.done():
                            future.set_exception(EOFError("the server exited"))
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            message = json.loads(await stream.readexactly(length))
            if "id" in message and "method" not in message:
                waiter = self._pending.pop(message["id"]) if message["id"] in self._pending else None
                if waiter is not None and not waiter.done():
                    if "error" in message:
                        waiter.set_exception(RpcError(message["error"]))
                    else:
                        waiter.set_result(message.get("result"))
            elif "id" in message:  # a request from the server: answer null
                self._write({"jsonrpc": "2.0", "id": message["id"], "result": None})
            else:
                self.notifications.append(message)

    async def request(self, method: str, params: Any = None) -> Any:
        self._next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = future
        self._write({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        return await future

    def notify(self, method: str, params: Any = None) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    async def command(self, name: str, **arguments: Any) -> Any:
        return await self.request("workspace/executeCommand", {"command": name, "arguments": [arguments]})

    async def initialize(self, options: dict[str, Any] | None = None) -> Any:
        result = await self.request(
            "initialize",
            {"processId": os.getpid(), "rootUri": None, "capabilities": {}, "initializationOptions": options or {}},
        )
        self.notify("initialized", {})
        return result

    async def close(self) -> None:
        if self.process.returncode is None:
            try:
                await asyncio.wait_for(self.request("shutdown"), 5)
                self.notify("exit")
                await asyncio.wait_for(self.process.wait(), 5)
            except Exception:
                if self.process.returncode is None:
                    self.process.kill()
                    await self.process.wait()
        self._reader.cancel()


def daemon_args() -> list[str]:
    return [sys.executable, "-m", "snippet_daemon", "--stdio"]


PYCACHE = Path(tempfile.gettempdir()) / "bench-daemon-pycache"


def daemon_env(sandbox: Sandbox | None, user: int = 0) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BITBUCKET_", "SNIPPET_DAEMON_")) and key != "PYTHONDONTWRITEBYTECODE"
    }
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    # Byte-code cached as on any installed copy (an editable install under PYTHONDONTWRITEBYTECODE=1
    # would recompile every project module on each start), outside the source tree.
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    if sandbox is not None:
        account = sandbox.users[user]
        env.update(
            {
                "BITBUCKET_API_URL": sandbox.base_url,
                "BITBUCKET_USERNAME": account.email,
                "BITBUCKET_API_TOKEN": account.api_token,
            }
        )
    else:
        env["BITBUCKET_API_URL"] = "http://127.0.0.1:9/2.0"  # never contacted: initialize needs no network
    return env


def reset_peak_rss(pid: int) -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux >= 4.0); False where that is not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb(pid: int) -> tuple[float, float]:
    """(VmHWM, VmRSS) of ``pid`` in MB."""
    values: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("VmHWM:", "VmRSS:")):
                name, amount, _unit = line.split()
                values[name.rstrip(":")] = int(amount) / 1024
    return values.get("VmHWM", 0.0), values.get("VmRSS", 0.0)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


# --------------------------------------------------------------------------- (a) start-up


async def time_to_initialize(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    client = await StdioClient.spawn(args, env)
    await client.initialize({"pollIntervalSeconds": 0})
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed


async def bench_startup(starts: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-daemon-") as folder:
        bare_script = Path(folder) / "bare_server.py"
        bare_script.write_text(BARE_SERVER)
        servers = {"bare": [sys.executable, str(bare_script)], "daemon": daemon_args()}
        env = daemon_env(None)
        for args in servers.values():  # warm-up: file system caches, byte-code
            await time_to_initialize(args, env)
        times: dict[str, list[float]] = {name: [] for name in servers}
        for _ in range(starts):  # interleaved, so drift hits all alike
            for name, args in servers.items():
                times[name].append(await time_to_initialize(args, env))
    return {name: statistics.median(samples) * 1000 for name, samples in times.items()}


# --------------------------------------------------------------------------- (b) per-command overhead


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def bench_overhead(sandbox: Sandbox, iterations: int, latency_ms: int) -> list[dict[str, Any]]:
    account = sandbox.users[0]
    workspace = account.nickname
    credentials = Credentials(kind="apiToken", secret=account.api_token, username=account.email, source="environment")
    async with SnippetsClient(credentials, sandbox.base_url) as library:
        created = await library.create_snippet(
            workspace, {"a.py": b"print('a')\n", "b.py": b"print('b')\n"}, title="bench"
        )
        for number in range(3):  # a few commits of history
            await library.update_snippet(workspace, created.id, files={"a.py": f"print({number})\n".encode()})
    snippet_id = created.id

    client = await StdioClient.spawn(daemon_args(), daemon_env(sandbox))
    await client.initialize({"workspace": workspace, "pollIntervalSeconds": 0})
    raw = httpx.AsyncClient(auth=(account.email, account.api_token), timeout=30)
    library = SnippetsClient(credentials, sandbox.base_url)
    base = sandbox.base_url
    history_url = f"{base}/snippets/{workspace}/{snippet_id}/commits"
    list_url = f"{base}/snippets/{workspace}"

    async def raw_json(url: str) -> Any:
        response = await raw.get(url, params={"pagelen": 100}, headers={"Accept": "application/json"})
        response.raise_for_status()
        return response.json()

    cases: list[tuple[str, Callable[[], Awaitable[Any]], Callable[[], Awaitable[Any]], Callable[[], Awaitable[Any]]]]
    cases = [
        (
            "bbsnippets.history",
            lambda: client.command("bbsnippets.history", workspace=workspace, id=snippet_id),
            lambda: raw_json(history_url),
            lambda: library.list_commits(workspace, snippet_id),
        ),
        (
            "readDirectory bbsnippet://WS/",
            lambda: client.request("bbsnippets/readDirectory", {"uri": f"bbsnippet://{workspace}/"}),
            lambda: raw_json(list_url),
            lambda: library.list_snippets(workspace),
        ),
    ]
    results: list[dict[str, Any]] = []
    try:
        # Warm up every path (imports on first use, connections, credentials).
        for _name, daemon_call, raw_call, library_call in cases:
            for _ in range(5):
                await daemon_call()
                await raw_call()
                await library_call()
        sandbox.faults.latency_ms = latency_ms
        for name, daemon_call, raw_call, library_call in cases:
            daemon_ms: list[float] = []
            raw_ms: list[float] = []
            library_ms: list[float] = []
            sandbox.clear_requests()
            for _ in range(iterations):
                daemon_ms.append(await timed(daemon_call))
                raw_ms.append(await timed(raw_call))
                library_ms.append(await timed(library_call))
            served = len(sandbox.requests)
            results.append(
                {
                    "name": name,
                    "daemon": daemon_ms,
                    "raw": raw_ms,
                    "library": library_ms,
                    # 3 callers per iteration: the daemon must have sent its own request every time.
                    "http_per_daemon_call": (served - 2 * iterations) / iterations,
                }
            )
        # The floor: a request answered from the daemon's cache, no HTTP at all.
        snippet_uri = f"bbsnippet://{workspace}/{snippet_id}/"
        await client.request("bbsnippets/readDirectory", {"uri": snippet_uri})
        sandbox.clear_requests()
        cached_ms = [
            await timed(lambda: client.request("bbsnippets/readDirectory", {"uri": snippet_uri}))
            for _ in range(iterations)
        ]
        results.append(
            {
                "name": "readDirectory WS/ID/ (cached)",
                "daemon": cached_ms,
                "raw": None,
                "library": None,
                "http_per_daemon_call": len(sandbox.requests) / iterations,
            }
        )
    finally:
        sandbox.faults.latency_ms = 0
        await raw.aclose()
        await library.aclose()
        await client.close()
    return results


# --------------------------------------------------------------------------- (c) a 20 MB file


def big_text(size: int) -> bytes:
    line = b"0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ the quick brown fox\n"
    return (line * (size // len(line) + 1))[:size]


async def bench_big_file(sandbox: Sandbox, size_mb: int) -> dict[str, Any]:
    account = sandbox.users[0]
    workspace = account.nickname
    credentials = Credentials(kind="apiToken", secret=account.api_token, username=account.email, source="environment")
    content = big_text(size_mb * 1024 * 1024)
    async with SnippetsClient(credentials, sandbox.base_url) as library:
        created = await library.create_snippet(workspace, {"big.txt": content}, title="big")
    uri = f"bbsnippet://{workspace}/{created.id}/big.txt"

    client = await StdioClient.spawn(daemon_args(), daemon_env(sandbox))
    pid = client.process.pid
    stages: list[tuple[str, float, float, float]] = []  # name, seconds, peak MB during it, RSS MB after it
    per_stage = True

    async def stage(name: str, call: Callable[[], Awaitable[Any]]) -> Any:
        nonlocal per_stage
        per_stage = reset_peak_rss(pid) and per_stage
        started = time.perf_counter()
        result = await call()
        stages.append((name, time.perf_counter() - started, *peak_rss_mb(pid)))
        return result

    try:
        await client.initialize({"workspace": workspace, "pollIntervalSeconds": 0})
        await client.command("bbsnippets.whoami")  # credentials and the HTTP client loaded: a fair baseline
        stages.append(("idle (initialized)", 0.0, *peak_rss_mb(pid)))
        opened = await stage(
            "bbsnippets.open", lambda: client.command("bbsnippets.open", workspace=workspace, id=created.id)
        )
        assert opened["files"][0]["size"] == len(content)
        read = await stage("bbsnippets/readFile", lambda: client.request("bbsnippets/readFile", {"uri": uri}))
        data = base64.b64decode(read["base64"])
        assert data == content
        text = read.get("text") or data.decode("utf-8")
        del read, data
        marker = "# changed by the benchmark\n"
        changed = marker + text[: -len(marker)]
        written = await stage(
            "bbsnippets/writeFile", lambda: client.request("bbsnippets/writeFile", {"uri": uri, "text": changed})
        )
        assert written["revision"]
    finally:
        await client.close()
    return {"size": len(content), "stages": stages, "per_stage": per_stage}


# --------------------------------------------------------------------------- report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=10, help="start-ups of each server (median)")
    parser.add_argument("--iterations", type=int, default=100, help="calls per command (at least 50)")
    parser.add_argument("--latency-ms", type=int, default=0, help="sandbox latency per request in (b)")
    parser.add_argument("--size-mb", type=int, default=20)
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: a,b,c")
    args = parser.parse_args()
    skip = set(args.skip.split(",")) - {""}
    iterations = max(50, args.iterations)

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, pid {os.getpid()}\n")
    if "a" not in skip:
        startup = asyncio.run(bench_startup(args.starts))
        ratio = startup["daemon"] / startup["bare"]
        print(f"(a) spawn -> initialize response, median of {args.starts}, byte-code cached (goal <= 1.1x bare)")
        print(f"    {'bare pygls server':<40} {startup['bare']:8.1f} ms")
        print(f"    {'snippet-daemon --stdio':<40} {startup['daemon']:8.1f} ms  {ratio:5.2f}x  ", end="")
        print("ok" if ratio <= 1.1 else "MISSES the goal")
        print()

    if "b" in skip and "c" in skip:
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-daemon-") as folder, Sandbox(Path(folder) / "data") as sandbox:
        if "b" not in skip:
            results = asyncio.run(bench_overhead(sandbox, iterations, args.latency_ms))
            print(
                f"(b) per-command overhead, {iterations} calls each, sandbox latency {args.latency_ms} ms "
                "(goal: daemon p50 - httpx p50 <= 5 ms)"
            )
            header = f"    {'command':<32}{'daemon p50/p90':>16}{'httpx p50/p90':>16}{'client p50':>12}{'overhead':>10}"
            print(header + "  HTTP/call")
            for row in results:
                daemon = f"{percentile(row['daemon'], 0.5):.2f}/{percentile(row['daemon'], 0.9):.2f}"
                if row["raw"] is None:
                    raw = library = overhead = "-"
                    verdict = "(no HTTP: the LSP round-trip floor)"
                else:
                    gap = percentile(row["daemon"], 0.5) - percentile(row["raw"], 0.5)
                    raw = f"{percentile(row['raw'], 0.5):.2f}/{percentile(row['raw'], 0.9):.2f}"
                    library = f"{percentile(row['library'], 0.5):.2f}"
                    overhead = f"{gap:.2f}"
                    verdict = "ok" if gap <= 5 else "MISSES the goal"
                print(
                    f"    {row['name']:<32}{daemon:>16}{raw:>16}{library:>12}{overhead:>10}"
                    f"  {row['http_per_daemon_call']:.2f}  {verdict}"
                )
            print("    (ms; 'client' = the project's SnippetsClient in this process, without LSP)\n")
        if "c" not in skip:
            big = asyncio.run(bench_big_file(sandbox, args.size_mb))
            print(f"(c) a {big['size'] / 2**20:.0f} MB text file through the daemon (goal: peak RSS <= 250 MB)")
            peak_label = "peak MB" if big["per_stage"] else "VmHWM MB"
            print(f"    {'stage':<24}{'wall s':>8}{peak_label:>10}{'RSS after':>11}")
            for name, seconds, hwm, rss in big["stages"]:
                print(f"    {name:<24}{seconds:>8.2f}{hwm:>10.0f}{rss:>11.0f}")
            peak = max(hwm for _, _, hwm, _ in big["stages"])
            how = "VmHWM, reset before each stage" if big["per_stage"] else "VmHWM"
            print(f"    daemon peak RSS {peak:.0f} MB ({how}): {'ok' if peak <= 250 else 'MISSES the goal'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
