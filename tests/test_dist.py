"""The Python package as a user gets it: `make dist` builds a clean wheel + sdist, and the install steps are true.

The package is on no index, so nothing the product says may send a user to `pip(x) install snippet-daemon`, and
the README links only to what a clone has.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / name for name in listed.splitlines() if (ROOT / name).is_file()]


@pytest.mark.timeout(120)
def test_make_dist_builds_a_wheel_and_an_sdist_with_pep_639_metadata_and_no_warning(tmp_path: Path) -> None:
    pytest.importorskip("build", reason="the build tools are not installed: scripts/install.sh dist installs them")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    # The command `make dist` runs, into a temporary folder.
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    warnings = [line for line in output.splitlines() if re.search(r"warn|deprecat", line, re.IGNORECASE)]
    assert warnings == [], "\n".join(warnings)
    wheel = next(tmp_path.glob("snippet_daemon-*-py3-none-any.whl"))
    sdist = next(tmp_path.glob("snippet_daemon-*.tar.gz"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(name for name in names if name.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in metadata
    assert "License-File: LICENSE" in metadata
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    assert "Project-URL: Source, " in metadata and "Project-URL: Issues, " in metadata
    for version in ("3.11", "3.12", "3.13", "3.14"):
        assert f"Classifier: Programming Language :: Python :: {version}" in metadata
    assert "snippet_daemon/py.typed" in names and "snippet_daemon/sandbox/server.py" in names
    with tarfile.open(sdist) as archive:
        members = {Path(name).name for name in archive.getnames()}
    assert {"LICENSE", "README.md", "pyproject.toml", "cli.py"} <= members


def test_no_install_step_names_a_package_index_the_package_is_not_on() -> None:
    wrong = re.compile(r"\bpipx? (install|upgrade) snippet-daemon\b")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _tracked_files()
        if path.suffix in {".md", ".txt", ".ts", ".lua", ".py", ".json", ".sh"} and path != Path(__file__)
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if wrong.search(line)
    ]
    assert offenders == []


def test_the_readme_links_only_inside_the_repository() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", readme) + re.findall(r"`(\.\./[^`]*)`", readme)
    assert targets, "the README has no links at all?"
    for target in targets:
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        resolved = (ROOT / target.split("#")[0]).resolve()
        assert resolved.is_relative_to(ROOT), f"{target} leaves the repository (a clone does not have it)"
        assert resolved.exists(), f"{target} does not exist in the repository"
