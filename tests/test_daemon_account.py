"""The account and where it works: ``bbsnippets.whoami``, ``bbsnippets.workspaces``, ``bbsnippets.health``,
and what the editor says about itself (``clientName``). The real daemon over stdio against the real sandbox.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from snippet_daemon.sandbox import Sandbox
from tests.daemon import CLIENTS, Daemon, DaemonError, start_daemon

READER = 2  # sandbox.users[2]: read:snippet:bitbucket only (no read:user, no read:workspace)


@pytest.fixture(params=CLIENTS)
def capabilities(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def daemon(sandbox: Sandbox, capabilities: str) -> AsyncIterator[Daemon]:
    started = await start_daemon(sandbox, capabilities=capabilities, options={"clientName": "pytest-editor"})
    try:
        yield started
    finally:
        await started.stop()


def api_paths(sandbox: Sandbox) -> list[str]:
    return [f"{request.method} {request.path}" for request in sandbox.requests]


async def test_whoami_tells_the_account_and_the_default_workspace_in_one_call(
    sandbox: Sandbox, capabilities: str
) -> None:
    demo = sandbox.users[0]
    # No workspace configured: the default is the personal workspace, which GET /user names.
    daemon = await start_daemon(sandbox, capabilities=capabilities, options={"workspace": None})
    try:
        sandbox.clear_requests()
        answer = await daemon.command("bbsnippets.whoami")
        assert answer == {
            "account": {
                "displayName": demo.display_name,
                "nickname": "demo",
                "uuid": demo.uuid,
                "username": demo.email,
            },
            "workspace": "demo",
        }
        assert api_paths(sandbox) == ["GET /2.0/user"]  # the default workspace came from the same answer
    finally:
        await daemon.stop()

    configured = await start_daemon(sandbox, capabilities=capabilities, options={"workspace": "sandbox-team"})
    try:
        assert (await configured.command("bbsnippets.whoami"))["workspace"] == "sandbox-team"
    finally:
        await configured.stop()


async def test_workspaces_lists_what_the_user_sees_default_first_once_a_session(
    daemon: Daemon, sandbox: Sandbox
) -> None:
    for number in range(150):
        sandbox.add_workspace(f"team-{number:03}", f"Team {number:03}", ["demo", "alice"])
    sandbox.add_workspace("alices-only", "Alice's", ["alice"])
    sandbox.clear_requests()

    answer = await daemon.command("bbsnippets.workspaces")

    slugs = [entry["slug"] for entry in answer["workspaces"]]
    assert slugs[0] == "demo" and answer["workspaces"][0]["isDefault"] is True
    assert (
        len(slugs) == 153
        and "sandbox-team" in slugs
        and "free-plan" in slugs
        and "team-149" in slugs
        and "alices-only" not in slugs
    )
    assert [entry for entry in answer["workspaces"] if entry["isDefault"]] == [answer["workspaces"][0]]
    team = next(entry for entry in answer["workspaces"] if entry["slug"] == "sandbox-team")
    assert team == {"slug": "sandbox-team", "name": "Sandbox Team", "uuid": team["uuid"], "isDefault": False}
    assert team["uuid"].startswith("{") and "hint" not in answer
    # 153 workspaces at 100 a page: 2 requests; the removed GET /2.0/workspaces is never called.
    assert api_paths(sandbox) == ["GET /2.0/user/workspaces", "GET /2.0/user/workspaces"]

    again = await daemon.command("bbsnippets.workspaces")
    assert again == answer
    assert len(sandbox.requests) == 2  # cached for the session


async def test_workspaces_without_the_scope_gives_the_default_and_says_which_scope(
    sandbox: Sandbox, capabilities: str
) -> None:
    daemon = await start_daemon(sandbox, user=READER, capabilities=capabilities)
    try:
        answer = await daemon.command("bbsnippets.workspaces")
    finally:
        await daemon.stop()
    assert answer["workspaces"] == [{"slug": "reader", "name": "reader", "isDefault": True}]
    assert "read:workspace:bitbucket" in answer["hint"]
    assert all(request.path != "/2.0/workspaces" for request in sandbox.requests)


async def test_health_says_what_works_in_one_call(daemon: Daemon, sandbox: Sandbox) -> None:
    demo = sandbox.users[0]
    health = await daemon.command("bbsnippets.health")

    assert health["version"] and health["apiUrl"] == sandbox.base_url and health["clientName"] == "pytest-editor"
    assert health["credentials"] == {"present": True, "source": "environment"}
    assert health["api"] == {"reachable": True, "status": 200}
    assert health["account"]["nickname"] == "demo" and health["account"]["username"] == demo.email
    assert health["workspace"] == "demo"
    keyring = health["keyring"]
    assert isinstance(keyring["usable"], bool) and keyring["backend"]
    # A keyring that cannot be used says why and what to do instead; a usable one says nothing more.
    assert ("message" in keyring) is (not keyring["usable"])
    if not keyring["usable"]:
        assert "BITBUCKET_API_TOKEN" in keyring["message"]
    assert demo.api_token not in str(health)


@pytest.mark.keyring
async def test_health_finds_a_real_secret_service_usable(
    sandbox: Sandbox, secret_service: object, capabilities: str
) -> None:
    daemon = await start_daemon(sandbox, capabilities=capabilities)
    try:
        keyring = (await daemon.command("bbsnippets.health"))["keyring"]
    finally:
        await daemon.stop()
    assert keyring["usable"] is True and "SecretService" in keyring["backend"]


async def test_health_without_credentials_or_network_answers_instead_of_failing(
    sandbox: Sandbox, capabilities: str
) -> None:
    signed_out = await start_daemon(sandbox, capabilities=capabilities, credentials=False)
    try:
        health = await signed_out.command("bbsnippets.health")
    finally:
        await signed_out.stop()
    assert health["credentials"]["present"] is False and "snippet-daemon login" in health["credentials"]["message"]
    assert health["api"] == {"reachable": True, "status": 401}  # a Bitbucket API answers there
    assert "account" not in health

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{closed.getsockname()[1]}/2.0"
    offline = await start_daemon(sandbox, capabilities=capabilities, options={"apiUrl": dead_url})
    try:
        health = await offline.command("bbsnippets.health")
    finally:
        await offline.stop()
    assert health["credentials"]["present"] is True
    assert health["api"]["reachable"] is False and dead_url in health["api"]["message"]


async def test_the_client_name_is_echoed_in_the_log(daemon: Daemon) -> None:
    await daemon.command("bbsnippets.whoami")  # the ready line went out before this answer
    assert any("ready for pytest-editor" in message for message in daemon.log_messages)


async def test_an_unknown_command_names_the_known_ones(daemon: Daemon) -> None:
    with pytest.raises(DaemonError) as caught:
        await daemon.command("bbsnippets.frobnicate")
    assert caught.value.kind == "invalidArgument"
    assert "'bbsnippets.frobnicate'" in caught.value.message and "bbsnippets.create" in caught.value.message
    assert "bbsnippets.health" in caught.value.message
    assert not [message for message in daemon.log_messages if "Traceback" in message]


# --------------------------------------------------------------------------- #19 item 8: a failing keyring


async def test_a_failing_keyring_is_read_off_the_event_loop_once_and_said_in_words(
    sandbox: Sandbox, tmp_path: pytest.TempPathFactory
) -> None:
    import asyncio
    from pathlib import Path

    reads = Path(str(tmp_path)) / "keyring-reads.log"
    daemon = await start_daemon(
        sandbox,
        credentials=False,
        env={"PYTHON_KEYRING_BACKEND": "tests.keyrings.DbusFailingKeyring", "KEYRING_THREAD_LOG": str(reads)},
    )
    try:
        for _ in range(3):
            with pytest.raises(DaemonError) as refused:
                await daemon.command("bbsnippets.whoami")
            assert refused.value.kind == "credentialStore", refused.value.message
            assert "keyring" in refused.value.message and "BITBUCKET_" in refused.value.message
        # Network-free requests never wait on the keyring.
        loop = asyncio.get_running_loop()
        started = loop.time()
        await daemon.request("bbsnippets/stat", uri="bbsnippet://demo")
        assert loop.time() - started < 0.25
        health = await daemon.command("bbsnippets.health")  # never fails: it says what is wrong
        assert health["keyring"]["usable"] is False and "keyring" in health["keyring"]["message"]
        assert health["credentials"]["present"] is False
    finally:
        await daemon.stop()
    threads = reads.read_text().split()
    assert threads and set(threads) == {"worker"}  # never on the event loop
    assert len(threads) == 2  # the start-up lookup (remembered for every request after it) and health's check


# --------------------------------------------------------------------------- #19 item 2: switching accounts


async def test_an_open_in_flight_during_a_sign_in_never_serves_the_old_account(sandbox: Sandbox) -> None:
    import asyncio

    from tests.conftest import make_client

    async with make_client(sandbox, 0) as demo:
        private = await demo.create_snippet("demo", {"secret.txt": b"demo's private line\n"}, is_private=True)
    alice = sandbox.users[1]
    daemon = await start_daemon(sandbox, env={"PYTHON_KEYRING_BACKEND": "tests.keyrings.SlowMemoryKeyring"})
    try:
        signing_in = asyncio.ensure_future(
            daemon.command("bbsnippets.login", kind="apiToken", username=alice.email, secret=alice.api_token)
        )
        # Once the login has checked alice's token (its keyring save takes 0.2 s), an open goes out as demo,
        # slow enough to come back after the switch.
        while not any(request.user == "alice" for request in sandbox.requests):
            await asyncio.sleep(0.01)
        sandbox.faults.latency_ms = 600
        opening = asyncio.ensure_future(daemon.command("bbsnippets.open", workspace="demo", id=private.id))
        await signing_in
        with pytest.raises(DaemonError) as refused:
            await opening
        sandbox.faults.latency_ms = 0
        assert refused.value.kind == "accountChanged", refused.value.message

        # Alice reads the file: a request (as alice), and Bitbucket says it is not hers to see.
        sandbox.clear_requests()
        with pytest.raises(DaemonError) as hidden:
            await daemon.request("bbsnippets/readFile", uri=f"bbsnippet://demo/{private.id}/secret.txt")
        assert hidden.value.kind == "notFound"
        assert [request.user for request in sandbox.requests] == ["alice"]
    finally:
        sandbox.faults.latency_ms = 0
        await daemon.stop()


async def test_a_save_on_its_way_during_a_sign_in_says_it_landed(sandbox: Sandbox) -> None:
    """#19 item 9: a write interrupted by a sign-in says whether it landed (here: it did)."""
    import asyncio
    import base64

    from tests.conftest import make_client

    async with make_client(sandbox, 0) as demo:
        created = await demo.create_snippet("demo", {"a.txt": b"a1\n"})
    alice = sandbox.users[1]
    uri = f"bbsnippet://demo/{created.id}/a.txt"
    daemon = await start_daemon(sandbox, env={"PYTHON_KEYRING_BACKEND": "tests.keyrings.SlowMemoryKeyring"})
    try:
        await daemon.request("bbsnippets/readFile", uri=uri)
        signing_in = asyncio.ensure_future(
            daemon.command("bbsnippets.login", kind="apiToken", username=alice.email, secret=alice.api_token)
        )
        while not any(request.user == "alice" for request in sandbox.requests):
            await asyncio.sleep(0.01)
        sandbox.faults.latency_ms = 600  # the PUT is on its way (as demo) when the switch happens
        saving = asyncio.ensure_future(
            daemon.request("bbsnippets/writeFile", uri=uri, base64=base64.b64encode(b"a2\n").decode(), overwrite=True)
        )
        await signing_in
        answer = await saving
        sandbox.faults.latency_ms = 0
        async with make_client(sandbox, 0) as demo:
            content = await demo.get_snippet_content("demo", created.id)
        assert answer["revision"] == content.revision and content.files == {"a.txt": b"a2\n"}
    finally:
        sandbox.faults.latency_ms = 0
        await daemon.stop()


# --------------------------------------------------------------------------- sign-in that explains itself (#16 item 5)


async def test_health_without_checking_the_api_sends_nothing_and_tells_the_keyring_first(sandbox: Sandbox) -> None:
    daemon = await start_daemon(
        sandbox,
        credentials=False,
        options={"clientName": "neovim"},
        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
    )
    try:
        sandbox.clear_requests()
        health = await daemon.command("bbsnippets.health", checkApi=False)
        assert sandbox.requests == []  # what a sign-in asks before it asks the user anything
        assert health["api"] == {"reachable": False, "checked": False}
        keyring = health["keyring"]
        assert keyring["usable"] is False
        assert (
            "No OS keyring" in keyring["message"] and "BITBUCKET_USERNAME and BITBUCKET_API_TOKEN" in keyring["message"]
        )
        assert health["credentials"]["present"] is False
        # and login itself refuses before checking a token it could not keep
        with pytest.raises(DaemonError) as caught:
            await daemon.command("bbsnippets.login", kind="apiToken", username="a@b.invalid", secret="ATATT-x")
        assert caught.value.kind == "credentialStore" and sandbox.requests == []
    finally:
        await daemon.stop()


@pytest.mark.parametrize(
    ("client_name", "own", "others"),
    [
        ("vscode", "run Bitbucket Snippets: Sign in", (":BBSnippet", "snippet-daemon login")),
        ("neovim", "run :BBSnippet login", ("Bitbucket Snippets: Sign in", "snippet-daemon login")),
        ("helix", "run `snippet-daemon login` in a terminal", (":BBSnippet", "Bitbucket Snippets: Sign in")),
    ],
)
async def test_each_editor_is_told_its_own_sign_in_command(
    sandbox: Sandbox, client_name: str, own: str, others: tuple[str, ...]
) -> None:
    signed_out = await start_daemon(sandbox, credentials=False, options={"clientName": client_name})
    try:
        with pytest.raises(DaemonError) as caught:
            await signed_out.command("bbsnippets.list")
        health = await signed_out.command("bbsnippets.health", checkApi=False)
    finally:
        await signed_out.stop()
    for message in (caught.value.message, health["credentials"]["message"]):
        assert own in message and "read:snippet:bitbucket" in message, message
        assert not [other for other in others if other in message], message
        assert "[" not in message and "notAuthenticated" not in message  # words, not kind names

    reader = sandbox.users[READER]
    stored_elsewhere = {"BITBUCKET_USERNAME": reader.email, "BITBUCKET_API_TOKEN": "ATATT-revoked"}
    rejected = await start_daemon(
        sandbox, credentials=stored_elsewhere, options={"clientName": client_name, "workspace": "demo"}
    )
    try:
        with pytest.raises(DaemonError) as caught:
            await rejected.command("bbsnippets.list")
    finally:
        await rejected.stop()
    assert caught.value.kind == "notAuthenticated"
    assert (
        caught.value.message.startswith("Bitbucket rejected the email and API token")
        and len(caught.value.message) < 400
    )
    assert caught.value.message.endswith("then put it in BITBUCKET_API_TOKEN.")  # where this token came from


@pytest.mark.parametrize(
    ("client_name", "setting"),
    [("vscode", "the setting bitbucketSnippets.apiUrl"), ("neovim", "api_url in require('bbsnippets').setup()")],
)
async def test_an_api_url_that_is_no_api_address_says_what_it_expected(
    sandbox: Sandbox, client_name: str, setting: str
) -> None:
    daemon = await start_daemon(sandbox, options={"clientName": client_name, "apiUrl": sandbox.web_url})
    try:
        sandbox.clear_requests()
        with pytest.raises(DaemonError) as caught:
            await daemon.command("bbsnippets.list")
        health = await daemon.command("bbsnippets.health")
        shown = daemon.shown_messages
    finally:
        await daemon.stop()
    expected = f"{setting} is {sandbox.web_url!r}, which is not an API address (it must end in /2.0"
    assert caught.value.kind == "invalidArgument" and caught.value.message.startswith(expected)
    assert "https://api.bitbucket.org/2.0" in caught.value.message
    assert health["api"]["reachable"] is False and health["api"]["message"].startswith(expected)
    assert any(message.startswith(expected) for message in shown)  # said once at start, too
    assert sandbox.requests == []  # nothing went to a web page
