"""The Bitbucket client end to end: real HTTP over loopback against the sandbox."""

from __future__ import annotations

import logging
import socket
from collections import Counter

import httpx
import pytest

from snippet_daemon.bitbucket import (
    Conflict,
    Credentials,
    Forbidden,
    InvalidRequest,
    NetworkError,
    NotAuthenticated,
    NotFound,
    PlanRestricted,
    RateLimited,
    ServerError,
    SnippetsClient,
)
from snippet_daemon.bitbucket.multipart import decode_snippet_body
from snippet_daemon.sandbox import Sandbox
from tests.conftest import RecordingTransport, make_client

BINARY = bytes(range(256)) + b"\x00\xff\r\n\r\x00\xff"
THREE_FILES = {"main.py": b"print('hi')\n", "README.md": "# Título\n".encode(), "logo.bin": BINARY}


def snippet_requests(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sandbox.requests]


async def test_reading_a_three_file_snippet_takes_one_request(sandbox: Sandbox) -> None:
    async with make_client(sandbox) as client:
        created = await client.create_snippet("demo", THREE_FILES, title="three")
        sandbox.clear_requests()
        content = await client.get_snippet_content("demo", created.id)
    assert content.files == THREE_FILES
    assert content.snippet.title == "three"
    assert content.revision and len(content.revision) == 40
    assert len(sandbox.requests) == 1
    assert sandbox.requests[0].accept == "multipart/related"


async def test_create_is_one_request_whatever_the_number_of_files(sandbox: Sandbox) -> None:
    files = {f"file{i}.txt": f"content {i}\n".encode() for i in range(12)}
    async with make_client(sandbox) as client:
        created = await client.create_snippet("demo", files, title="many", is_private=True)
        assert len(sandbox.requests) == 1 and sandbox.requests[0].method == "POST"
        assert created.is_private is True
        assert created.html_url and created.id in created.html_url
        assert created.revision and set(created.file_names) == set(files)
        content = await client.get_snippet_content("demo", created.id)
    assert content.files == files


async def test_saving_one_changed_file_is_one_put_carrying_only_that_file(sandbox: Sandbox) -> None:
    transport = RecordingTransport()
    async with make_client(sandbox, transport=transport) as client:
        created = await client.create_snippet("demo", THREE_FILES, title="three")
        read = await client.get_snippet_content("demo", created.id)
        sandbox.clear_requests()
        transport.sent.clear()
        updated = await client.update_snippet(
            "demo", created.id, files={"main.py": b"print('bye')\n"}, at_revision=read.revision
        )
        assert snippet_requests(sandbox) == [("PUT", f"/2.0/snippets/demo/{created.id}/{read.revision}")]
        request = transport.sent[0]
        metadata, files = decode_snippet_body(request.content, request.headers["content-type"])
        assert files == {"main.py": b"print('bye')\n"}
        assert metadata == {"files": {"main.py": {}}}
        assert updated.revision and updated.revision != read.revision
        after = await client.get_snippet_content("demo", created.id)
    assert after.files == {**THREE_FILES, "main.py": b"print('bye')\n"}
    assert after.revision == updated.revision


async def test_binary_files_round_trip_byte_exact_every_way(sandbox: Sandbox) -> None:
    async with make_client(sandbox) as client:
        created = await client.create_snippet("demo", {"blob.bin": BINARY, "crlf.txt": b"a\r\nb"})
        content = await client.get_snippet_content("demo", created.id)
        assert content.files == {"blob.bin": BINARY, "crlf.txt": b"a\r\nb"}
        sandbox.clear_requests()
        at_head = await client.get_file("demo", created.id, "blob.bin")
        # The un-versioned file URL answers 302 to the versioned one; the client follows it.
        assert [r.status for r in sandbox.requests] == [302, 200]
        at_revision = await client.get_file("demo", created.id, "blob.bin", content.revision)
    assert at_head == at_revision == BINARY


async def test_metadata_only_update_is_json_and_makes_no_revision(sandbox: Sandbox) -> None:
    transport = RecordingTransport()
    async with make_client(sandbox, transport=transport) as client:
        created = await client.create_snippet("demo", {"a.txt": b"a"}, title="old", is_private=True)
        updated = await client.update_snippet("demo", created.id, title="new", is_private=False)
        assert transport.sent[-1].headers["content-type"] == "application/json"
        assert updated.title == "new" and updated.is_private is False
        assert updated.revision == created.revision
        commits = await client.list_commits("demo", created.id)
    assert len(commits) == 1


async def test_rename_and_delete_files_in_one_request_each(sandbox: Sandbox) -> None:
    async with make_client(sandbox) as client:
        created = await client.create_snippet("demo", {"old.txt": b"same\n", "gone.txt": b"x"})
        sandbox.clear_requests()
        renamed = await client.update_snippet(
            "demo", created.id, files={"old.txt": None, "new.txt": b"same\n"}, at_revision=created.revision
        )
        assert len(sandbox.requests) == 1
        assert set(renamed.file_names) == {"new.txt", "gone.txt"}
        deleted = await client.update_snippet("demo", created.id, files={"gone.txt": None})
        assert set(deleted.file_names) == {"new.txt"}
        content = await client.get_snippet_content("demo", created.id)
        commits = await client.list_commits("demo", created.id)
    assert content.files == {"new.txt": b"same\n"}
    assert len(commits) == 3


async def test_a_stale_save_is_a_conflict_and_leaves_the_remote_untouched(sandbox: Sandbox) -> None:
    async with make_client(sandbox) as mine, make_client(sandbox, user=1) as theirs:
        created = await mine.create_snippet("sandbox-team", {"a.txt": b"base\n"})
        read = await mine.get_snippet_content("sandbox-team", created.id)
        await theirs.update_snippet("sandbox-team", created.id, files={"a.txt": b"theirs\n"})
        with pytest.raises(Conflict) as caught:
            await mine.update_snippet("sandbox-team", created.id, files={"a.txt": b"mine\n"}, at_revision=read.revision)
        assert caught.value.kind == "conflict"
        assert caught.value.remote_revision == (await theirs.get_snippet("sandbox-team", created.id)).revision
        assert (await mine.get_snippet_content("sandbox-team", created.id)).files == {"a.txt": b"theirs\n"}
        # Overwriting on purpose is a plain PUT.
        await mine.update_snippet("sandbox-team", created.id, files={"a.txt": b"mine\n"})
        assert (await mine.get_snippet_content("sandbox-team", created.id)).files == {"a.txt": b"mine\n"}


async def test_delete_at_a_stale_revision_conflicts_then_delete_at_head_works(sandbox: Sandbox) -> None:
    async with make_client(sandbox) as client:
        created = await client.create_snippet("demo", {"a.txt": b"1"})
        moved = await client.update_snippet("demo", created.id, files={"a.txt": b"2"})
        with pytest.raises(Conflict):
            await client.delete_snippet("demo", created.id, at_revision=created.revision)
        await client.delete_snippet("demo", created.id, at_revision=moved.revision)
        with pytest.raises(NotFound):
            await client.get_snippet("demo", created.id)
        other = await client.create_snippet("demo", {"b.txt": b"b"})
        await client.delete_snippet("demo", other.id)
        with pytest.raises(NotFound):
            await client.get_snippet_content("demo", other.id)


async def test_history_diff_and_patch_come_from_real_revisions(sandbox: Sandbox) -> None:
    async with make_client(sandbox) as client:
        created = await client.create_snippet("demo", {"a.txt": b"one\n", "b.txt": b"bee\n"})
        second = await client.update_snippet("demo", created.id, files={"a.txt": b"two\n", "b.txt": b"buzz\n"})
        commits = await client.list_commits("demo", created.id)
        assert [c.hash for c in commits] == [second.revision, created.revision]  # newest first
        assert commits[0].parents == (created.revision,)
        assert commits[0].author and commits[0].author.nickname == "demo"
        assert (await client.get_commit("demo", created.id, created.revision or "")).hash == created.revision
        diff = await client.get_diff("demo", created.id, second.revision or "")
        assert "-one" in diff and "+two" in diff and "+buzz" in diff
        only_a = await client.get_diff("demo", created.id, second.revision or "", path="a.txt")
        assert "+two" in only_a and "buzz" not in only_a
        patch = await client.get_patch("demo", created.id, second.revision or "")
        assert patch.startswith("From ") and "+two" in patch
        old = await client.get_snippet_content("demo", created.id, created.revision)
    assert old.files == {"a.txt": b"one\n", "b.txt": b"bee\n"}
    assert old.revision == created.revision


async def test_comments_threads_and_permissions(sandbox: Sandbox) -> None:
    async with make_client(sandbox) as author, make_client(sandbox, user=1) as other:
        created = await author.create_snippet("sandbox-team", {"a.txt": b"a"})
        first = await author.create_comment("sandbox-team", created.id, "Looks good")
        reply = await other.create_comment("sandbox-team", created.id, "Thanks!", parent_id=first.id)
        listed = await author.list_comments("sandbox-team", created.id)
        assert [(c.id, c.raw, c.parent_id) for c in listed] == [
            (first.id, "Looks good", None),
            (reply.id, "Thanks!", first.id),
        ]
        assert listed[1].author and listed[1].author.nickname == "alice"
        assert (await author.get_comment("sandbox-team", created.id, first.id)).raw == "Looks good"
        edited = await author.update_comment("sandbox-team", created.id, first.id, "Looks great")
        assert edited.raw == "Looks great"
        with pytest.raises(Forbidden):
            await other.update_comment("sandbox-team", created.id, first.id, "hijacked")
        with pytest.raises(InvalidRequest):
            await author.create_comment("sandbox-team", created.id, "orphan", parent_id=999999)
        # The snippet's creator may delete anyone's comment.
        await author.delete_comment("sandbox-team", created.id, reply.id)
        remaining = await author.list_comments("sandbox-team", created.id)
    assert [c.id for c in remaining if not c.deleted] == [first.id]


async def test_watch_unwatch_and_watchers(sandbox: Sandbox) -> None:
    async with make_client(sandbox) as client:
        created = await client.create_snippet("demo", {"a.txt": b"a"})
        assert await client.is_watching("demo", created.id) is False
        await client.watch("demo", created.id)
        assert await client.is_watching("demo", created.id) is True
        assert [a.nickname for a in await client.list_watchers("demo", created.id)] == ["demo"]
        await client.unwatch("demo", created.id)
        assert await client.is_watching("demo", created.id) is False


async def test_listing_follows_next_links_with_pagelen_100(sandbox: Sandbox) -> None:
    async with make_client(sandbox) as client:
        for index in range(205):
            await client.create_snippet("demo", {"n.txt": str(index).encode()}, title=f"s{index}")
        sandbox.clear_requests()
        snippets = await client.list_snippets("demo")
    assert len(snippets) == 205 and len({s.id for s in snippets}) == 205
    assert len(sandbox.requests) == 3  # ⌈205/100⌉
    assert "pagelen=100" in sandbox.requests[0].query
    assert all(s.workspace == "demo" for s in snippets)


async def test_bearer_access_tokens_work(sandbox: Sandbox) -> None:
    async with make_client(sandbox, kind="accessToken") as client:
        account = await client.current_user()
        created = await client.create_snippet("demo", {"a.txt": b"a"})
    assert account.nickname == "demo"
    assert created.id


# --------------------------------------------------------------------------- errors


async def test_wrong_credentials_are_not_authenticated_and_say_what_to_do(sandbox: Sandbox) -> None:
    credentials = Credentials(kind="apiToken", secret="wrong-token", username="demo@sandbox.invalid")
    async with SnippetsClient(credentials, sandbox.base_url) as client:
        with pytest.raises(NotAuthenticated) as caught:
            await client.list_snippets("demo")
    message = str(caught.value)
    # one sentence with the fix: a new token, which scopes, where, and what to do with it
    assert message.startswith("Bitbucket rejected the email and API token")
    assert message.count(". ") == 0 and len(message) < 400 and "App passwords" not in message
    for scope in ("read:snippet:bitbucket", "write:snippet:bitbucket", "delete:snippet:bitbucket"):
        assert scope in message
    assert "https://id.atlassian.com/manage-profile/security/api-tokens" in message
    assert message.endswith("then put it in BITBUCKET_API_TOKEN.")  # where these credentials came from

    stored = Credentials(kind="apiToken", secret="wrong-token", username="demo@sandbox.invalid", source="keyring")
    async with SnippetsClient(stored, sandbox.base_url, sign_in="run :BBSnippet login") as client:
        with pytest.raises(NotAuthenticated) as caught:
            await client.list_snippets("demo")
    assert str(caught.value).endswith("then run :BBSnippet login.")  # each tool names its own command
    assert "wrong-token" not in message


async def test_no_credentials_fail_before_any_request(sandbox: Sandbox) -> None:
    async with SnippetsClient(None, sandbox.base_url) as client:
        with pytest.raises(NotAuthenticated) as caught:
            await client.list_snippets("demo")
    assert "snippet-daemon login" in str(caught.value)
    assert sandbox.requests == []


async def test_missing_scope_is_forbidden_and_names_the_scope(sandbox: Sandbox) -> None:
    async with make_client(sandbox, user=2) as reader:  # read:snippet:bitbucket only
        with pytest.raises(Forbidden) as caught:
            await reader.create_snippet("sandbox-team", {"a.txt": b"a"})
    assert "write:snippet:bitbucket" in caught.value.missing_scopes
    assert "write:snippet:bitbucket" in str(caught.value)


async def test_unknown_snippet_is_not_found(sandbox: Sandbox) -> None:
    async with make_client(sandbox) as client:
        with pytest.raises(NotFound) as caught:
            await client.get_snippet_content("demo", "nope")
    assert caught.value.kind == "notFound"


async def test_free_plan_workspace_is_a_plan_error(sandbox: Sandbox) -> None:
    async with make_client(sandbox) as client:
        with pytest.raises(PlanRestricted) as caught:
            await client.list_snippets("free-plan")
    assert "Free plan" in str(caught.value)


async def test_rate_limit_backs_off_exponentially_then_succeeds(sandbox: Sandbox) -> None:
    delays: list[float] = []

    async def record(delay: float) -> None:
        delays.append(delay)

    async with make_client(sandbox, sleep=record) as client:
        sandbox.faults.rate_limit_next = 3
        snippets = await client.list_snippets("demo")
    assert snippets == []
    assert [r.status for r in sandbox.requests] == [429, 429, 429, 200]
    assert len(delays) == 3 and delays[0] < delays[2]


async def test_endless_rate_limit_gives_up_within_the_budget(sandbox: Sandbox) -> None:
    delays: list[float] = []

    async def record(delay: float) -> None:
        delays.append(delay)

    async with make_client(sandbox, sleep=record) as client:
        sandbox.faults.rate_limit_next = 10_000
        with pytest.raises(RateLimited) as caught:
            await client.create_snippet("demo", {"a.txt": b"a"})  # 429 is safe to retry even for POST
    assert sum(delays) <= 2.0  # the test policy's budget
    assert "1,000 requests an hour" in str(caught.value)


async def test_server_errors_are_retried_for_reads_only(sandbox: Sandbox) -> None:
    async with make_client(sandbox) as client:
        sandbox.faults.server_error_next = 2
        assert await client.list_snippets("demo") == []
        assert [r.status for r in sandbox.requests] == [500, 500, 200]
        sandbox.clear_requests()
        sandbox.faults.server_error_next = 1
        with pytest.raises(ServerError) as failed:
            await client.create_snippet("demo", {"a.txt": b"a"})
        # Never blindly repeated: what it may have made is looked for (one list), and was not made.
        assert [r.method for r in sandbox.requests] == ["POST", "GET"]
        assert "nothing was created" in str(failed.value)
        sandbox.clear_requests()
        sandbox.faults.server_error_next = 5
        with pytest.raises(ServerError):
            await client.list_snippets("demo")
        assert len(sandbox.requests) == 3


async def test_dropped_connections_retry_reads_but_not_creates(sandbox: Sandbox) -> None:
    async with make_client(sandbox) as client:
        sandbox.faults.drop_next = 1
        assert await client.list_snippets("demo") == []
        sandbox.faults.drop_next = 1
        with pytest.raises(NetworkError) as caught:
            await client.create_snippet("demo", {"a.txt": b"a"})
        with pytest.raises(NetworkError) as unsettled:
            sandbox.faults.drop_next = 1
            await client.create_snippet("demo", {"a.txt": b"a"}, adopt_if_lost=False)
    assert "nothing was created" in str(caught.value)  # it was looked for, and is not there
    assert "may or may not have been applied" in str(unsettled.value)
    assert Counter(r.method for r in sandbox.requests)["POST"] <= 2


async def test_unreachable_server_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    credentials = Credentials(kind="accessToken", secret="s")
    from snippet_daemon.bitbucket import RetryPolicy

    policy = RetryPolicy(base_delay=0.01, max_delay=0.02)
    async with SnippetsClient(credentials, f"http://127.0.0.1:{port}/2.0", retry=policy) as client:
        with pytest.raises(NetworkError) as caught:
            await client.list_snippets("demo")
    assert f"127.0.0.1:{port}" in str(caught.value)


async def test_the_removed_cross_workspace_list_is_never_called(sandbox: Sandbox) -> None:
    async with make_client(sandbox) as client:
        created = await client.create_snippet("demo", {"a.txt": b"a"})
        await client.list_snippets("demo")
        await client.list_snippets("demo", role="owner")
        await client.get_snippet_content("demo", created.id)
        await client.current_user()
    assert ("GET", "/2.0/snippets") not in snippet_requests(sandbox)
    # And the sandbox answers it as Bitbucket does, so a regression would be loud.
    response = httpx.get(
        f"{sandbox.base_url}/snippets", headers={"Authorization": f"Bearer {sandbox.users[0].access_token}"}
    )
    assert response.status_code == 410


async def test_secrets_never_reach_logs_reprs_or_errors(sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    user = sandbox.users[0]
    async with make_client(sandbox) as client:
        created = await client.create_snippet("demo", {"a.txt": b"a"})
        await client.get_snippet_content("demo", created.id)
        shown = [
            repr(client),
            repr(client.credentials),
            repr(client.credentials.auth() if client.credentials else None),
        ]
    bad = Credentials(kind="apiToken", secret=user.api_token + "x", username=user.email)
    async with SnippetsClient(bad, sandbox.base_url) as failing:
        with pytest.raises(NotAuthenticated) as caught:
            await failing.list_snippets("demo")
        shown += [repr(failing), str(caught.value), repr(caught.value)]
    assert caplog.records, "debug logging was captured"
    for secret in (user.api_token, user.access_token):
        assert secret not in caplog.text
        assert all(secret not in text for text in shown)


async def test_a_conflict_without_the_head_in_its_body_learns_it_with_one_read() -> None:
    """Real Bitbucket's 405 names no revision (the sandbox's does): one metadata GET fills it in."""
    head = "b" * 40
    seen: list[str] = []

    def bitbucket(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        if request.method == "PUT":
            return httpx.Response(405, json={"type": "error", "error": {"message": "Method Not Allowed"}})
        links = {"diff": {"href": f"https://api.example/2.0/snippets/ws/kypj/{head}/diff"}}
        return httpx.Response(200, json={"id": "kypj", "links": links})

    credentials = Credentials(kind="accessToken", secret="s")
    transport = httpx.MockTransport(bitbucket)
    async with SnippetsClient(credentials, "https://api.example/2.0", transport=transport) as client:
        with pytest.raises(Conflict) as caught:
            await client.update_snippet("ws", "kypj", files={"a.txt": b"x"}, at_revision="a" * 40)
    assert caught.value.remote_revision == head
    assert seen == ["PUT", "GET"]
