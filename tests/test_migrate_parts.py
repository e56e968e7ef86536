"""The migration's parts on their own: tolerant reading, file names, names, state file, progress, credentials."""

from __future__ import annotations

import base64
import io
import json
import sys
from pathlib import Path

import pytest

from snippet_daemon.migrate.command import default_state_dir, default_state_name
from snippet_daemon.migrate.credentials import ServerKeyring, resolve_server_credentials
from snippet_daemon.migrate.progress import Progress
from snippet_daemon.migrate.provenance import cloud_files, provenance_file_name, provenance_text
from snippet_daemon.migrate.source import (
    ServerCredentials,
    ServerFile,
    SourceError,
    normalize_server_url,
    parse_snippet,
    parse_timestamp,
)
from snippet_daemon.migrate.state import MigrationState, StateError, StateStore, exclusive_lock
from snippet_daemon.migrate.users import UserMapError, UserNames, load_user_map
from snippet_daemon.sandbox import Sandbox
from tests.conftest import make_client
from tests.test_migrate import WORKSPACE, migrate

BINARY = bytes(range(256)) + b"\r\n\x00\xff"


# --------------------------------------------------------------------------- reading the add-on


def test_file_content_in_every_shape_decodes_to_the_same_bytes() -> None:
    encoded = base64.b64encode(BINARY).decode()
    snippet = parse_snippet(
        {
            "guid": "g",
            "files": [
                {"name": "plain.txt", "content": "caf\u00e9\r\n"},
                {"name": "a.bin", "content": encoded, "encoding": "base64"},
                {"name": "b.bin", "contentBase64": encoded},
                {"name": "wrapped.bin", "contentBase64": encoded[:40] + "\n" + encoded[40:]},
                {"name": "empty.txt", "content": ""},
            ],
        },
        detailed=True,
    )
    assert {f.name: f.content for f in snippet.files} == {
        "plain.txt": "caf\u00e9\r\n".encode(),
        "a.bin": BINARY,
        "b.bin": BINARY,
        "wrapped.bin": BINARY,
        "empty.txt": b"",
    }


@pytest.mark.parametrize(
    "file_entry",
    [{"name": "x", "contentBase64": "not base64!"}, {"name": "x"}, {"name": "x", "content": 12}],
)
def test_a_file_that_cannot_be_copied_byte_exact_is_an_error_not_a_guess(file_entry: dict[str, object]) -> None:
    with pytest.raises(SourceError, match="'x'"):
        parse_snippet({"guid": "g", "files": [file_entry]}, detailed=True)


def test_a_list_entry_is_a_summary_whose_files_need_no_content() -> None:
    for files in ([{"guid": "f1", "name": "s0.sql"}], [{"name": "x", "content": "old shape"}], None, "junk"):
        entry = {"guid": "g", "name": "n", "files": files, "comments": [{"text": "later"}]}
        summary = parse_snippet(entry, detailed=False)
        assert (summary.guid, summary.name, summary.files, summary.comments) == ("g", "n", (), ())
        assert not summary.detailed


def test_missing_and_unknown_fields_are_tolerated() -> None:
    snippet = parse_snippet({"id": 42, "surprise": [1], "comments": [{"text": "hi", "user": {"id": 7}}]}, detailed=True)
    assert snippet.guid == "42" and snippet.name == "" and snippet.files == ()
    assert snippet.is_public is False and snippet.created_at is None
    assert snippet.comments[0].user_id == "7" and snippet.comments[0].text == "hi"


def test_timestamps_in_milliseconds_seconds_or_iso_mean_the_same_moment() -> None:
    moments = {parse_timestamp(v) for v in (1_600_000_000_000, 1_600_000_000, "2020-09-13T12:26:40Z", "1600000000000")}
    assert len(moments) == 1 and None not in moments
    assert parse_timestamp("yesterday") is None and parse_timestamp(True) is None


def test_comments_are_put_in_date_order() -> None:
    snippet = parse_snippet(
        {"guid": "g", "comments": [{"guid": "b", "createdAt": 2000}, {"guid": "a", "createdAt": 1000}]},
        detailed=True,
    )
    assert [c.guid for c in snippet.comments] == ["a", "b"]


def test_server_url_loses_credentials_and_pasted_rest_paths() -> None:
    url, credentials = normalize_server_url("https://me:s3cr%40t@bitbucket.example.com:7990/bb/rest/snippets/1.0/")
    assert url == "https://bitbucket.example.com:7990/bb"
    assert credentials == ServerCredentials("me", "s3cr@t", source="server URL")
    assert "s3cr" not in repr(credentials)
    with pytest.raises(SourceError) as error:
        normalize_server_url("ftp://me:hunter2@host")
    assert "hunter2" not in error.value.message


# --------------------------------------------------------------------------- what Cloud receives


def test_duplicate_and_empty_file_names_are_renamed_so_no_file_is_lost() -> None:
    files, renamed = cloud_files(
        [ServerFile("a.txt", b"1"), ServerFile("a.txt", b"2"), ServerFile("", b"3"), ServerFile("a (2).txt", b"4")]
    )
    assert sorted(files.values()) == [b"1", b"2", b"3", b"4"]
    assert len(files) == 4 and files["a.txt"] == b"1" and files["a (2).txt"] == b"4"
    assert renamed == [("a.txt", "a (3).txt"), ("(unnamed file 3)", "file-3")]
    files, renamed = cloud_files([ServerFile("../up/.git/x", b"1"), ServerFile("/abs", b"2")])
    assert files == {"up/_git/x": b"1", "abs": b"2"}  # names git could not store, made storable
    text = provenance_text(parse_snippet({"guid": "g"}, detailed=True), server_url="http://s", names=UserNames())
    assert "File renamed" not in text
    assert provenance_file_name({"SNIPPET-ORIGIN.md": b""}) == "SNIPPET-ORIGIN-2.md"


async def test_renamed_files_arrive_on_cloud_with_every_byte(sandbox: Sandbox, tmp_path: Path) -> None:
    from tests.fake_addon import FakeAddon, FakeFile

    with FakeAddon() as addon:
        (snippet,) = addon.seed(1, files_per_snippet=0, max_comments=0)
        snippet.files = [FakeFile("dup.bin", BINARY, "encoding"), FakeFile("dup.bin", b"second", "text")]
        report, _ = await migrate(sandbox, addon, tmp_path)
    assert not report.failures
    async with make_client(sandbox) as client:
        (created,) = await client.list_snippets(WORKSPACE)
        content = await client.get_snippet_content(WORKSPACE, created.id)
        (provenance, *_) = await client.list_comments(WORKSPACE, created.id)
    assert content.files == {"dup.bin": BINARY, "dup (2).bin": b"second"}
    assert "`dup.bin` is `dup (2).bin` here" in provenance.raw


# --------------------------------------------------------------------------- names


def test_user_map_as_json_or_lines(tmp_path: Path) -> None:
    as_json = tmp_path / "map.json"
    as_json.write_text(json.dumps({"12": "Ada", "15": {"name": "Alan"}}))
    assert load_user_map(as_json) == {"12": "Ada", "15": "Alan"}
    as_lines = tmp_path / "map.txt"
    as_lines.write_text("# who is who\n12 = Ada Lovelace\n\n15=Alan\n")
    assert load_user_map(as_lines) == {"12": "Ada Lovelace", "15": "Alan"}
    as_lines.write_text("12=Ada\nnonsense\n")
    with pytest.raises(UserMapError, match=r"map.txt:2: expected ID=NAME"):
        load_user_map(as_lines)


# --------------------------------------------------------------------------- the state file


def test_a_damaged_or_foreign_state_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text('{"format": "snippet-daemon-migration", "version": 1, "snip')
    with pytest.raises(StateError, match=r"not valid JSON.*move it away"):
        MigrationState.load(path, server_url="http://s", workspace="w")
    path.write_text("{}")
    with pytest.raises(StateError, match="not a snippet-daemon migration state file"):
        MigrationState.load(path, server_url="http://s", workspace="w")


def test_state_round_trips_and_is_written_whole(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "state.json"
    state = MigrationState(server_url="http://s", workspace="w")
    record = state.record("g1", "name")
    record.begin_create(title="", files={"a": b"1"}, mode="file")
    StateStore(path, state).commit_now()
    loaded = MigrationState.load(path, server_url="http://s", workspace="w")
    again = loaded.snippets["g1"]
    assert again.status == "creating" and again.title == "" and again.fingerprint == record.fingerprint
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]  # no temporary file left behind


def test_two_migrations_cannot_share_a_state_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with exclusive_lock(path), pytest.raises(StateError, match="another migration is running"), exclusive_lock(path):
        pass
    with exclusive_lock(path):  # released with its holder
        pass


# --------------------------------------------------------------------------- progress


def test_progress_is_plain_lines_on_a_pipe_and_a_bar_with_eta_on_a_terminal() -> None:
    now = [0.0]
    pipe = io.StringIO()
    progress = Progress(pipe, total_snippets=2, planned_requests=4, tty=False, clock=lambda: now[0])
    now[0] = 1.0
    progress.request_done()
    progress.request_done()
    progress.snippet_done("migrated one")
    assert pipe.getvalue() == "[1/2] migrated one\n"
    assert progress.eta() == pytest.approx(1.0)  # 2 requests left at 2 a second

    terminal = io.StringIO()
    bar = Progress(terminal, total_snippets=2, planned_requests=4, tty=True, clock=lambda: now[0])
    now[0] = 2.0
    bar.request_done()
    bar.snippet_done("migrated one")
    assert "\r" in terminal.getvalue() and "1/2 snippets" in terminal.getvalue() and "ETA" in terminal.getvalue()
    assert "migrated one" not in terminal.getvalue()


# --------------------------------------------------------------------------- server credentials


class FakeKeyring(ServerKeyring):
    def __init__(self, stored: ServerCredentials | None) -> None:
        super().__init__("test")
        self.stored = stored

    def load(self, server_url: str) -> ServerCredentials | None:
        return self.stored


def test_server_credentials_come_from_env_then_keyring_then_prompt() -> None:
    stored = ServerCredentials("kept", "from-keyring", source="keyring")
    env = {"BITBUCKET_SERVER_USERNAME": "env-user", "BITBUCKET_SERVER_PASSWORD": "env-pass"}
    from_env = resolve_server_credentials("http://s", env=env, store=FakeKeyring(stored))
    assert from_env == ServerCredentials("env-user", "env-pass", source="environment")
    assert resolve_server_credentials("http://s", env={}, store=FakeKeyring(stored), interactive=True) == stored
    prompted = resolve_server_credentials(
        "http://s", env={}, store=FakeKeyring(None), interactive=True, ask=lambda _: "me", ask_secret=lambda _: "pw"
    )
    assert prompted == ServerCredentials("me", "pw", source="prompt")
    assert resolve_server_credentials("http://s", env={}, store=FakeKeyring(None), interactive=False) is None


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="XDG_DATA_HOME is the Linux convention")
def test_the_default_state_file_is_per_user_and_per_migration(tmp_path: Path) -> None:
    folder = default_state_dir({"XDG_DATA_HOME": str(tmp_path)})
    assert folder == tmp_path / "snippet-daemon" / "migrations"
    assert default_state_name("https://bitbucket.example.com:7990/bb", "my-team") == (
        "bitbucket.example.com_7990_bb-my-team.json"
    )
