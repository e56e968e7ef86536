"""What snippet-daemon keeps per user is the user's alone: the data folder 0700 and every file in it 0600,
whatever the umask (here the usual 022, which would give 0755 folders and 0644 files). What it writes into a
folder the user chose (a pull) is the user's ordinary work: the umask's modes, as any editor or git checkout."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from snippet_daemon.folder_writer import write_files
from snippet_daemon.migrate.state import MigrationState, StateStore, exclusive_lock
from snippet_daemon.paths import user_data_dir
from snippet_daemon.sandbox import Sandbox
from tests.conftest import make_client
from tests.daemon import start_daemon


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def modes_under(root: Path) -> dict[str, str]:
    """Every folder and file below ``root`` (and root itself) with its permission bits, in octal."""
    found = {".": oct(stat.S_IMODE(root.stat().st_mode))}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = oct(stat.S_IMODE(path.lstat().st_mode))
    return found


def assert_private(root: Path) -> None:
    """Folders 0700; files 0600, or stricter where the writer insists (git's objects are read-only, 0400)."""

    def private(name: str, bits: int) -> bool:
        if (root / name).is_dir():
            return bits == 0o700
        return not bits & 0o177 and bool(bits & 0o400)

    loose = {name: mode for name, mode in modes_under(root).items() if not private(name, int(mode, 8))}
    assert loose == {}, f"not private under {root}: {loose}"


async def test_the_sandbox_data_folder_is_private(tmp_path: Path) -> None:
    data = user_data_dir({"XDG_DATA_HOME": str(tmp_path / "xdg")}) / "sandbox"
    with Sandbox(data_dir=data, port=0) as sandbox:
        async with make_client(sandbox) as client:
            created = await client.create_snippet("demo", {"a.txt": b"one\n"})
            await client.update_snippet("demo", created.id, files={"a.txt": b"two\n"})
    assert {"sandbox.sqlite3", "snippets.git"} <= {path.name for path in data.iterdir()}
    assert_private(data.parent)
    assert modes_under(data)["sandbox.sqlite3"] == "0o600"


async def test_watched_snippets_are_remembered_in_a_private_file(sandbox: Sandbox) -> None:
    async with make_client(sandbox) as client:
        created = await client.create_snippet("demo", {"a.txt": b"one\n"})
    daemon = await start_daemon(sandbox)
    try:
        await daemon.command("bbsnippets.watch", workspace="demo", id=created.id)
    finally:
        await daemon.stop()
    folder = sandbox.data_dir.parent / "xdg-data" / "snippet-daemon"  # tests.daemon points XDG_DATA_HOME there
    assert modes_under(folder) == {".": "0o700", "watching.json": "0o600", "watching.json.lock": "0o600"}


def test_migration_state_and_lock_are_private(tmp_path: Path) -> None:
    folder = user_data_dir({"XDG_DATA_HOME": str(tmp_path / "xdg")}) / "migrations"
    state_path = folder / "bitbucket.example.com-to-demo.json"
    with exclusive_lock(state_path):
        StateStore(state_path, MigrationState("https://bitbucket.example.com", "demo")).commit_now()
    assert modes_under(folder.parent) == {
        ".": "0o700",
        "migrations": "0o700",
        f"migrations/{state_path.name}": "0o600",
        f"migrations/{state_path.name}.lock": "0o600",
    }


async def test_pulled_files_get_ordinary_modes_while_the_daemons_own_stay_private(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with make_client(sandbox) as client:
        created = await client.create_snippet("demo", {"a.txt": b"one\n", "notes/b.md": b"# b\n"})
    daemon = await start_daemon(sandbox)  # inherits this test's umask 022
    try:
        await daemon.command("bbsnippets.watch", workspace="demo", id=created.id)
        target = tmp_path / "pulled"
        pulled = await daemon.command("bbsnippets.pull", workspace="demo", id=created.id, targetDir=str(target))
    finally:
        await daemon.stop()
    assert sorted(pulled["written"]) == [str(target / "a.txt"), str(target / "notes" / "b.md")]
    # As `git checkout` under umask 022 would leave them; no temporary file is left behind.
    assert modes_under(target) == {".": "0o755", "a.txt": "0o644", "notes": "0o755", "notes/b.md": "0o644"}
    assert modes_under(sandbox.data_dir.parent / "xdg-data" / "snippet-daemon")["watching.json"] == "0o600"


def test_a_pull_follows_the_umask_and_keeps_an_overwritten_files_mode(tmp_path: Path) -> None:
    os.umask(0o077)  # a user who wants everything private gets it
    write_files(tmp_path / "strict", {"a.txt": b"one\n"})
    assert modes_under(tmp_path / "strict") == {".": "0o700", "a.txt": "0o600"}

    os.umask(0o002)
    (tmp_path / "mine").mkdir()
    script = tmp_path / "mine" / "run.sh"
    script.write_bytes(b"old\n")
    script.chmod(0o750)  # the user made it executable: replacing its content keeps that
    report = write_files(tmp_path / "mine", {"run.sh": b"new\n", "new.txt": b"n\n"}, overwrite=True)
    assert report.written == ["run.sh", "new.txt"]
    assert modes_under(tmp_path / "mine") == {".": "0o775", "run.sh": "0o750", "new.txt": "0o664"}
