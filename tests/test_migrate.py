"""``migrate``: Bitbucket Server's Snippets add-on (a fake, over HTTP) to Bitbucket Cloud (the sandbox).

What a user would notice: every file arrives byte-exact; the author, dates, categories and description
survive; comments arrive in order with their authors; the request count is what the plan says; a
crash, a kill or a 429 storm never duplicates or loses anything; bad input gets a clear message.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from snippet_daemon.bitbucket import SnippetsClient
from snippet_daemon.migrate.provenance import format_time
from snippet_daemon.migrate.report import MigrationReport
from snippet_daemon.migrate.runner import MigrateOptions, MigrationAborted, run_migration
from snippet_daemon.migrate.source import AddonSource, ServerCredentials, parse_timestamp
from snippet_daemon.sandbox import Sandbox
from tests.conftest import make_client
from tests.fake_addon import FakeAddon, FakeSnippet

WORKSPACE = "demo"


@pytest.fixture
def addon() -> Iterator[FakeAddon]:
    with FakeAddon() as server:
        yield server


def options(addon: FakeAddon, tmp_path: Path, **overrides: Any) -> MigrateOptions:
    values: dict[str, Any] = {
        "server_url": addon.base_url,
        "workspace": WORKSPACE,
        "state_path": tmp_path / "state.json",
        "report_path": tmp_path / "report.md",
        "all_users": True,
        "rate_limit_pause": 0.2,
    }
    values.update(overrides)
    return MigrateOptions(**values)


async def migrate(
    sandbox: Sandbox, addon: FakeAddon, tmp_path: Path, *, client: SnippetsClient | None = None, **overrides: Any
) -> tuple[MigrationReport, str]:
    out = io.StringIO()
    credentials = ServerCredentials(addon.username, addon.password)
    async with client or make_client(sandbox) as cloud, AddonSource(addon.base_url, credentials) as source:
        report = await run_migration(options(addon, tmp_path, **overrides), cloud=cloud, source=source, out=out)
    return report, out.getvalue()


def posts(sandbox: Sandbox) -> Counter[str]:
    """Successful POSTs by path: creates on /2.0/snippets/demo, comments on .../{id}/comments."""
    return Counter(r.path for r in sandbox.requests if r.method == "POST" and r.status in (200, 201))


async def cloud_view(sandbox: Sandbox) -> dict[str, tuple[Any, dict[str, bytes], list[str]]]:
    """Every snippet of the workspace by title: (snippet, files, comment texts oldest first)."""
    async with make_client(sandbox) as client:
        view = {}
        for snippet in await client.list_snippets(WORKSPACE):
            content = await client.get_snippet_content(WORKSPACE, snippet.id)
            comments = [c.raw for c in await client.list_comments(WORKSPACE, snippet.id)]
            assert snippet.title not in view, f"duplicate snippet on Cloud: {snippet.title}"
            view[snippet.title] = (content.snippet, content.files, comments)
        return view


def expected_files(snippet: FakeSnippet) -> dict[str, bytes]:
    return {file.name: file.content for file in snippet.files}


def user_name(addon: FakeAddon, user_id: int) -> str:
    user = next(u for u in addon.users if u.id == user_id)
    return f"{user.display_name} ({user.slug})"


def when(epoch_ms: int) -> str:
    moment = parse_timestamp(epoch_ms)
    assert moment is not None
    return format_time(moment)


def assert_comments_match(addon: FakeAddon, snippet: FakeSnippet, posted: list[str]) -> None:
    assert len(posted) == len(snippet.comments), snippet.name
    for original, text in zip(snippet.comments, posted, strict=True):
        header, _, body = text.partition("\n\n")
        assert user_name(addon, original.user_id) in header
        assert when(original.created_at) in header
        assert body == original.text


# --------------------------------------------------------------------------- the whole migration


async def test_fifty_snippets_arrive_byte_exact_with_provenance_and_comments(
    sandbox: Sandbox, addon: FakeAddon, tmp_path: Path
) -> None:
    addon.seed(50, files_per_snippet=3, max_comments=3)
    sandbox.clear_requests()

    report, output = await migrate(sandbox, addon, tmp_path)

    assert report.counts()["migrated"] == 50 and not report.failures
    comment_total = sum(len(s.comments) for s in addon.snippets)
    assert f"{50 * 2 + comment_total} Bitbucket Cloud request(s)" in output  # the plan said it up front
    assert "Estimate:" in output and "1,000 an hour" in output
    # The request economy: one create per snippet with all its files, one provenance comment, one per comment;
    # plus the single preflight page, and nothing else.
    write_paths = posts(sandbox)
    assert write_paths[f"/2.0/snippets/{WORKSPACE}"] == 50
    assert len(sandbox.requests) == 1 + 50 * 2 + comment_total
    assert all(r.status in (200, 201) for r in sandbox.requests)

    view = await cloud_view(sandbox)
    assert len(view) == 50
    for original in addon.snippets:
        snippet, files, comments = view[original.name]
        assert files == expected_files(original), original.name  # byte-exact, binary included
        assert snippet.is_private  # private is the default, public or not on the server
        assert write_paths[f"/2.0/snippets/{WORKSPACE}/{snippet.id}/comments"] == 1 + len(original.comments)
        provenance, *rest = comments
        assert f"{addon.base_url}/rest/snippets/1.0/snippets/{original.guid}" in provenance
        assert f"**Author:** {user_name(addon, original.user_id)}" in provenance
        assert when(original.created_at) in provenance and when(original.updated_at) in provenance
        assert ", ".join(original.categories) in provenance
        assert original.description in provenance
        assert_comments_match(addon, original, rest)

    state = json.loads((tmp_path / "state.json").read_text())
    assert {entry["status"] for entry in state["snippets"].values()} == {"done"}
    written_report = (tmp_path / "report.md").read_text()
    for original in addon.snippets:
        assert f"`{original.guid}`" in written_report
        assert view[original.name][0].html_url in written_report


async def test_provenance_file_mode_is_one_request_per_snippet_plus_comments(
    sandbox: Sandbox, addon: FakeAddon, tmp_path: Path
) -> None:
    addon.seed(6, max_comments=2)
    sandbox.clear_requests()

    report, _ = await migrate(sandbox, addon, tmp_path, provenance="file", keep_public=True)

    assert report.counts()["migrated"] == 6
    comment_total = sum(len(s.comments) for s in addon.snippets)
    assert len(sandbox.requests) == 1 + 6 + comment_total
    view = await cloud_view(sandbox)
    for original in addon.snippets:
        snippet, files, comments = view[original.name]
        origin = files.pop("SNIPPET-ORIGIN.md").decode()
        assert files == expected_files(original)
        assert original.guid in origin and user_name(addon, original.user_id) in origin
        assert original.description in origin
        assert snippet.is_private is not original.is_public  # --keep-public keeps public ones public
        assert_comments_match(addon, original, comments)  # no provenance comment in this mode


async def test_a_second_run_writes_nothing_and_reports_everything_done(
    sandbox: Sandbox, addon: FakeAddon, tmp_path: Path
) -> None:
    addon.seed(4)
    await migrate(sandbox, addon, tmp_path)
    sandbox.clear_requests()

    report, output = await migrate(sandbox, addon, tmp_path)

    assert report.counts()["already done"] == 4
    assert [r.method for r in sandbox.requests] == ["GET"]  # the preflight page only
    assert "0 snippet(s) to migrate" in output


async def test_without_all_users_only_own_snippets_and_user_map_names_authors(sandbox: Sandbox, tmp_path: Path) -> None:
    with FakeAddon(users_api=False) as addon:
        addon.seed(6, max_comments=3)
        mine = addon.own_snippets()
        assert 0 < len(mine) < 6

        report, output = await migrate(
            sandbox, addon, tmp_path, all_users=False, user_map={"1": "Mia from the map"}, provenance="file"
        )

    assert report.counts()["migrated"] == len(mine)
    assert "user API is not available" in output
    view = await cloud_view(sandbox)
    assert set(view) == {s.name for s in mine}
    for original in mine:
        _, files, comments = view[original.name]
        assert "**Author:** Mia from the map" in files["SNIPPET-ORIGIN.md"].decode()
        for comment, text in zip(original.comments, comments, strict=True):
            expected = "Mia from the map" if comment.user_id == 1 else f"server user {comment.user_id}"
            assert expected in text.partition("\n\n")[0]


async def test_dry_run_reads_but_writes_nothing(sandbox: Sandbox, addon: FakeAddon, tmp_path: Path) -> None:
    addon.seed(5)
    sandbox.clear_requests()

    report, output = await migrate(sandbox, addon, tmp_path, dry_run=True)

    assert report.counts()["planned"] == 5
    assert {r.method for r in sandbox.requests} == {"GET"}
    assert not (tmp_path / "state.json").exists() and not (tmp_path / "report.md").exists()
    assert list(tmp_path.iterdir()) == [tmp_path / "sandbox-data"]  # no lock file either
    for original in addon.snippets:
        assert original.guid in output
    assert "Estimate:" in output


@pytest.mark.parametrize("list_files", ["names", "absent"])
@pytest.mark.parametrize("dry_run", [True, False])
async def test_list_entries_that_name_files_without_content_are_summaries(
    sandbox: Sandbox, tmp_path: Path, list_files: Any, dry_run: bool
) -> None:
    """The real add-on's list entries name files without content (or omit them): only the detail read counts."""
    with FakeAddon(list_files=list_files) as addon:
        addon.seed(3, files_per_snippet=3, max_comments=1)
        async with httpx.AsyncClient(auth=(addon.username, addon.password)) as http:
            page = (await http.get(f"{addon.base_url}/rest/snippets/1.0/snippets/browse")).json()
        for entry in page["values"]:  # the fake serves the shape FACTS.md describes
            if list_files == "names":
                assert entry["files"] and all(set(file) == {"guid", "name"} for file in entry["files"])
            else:
                assert "files" not in entry
        report, output = await migrate(sandbox, addon, tmp_path, dry_run=dry_run)

    assert not report.failures
    if dry_run:
        assert report.counts()["planned"] == 3
        for original in addon.snippets:
            size = sum(len(file.content) for file in original.files)
            assert f"{original.guid}  {original.name}: 3 file(s), {size:,} bytes" in output
    else:
        assert report.counts()["migrated"] == 3
        view = await cloud_view(sandbox)
        for original in addon.snippets:
            assert view[original.name][1] == expected_files(original)


async def test_a_detail_read_without_content_fails_that_snippet_alone(
    sandbox: Sandbox, addon: FakeAddon, tmp_path: Path
) -> None:
    broken, fine = addon.seed(2, files_per_snippet=1, max_comments=0)
    original_detail = broken.detail_json
    broken.detail_json = lambda: {**original_detail(), "files": [{"name": "s0.sql"}]}  # type: ignore[method-assign]

    report, output = await migrate(sandbox, addon, tmp_path)

    assert report.counts()["migrated"] == 1
    assert "1 unreadable" in output
    (failure,) = report.failures
    assert failure.guid == broken.guid and "'s0.sql' without its content" in (failure.reason or "")
    assert set(await cloud_view(sandbox)) == {fine.name}


# --------------------------------------------------------------------------- crashes, exactly once


class SimulatedCrash(BaseException):
    """Stands for SIGKILL: not an Exception, so nothing in the migration catches it."""


class CrashingClient(SnippetsClient):
    """A real client that 'dies' at a chosen moment, keeping the state file as it was on disk then.

    ``crash_on`` is ``("create", n)`` or ``("comment", n)``; ``after`` says whether the n-th request of
    that kind reached the sandbox first. Once dead, every call raises, so nothing more reaches Cloud.
    """

    def __init__(self, base: SnippetsClient, state_path: Path, crash_on: tuple[str, int], *, after: bool) -> None:
        super().__init__(base.credentials, base.api_url, retry=base.retry)
        self.state_path = state_path
        self.crash_on = crash_on
        self.after = after
        self.calls: Counter[str] = Counter()
        self.disk_at_crash: bytes | None = None

    def _die(self) -> SimulatedCrash:
        self.disk_at_crash = self.state_path.read_bytes()
        return SimulatedCrash()

    async def _step(self, kind: str, call: Any) -> Any:
        if self.disk_at_crash is not None:
            raise SimulatedCrash()
        self.calls[kind] += 1
        crash_now = (kind, self.calls[kind]) == self.crash_on
        if crash_now and not self.after:
            raise self._die()
        result = await call()
        if crash_now:
            raise self._die()
        return result

    async def create_snippet(self, *args: Any, **kwargs: Any) -> Any:
        return await self._step("create", lambda: super(CrashingClient, self).create_snippet(*args, **kwargs))

    async def create_comment(self, *args: Any, **kwargs: Any) -> Any:
        return await self._step("comment", lambda: super(CrashingClient, self).create_comment(*args, **kwargs))


@pytest.mark.parametrize(
    ("crash_on", "after"),
    [
        (("create", 1), True),  # the first create reached Cloud, its id was never recorded
        (("create", 3), True),  # the same, with other snippets finished around it
        (("create", 2), False),  # the intent is recorded, the POST never left
        (("comment", 4), True),  # a comment reached Cloud, not the state file
        (("comment", 2), False),  # a comment's intent is recorded, the POST never left
    ],
)
async def test_a_crash_at_any_point_then_a_rerun_gives_each_snippet_and_comment_exactly_once(
    sandbox: Sandbox, addon: FakeAddon, tmp_path: Path, crash_on: tuple[str, int], after: bool
) -> None:
    addon.seed(6, max_comments=3)
    addon.snippets[0].name = ""  # untitled: its interrupted create must still be recognised
    crashing = CrashingClient(make_client(sandbox), tmp_path / "state.json", crash_on, after=after)
    with pytest.raises(SimulatedCrash):
        await migrate(sandbox, addon, tmp_path, client=crashing, concurrency=2)
    await asyncio.sleep(0.2)  # let requests already on the wire land, as after a real kill
    assert crashing.disk_at_crash is not None
    (tmp_path / "state.json").write_bytes(crashing.disk_at_crash)  # exactly what a SIGKILL leaves

    report, output = await migrate(sandbox, addon, tmp_path)

    assert not report.failures
    if crash_on[0] == "create":
        assert "may have reached Bitbucket Cloud: looking for them there" in output
    view = await cloud_view(sandbox)  # fails on a duplicate title
    assert set(view) == {s.name for s in addon.snippets}
    for original in addon.snippets:
        _, files, comments = view[original.name]
        assert files == expected_files(original)
        assert len(comments) == 1 + len(original.comments)  # no comment twice, none missing
        assert_comments_match(addon, original, comments[1:])


async def test_a_dropped_create_is_reported_then_settled_by_the_next_run(
    sandbox: Sandbox, addon: FakeAddon, tmp_path: Path
) -> None:
    addon.seed(3, max_comments=0)

    class DroppingClient(SnippetsClient):
        creates = 0

        async def create_snippet(self, *args: Any, **kwargs: Any) -> Any:
            self.creates += 1
            if self.creates == 2:
                sandbox.faults.drop_next = 1  # the connection closes with no answer: created or not?
            return await super().create_snippet(*args, **kwargs)

    base = make_client(sandbox)
    report, _ = await migrate(
        sandbox, addon, tmp_path, client=DroppingClient(base.credentials, base.api_url, retry=base.retry)
    )
    assert len(report.failures) == 1 and "next run checks" in (report.failures[0].reason or "")
    state = json.loads((tmp_path / "state.json").read_text())
    assert sorted(entry["status"] for entry in state["snippets"].values()) == ["creating", "done", "done"]

    report, _ = await migrate(sandbox, addon, tmp_path)

    assert not report.failures and report.counts()["completed"] == 1
    assert set(await cloud_view(sandbox)) == {s.name for s in addon.snippets}


async def test_a_429_storm_is_waited_out(sandbox: Sandbox, addon: FakeAddon, tmp_path: Path) -> None:
    addon.seed(5, max_comments=2)

    class StormAfterFirstCreate(SnippetsClient):
        stormed = False

        async def create_snippet(self, *args: Any, **kwargs: Any) -> Any:
            result = await super().create_snippet(*args, **kwargs)
            if not self.stormed:
                self.stormed = True
                # More 429s than the client's own back-off budget absorbs: the runner must pause and go on.
                sandbox.faults.rate_limit_next = 120
            return result

    base = make_client(sandbox)
    client = StormAfterFirstCreate(base.credentials, base.api_url, retry=base.retry)
    started = time.monotonic()
    report, output = await migrate(sandbox, addon, tmp_path, client=client)

    assert not report.failures, report.failures
    assert "pausing" in output
    assert sum(1 for r in sandbox.requests if r.status == 429) == 120
    assert time.monotonic() - started < 30
    view = await cloud_view(sandbox)
    assert set(view) == {s.name for s in addon.snippets}
    for original in addon.snippets:
        assert len(view[original.name][2]) == 1 + len(original.comments)


async def test_a_state_file_of_another_migration_is_refused(sandbox: Sandbox, addon: FakeAddon, tmp_path: Path) -> None:
    addon.seed(1)
    await migrate(sandbox, addon, tmp_path)
    with pytest.raises(MigrationAborted, match="belongs to the migration of"):
        await migrate(sandbox, addon, tmp_path, workspace="sandbox-team")


# --------------------------------------------------------------------------- the command line


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli_env(sandbox: Sandbox, addon: FakeAddon, tmp_path: Path, *, user: int = 0) -> dict[str, str]:
    account = sandbox.users[user]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BITBUCKET_")}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        BITBUCKET_API_URL=sandbox.base_url,
        BITBUCKET_USERNAME=account.email,
        BITBUCKET_API_TOKEN=account.api_token,
        BITBUCKET_SERVER_USERNAME=addon.username,
        BITBUCKET_SERVER_PASSWORD=addon.password,
        SNIPPET_DAEMON_RETRY_BASE_DELAY="0.01",
    )
    return env


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "snippet_daemon", "migrate", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def assert_no_secret(secrets: list[str], *texts: str) -> None:
    for secret in secrets:
        for text in texts:
            assert secret not in text


def test_killed_mid_migration_then_rerun_leaves_no_duplicate_and_nothing_missing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    with FakeAddon() as addon:
        addon.seed(16, max_comments=3)
        env = cli_env(sandbox, addon, tmp_path)
        state = tmp_path / "state.json"
        args = ["--server", addon.base_url, "--to-workspace", WORKSPACE, "--all-users", "--state", str(state)]
        sandbox.faults.latency_ms = 60  # slow enough to kill it with requests in flight
        process = subprocess.Popen(
            [sys.executable, "-m", "snippet_daemon", "migrate", *args, "--concurrency", "3"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if state.exists():
                    entries = json.loads(state.read_text())["snippets"].values()  # always whole JSON
                    if sum(entry["status"] == "done" for entry in entries) >= 3:
                        break
                time.sleep(0.01)
            else:
                pytest.fail("the migration made no progress")
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == -signal.SIGKILL
        sandbox.faults.latency_ms = 0
        time.sleep(0.2)  # the sandbox finishes what it had received

        rerun = run_cli(args, env)

        assert rerun.returncode == 0, rerun.stderr
        assert "Resuming with the state file" in rerun.stdout
        view = asyncio.run(cloud_view(sandbox))
        assert set(view) == {s.name for s in addon.snippets}
        for original in addon.snippets:
            _, files, comments = view[original.name]
            assert files == expected_files(original)
            assert len(comments) == 1 + len(original.comments)
            assert len(set(comments)) == len(comments)
        report = state.with_suffix(".report.md").read_text()
        assert_no_secret(
            [addon.password, sandbox.users[0].api_token], rerun.stdout, rerun.stderr, state.read_text(), report
        )


def test_ctrl_c_saves_progress_says_how_to_resume_and_exits_130(sandbox: Sandbox, tmp_path: Path) -> None:
    with FakeAddon() as addon:
        addon.seed(10, max_comments=2)
        env = cli_env(sandbox, addon, tmp_path)
        state = tmp_path / "state.json"
        args = ["--server", addon.base_url, "--to-workspace", WORKSPACE, "--all-users", "--state", str(state)]
        sandbox.faults.latency_ms = 60
        process = subprocess.Popen(
            [sys.executable, "-m", "snippet_daemon", "migrate", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while not (state.exists() and '"done"' in state.read_text()) and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
        sandbox.faults.latency_ms = 0

        assert process.returncode == 130
        assert f"Progress is saved in {state}; run the same command again to resume" in stderr
        assert "Traceback" not in stderr
        rerun = run_cli(args, env)

    assert rerun.returncode == 0, rerun.stderr
    assert set(asyncio.run(cloud_view(sandbox))) == {s.name for s in addon.snippets}


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("connection refused", "Cannot connect to Bitbucket Server"),
        ("not bitbucket", "does not look like Bitbucket Server"),
        ("wrong password", "401 Unauthorized"),
        ("add-on missing", "add-on does not answer there"),
        ("free plan", "Free plan"),
        ("read-only token", "write:snippet:bitbucket"),
        ("browse forbidden", "leave out --all-users"),
    ],
)
def test_bad_input_gets_a_clear_message_and_exit_code_1(
    sandbox: Sandbox, tmp_path: Path, case: str, expected: str
) -> None:
    settings: dict[str, Any] = {
        "not bitbucket": {"installed": False, "core_api": False},
        "add-on missing": {"installed": False},
        "browse forbidden": {"browse_allowed": False},
    }.get(case, {})
    with FakeAddon(**settings) as addon:
        addon.seed(2)
        env = cli_env(sandbox, addon, tmp_path, user=2 if case == "read-only token" else 0)
        server = f"http://127.0.0.1:{free_port()}" if case == "connection refused" else addon.base_url
        workspace = {"free plan": "free-plan", "read-only token": "sandbox-team"}.get(case, WORKSPACE)
        if case == "wrong password":
            env["BITBUCKET_SERVER_PASSWORD"] = "not-the-password-8812"
        sandbox.clear_requests()

        result = run_cli(["--server", server, "--to-workspace", workspace, "--all-users"], env)

    assert result.returncode == 1, (result.stdout, result.stderr)
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not any(r.method == "POST" and r.status in (200, 201) for r in sandbox.requests)  # nothing created
    written = [p.read_text() for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert_no_secret(
        [addon.password, "not-the-password-8812", *(u.api_token for u in sandbox.users)],
        result.stdout,
        result.stderr,
        *written,
    )


def test_help_documents_the_options_and_the_user_map(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path)}
    result = run_cli(["--help"], env)
    assert result.returncode == 0
    for text in ("--provenance-file", "--user-map", "--state", "--report", "--dry-run", "--concurrency", "ID=NAME"):
        assert text in result.stdout
