"""Snippets in the sandbox: create, read in every format, list and page, raw files, delete."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from snippet_daemon.bitbucket.multipart import decode_multipart, decode_snippet_body, encode_form_data, encode_related
from snippet_daemon.sandbox import Sandbox

ALL_BYTES = bytes(range(256)) * 3 + b"\r\n\r\x00\xff"


@pytest.fixture
def demo(sandbox: Sandbox) -> Iterator[httpx.Client]:
    user = sandbox.users[0]
    with httpx.Client(base_url=sandbox.base_url, auth=(user.email, user.api_token), timeout=10) as client:
        yield client


def create(client: httpx.Client, files: dict[str, bytes], workspace: str = "demo", **metadata: Any) -> dict[str, Any]:
    body, content_type = encode_related(metadata, files)
    response = client.post(f"/snippets/{workspace}", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 201, response.text
    document: dict[str, Any] = response.json()
    return document


def test_listing_every_snippet_is_gone(demo: httpx.Client) -> None:
    response = demo.get("/snippets")

    assert response.status_code == 410
    assert response.json()["error"]["message"] == "CHANGE-2770 - Functionality has been deprecated"


def test_create_answers_201_with_location_and_the_snippet(sandbox: Sandbox, demo: httpx.Client) -> None:
    body, content_type = encode_related({"title": "Hello", "is_private": True}, {"a.txt": b"hi\n"})

    response = demo.post("/snippets/demo", content=body, headers={"Content-Type": content_type})

    assert response.status_code == 201
    snippet = response.json()
    assert response.headers["Location"] == f"{sandbox.base_url}/snippets/demo/{snippet['id']}"
    assert snippet["type"] == "snippet" and snippet["scm"] == "git"
    assert snippet["title"] == "Hello" and snippet["is_private"] is True
    assert snippet["owner"]["nickname"] == snippet["creator"]["nickname"] == "demo"
    head = snippet["links"]["diff"]["href"].split("/")[-2]
    assert snippet["links"]["patch"]["href"].endswith(f"/{head}/patch")
    assert snippet["files"]["a.txt"]["links"]["self"]["href"] == (
        f"{sandbox.base_url}/snippets/demo/{snippet['id']}/{head}/files/a.txt"
    )
    assert snippet["files"]["a.txt"]["links"]["html"]["href"] == (
        f"{sandbox.web_url}/snippets/demo/{snippet['id']}#file-a.txt"
    )
    assert [link["name"] for link in snippet["links"]["clone"]] == ["https", "ssh"]


def test_post_to_snippets_creates_in_the_callers_workspace(sandbox: Sandbox) -> None:
    alice = sandbox.users[1]

    response = httpx.post(f"{sandbox.base_url}/snippets", json={"title": "mine"}, auth=(alice.email, alice.api_token))

    assert response.status_code == 201
    assert response.json()["owner"]["nickname"] == "alice"
    assert response.json()["is_private"] is False  # the API's default when is_private is not sent
    assert response.json()["files"] == {}


def test_form_data_create_keeps_only_the_file_field(demo: httpx.Client) -> None:
    # Like the recorded 2016 request: a file under its own field name is silently dropped.
    files = [
        ("file", ("kept.txt", b"kept\n", "text/plain")),
        ("random-fortune-1.txt", ("random-fortune-1.txt", b"dropped\n", "text/plain")),
        ("file", ("second.bin", ALL_BYTES, "application/octet-stream")),
    ]

    response = demo.post("/snippets/demo", data={"title": "Form", "is_private": "true"}, files=files)

    assert response.status_code == 201
    assert sorted(response.json()["files"]) == ["kept.txt", "second.bin"]
    assert response.json()["is_private"] is True
    raw = demo.get(response.json()["files"]["second.bin"]["links"]["self"]["href"])
    assert raw.content == ALL_BYTES


def test_multipart_related_get_returns_everything_in_one_answer(demo: httpx.Client) -> None:
    files = {"notes/ascii.txt": b"plain\n", "ünïcode.md": "héllo\n".encode(), "blob.bin": ALL_BYTES}
    snippet = create(demo, files, title="All")

    response = demo.get(f"/snippets/demo/{snippet['id']}", headers={"Accept": "multipart/related"})

    content_type = response.headers["Content-Type"]
    assert content_type.startswith("multipart/related") and 'start="snippet"' in content_type
    parts = decode_multipart(response.content, content_type)
    assert parts[0].content_id == "snippet" and json.loads(parts[0].content)["title"] == "All"
    by_name = {part.filename: part for part in parts[1:]}
    assert {name: part.content for name, part in by_name.items()} == files
    assert by_name["notes/ascii.txt"].header("content-transfer-encoding") == "7bit"
    assert by_name["ünïcode.md"].header("content-transfer-encoding") == "8bit"
    assert "filename*=utf-8''" in (by_name["ünïcode.md"].header("content-disposition") or "")
    assert by_name["blob.bin"].header("content-transfer-encoding") == "base64"
    assert by_name["blob.bin"].content_id == "blob.bin"


def test_form_data_get_is_flat(demo: httpx.Client) -> None:
    snippet = create(demo, {"a.txt": b"a\n", "b.bin": ALL_BYTES}, title="Flat", is_private=True)

    response = demo.get(f"/snippets/demo/{snippet['id']}", headers={"Accept": "multipart/form-data"})

    parts = decode_multipart(response.content, response.headers["Content-Type"])
    fields = {part.form_name: part.content for part in parts if part.form_name != "file"}
    assert fields[("title")] == b"Flat" and fields["is_private"] == b"true" and fields["id"] == snippet["id"].encode()
    assert {part.filename: part.content for part in parts if part.form_name == "file"} == {
        "a.txt": b"a\n",
        "b.bin": ALL_BYTES,
    }
    assert "links" not in fields  # nested elements cannot be flattened


@pytest.mark.parametrize("encoding", ["related", "form-data"])
def test_binary_contents_round_trip_byte_exact(demo: httpx.Client, encoding: str) -> None:
    files = {"all.bin": ALL_BYTES, "crlf.txt": b"one\r\ntwo\r\n", "nul.txt": b"a\x00b", "dir/sub/ff": b"\xff\xfe"}
    encoder = encode_related if encoding == "related" else encode_form_data
    body, content_type = encoder({"title": "bytes"}, files)

    created = demo.post("/snippets/demo", content=body, headers={"Content-Type": content_type})

    assert created.status_code == 201, created.text
    response = demo.get(f"/snippets/demo/{created.json()['id']}", headers={"Accept": "multipart/related"})
    assert decode_snippet_body(response.content, response.headers["Content-Type"])[1] == files
    for name, content in files.items():
        raw = demo.get(created.json()["files"][name]["links"]["self"]["href"])
        assert raw.content == content


def test_file_at_head_redirects_to_the_revision(sandbox: Sandbox, demo: httpx.Client) -> None:
    snippet = create(demo, {"dir/my file.py": b"x = 1\n"})
    head = snippet["links"]["diff"]["href"].split("/")[-2]

    response = demo.get(f"/snippets/demo/{snippet['id']}/files/dir/my%20file.py")

    assert response.status_code == 302
    assert response.content == b""
    location = response.headers["Location"]
    assert location == f"{sandbox.base_url}/snippets/demo/{snippet['id']}/{head}/files/dir/my%20file.py"
    raw = demo.get(location)
    assert raw.status_code == 200 and raw.content == b"x = 1\n"
    assert raw.headers["Content-Type"] == "text/x-python"  # no charset: Bitbucket does not know it
    assert raw.headers["Content-Disposition"] == 'attachment; filename="my file.py"'


def test_missing_file_is_404(demo: httpx.Client) -> None:
    snippet = create(demo, {"a.txt": b"a"})
    head = snippet["links"]["diff"]["href"].split("/")[-2]

    assert demo.get(f"/snippets/demo/{snippet['id']}/files/b.txt").status_code == 404
    assert demo.get(f"/snippets/demo/{snippet['id']}/{head}/files/b.txt").status_code == 404


def test_pagination_walks_three_pages_in_a_stable_order(demo: httpx.Client) -> None:
    created = [create(demo, {}, title=f"n{number}")["id"] for number in range(7)]

    seen: list[str] = []
    pages = 0
    url: str | None = "/snippets/demo?pagelen=3"
    while url:
        page = demo.get(url).json()
        pages += 1
        assert page["pagelen"] == 3 and page["size"] == 7 and page["page"] == pages
        seen += [value["id"] for value in page["values"]]
        url = page.get("next")
        assert url is None or url.startswith("http://")

    assert pages == 3
    assert seen == list(reversed(created))  # newest first, no gaps, no repeats
    assert "previous" in demo.get("/snippets/demo?pagelen=3&page=2").json()


def test_pagelen_defaults_to_30_and_clamps_to_100(demo: httpx.Client) -> None:
    assert demo.get("/snippets/demo").json()["pagelen"] == 30
    assert demo.get("/snippets/demo?pagelen=500").json()["pagelen"] == 100
    assert demo.get("/snippets/demo?page=0").status_code == 400
    assert demo.get("/snippets/demo?page=9").json()["values"] == []


def test_free_plan_workspace_lists_a_string(demo: httpx.Client) -> None:
    response = demo.get("/snippets/free-plan")

    assert response.status_code == 200
    (value,) = response.json()["values"]
    assert isinstance(value, str) and value.startswith("A workspace on a Free plan does not support snippets.")
    assert demo.post("/snippets/free-plan", json={"title": "x"}).status_code == 403


def test_role_filters_and_workspace_uuid(sandbox: Sandbox, demo: httpx.Client) -> None:
    alice = sandbox.users[1]
    mine = create(demo, {}, workspace="sandbox-team", title="demo's")
    httpx.post(
        f"{sandbox.base_url}/snippets/sandbox-team", json={"title": "alice's"}, auth=(alice.email, alice.api_token)
    )
    team_uuid = mine["owner"]["uuid"]

    owned = demo.get("/snippets/sandbox-team", params={"role": "owner"}).json()["values"]
    everything = demo.get(f"/snippets/{team_uuid}").json()["values"]

    assert mine["owner"]["type"] == "team"
    assert [value["title"] for value in owned] == ["demo's"]
    assert sorted(value["title"] for value in everything) == ["alice's", "demo's"]
    assert demo.get("/snippets/demo", params={"role": "boss"}).status_code == 400


def test_delete_answers_204_empty_then_404(demo: httpx.Client) -> None:
    snippet = create(demo, {"a.txt": b"a"})

    response = demo.delete(f"/snippets/demo/{snippet['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["Content-Type"].startswith("text/html")
    missing = demo.get(f"/snippets/demo/{snippet['id']}")
    assert missing.status_code == 404 and missing.json() == {
        "type": "error",
        "error": {"message": "Resource not found"},
    }


@pytest.mark.parametrize("path", ["/nothing", "/snippets/nobody", "/snippets/demo/abc/unknown/deeper/still"])
def test_unknown_routes_and_workspaces_are_404(demo: httpx.Client, path: str) -> None:
    assert demo.get(path).status_code == 404


def test_malformed_bodies_are_400(demo: httpx.Client) -> None:
    bad_multipart = demo.post(
        "/snippets/demo", content=b"no delimiter here", headers={"Content-Type": "multipart/related; boundary=x"}
    )
    bad_type = demo.post("/snippets/demo", json={"is_private": "yes"})
    bad_name = demo.post("/snippets/demo", files={"file": ("../escape", b"x")})

    assert bad_multipart.status_code == 400
    assert bad_type.status_code == 400 and "is_private" in bad_type.json()["error"]["fields"]
    assert bad_name.status_code == 400 and "files" in bad_name.json()["error"]["fields"]
