"""Who may do what in the sandbox: credentials (401), scopes (403), private snippets and workspace members."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
import pytest

from snippet_daemon.sandbox import Sandbox, SandboxUser, default_users

SCOPE_ERROR = "Your credentials lack one or more required privilege scopes."


def basic(user: SandboxUser) -> tuple[str, str]:
    return (user.email, user.api_token)


def bearer(user: SandboxUser) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.access_token}"}


def make_snippet(sandbox: Sandbox, *, private: bool, workspace: str = "demo") -> str:
    response = httpx.post(
        f"{sandbox.base_url}/snippets/{workspace}",
        json={"title": "secret" if private else "open", "is_private": private},
        auth=basic(sandbox.users[0]),
    )
    assert response.status_code == 201
    return str(response.json()["id"])


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic !!!"},
        {"Authorization": "Digest abc"},
    ],
)
def test_requests_without_valid_credentials_are_401(sandbox: Sandbox, headers: dict[str, str]) -> None:
    response = httpx.get(f"{sandbox.base_url}/snippets/demo", headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Bitbucket.org HTTP"'
    assert response.json()["type"] == "error"


def test_wrong_token_and_username_logins_are_401(sandbox: Sandbox) -> None:
    demo = sandbox.users[0]

    wrong_token = httpx.get(f"{sandbox.base_url}/user", auth=(demo.email, demo.api_token + "x"))
    username_login = httpx.get(f"{sandbox.base_url}/user", auth=(demo.nickname, demo.api_token))

    assert wrong_token.status_code == 401
    assert username_login.status_code == 401
    assert "App passwords" in username_login.json()["error"]["message"]


def test_api_token_and_bearer_token_both_work(sandbox: Sandbox) -> None:
    demo = sandbox.users[0]

    by_token = httpx.get(f"{sandbox.base_url}/user", auth=basic(demo))
    by_bearer = httpx.get(f"{sandbox.base_url}/user", headers=bearer(demo))

    assert by_token.status_code == by_bearer.status_code == 200
    assert by_token.json()["nickname"] == by_bearer.json()["nickname"] == "demo"
    assert by_token.json()["uuid"] == demo.uuid and by_token.json()["account_id"] == demo.account_id


def test_missing_scopes_are_403_with_granted_and_required(sandbox: Sandbox) -> None:
    reader = sandbox.users[2]
    snippet_id = make_snippet(sandbox, private=False, workspace="sandbox-team")

    read = httpx.get(f"{sandbox.base_url}/snippets/sandbox-team/{snippet_id}", auth=basic(reader))
    write = httpx.put(f"{sandbox.base_url}/snippets/sandbox-team/{snippet_id}", json={"title": "x"}, auth=basic(reader))
    who = httpx.get(f"{sandbox.base_url}/user", headers=bearer(reader))

    assert read.status_code == 200
    assert write.status_code == 403
    assert write.json()["error"] == {
        "message": SCOPE_ERROR,
        "detail": {
            "granted": ["read:snippet:bitbucket"],
            "required": ["read:snippet:bitbucket", "write:snippet:bitbucket"],
        },
    }
    assert who.status_code == 403 and who.json()["error"]["detail"]["required"] == ["read:user:bitbucket"]


def test_deleting_a_snippet_needs_the_delete_scope(tmp_path: Path) -> None:
    writer = dataclasses.replace(
        default_users()[0], scopes=frozenset({"read:snippet:bitbucket", "write:snippet:bitbucket"})
    )
    with Sandbox(data_dir=tmp_path / "data", users=[writer]) as sandbox:
        created = httpx.post(f"{sandbox.base_url}/snippets/demo", json={"title": "t"}, auth=basic(writer))
        url = f"{sandbox.base_url}/snippets/demo/{created.json()['id']}"

        denied = httpx.delete(url, auth=basic(writer))

        assert created.status_code == 201
        assert denied.status_code == 403
        assert denied.json()["error"]["detail"]["required"] == ["delete:snippet:bitbucket"]


def test_legacy_oauth_scope_names_are_understood(tmp_path: Path) -> None:
    oauth = dataclasses.replace(default_users()[0], scopes=frozenset({"snippet", "snippet:write"}))
    with Sandbox(data_dir=tmp_path / "data", users=[oauth]) as sandbox:
        created = httpx.post(f"{sandbox.base_url}/snippets/demo", json={"title": "t"}, headers=bearer(oauth))

        assert created.status_code == 201


def test_private_snippets_are_invisible_outside_their_workspace(sandbox: Sandbox) -> None:
    alice = sandbox.users[1]
    secret = make_snippet(sandbox, private=True)
    public = make_snippet(sandbox, private=False)

    assert httpx.get(f"{sandbox.base_url}/snippets/demo/{secret}", auth=basic(alice)).status_code == 404
    assert httpx.get(f"{sandbox.base_url}/snippets/demo/{secret}/commits", auth=basic(alice)).status_code == 404
    assert httpx.get(f"{sandbox.base_url}/snippets/demo/{public}", auth=basic(alice)).status_code == 200
    listed = httpx.get(f"{sandbox.base_url}/snippets/demo", auth=basic(alice)).json()["values"]
    assert [value["id"] for value in listed] == [public]
    assert len(httpx.get(f"{sandbox.base_url}/snippets/demo", auth=basic(sandbox.users[0])).json()["values"]) == 2


def test_private_snippets_of_a_shared_workspace_are_visible_to_its_members(sandbox: Sandbox) -> None:
    secret = make_snippet(sandbox, private=True, workspace="sandbox-team")

    response = httpx.get(f"{sandbox.base_url}/snippets/sandbox-team/{secret}", auth=basic(sandbox.users[1]))

    assert response.status_code == 200


def test_only_members_write(sandbox: Sandbox) -> None:
    alice = sandbox.users[1]
    public = make_snippet(sandbox, private=False)

    update = httpx.put(f"{sandbox.base_url}/snippets/demo/{public}", json={"title": "mine now"}, auth=basic(alice))
    create = httpx.post(f"{sandbox.base_url}/snippets/demo", json={"title": "intruder"}, auth=basic(alice))
    delete = httpx.delete(f"{sandbox.base_url}/snippets/demo/{public}", auth=basic(alice))

    assert update.status_code == create.status_code == delete.status_code == 403


def test_users_keep_tokens_out_of_repr_and_get_fresh_ones() -> None:
    first, second = default_users(), default_users()

    assert [user.nickname for user in first] == ["demo", "alice", "reader"]
    assert first[0].email == "demo@sandbox.invalid" and first[0].display_name == "Demo User"
    assert first[2].scopes == frozenset({"read:snippet:bitbucket"})
    assert first[0].api_token != second[0].api_token and first[0].access_token != second[0].access_token
    assert first[0].uuid == second[0].uuid  # identities survive restarts, tokens do not
    assert first[0].api_token not in repr(first[0]) and first[0].access_token not in repr(first[0])
