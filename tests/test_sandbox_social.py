"""Comments and watching in the sandbox."""

from __future__ import annotations

import httpx
import pytest

from snippet_daemon.sandbox import Sandbox, SandboxUser


def basic(user: SandboxUser) -> tuple[str, str]:
    return (user.email, user.api_token)


@pytest.fixture
def snippet_url(sandbox: Sandbox) -> str:
    """A public snippet created by demo in the shared workspace, where alice is a member and not an admin."""
    response = httpx.post(
        f"{sandbox.base_url}/snippets/sandbox-team", json={"title": "talk"}, auth=basic(sandbox.users[0])
    )
    assert response.status_code == 201
    return f"{sandbox.base_url}/snippets/sandbox-team/{response.json()['id']}"


def comment(sandbox: Sandbox, url: str, user: SandboxUser, raw: str, parent: int | None = None) -> httpx.Response:
    body: dict[str, object] = {"content": {"raw": raw}}
    if parent is not None:
        body["parent"] = {"id": parent}
    return httpx.post(f"{url}/comments", json=body, auth=basic(user))


def test_a_thread_lists_oldest_first(sandbox: Sandbox, snippet_url: str) -> None:
    demo, alice = sandbox.users[0], sandbox.users[1]

    first = comment(sandbox, snippet_url, demo, "Hello <b>world</b>\n\nsecond paragraph")
    reply = comment(sandbox, snippet_url, alice, "Hi!", parent=first.json()["id"])

    assert first.status_code == reply.status_code == 201
    assert first.headers["Location"] == first.json()["links"]["self"]["href"]
    created = first.json()
    assert created["type"] == "snippet_comment" and isinstance(created["id"], int)
    assert created["content"]["raw"] == "Hello <b>world</b>\n\nsecond paragraph"
    assert created["content"]["markup"] == "markdown"
    assert created["content"]["html"] == "<p>Hello &lt;b&gt;world&lt;/b&gt;</p><p>second paragraph</p>"
    assert created["user"]["nickname"] == "demo" and created["deleted"] is False
    assert reply.json()["parent"]["id"] == created["id"]
    listed = httpx.get(f"{snippet_url}/comments", auth=basic(alice)).json()["values"]
    assert [value["content"]["raw"] for value in listed] == [created["content"]["raw"], "Hi!"]


def test_a_reply_needs_a_parent_on_the_same_snippet(sandbox: Sandbox, snippet_url: str) -> None:
    demo = sandbox.users[0]
    other = httpx.post(f"{sandbox.base_url}/snippets/demo", json={"title": "other"}, auth=basic(demo)).json()
    foreign = comment(sandbox, f"{sandbox.base_url}/snippets/demo/{other['id']}", demo, "elsewhere").json()["id"]

    assert comment(sandbox, snippet_url, demo, "orphan", parent=999999).status_code == 400
    assert comment(sandbox, snippet_url, demo, "cross", parent=foreign).status_code == 400
    assert comment(sandbox, snippet_url, demo, "   ").status_code == 400
    bad_json = httpx.post(f"{snippet_url}/comments", content=b"{", auth=basic(demo))
    assert bad_json.status_code == 400


def test_only_the_author_edits(sandbox: Sandbox, snippet_url: str) -> None:
    demo, alice = sandbox.users[0], sandbox.users[1]
    url = comment(sandbox, snippet_url, alice, "typo").json()["links"]["self"]["href"]

    by_other = httpx.put(url, json={"content": {"raw": "hijacked"}}, auth=basic(demo))
    by_author = httpx.put(url, json={"content": {"raw": "fixed"}}, auth=basic(alice))

    assert by_other.status_code == 403
    assert by_author.status_code == 200 and by_author.json()["content"]["raw"] == "fixed"
    assert httpx.get(url, auth=basic(demo)).json()["content"]["raw"] == "fixed"


def test_author_creator_or_admin_deletes(sandbox: Sandbox, snippet_url: str) -> None:
    demo, alice = sandbox.users[0], sandbox.users[1]
    # alice's snippet in the shared workspace, where demo is the admin.
    alices = httpx.post(f"{sandbox.base_url}/snippets/sandbox-team", json={"title": "a"}, auth=basic(alice)).json()
    alices_url = f"{sandbox.base_url}/snippets/sandbox-team/{alices['id']}"
    by_demo_on_own = comment(sandbox, snippet_url, demo, "creator's").json()["links"]["self"]["href"]
    by_alice = comment(sandbox, snippet_url, alice, "alice's").json()["links"]["self"]["href"]
    by_alice_on_own = comment(sandbox, alices_url, alice, "x").json()["links"]["self"]["href"]

    assert httpx.delete(by_demo_on_own, auth=basic(alice)).status_code == 403  # neither author, creator nor admin
    assert httpx.delete(by_alice, auth=basic(demo)).status_code == 204  # the snippet's creator
    assert httpx.delete(by_alice_on_own, auth=basic(demo)).status_code == 204  # the workspace admin
    assert httpx.delete(by_demo_on_own, auth=basic(demo)).status_code == 204  # the author
    assert httpx.get(by_alice, auth=basic(demo)).status_code == 404
    assert httpx.get(f"{snippet_url}/comments", auth=basic(demo)).json()["values"] == []


def test_a_deleted_comment_with_replies_stays_as_deleted(sandbox: Sandbox, snippet_url: str) -> None:
    demo, alice = sandbox.users[0], sandbox.users[1]
    parent = comment(sandbox, snippet_url, demo, "question").json()
    comment(sandbox, snippet_url, alice, "answer", parent=parent["id"])

    httpx.delete(parent["links"]["self"]["href"], auth=basic(demo))

    listed = httpx.get(f"{snippet_url}/comments", auth=basic(demo)).json()["values"]
    assert [(value["deleted"], value["content"]["raw"]) for value in listed] == [(True, ""), (False, "answer")]


def test_reader_cannot_comment_but_can_read_comments(sandbox: Sandbox, snippet_url: str) -> None:
    reader = sandbox.users[2]
    comment(sandbox, snippet_url, sandbox.users[0], "hello")

    assert comment(sandbox, snippet_url, reader, "me too").status_code == 403
    assert len(httpx.get(f"{snippet_url}/comments", auth=basic(reader)).json()["values"]) == 1


def test_watching(sandbox: Sandbox, snippet_url: str) -> None:
    alice = sandbox.users[1]
    watch = f"{snippet_url}/watch"

    before = httpx.get(watch, auth=basic(alice))
    started = httpx.put(watch, auth=basic(alice))
    during = httpx.get(watch, auth=basic(alice))
    watchers = httpx.get(f"{snippet_url}/watchers", auth=basic(alice)).json()
    stopped = httpx.delete(watch, auth=basic(alice))
    after = httpx.get(watch, auth=basic(alice))

    assert before.status_code == 404
    assert started.status_code == 204 and started.content == b""
    assert during.status_code == 204
    assert [account["nickname"] for account in watchers["values"]] == ["alice"]
    assert stopped.status_code == 204
    assert after.status_code == 404
