"""The .vsix that `make vsix` leaves in editors/vscode/dist carries the daemon and everything it needs.

Opened as a user's VS Code would unpack it: every compiled part exists for each CPython the extension accepts
(3.11 to 3.14; an abi3 build serves all), the keyring's Secret Service libraries are there on Linux, and this
machine's Pythons import the daemon from the bundle alone (isolated mode: nothing of the venv leaks in).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VSIX = ROOT / "editors" / "vscode" / "dist" / "bitbucket-snippets.vsix"
VERSIONS = ("311", "312", "313", "314")
LIBS = "extension/bundled/libs/"


@pytest.fixture(scope="module")
def vsix() -> zipfile.ZipFile:
    if not VSIX.is_file():
        message = "no editors/vscode/dist/bitbucket-snippets.vsix: `make vsix` builds it (scripts/install.sh does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return zipfile.ZipFile(VSIX)


@pytest.fixture(scope="module")
def unpacked(vsix: zipfile.ZipFile, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("vsix")
    vsix.extractall(folder)
    return folder / "extension"


def test_it_is_the_only_vsix_and_is_for_this_platform(vsix: zipfile.ZipFile) -> None:
    assert [path.name for path in VSIX.parent.glob("*.vsix")] == [VSIX.name]
    manifest = vsix.read("extension.vsixmanifest").decode()
    bundle = json.loads(vsix.read("extension/bundled/bundle.json"))
    assert f'TargetPlatform="{bundle["target"]}"' in manifest
    if sys.platform == "linux":
        assert bundle["target"] in {"linux-x64", "linux-arm64"}


def test_every_compiled_part_exists_for_each_cpython_3_11_to_3_14(vsix: zipfile.ZipFile) -> None:
    names = [name for name in vsix.namelist() if name.startswith(LIBS)]
    extensions = [name for name in names if re.search(r"\.(so|pyd)$", name)]
    assert extensions, "the bundle has no compiled parts at all"
    # One compiled module per folder and stem: `_cffi_backend.cpython-312-x86_64-linux-gnu.so` -> _cffi_backend.
    builds: dict[str, set[str]] = defaultdict(set)
    for name in extensions:
        folder, _, file = name.rpartition("/")
        stem, _, tags = file.partition(".")
        builds[f"{folder}/{stem}"].add(tags)
    missing = {}
    for module, tags in builds.items():
        if any(tag.startswith("abi3.") or tag == "pyd" for tag in tags):
            continue  # one build for every CPython 3 (the limited API)
        have = {match.group(1) for tag in tags if (match := re.match(r"cp(?:ython-)?(\d+)", tag))}
        if not set(VERSIONS) <= have:
            missing[module] = sorted(set(VERSIONS) - have)
    assert missing == {}, f"compiled parts missing for CPython versions: {missing}"
    # The ones the daemon needs today, by name.
    for version in VERSIONS:
        assert any(f"_cffi_backend.cpython-{version}-" in name for name in extensions), version
    assert any(name.endswith("cryptography/hazmat/bindings/_rust.abi3.so") for name in extensions)


def test_the_bundle_holds_the_daemon_and_the_keyrings_secret_service_libraries(vsix: zipfile.ZipFile) -> None:
    tops = {name[len(LIBS) :].split("/")[0] for name in vsix.namelist() if name.startswith(LIBS)}
    expected = {"snippet_daemon", "pygls", "lsprotocol", "httpx", "keyring", "cattrs", "attrs"}
    if sys.platform == "linux":
        expected |= {"secretstorage", "jeepney", "cryptography"}
    assert expected <= tops, sorted(expected - tops)
    assert not any("__pycache__" in name for name in vsix.namelist())
    bundle = json.loads(vsix.read("extension/bundled/bundle.json"))
    assert bundle["pythons"] == ["3.11", "3.12", "3.13", "3.14"]


def _pythons() -> list[str]:
    """This machine's CPythons the extension accepts (each one found once)."""
    found: dict[str, str] = {}
    for name in ("python3", "python3.11", "python3.12", "python3.13", "python3.14", "/usr/bin/python3"):
        path = shutil.which(name)
        if not path:
            continue
        result = subprocess.run(
            [path, "-I", "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True, text=True, check=False
        )
        version = result.stdout.strip().replace(" ", ".")
        if result.returncode == 0 and version in ("3.11", "3.12", "3.13", "3.14"):
            found.setdefault(version, path)
    return sorted(found.values())


IMPORTS = """
import sys, importlib, importlib.metadata as metadata, pathlib, sysconfig
sys.path.insert(0, sys.argv[1])
import snippet_daemon.server, snippet_daemon.cli, keyring, httpx, pygls
# Every compiled module of the bundle that is built for this Python (or abi3) loads.
suffixes = (sysconfig.get_config_var("EXT_SUFFIX"), ".abi3.so")
loaded = []
for path in pathlib.Path(sys.argv[1]).rglob("*.so"):
    if path.name.endswith(suffixes):
        relative = path.relative_to(sys.argv[1])
        module = ".".join((*relative.parts[:-1], path.name.split(".")[0]))
        importlib.import_module(module)
        loaded.append(module)
assert len(loaded) >= 2, loaded
assert snippet_daemon.__file__.startswith(sys.argv[1]), snippet_daemon.__file__
if sys.platform == "linux":
    import secretstorage, jeepney, _cffi_backend
    from cryptography.hazmat.bindings import _rust
    names = {entry.name for entry in metadata.entry_points(group="keyring.backends")}
    assert "SecretService" in names, names
print("ok", sys.version.split()[0])
"""


def test_this_machines_pythons_import_the_daemon_from_the_bundle_alone(unpacked: Path) -> None:
    pythons = _pythons()
    assert pythons, "no Python 3.11-3.14 on this machine"
    libs = unpacked / "bundled" / "libs"
    for python in pythons:
        result = subprocess.run(
            [python, "-I", "-c", IMPORTS, str(libs)], capture_output=True, text=True, check=False, timeout=60
        )
        assert result.returncode == 0 and result.stdout.startswith("ok"), f"{python}:\n{result.stdout}{result.stderr}"


def test_the_launcher_starts_the_bundled_daemon(unpacked: Path) -> None:
    python = _pythons()[0]
    launcher = unpacked / "bundled" / "launch.py"
    result = subprocess.run(
        [python, "-I", str(launcher), "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"\d+\.\d+\.\d+", result.stdout + result.stderr)
