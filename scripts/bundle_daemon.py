"""Bundle the daemon and every library it needs into the VS Code extension (editors/vscode/bundled/libs).

What goes in is driven by the project itself: the daemon's wheel (its Requires-Dist) resolved with
requirements/constraints.txt, so a new dependency (and its compiled parts) follows without touching this file.
For each CPython the extension accepts (3.11 to 3.14), pip installs binary wheels only, for this machine's
platform, into a folder of its own; the folders are then merged into one. Pure-Python files are the same for
every version; compiled parts differ by name (``_cffi_backend.cpython-312-x86_64-linux-gnu.so``) or are abi3
(one file for all), so the merge keeps each version's. Like Microsoft's vscode-python-tools-extension-template
(`bundled/libs`), the extension then runs ``python -I bundled/launch.py`` with the first suitable Python.

    python scripts/bundle_daemon.py --wheel dist/snippet_daemon-0.1.0-py3-none-any.whl
    python scripts/bundle_daemon.py --print-target      # the `vsce package --target` of this machine

Markers such as ``sys_platform == "linux"`` are evaluated by pip for the machine it runs on, so a bundle is
built on the platform it is for (one CI job per platform).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHONS = ("3.11", "3.12", "3.13", "3.14")
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
DEFAULT_OUT = ROOT / "editors" / "vscode" / "bundled" / "libs"


def manylinux(arch: str, glibc_minor: int = 28) -> list[str]:
    """Every manylinux tag a glibc 2.`glibc_minor` system runs (pip does not widen a named one by itself)."""
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(glibc_minor, 4, -1)]
    return [*tags, f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}"]


# This machine -> (vsce's --target, pip's --platform tags). Linux: glibc 2.28 or newer (Debian 10, Ubuntu 20.04,
# RHEL 8).
TARGETS: dict[tuple[str, str], tuple[str, list[str]]] = {
    ("linux", "x86_64"): ("linux-x64", manylinux("x86_64")),
    ("linux", "aarch64"): ("linux-arm64", manylinux("aarch64")),
    ("darwin", "arm64"): ("darwin-arm64", ["macosx_11_0_arm64"]),
    ("darwin", "x86_64"): ("darwin-x64", ["macosx_10_12_x86_64"]),
    ("win32", "AMD64"): ("win32-x64", ["win_amd64"]),
    ("win32", "ARM64"): ("win32-arm64", ["win_arm64"]),
}


def this_target() -> tuple[str, list[str]]:
    key = (sys.platform, platform.machine())
    if key not in TARGETS:
        raise SystemExit(f"bundle_daemon: no bundle recipe for {key[0]}/{key[1]}; known: {sorted(TARGETS)}")
    return TARGETS[key]


def install_for(version: str, wheel: Path, platforms: list[str], target: Path) -> None:
    """Binary wheels of the daemon and its dependencies for one CPython version, into `target`."""
    tag = "cp" + version.replace(".", "")
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--quiet",
        "--no-compile",
        "--only-binary",
        ":all:",
        "--implementation",
        "cp",
        "--python-version",
        version,
        "--abi",
        tag,
        *(part for name in platforms for part in ("--platform", name)),
        "--target",
        str(target),
        "-c",
        str(CONSTRAINTS),
        str(wheel),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"bundle_daemon: pip failed for CPython {version}:\n{result.stdout}{result.stderr}")


def merge(source: Path, out: Path) -> None:
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if relative.parts[0] == "bin" or "__pycache__" in relative.parts:
            continue  # console scripts point at pip's temporary interpreter; caches are per machine
        destination = out / relative
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)


def bundle(wheel: Path, out: Path, pythons: tuple[str, ...]) -> dict[str, object]:
    vsce_target, platforms = this_target()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="bundle-daemon-") as work:
        for version in pythons:
            target = Path(work) / version
            install_for(version, wheel, platforms, target)
            merge(target, out)
    packages = sorted(path.name.split("-")[0] for path in out.glob("*.dist-info"))
    manifest: dict[str, object] = {
        "target": vsce_target,
        "platform": platforms[0],
        "pythons": list(pythons),
        "daemon": wheel.name,
        "packages": packages,
    }
    (out.parent / "bundle.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--wheel", type=Path, help="the daemon's wheel (make dist)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--print-target", action="store_true", help="print vsce's --target for this machine")
    args = parser.parse_args()
    if args.print_target:
        print(this_target()[0])
        return 0
    if args.wheel is None or not args.wheel.is_file():
        parser.error("--wheel: the daemon's wheel (make dist builds it in dist/)")
    manifest = bundle(args.wheel.resolve(), args.out.resolve(), PYTHONS)
    size = sum(path.stat().st_size for path in args.out.rglob("*") if path.is_file())
    print(
        f"bundled {args.wheel.name} for CPython {', '.join(PYTHONS)} on {manifest['target']}: "
        f"{len(manifest['packages'])} packages, {size / 1e6:.1f} MB in {args.out}"  # type: ignore[arg-type]
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
