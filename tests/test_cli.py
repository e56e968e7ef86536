"""The command line, run as a user runs it (a subprocess) against the sandbox."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from snippet_daemon.bitbucket.multipart import encode_related
from snippet_daemon.sandbox import Sandbox
from tests.conftest import make_client

BINARY = bytes(range(256)) + b"\r\n\x00\xff"


def cli(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "snippet_daemon", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BITBUCKET_")}
    # No keyring unless a test asks for the real one: the user's keyring is never touched.
    env.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    env["HOME"] = str(tmp_path / "home")
    return env


def keyring_env(sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    """No credentials in the environment, and the real Secret Service of the test session."""
    env = {k: v for k, v in base_env(tmp_path).items() if k != "PYTHON_KEYRING_BACKEND"}
    env["BITBUCKET_API_URL"] = sandbox.base_url
    env["HOME"] = os.environ.get("HOME", env["HOME"])  # the session's own home, where its keyring lives
    return env


@pytest.fixture
def env(sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    user = sandbox.users[0]
    return {
        **base_env(tmp_path),
        "BITBUCKET_API_URL": sandbox.base_url,
        "BITBUCKET_USERNAME": user.email,
        "BITBUCKET_API_TOKEN": user.api_token,
    }


def test_version_and_help_need_no_server(tmp_path: Path) -> None:
    result = cli(["--version"], base_env(tmp_path))
    assert result.returncode == 0 and result.stdout.startswith("snippet-daemon ")
    helped = cli(["--help"], base_env(tmp_path))
    for command in ("login", "logout", "whoami", "list", "share", "pull", "open", "delete", "sandbox"):
        assert command in helped.stdout


def test_share_a_selection_prints_its_link_and_is_private(
    sandbox: Sandbox, env: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "tool.py"
    source.write_text("line 1\nline 2\nline 3\nline 4\n")
    result = cli(["share", f"{source}:2-3"], env)
    assert result.returncode == 0, result.stderr
    link = result.stdout.strip()
    assert link.startswith(sandbox.web_url + "/snippets/demo/")
    snippet_id = link.rsplit("/", 1)[1]

    async def read() -> tuple[bool, str, dict[str, bytes]]:
        async with make_client(sandbox) as client:
            content = await client.get_snippet_content("demo", snippet_id)
            return content.snippet.is_private, content.snippet.title, content.files

    is_private, title, files = asyncio.run(read())
    assert is_private is True
    assert title == "tool.py (lines 2-3)"
    assert files == {"tool.py": b"line 2\nline 3\n"}

    public = cli(["share", str(source), "--public", "--title", "All of it"], env)
    assert public.returncode == 0, public.stderr
    listed = cli(["list", "--json"], env)
    rows = {row["id"]: row for row in json.loads(listed.stdout)}
    assert rows[snippet_id]["isPrivate"] is True
    public_id = public.stdout.strip().rsplit("/", 1)[1]
    assert rows[public_id]["isPrivate"] is False and rows[public_id]["title"] == "All of it"
    table = cli(["list", "demo"], env)
    assert f"demo/{public_id}" in table.stdout and "All of it" in table.stdout


def test_share_explains_bad_input(env: dict[str, str], tmp_path: Path) -> None:
    missing = cli(["share", str(tmp_path / "nope.py")], env)
    assert missing.returncode == 1 and "no such file" in missing.stderr
    source = tmp_path / "short.py"
    source.write_text("one\n")
    past = cli(["share", f"{source}:5-9"], env)
    assert past.returncode == 1 and "has 1 lines" in past.stderr


def test_pull_is_byte_exact_and_never_overwrites_a_local_edit(
    sandbox: Sandbox, env: dict[str, str], tmp_path: Path
) -> None:
    async def create() -> str:
        async with make_client(sandbox) as client:
            return (await client.create_snippet("demo", {"a.txt": b"remote\n", "blob.bin": BINARY})).id

    snippet_id = asyncio.run(create())
    target = tmp_path / "pulled"
    first = cli(["pull", f"demo/{snippet_id}", str(target)], env)
    assert first.returncode == 0, first.stderr
    assert (target / "blob.bin").read_bytes() == BINARY
    assert (target / "a.txt").read_bytes() == b"remote\n"

    (target / "a.txt").write_bytes(b"my local edit\n")
    second = cli(["pull", f"{sandbox.web_url}/snippets/demo/{snippet_id}", str(target)], env)
    assert second.returncode == 3
    # kept (an overwrite would replace it) is told apart from refused and failed, and the fix is named
    assert f"kept       {target / 'a.txt'}: a different file" in second.stdout
    assert f"unchanged  {target / 'blob.bin'}" in second.stdout
    assert "1 file(s) differ locally and were kept; --overwrite replaces them" in second.stderr
    assert (target / "a.txt").read_bytes() == b"my local edit\n"

    forced = cli(["pull", f"demo/{snippet_id}", str(target), "--overwrite"], env)
    assert forced.returncode == 0
    assert (target / "a.txt").read_bytes() == b"remote\n"


class HostileServer(ThreadingHTTPServer):
    """A server that answers any snippet read with file names meant to escape the folder."""

    body, content_type = encode_related(
        {"id": "evil", "title": "evil", "files": {}},
        {"../escape.txt": b"x", "/tmp/abs.txt": b"x", ".git/config": b"x", "ok.txt": b"fine"},
    )


class HostileHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server = self.server
        assert isinstance(server, HostileServer)
        self.send_response(200)
        self.send_header("Content-Type", server.content_type)
        self.send_header("Content-Length", str(len(server.body)))
        self.end_headers()
        self.wfile.write(server.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hostile_server() -> Iterator[str]:
    server = HostileServer(("127.0.0.1", 0), HostileHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/2.0"
    server.shutdown()
    server.server_close()


def test_pull_refuses_hostile_names_from_a_malicious_server(hostile_server: str, tmp_path: Path) -> None:
    env = {**base_env(tmp_path), "BITBUCKET_API_URL": hostile_server, "BITBUCKET_ACCESS_TOKEN": "t"}
    target = tmp_path / "work" / "chosen"
    result = cli(["pull", "ws/evil", str(target)], env)
    assert result.returncode == 3
    assert result.stderr.count("refused") == 3
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["work/chosen/ok.txt"]
    assert not Path("/tmp/abs.txt").exists()


def test_without_credentials_commands_say_how_to_log_in(sandbox: Sandbox, tmp_path: Path) -> None:
    env = {**base_env(tmp_path), "BITBUCKET_API_URL": sandbox.base_url}
    result = cli(["list", "demo"], env)
    assert result.returncode == 1
    assert "snippet-daemon login" in result.stderr and "read:snippet:bitbucket" in result.stderr
    assert "BITBUCKET_API_TOKEN" in result.stderr


def test_login_without_a_keyring_says_so_before_asking_anything(sandbox: Sandbox, tmp_path: Path) -> None:
    env = {**base_env(tmp_path), "BITBUCKET_API_URL": sandbox.base_url}
    sandbox.clear_requests()
    status, screen = _run_on_a_terminal(["login"], env, [])
    assert status == 1
    assert "Atlassian account email" not in screen and "token:" not in screen  # nothing was asked
    # what to do instead, in words
    assert "No OS keyring" in screen and "BITBUCKET_USERNAME and BITBUCKET_API_TOKEN" in screen
    assert "Nothing was asked or stored" in screen and "Traceback" not in screen
    assert sandbox.requests == []


def refusing_keyring_env(sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    """A keyring that reads (so login asks) but refuses to store: the user's own keyring is never touched."""
    return {
        **base_env(tmp_path),
        "BITBUCKET_API_URL": sandbox.base_url,
        "PYTHON_KEYRING_BACKEND": "tests.keyrings.LockedKeyring",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }


def test_login_with_a_wrong_token_stores_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    env = refusing_keyring_env(sandbox, tmp_path)
    result = cli(["login", "--username", sandbox.users[0].email], env, stdin="not-the-token\n")
    assert result.returncode == 1
    assert "rejected the email and API token" in result.stderr and "Nothing was stored" in result.stderr
    assert "App passwords" not in result.stderr  # retired, and not what went wrong
    assert "not-the-token" not in result.stderr


def test_login_whoami_logout_with_a_real_secret_service(
    sandbox: Sandbox, tmp_path: Path, secret_service: object
) -> None:
    user = sandbox.users[0]
    env = keyring_env(sandbox, tmp_path)
    try:
        login = cli(["login"], env, stdin=f"{user.email}\n{user.api_token}\n")
        assert login.returncode == 0, login.stderr
        assert "Demo User" in login.stdout and user.api_token not in login.stdout + login.stderr
        sandbox.clear_requests()
        whoami = cli(["whoami"], env)
        assert whoami.returncode == 0, whoami.stderr
        assert "Demo User (demo)" in whoami.stdout and "keyring" in whoami.stdout
        assert cli(["list", "demo"], env).returncode == 0
        assert all(r.user == "demo" for r in sandbox.requests)
    finally:
        logout = cli(["logout"], env)
    assert logout.returncode == 0 and "Logged out" in logout.stdout
    after = cli(["whoami"], env)
    assert after.returncode == 1 and "snippet-daemon login" in after.stderr


def test_login_with_an_oauth_access_token(sandbox: Sandbox, tmp_path: Path, secret_service: object) -> None:
    env = keyring_env(sandbox, tmp_path)
    try:
        login = cli(["login", "--access-token"], env, stdin=f"{sandbox.users[1].access_token}\n")
        assert login.returncode == 0, login.stderr
        assert "alice" in login.stdout
    finally:
        cli(["logout"], env)


def _run_on_a_terminal(args: list[str], env: dict[str, str], answers: list[tuple[str, str]]) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin/stdout/stderr, answering each prompt as it appears."""
    import pty
    import select

    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "snippet_daemon", *args],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        close_fds=True,
        start_new_session=True,  # the pty becomes its controlling terminal, so getpass uses /dev/tty
    )
    os.close(terminal)
    screen = b""
    pending = list(answers)
    answered_up_to = 0
    try:
        while True:
            ready, _, _ = select.select([controller], [], [], 30)
            if not ready:
                raise AssertionError(f"no output for 30 s; screen so far: {screen!r}")
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
            while pending and (found := screen.find(pending[0][0].encode(), answered_up_to)) >= 0:
                prompt, answer = pending.pop(0)
                answered_up_to = found + len(prompt)  # the next prompt is looked for after this one
                os.write(controller, (answer + "\n").encode())
    finally:
        os.close(controller)
    return process.wait(timeout=30), screen.decode("utf-8", "replace")


def test_login_on_a_terminal_prompts_and_never_echoes_the_token(sandbox: Sandbox, tmp_path: Path) -> None:
    user = sandbox.users[0]
    env = refusing_keyring_env(sandbox, tmp_path)
    status, screen = _run_on_a_terminal(
        ["login"], env, [("Atlassian account email: ", user.email), ("API token: ", user.api_token)]
    )
    assert "Atlassian account email: " in screen and user.email in screen  # the email is echoed as typed
    assert "API token: " in screen
    assert user.api_token not in screen
    # Verified, then the keyring refused to store it, saying so.
    assert status == 1 and "keyring refused" in screen and "Nothing was stored" in screen


def test_credentials_without_read_user_scope_still_work(sandbox: Sandbox, tmp_path: Path) -> None:
    reader = sandbox.users[2]  # read:snippet:bitbucket only
    env = {
        **base_env(tmp_path),
        "BITBUCKET_API_URL": sandbox.base_url,
        "BITBUCKET_USERNAME": reader.email,
        "BITBUCKET_API_TOKEN": reader.api_token,
    }
    whoami = cli(["whoami"], env)
    assert whoami.returncode == 0, whoami.stderr
    assert reader.email in whoami.stdout and "lacks read:user:bitbucket" in whoami.stdout
    assert cli(["list", "sandbox-team"], env).returncode == 0


def test_login_accepts_a_token_without_read_user_scope(
    sandbox: Sandbox, tmp_path: Path, secret_service: object
) -> None:
    reader = sandbox.users[2]
    env = keyring_env(sandbox, tmp_path)
    try:
        login = cli(["login"], env, stdin=f"{reader.email}\n{reader.api_token}\n")
        assert login.returncode == 0, login.stderr
        assert f"as {reader.email}" in login.stdout
        assert cli(["list", "sandbox-team"], env).returncode == 0  # now from the keyring
    finally:
        cli(["logout"], env)


def test_search_prints_grep_style_hits_and_index_clear_deletes_the_index(
    sandbox: Sandbox, env: dict[str, str], tmp_path: Path
) -> None:
    async def create() -> tuple[str, str]:
        async with make_client(sandbox) as client:
            helper = await client.create_snippet("demo", {"retry.py": b"import time\ndef retry_helper():\n"}, title="x")
            titled = await client.create_snippet("demo", {"n.txt": b"n\n"}, title="helpers everywhere")
        return helper.id, titled.id

    helper_id, titled_id = asyncio.run(create())
    env = {**env, "XDG_CACHE_HOME": str(tmp_path / "cache"), "BITBUCKET_WORKSPACE": "demo"}

    found = cli(["search", "helper"], env)

    assert found.returncode == 0, found.stderr
    assert found.stdout.splitlines() == [
        f"demo/{titled_id}:n.txt:1: helpers everywhere",  # a title hit first
        f"demo/{helper_id}:retry.py:2: def retry_helper():",  # then the line, grep style
    ]
    assert cli(["search", "no-such-text"], env).returncode == 1
    index_files = list((tmp_path / "cache" / "snippet-daemon").glob("index-*.sqlite3"))
    assert len(index_files) == 1 and oct(index_files[0].stat().st_mode & 0o777) == "0o600"

    cleared = cli(["index", "--clear"], env)
    assert cleared.returncode == 0 and "deleted 1 search index file" in cleared.stdout
    assert list((tmp_path / "cache" / "snippet-daemon").glob("index-*")) == []


# --------------------------------------------------------------------------- share, open, delete, addresses

AWS_LINE = "AWS_ACCESS_KEY_ID=AKIAQWERTYUIOPASDFGH\n"


def _read(sandbox: Sandbox, snippet_id: str) -> tuple[bool, str, dict[str, bytes]]:
    async def read() -> tuple[bool, str, dict[str, bytes]]:
        async with make_client(sandbox) as client:
            content = await client.get_snippet_content("demo", snippet_id)
            return content.snippet.is_private, content.snippet.title, content.files

    return asyncio.run(read())


def _create(sandbox: Sandbox, files: dict[str, bytes], title: str = "made for a test") -> str:
    async def create() -> str:
        async with make_client(sandbox) as client:
            return (await client.create_snippet("demo", files, title=title)).id

    return asyncio.run(create())


def _requests(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sandbox.requests]


def test_a_public_share_with_a_credential_is_refused_before_any_request(
    sandbox: Sandbox, env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "deploy.sh").write_text("#!/bin/sh\n" + AWS_LINE)
    (tmp_path / "notes.txt").write_text("nothing secret\n")
    sandbox.clear_requests()

    refused = cli(["share", "--public", str(tmp_path / "notes.txt"), str(tmp_path / "deploy.sh")], env)

    assert refused.returncode == 1
    assert "deploy.sh line 2: looks like an AWS access key ID" in refused.stderr  # file and line, never the value
    assert "AKIAQWERTYUIOPASDFGH" not in refused.stderr + refused.stdout
    assert "--allow-secrets" in refused.stderr and refused.stdout == ""
    assert sandbox.requests == []  # nothing was sent, not even GET /user

    private = cli(["share", str(tmp_path / "deploy.sh"), "--workspace", "demo"], env)  # private: not scanned
    assert private.returncode == 0, private.stderr
    assert "only members of the workspace demo can see it" in private.stderr

    sandbox.clear_requests()
    allowed = cli(["share", "--public", "--allow-secrets", "--workspace", "demo", str(tmp_path / "deploy.sh")], env)
    assert allowed.returncode == 0, allowed.stderr
    assert _requests(sandbox) == [("POST", "/2.0/snippets/demo")]
    assert "anyone with the link" in allowed.stderr
    is_private, _, files = _read(sandbox, allowed.stdout.strip().rsplit("/", 1)[1])
    assert is_private is False and files["deploy.sh"].endswith(AWS_LINE.encode())


def test_share_takes_several_files_and_standard_input_in_one_request(
    sandbox: Sandbox, env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "a.py").write_text("one\ntwo\nthree\n")
    (tmp_path / "b.bin").write_bytes(BINARY)
    sandbox.clear_requests()

    shared = cli(
        [
            "share",
            f"{tmp_path / 'a.py'}:2-3",
            str(tmp_path / "b.bin"),
            "-",
            "--name",
            "piped.txt",
            "--workspace",
            "demo",
        ],
        env,
        stdin="from a pipe\n",
    )

    assert shared.returncode == 0, shared.stderr
    assert _requests(sandbox) == [("POST", "/2.0/snippets/demo")]
    is_private, title, files = _read(sandbox, shared.stdout.strip().rsplit("/", 1)[1])
    assert is_private is True
    assert files == {"a.py": b"two\nthree\n", "b.bin": BINARY, "piped.txt": b"from a pipe\n"}
    assert title == "a.py (lines 2-3), b.bin, piped.txt"

    sandbox.clear_requests()
    unnamed = cli(["share", "-"], env, stdin="x\n")
    assert unnamed.returncode == 1 and "needs --name" in unnamed.stderr
    folder = cli(["share", str(tmp_path)], env)
    assert folder.returncode == 1 and "is a folder: name the files in it" in folder.stderr
    twice = cli(["share", str(tmp_path / "a.py"), str(tmp_path / "a.py")], env)
    assert twice.returncode == 1 and "two files would be named 'a.py'" in twice.stderr
    assert sandbox.requests == []


def snippet_addresses(sandbox: Sandbox, snippet_id: str) -> list[str]:
    """Every way a user may name the snippet demo/ID: its id, Bitbucket's two web address shapes (with a slug,
    a file anchor), its API address and the sandbox's own page."""
    return [
        f"demo/{snippet_id}",
        f"https://bitbucket.org/demo/workspace/snippets/{snippet_id}",
        f"https://bitbucket.org/demo/workspace/snippets/{snippet_id}/a-title-slug#file-a.txt",
        f"https://bitbucket.org/snippets/demo/{snippet_id}",
        f"https://bitbucket.org/snippets/demo/{snippet_id}/a-title-slug",
        f"https://api.bitbucket.org/2.0/snippets/demo/{snippet_id}",
        f"{sandbox.web_url}/snippets/demo/{snippet_id}",
        f"{sandbox.web_url}/snippets/demo/{snippet_id}#file-a.txt",
    ]


def test_open_prints_the_files_or_writes_them_to_a_folder_from_any_address(
    sandbox: Sandbox, env: dict[str, str], tmp_path: Path
) -> None:
    snippet_id = _create(sandbox, {"a.txt": b"alpha\n", "b.txt": b"beta"})
    for address in snippet_addresses(sandbox, snippet_id):
        sandbox.clear_requests()
        opened = cli(["open", address], env)
        assert opened.returncode == 0, (address, opened.stderr)
        assert _requests(sandbox) == [("GET", f"/2.0/snippets/demo/{snippet_id}")], address  # one request
        if "#file-a.txt" in address:
            assert opened.stdout == "alpha\n"  # the file the address points at, as it is
        else:
            assert opened.stdout == "==> a.txt <==\nalpha\n\n==> b.txt <==\nbeta\n"
    only = cli(["open", f"demo/{snippet_id}", "--file", "b.txt"], env)
    assert only.returncode == 0 and only.stdout == "beta"
    assert cli(["open", f"demo/{snippet_id}/b.txt"], env).stdout == "beta"  # WORKSPACE/ID/FILE, as apply takes
    missing = cli(["open", f"demo/{snippet_id}", "--file", "c.txt"], env)
    assert missing.returncode == 1 and "has no file 'c.txt'; its files: a.txt, b.txt" in missing.stderr

    with_binary = _create(sandbox, {"a.txt": b"alpha\n", "pixel.bin": BINARY})
    mixed = cli(["open", f"demo/{with_binary}"], env)
    assert (
        mixed.stdout
        == f"==> a.txt <==\nalpha\n\n==> pixel.bin <== (binary, {len(BINARY)} bytes: --file pixel.bin prints it)\n"
    )
    raw = subprocess.run(
        [sys.executable, "-m", "snippet_daemon", "open", f"demo/{with_binary}/pixel.bin"], capture_output=True, env=env
    )
    assert raw.returncode == 0 and raw.stdout == BINARY  # byte-exact into a pipe or a file

    target = tmp_path / "opened"
    written = cli(["open", f"https://bitbucket.org/snippets/demo/{snippet_id}", "--dir", str(target)], env)
    assert written.returncode == 0, written.stderr
    assert sorted(p.name for p in target.iterdir()) == ["a.txt", "b.txt"]
    assert (target / "b.txt").read_bytes() == b"beta"


def test_an_address_that_is_not_a_snippet_is_refused_without_a_request(sandbox: Sandbox, env: dict[str, str]) -> None:
    sandbox.clear_requests()
    for verb in ("open", "pull", "delete"):
        for wrong in ("demo", "https://example.com/snippets/demo/abc", "https://bitbucket.org/demo/repo"):
            result = cli([verb, wrong, "--yes"] if verb == "delete" else [verb, wrong], env)
            assert result.returncode == 2, (verb, wrong)
            assert "does not name a snippet" in result.stderr and "WORKSPACE/ID" in result.stderr
            assert "Traceback" not in result.stderr
    assert sandbox.requests == []


def test_delete_asks_unless_told_and_takes_an_address(sandbox: Sandbox, env: dict[str, str]) -> None:
    snippet_id = _create(sandbox, {"a.txt": b"bye\n"})
    sandbox.clear_requests()
    unconfirmed = cli(["delete", f"demo/{snippet_id}"], env)
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr
    assert sandbox.requests == []

    deleted = cli(["delete", f"https://bitbucket.org/demo/workspace/snippets/{snippet_id}/slug", "--yes"], env)
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout == f"Deleted demo/{snippet_id}.\n"
    assert _requests(sandbox) == [("DELETE", f"/2.0/snippets/demo/{snippet_id}")]
    gone = cli(["open", f"demo/{snippet_id}"], env)
    assert gone.returncode == 1 and "Traceback" not in gone.stderr


def test_delete_on_a_terminal_asks_first(sandbox: Sandbox, env: dict[str, str]) -> None:
    snippet_id = _create(sandbox, {"a.txt": b"keep me\n"}, title="Precious")
    status, screen = _run_on_a_terminal(["delete", f"demo/{snippet_id}"], env, [("[y/N] ", "n")])
    assert "Delete demo/" in screen and "(Precious)" in screen
    assert status == 1 and "not deleted" in screen
    assert _read(sandbox, snippet_id)[2] == {"a.txt": b"keep me\n"}
    status, screen = _run_on_a_terminal(["delete", f"demo/{snippet_id}"], env, [("[y/N] ", "y")])
    assert status == 0 and f"Deleted demo/{snippet_id}." in screen


def test_pull_without_a_folder_makes_one_named_after_the_id_in_the_current_folder(
    sandbox: Sandbox, env: dict[str, str], tmp_path: Path
) -> None:
    snippet_id = _create(sandbox, {"README.md": b"# hi\n", "notes/n.txt": b"n\n"})
    project = tmp_path / "project"
    project.mkdir()
    pulled = subprocess.run(
        [sys.executable, "-m", "snippet_daemon", "pull", f"https://bitbucket.org/snippets/demo/{snippet_id}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=project,
        timeout=60,
    )
    assert pulled.returncode == 0, pulled.stderr
    # the same rule as every editor's: <base folder>/<id>, nothing sprayed into the project's root
    assert sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()) == [
        f"{snippet_id}/README.md",
        f"{snippet_id}/notes/n.txt",
    ]


def test_a_closed_pipe_and_ctrl_c_end_quietly(sandbox: Sandbox, env: dict[str, str], tmp_path: Path) -> None:
    import shlex
    import signal
    import socket

    for index in range(3):
        _create(sandbox, {f"f{index}.txt": b"x\n"}, title="listed " * 20)
    command = shlex.join([sys.executable, "-m", "snippet_daemon", "list", "demo"])
    for reader in ("true", "head -1"):
        piped = subprocess.run(f"{command} | {reader}", shell=True, capture_output=True, text=True, env=env, timeout=60)
        assert piped.stderr == "", (reader, piped.stderr)

    # Ctrl-C while a request is on its way: a server that accepts and never answers.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(30)
        silent_env = {**env, "BITBUCKET_API_URL": f"http://127.0.0.1:{listener.getsockname()[1]}/2.0"}
        process = subprocess.Popen(
            [sys.executable, "-m", "snippet_daemon", "list", "demo"],
            env=silent_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        connection, _ = listener.accept()
        with connection:
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert out == "" and "Traceback" not in err and err.strip() == ""


# --------------------------------------------------------------------------- sign-in messages (#16 item 5)

TOKEN_PAGE = "https://id.atlassian.com/manage-profile/security/api-tokens"


def test_a_rejected_token_is_one_sentence_with_the_fix(sandbox: Sandbox, tmp_path: Path) -> None:
    env = {
        **base_env(tmp_path),
        "BITBUCKET_API_URL": sandbox.base_url,
        "BITBUCKET_USERNAME": sandbox.users[0].email,
        "BITBUCKET_API_TOKEN": "ATATT-expired",
    }
    result = cli(["list", "demo"], env)
    assert result.returncode == 1
    message = result.stderr.removeprefix("snippet-daemon: ").strip()
    assert "\n" not in message and message.count(". ") == 0 and len(message) < 400, message
    assert message.startswith("Bitbucket rejected the email and API token")
    assert TOKEN_PAGE in message and "read:snippet:bitbucket" in message and "write:snippet:bitbucket" in message
    assert message.endswith("then put it in BITBUCKET_API_TOKEN.")  # the environment is where this one came from
    assert "App passwords" not in message and "ATATT-expired" not in message and "[" not in message


def test_a_username_that_is_no_email_is_named(sandbox: Sandbox, tmp_path: Path) -> None:
    env = {
        **base_env(tmp_path),
        "BITBUCKET_API_URL": sandbox.base_url,
        "BITBUCKET_USERNAME": "demo",
        "BITBUCKET_API_TOKEN": sandbox.users[0].api_token,
    }
    result = cli(["list", "demo"], env)
    assert result.returncode == 1
    assert "Atlassian account email, and BITBUCKET_USERNAME is 'demo'" in result.stderr


def test_forbidden_names_the_missing_scope_from_bitbucket_s_answer(sandbox: Sandbox, tmp_path: Path) -> None:
    reader = sandbox.users[2]  # read:snippet:bitbucket only
    env = {
        **base_env(tmp_path),
        "BITBUCKET_API_URL": sandbox.base_url,
        "BITBUCKET_USERNAME": reader.email,
        "BITBUCKET_API_TOKEN": reader.api_token,
    }
    (tmp_path / "a.txt").write_text("a\n")
    sandbox.clear_requests()
    result = cli(["share", str(tmp_path / "a.txt"), "--workspace", "sandbox-team"], env)
    assert result.returncode == 1
    assert [(r.method, r.status) for r in sandbox.requests] == [("POST", 403)]
    assert "the token lacks the scope write:snippet:bitbucket" in result.stderr
    # the new token it asks for keeps what the old one could do
    assert "with the scopes read:snippet:bitbucket, write:snippet:bitbucket and delete:snippet:bitbucket" in (
        result.stderr
    )
    assert TOKEN_PAGE in result.stderr and "Traceback" not in result.stderr


def test_an_api_url_without_a_scheme_or_2_0_says_what_it_expected(sandbox: Sandbox, env: dict[str, str]) -> None:
    sandbox.clear_requests()
    for wrong in (sandbox.base_url.removeprefix("http://"), sandbox.web_url, sandbox.web_url + "/"):
        for command in (["list", "demo"], ["whoami"], ["login"], ["open", "demo/abc"]):
            result = cli(command, {**env, "BITBUCKET_API_URL": wrong})
            assert result.returncode == 1, (wrong, command, result.stderr)
            assert f"BITBUCKET_API_URL is {wrong!r}, which is not an API address" in result.stderr
            assert "https://api.bitbucket.org/2.0" in result.stderr
            for noise in ("UnsupportedProtocol", "<html", "<!doctype", "Traceback"):
                assert noise not in result.stderr
    assert sandbox.requests == []
    assert "it needs http:// or https://" in cli(["list"], {**env, "BITBUCKET_API_URL": "localhost/2.0"}).stderr
    assert "it must end in /2.0" in cli(["list"], {**env, "BITBUCKET_API_URL": sandbox.web_url}).stderr
