"""Install figures a new user meets (printed, not asserted): `make demo` on a fresh clone, `:BBSnippet install`
in real headless Neovim (a fresh venv, then again over it), and the size of the .vsix that `make vsix` left.

    .venv/bin/python bench/bench_install.py [--skip-demo] [--skip-nvim]

Each runs in a temporary clone of this repository's committed HEAD (what a user would clone), with PATH free of
any snippet-daemon. pip reaches PyPI (and its cache, when the machine keeps one); the goals are issue #16's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VSIX = ROOT / "editors" / "vscode" / "dist" / "bitbucket-snippets.vsix"
sys.path.insert(0, str(ROOT))


def clean_env(home: Path) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(
        folder
        for folder in os.environ.get("PATH", "").split(os.pathsep)
        if folder and folder != venv_bin and not (Path(folder) / "snippet-daemon").exists()
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BITBUCKET_", "SNIPPET_", "XDG_"))}
    env.update({"PATH": path, "XDG_DATA_HOME": str(home / "data"), "XDG_STATE_HOME": str(home / "state")})
    return env


def clone(work: Path) -> Path:
    target = work / "snippet-daemon"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(target)], check=True)
    return target


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    began = time.monotonic()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    return time.monotonic() - began, result


def vsix_figures() -> None:
    if not VSIX.is_file():
        print("vsix: none (make vsix builds editors/vscode/dist/bitbucket-snippets.vsix)")
        return
    size = VSIX.stat().st_size
    with zipfile.ZipFile(VSIX) as archive:
        bundle = json.loads(archive.read("extension/bundled/bundle.json"))
        unpacked = sum(info.file_size for info in archive.infolist())
    goal = "met" if size <= 25e6 else "NOT met"
    print(
        f"vsix: {size / 1e6:.1f} MB ({bundle['target']}; {len(bundle['packages'])} packages for CPython "
        f"{', '.join(bundle['pythons'])}; {unpacked / 1e6:.1f} MB unpacked) (goal <= 25 MB: {goal})"
    )


def demo_figure(work: Path) -> None:
    repo = clone(work)
    seconds, result = timed(["make", "demo"], repo, clean_env(work))
    if result.returncode != 0:
        print(f"make demo FAILED after {seconds:.1f} s:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
        return
    goal = "met" if seconds <= 60 else "NOT met"
    print(f"make demo on a fresh clone: {seconds:.1f} s, venv included (goal <= 60 s: {goal})")


def nvim_figures(work: Path) -> None:
    from tests.nvim.editor import nvim_binary

    repo = clone(work)
    command = [
        nvim_binary(),
        "--headless",
        "--clean",
        "--cmd",
        f"set rtp^={repo / 'editors' / 'nvim'}",
        "+BBSnippet install",
        "+qa!",
    ]
    env = clean_env(work)
    for label in ("a new venv", "again, over it (an update)"):
        seconds, result = timed(command, repo, env)
        if result.returncode != 0 or "is installed in" not in result.stdout + result.stderr:
            print(f":BBSnippet install FAILED after {seconds:.1f} s:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
            return
        print(f":BBSnippet install, {label}: {seconds:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--skip-nvim", action="store_true")
    args = parser.parse_args()
    vsix_figures()
    with tempfile.TemporaryDirectory(prefix="bench-install-") as work:
        if not args.skip_nvim:
            nvim_figures(Path(work) / "nvim")
        if not args.skip_demo:
            demo_figure(Path(work) / "demo")
    load = os.getloadavg()[0]
    print(f"(load average while measuring: {load:.1f} on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
