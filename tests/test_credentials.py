"""Where credentials come from and where they are kept: the environment, then the OS keyring.

The keyring tests use a real Secret Service (gnome-keyring under dbus-run-session, as .ci/run
starts it). Outside such a session they skip, unless SNIPPET_DAEMON_REQUIRE_KEYRING=1 (CI sets
it) turns the skip into a failure.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from snippet_daemon.bitbucket import (
    Credentials,
    KeyringStore,
    NoKeyringBackend,
    credentials_from_env,
    resolve_credentials,
)


def test_access_token_in_the_environment_wins() -> None:
    env = {"BITBUCKET_ACCESS_TOKEN": "oauth", "BITBUCKET_USERNAME": "me@example.com", "BITBUCKET_API_TOKEN": "t"}
    assert credentials_from_env(env) == Credentials(kind="accessToken", secret="oauth")


def test_email_and_api_token_from_the_environment() -> None:
    found = credentials_from_env({"BITBUCKET_USERNAME": "me@example.com", "BITBUCKET_API_TOKEN": "t"})
    assert found == Credentials(kind="apiToken", secret="t", username="me@example.com")
    assert credentials_from_env({"BITBUCKET_USERNAME": "me@example.com"}) is None


def test_credentials_never_show_their_secret() -> None:
    credentials = Credentials(kind="apiToken", secret="s3cr3t-value", username="me@example.com")
    for text in (repr(credentials), str(credentials), repr(credentials.auth())):
        assert "s3cr3t-value" not in text


def test_keyring_round_trip_through_a_real_secret_service(secret_service: KeyringStore) -> None:
    saved = Credentials(kind="apiToken", secret="tok-123", username="me@example.com", source="keyring")
    secret_service.save("http://a.invalid/2.0", saved)
    secret_service.save("http://b.invalid/2.0", Credentials(kind="accessToken", secret="other", source="keyring"))
    assert secret_service.load("http://a.invalid/2.0") == saved
    assert secret_service.load("http://b.invalid/2.0") == Credentials(
        kind="accessToken", secret="other", source="keyring"
    )
    # Another process sees the same entry: it really is in the Secret Service, not in memory.
    code = (
        "from snippet_daemon.bitbucket import KeyringStore;"
        "c = KeyringStore(service='bitbucket-snippets-test').load('http://a.invalid/2.0');"
        "print(c.username, c.kind)"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "me@example.com apiToken"
    assert secret_service.delete("http://a.invalid/2.0") is True
    assert secret_service.load("http://a.invalid/2.0") is None
    assert secret_service.delete("http://a.invalid/2.0") is False


def test_environment_comes_before_the_keyring(secret_service: KeyringStore) -> None:
    secret_service.save("http://a.invalid/2.0", Credentials(kind="accessToken", secret="stored", source="keyring"))
    from_env = resolve_credentials("http://a.invalid/2.0", {"BITBUCKET_ACCESS_TOKEN": "env"}, store=secret_service)
    assert from_env == Credentials(kind="accessToken", secret="env")
    stored = resolve_credentials("http://a.invalid/2.0", {}, store=secret_service)
    assert stored is not None and stored.secret == "stored" and stored.source == "keyring"


def test_no_keyring_backend_gives_a_clear_error() -> None:
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(NoKeyringBackend) as caught:
            KeyringStore().load("http://a.invalid/2.0")
    finally:
        keyring.set_keyring(previous)
    message = str(caught.value)
    assert "No OS keyring" in message and "BITBUCKET_API_TOKEN" in message
    assert caught.value.kind == "credentialStore"


def test_server_credentials_round_trip_through_the_secret_service(secret_service: KeyringStore) -> None:
    """A migration's saved server credentials come back from the real keyring on the next run."""
    from snippet_daemon.migrate.credentials import ServerKeyring, resolve_server_credentials
    from snippet_daemon.migrate.source import ServerCredentials

    store = ServerKeyring(service="bitbucket-server-snippets-test")
    try:
        assert store.save("https://git.example.com", ServerCredentials("ada", "server-secret")) is None
        found = resolve_server_credentials("https://git.example.com", env={}, store=store, interactive=False)
        assert found == ServerCredentials("ada", "server-secret", source="keyring")
        assert resolve_server_credentials("https://other.example.com", env={}, store=store, interactive=False) is None
    finally:
        store.delete("https://git.example.com")


def test_server_credentials_without_a_keyring_fall_through_and_explain() -> None:
    import keyring
    from keyring.backends import fail

    from snippet_daemon.migrate.credentials import ServerKeyring
    from snippet_daemon.migrate.source import ServerCredentials

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        store = ServerKeyring()
        assert store.load("https://git.example.com") is None  # the prompt or the environment remain
        refused = store.save("https://git.example.com", ServerCredentials("ada", "server-secret"))
    finally:
        keyring.set_keyring(previous)
    assert refused and "BITBUCKET_SERVER_USERNAME" in refused and "server-secret" not in refused
