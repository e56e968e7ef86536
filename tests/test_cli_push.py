"""The command line's round trip with a folder (#17), run as a user runs it: pull links, status, push, link,
apply, share --diff, against the sandbox, requests counted from its log."""

from __future__ import annotations

import asyncio
from pathlib import Path

from snippet_daemon.sandbox import Sandbox
from tests.conftest import make_client, served
from tests.git_repos import git, new_repository
from tests.test_cli import cli, env  # noqa: F401  (the env fixture)


def create(sandbox: Sandbox, files: dict[str, bytes]) -> str:
    async def made() -> str:
        async with make_client(sandbox) as client:
            return (await client.create_snippet("demo", files, title="cli")).id

    return asyncio.run(made())


def remote_files(sandbox: Sandbox, snippet_id: str) -> dict[str, bytes]:
    async def read() -> dict[str, bytes]:
        async with make_client(sandbox) as client:
            return dict((await client.get_snippet_content("demo", snippet_id)).files)

    return asyncio.run(read())


def test_pull_status_push_and_a_noop_push(sandbox: Sandbox, env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    snippet_id = create(sandbox, {"a.txt": b"a1\n", "b.txt": b"b1\n"})
    folder = tmp_path / "work"
    assert cli(["pull", f"demo/{snippet_id}", str(folder)], env).returncode == 0

    sandbox.clear_requests()
    clean = cli(["status", str(folder)], env)
    assert clean.returncode == 0, clean.stderr
    assert "no local changes" in clean.stdout and served(sandbox) == [("GET", 200)]

    (folder / "a.txt").write_bytes(b"a2\n")
    (folder / "b.txt").unlink()
    (folder / "new.txt").write_text("added\n")
    (folder / "ignored.txt").write_text("not sent\n")
    edited = cli(["status", str(folder)], env)
    assert f"modified   {folder / 'a.txt'}" in edited.stdout and f"deleted    {folder / 'b.txt'}" in edited.stdout

    sandbox.clear_requests()
    pushed = cli(["push", str(folder), "--add", "new.txt"], env)
    assert pushed.returncode == 0, pushed.stderr
    assert served(sandbox) == [("PUT", 200)]
    assert "sent       a.txt" in pushed.stdout and "deleted    b.txt" in pushed.stdout
    assert remote_files(sandbox, snippet_id) == {"a.txt": b"a2\n", "new.txt": b"added\n"}

    sandbox.clear_requests()
    again = cli(["push", str(folder)], env)
    assert again.returncode == 0 and "nothing to push" in again.stdout
    assert served(sandbox) == []


def test_push_conflict_then_force(sandbox: Sandbox, env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    snippet_id = create(sandbox, {"a.txt": b"a1\n", "b.txt": b"b1\n"})
    folder = tmp_path / "work"
    assert cli(["pull", f"demo/{snippet_id}", str(folder)], env).returncode == 0
    (folder / "a.txt").write_bytes(b"mine\n")

    async def theirs() -> None:
        async with make_client(sandbox) as client:
            await client.update_snippet("demo", snippet_id, files={"b.txt": b"theirs\n"})

    asyncio.run(theirs())
    moved = cli(["status", str(folder)], env)
    assert "the snippet moved on Bitbucket" in moved.stdout
    refused = cli(["push", str(folder)], env)
    assert refused.returncode == 1 and "nothing was sent" in refused.stderr and "--force" in refused.stderr
    assert (folder / "a.txt").read_bytes() == b"mine\n"
    assert remote_files(sandbox, snippet_id) == {"a.txt": b"a1\n", "b.txt": b"theirs\n"}
    forced = cli(["push", str(folder), "--force"], env)
    assert forced.returncode == 0, forced.stderr
    assert remote_files(sandbox, snippet_id) == {"a.txt": b"mine\n", "b.txt": b"theirs\n"}


def test_link_a_folder_and_an_unlinked_one(sandbox: Sandbox, env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    snippet_id = create(sandbox, {"conf.ini": b"x=1\n", "other.txt": b"o\n"})
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "conf.ini").write_text("x=2\n")
    unlinked = cli(["status", str(folder)], env)
    assert unlinked.returncode == 1 and "not linked" in unlinked.stderr and "snippet-daemon link" in unlinked.stderr

    sandbox.clear_requests()
    linked = cli(["link", str(folder), f"demo/{snippet_id}"], env)
    assert linked.returncode == 0, linked.stderr
    assert served(sandbox) == [("GET", 200)]
    assert "conf.ini" in linked.stdout and f"modified   {folder / 'conf.ini'}" in linked.stdout
    assert cli(["push", str(folder)], env).returncode == 0
    # The file the folder did not have is not tracked, so it is not deleted from the snippet.
    assert remote_files(sandbox, snippet_id) == {"conf.ini": b"x=2\n", "other.txt": b"o\n"}


def test_share_diff_then_apply_into_a_clean_copy(sandbox: Sandbox, env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    repo = new_repository(tmp_path / "repo")
    (repo / "app.py").write_text("print(1)\nprint(2)\n")
    (repo / "old.txt").write_text("old\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "start")
    clean = tmp_path / "clean"
    clean.mkdir()
    for name in ("app.py", "old.txt"):
        (clean / name).write_bytes((repo / name).read_bytes())
    (repo / "app.py").write_text("print(1)\nprint('two')\n")
    (repo / "old.txt").unlink()
    (repo / "fresh.md").write_text("new file\n")

    env["BITBUCKET_WORKSPACE"] = "demo"
    nothing = cli(["share", "--diff", "--staged", str(repo)], env)
    assert nothing.returncode == 1 and "Nothing is staged" in nothing.stderr
    sandbox.clear_requests()
    shared = cli(["share", "--diff", "--untracked", str(repo)], env)
    assert shared.returncode == 0, shared.stderr
    assert served(sandbox) == [("POST", 201)]  # the workspace is named: no GET /user
    snippet_id = shared.stdout.strip().rstrip("/").split("/")[-1]
    assert list(remote_files(sandbox, snippet_id)) == ["repo.patch"]

    sandbox.clear_requests()
    dry = cli(["apply", f"demo/{snippet_id}", str(clean), "--dry-run"], env)
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout and (clean / "old.txt").exists() and not (clean / "fresh.md").exists()
    assert served(sandbox) == [("GET", 200)]
    applied = cli(["apply", f"demo/{snippet_id}/repo.patch", str(clean)], env)
    assert applied.returncode == 0, applied.stderr
    for name in ("app.py", "fresh.md"):
        assert (clean / name).read_bytes() == (repo / name).read_bytes()
    assert not (clean / "old.txt").exists()
    stale = cli(["apply", f"demo/{snippet_id}", str(clean)], env)
    assert stale.returncode == 1 and "nothing changed" in stale.stderr


def test_push_to_a_public_snippet_is_secret_scanned(sandbox: Sandbox, env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    env["XDG_DATA_HOME"] = str(tmp_path / "data")

    async def made() -> str:
        async with make_client(sandbox) as client:
            return (await client.create_snippet("demo", {"c.env": b"A=1\n"}, title="p", is_private=False)).id

    snippet_id = asyncio.run(made())
    folder = tmp_path / "work"
    assert cli(["pull", f"demo/{snippet_id}", str(folder)], env).returncode == 0
    token = "gh" + "p_" + ("aB3dE5fG7hJ9kL2mN4pQ6rS8tU" * 2)[:36]
    (folder / "c.env").write_text(f"TOKEN={token}\n")
    sandbox.clear_requests()
    refused = cli(["push", str(folder)], env)
    assert refused.returncode == 1 and "looks like a credential" in refused.stderr and token not in refused.stderr
    assert [request.method for request in sandbox.requests] == []
    assert cli(["push", str(folder), "--allow-secrets"], env).returncode == 0
    assert remote_files(sandbox, snippet_id) == {"c.env": f"TOKEN={token}\n".encode()}
