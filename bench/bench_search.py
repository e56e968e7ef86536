"""Benchmark the local search index (#12) against the sandbox with Bitbucket-like latency.

1,000 snippets x 3 files (about 2 KB each) in one workspace, 20 ms added to every answer:

(a) the first index: requests (goal ⌈N/100⌉ + N) and wall time, from the daemon's start to ``complete``;
(b) a refresh after 5 snippets changed elsewhere: requests (goal <= 1 + 5) and time until all 5 are found;
(c) the index's size on disk;
(d) search latency through the daemon over LSP (``bbsnippets.search``), p50 and p99 of 300 queries
    (goal: p50 <= 10 ms);
(e) the daemon's RSS with the index open, beside an idle daemon with indexing off (goal: <= 20 MB more).

Prints figures; asserts nothing.

    .venv/bin/python bench/bench_search.py [--snippets 1000] [--latency-ms 20] [--queries 300]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_daemon import StdioClient, daemon_args, daemon_env, peak_rss_mb, percentile  # noqa: E402

from snippet_daemon.sandbox import Sandbox  # noqa: E402

WORDS = [
    *("retry", "backoff", "timeout", "request", "client", "server", "cache", "index", "query", "parse"),
    *("render", "config", "deploy", "build", "test", "queue", "worker", "token", "session", "handler"),
    *("logger", "metric", "trace", "buffer", "stream", "socket", "thread", "lock", "event", "signal"),
]


def file_text(rng: random.Random, number: int, size: int = 2048) -> bytes:
    """About ``size`` bytes of code-like text with identifiers worth searching for."""
    lines: list[str] = []
    while sum(len(line) + 1 for line in lines) < size:
        a, b = rng.choice(WORDS), rng.choice(WORDS)
        kind = rng.random()
        if kind < 0.3:
            lines.append(f"def {a}_{b}_{number}(value, {b}=None):")
        elif kind < 0.6:
            lines.append(f"    {a}_{b} = {b}.{a}(value) + {rng.randint(0, 9999)}")
        else:
            lines.append(f"# {a} the {b} when the {rng.choice(WORDS)} is {rng.choice(WORDS)}")
    return ("\n".join(lines) + "\n").encode()


def seed(sandbox: Sandbox, count: int) -> list[str]:
    store = sandbox._open()
    rng = random.Random(12)
    ids = []
    for number in range(count):
        files = {f"{rng.choice(WORDS)}_{number}_{part}.py": file_text(rng, number * 3 + part) for part in range(3)}
        record = store.create_snippet("demo", sandbox.users[0], title=f"snippet {number}", is_private=True, files=files)
        ids.append(record.id)
    return ids


async def start(sandbox: Sandbox, cache: Path, options: dict[str, Any]) -> StdioClient:
    env = {**daemon_env(sandbox), "XDG_CACHE_HOME": str(cache), "XDG_DATA_HOME": str(cache / "data")}
    client = await StdioClient.spawn(daemon_args(), env)
    await client.initialize({"workspace": "demo", "pollIntervalSeconds": 0, **options})
    return client


async def search(client: StdioClient, query: str) -> dict[str, Any]:
    result: dict[str, Any] = await client.command("bbsnippets.search", query=query)
    return result


async def wait_until(client: StdioClient, query: str, wanted: Any, timeout: float = 600.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if wanted(await search(client, query)):
            return time.perf_counter() - started
        await asyncio.sleep(0.1)
    raise TimeoutError(f"search {query!r} never got there")


def split(sandbox: Sandbox) -> tuple[int, int]:
    lists = sum(1 for request in sandbox.requests if request.path == "/2.0/snippets/demo")
    reads = sum(1 for request in sandbox.requests if request.path.startswith("/2.0/snippets/demo/"))
    return lists, reads


async def run(count: int, latency_ms: int, queries: int) -> None:
    with tempfile.TemporaryDirectory() as folder, Sandbox(data_dir=Path(folder) / "sandbox", port=0) as sandbox:
        began = time.perf_counter()
        ids = seed(sandbox, count)
        print(f"seeded {count} snippets x 3 files (~2 KB each) in {time.perf_counter() - began:.1f} s")
        sandbox.faults.latency_ms = latency_ms
        cache = Path(folder) / "cache"

        idle = await start(sandbox, Path(folder) / "idle-cache", {"indexing": False})
        await idle.command("bbsnippets.whoami")
        idle_rss = peak_rss_mb(idle.process.pid)[1]

        sandbox.clear_requests()
        options = {"indexing": True, "indexBudgetPerHour": 100_000, "indexRefreshSeconds": 1}
        started = time.perf_counter()
        daemon = await start(sandbox, cache, options)
        await wait_until(daemon, "snippet", lambda result: result["complete"])
        first_time = time.perf_counter() - started
        lists, reads = split(sandbox)
        print(
            f"(a) first index: {lists} list + {reads} content requests = {lists + reads} "
            f"(goal ⌈N/100⌉ + N = {-(-count // 100) + count}), {first_time:.1f} s at {latency_ms} ms latency"
        )

        sandbox.clear_requests()
        store = sandbox._open()
        for snippet_id in ids[:5]:  # the oldest: a refresh must still find them, at the top of the sorted list
            store.update_snippet("demo", snippet_id, sandbox.users[0], changes={"changed.txt": b"zanzibar marker\n"})
        took = await wait_until(daemon, "zanzibar", lambda result: len(result["results"]) == 5)
        lists, reads = split(sandbox)
        print(
            f"(b) refresh after 5 changed: {reads} content requests and {lists} list request(s) "
            f"(one per refresh of {options['indexRefreshSeconds']} s; goal <= 1 + 5 a refresh), found in {took:.1f} s"
        )

        size = sum(path.stat().st_size for path in (cache / "snippet-daemon").glob("index-*"))
        print(f"(c) index on disk: {size / 2**20:.1f} MB for {count * 3} files ({count * 3 * 2 / 1024:.1f} MB of text)")

        rng = random.Random(7)
        samples = []
        for _ in range(queries):
            word = rng.choice(WORDS)
            query = word[rng.randrange(0, max(1, len(word) - 3)) :][:5]
            if rng.random() < 0.3:
                query += "_" + rng.choice(WORDS)
            begun = time.perf_counter()
            await search(daemon, query)
            samples.append((time.perf_counter() - begun) * 1000)
        print(
            f"(d) search over LSP, {queries} queries: p50 {percentile(samples, 0.5):.1f} ms, "
            f"p99 {percentile(samples, 0.99):.1f} ms (goal p50 <= 10 ms)"
        )

        rss = peak_rss_mb(daemon.process.pid)[1]
        print(
            f"(e) RSS: idle daemon {idle_rss:.0f} MB, with the index open {rss:.0f} MB "
            f"(+{rss - idle_rss:.0f} MB; goal <= 20 MB more)"
        )
        await daemon.close()
        await idle.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snippets", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(run(args.snippets, args.latency_ms, args.queries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
