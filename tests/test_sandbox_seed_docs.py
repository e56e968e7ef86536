"""Replay the request bodies printed in Atlassian's snippets docs (``../shared/seeds``) against the sandbox.

The update doc prints its ``PUT`` examples line by line; the create examples only survive with their
whitespace collapsed, so they are rebuilt part by part. Either way the bodies go out as a real HTTP
client sends them: CRLF line endings and a Content-Length computed from the bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from snippet_daemon.sandbox import Sandbox

SEEDS = "seeds"
UPDATE_DOC = "api-snippet-update.txt"
CREATE_DOC = "api-snippets-list-create-get-update.txt"


@dataclass
class Example:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def _boundary(content_type: str) -> str:
    match = re.search(r'boundary="?([^";\s]+)"?', content_type)
    assert match, content_type
    return match.group(1)


def update_examples(text: str) -> list[Example]:
    """The ``PUT``s of the update doc, each from its request line to its last delimiter line."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if re.fullmatch(r"(PUT|POST) /2\.0/\S+ HTTP/1\.1", line)]
    examples = []
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(lines)
        method, path, _ = lines[start].split(" ")
        headers: dict[str, str] = {}
        index = start + 1
        while lines[index].strip():
            name, _, value = lines[index].partition(":")
            headers[name.strip()] = value.strip()
            index += 1
        delimiter = "--" + _boundary(headers["Content-Type"])
        body_lines = lines[index + 1 : end]
        last = max(i for i, line in enumerate(body_lines) if line.startswith(delimiter))
        body = "\r\n".join(body_lines[: last + 1]) + "\r\n"
        headers.pop("Content-Length", None)  # the doc's lengths are for its own line endings
        examples.append(Example(method, path, headers, body.encode("utf-8")))
    return examples


_VALUE = {
    "Content-Length": r"\d+",
    "Content-Type": r'[\w.+-]+/[\w.+-]+(?:; ?[\w-]+=(?:"[^"]*"|[^\s";]+))*',
    "MIME-Version": r"1\.0",
    "Content-ID": r'"[^"]*"|[^\s"]+',
    "Content-Transfer-Encoding": r"[\w-]+",
    "Content-Disposition": r'[\w-]+(?:; ?[\w-]+="[^"]*")*',
}


def _take_headers(text: str) -> tuple[list[tuple[str, str]], str]:
    """Known MIME headers off the front of collapsed text; the rest is the part's body."""
    headers: list[tuple[str, str]] = []
    rest = text.strip()
    while True:
        for name, value in _VALUE.items():
            match = re.match(rf"{name}: ({value})\s*", rest)
            if match:
                headers.append((name, match.group(1)))
                rest = rest[match.end() :]
                break
        else:
            return headers, rest


def collapsed_example(text: str, request_line: str) -> Example:
    """Rebuild the HTTP request the doc printed at ``request_line`` before its newlines were lost."""
    start = text.index(request_line)
    method, path, _ = request_line.split(" ")
    head_and_body = text[start + len(request_line) :].split("\n", 1)[0]
    message_headers, rest = _take_headers(head_and_body)
    headers = dict(message_headers)
    delimiter = "--" + _boundary(headers["Content-Type"])
    chunks = rest.split(delimiter)
    assert chunks[0] == "" and chunks[-1].startswith("--"), "the example must start and end with a delimiter"
    body = b""
    for chunk in chunks[1:-1]:
        part_headers, content = _take_headers(chunk)
        if ("Content-Transfer-Encoding", "base64") in part_headers:
            content = "\r\n".join(content.split())
        lines = [f"{name}: {value}" for name, value in part_headers]
        body += (delimiter + "\r\n" + "\r\n".join(lines) + "\r\n\r\n" + content + "\r\n").encode("utf-8")
    body += (delimiter + "--\r\n").encode("utf-8")
    headers.pop("Content-Length", None)
    return Example(method, path, headers, body)


@pytest.fixture
def docs(shared_dir: Path) -> tuple[str, str]:
    return (
        (shared_dir / SEEDS / UPDATE_DOC).read_text(encoding="utf-8"),
        (shared_dir / SEEDS / CREATE_DOC).read_text(encoding="utf-8"),
    )


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[httpx.Client]:
    user = sandbox.users[0]
    with httpx.Client(auth=(user.email, user.api_token), timeout=10) as http:
        yield http


def send(client: httpx.Client, sandbox: Sandbox, example: Example, snippet_path: str | None = None) -> httpx.Response:
    """The example against the sandbox: evzijst's workspace becomes demo's, kypj the given snippet."""
    path = example.path.replace("/2.0", "", 1)
    path = path.replace("/evzijst", f"/{sandbox.users[0].nickname}")
    if snippet_path is not None:
        path = snippet_path
    return client.request(example.method, sandbox.base_url + path, content=example.body, headers=example.headers)


def files_of(client: httpx.Client, sandbox: Sandbox, snippet_id: str) -> dict[str, bytes]:
    from snippet_daemon.bitbucket.multipart import decode_snippet_body

    response = client.get(f"{sandbox.base_url}/snippets/demo/{snippet_id}", headers={"Accept": "multipart/related"})
    assert response.status_code == 200
    return decode_snippet_body(response.content, response.headers["Content-Type"])[1]


def commit_count(client: httpx.Client, sandbox: Sandbox, snippet_id: str) -> int:
    response = client.get(f"{sandbox.base_url}/snippets/demo/{snippet_id}/commits")
    return int(response.json()["size"])


def create_from_docs(client: httpx.Client, sandbox: Sandbox, create_doc: str) -> str:
    example = collapsed_example(create_doc, "POST /2.0/snippets/evzijst HTTP/1.1")
    response = send(client, sandbox, example)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_the_docs_multipart_related_create_makes_the_documented_snippet(
    sandbox: Sandbox, client: httpx.Client, docs: tuple[str, str]
) -> None:
    snippet_id = create_from_docs(client, sandbox, docs[1])

    snippet = client.get(f"{sandbox.base_url}/snippets/demo/{snippet_id}").json()
    files = files_of(client, sandbox, snippet_id)
    assert snippet["title"] == "My snippet"
    assert snippet["is_private"] is True
    assert sorted(files) == ["foo.txt", "image.png"]
    assert files["foo.txt"] == b"foo"
    assert files["image.png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert commit_count(client, sandbox, snippet_id) == 1


def test_the_docs_form_data_create_uses_the_file_fields_and_the_title(
    sandbox: Sandbox, client: httpx.Client, docs: tuple[str, str]
) -> None:
    example = collapsed_example(docs[1], "POST /2.0/snippets HTTP/1.1")

    response = send(client, sandbox, example)

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["title"] == "My snippet"
    assert created["owner"]["nickname"] == "demo"  # POST /snippets creates in the caller's workspace
    files = files_of(client, sandbox, created["id"])
    assert files == {"foo.txt": b"foo", "image.png": b"?PNG IHDR?1??I....."}


def test_the_docs_update_examples_in_sequence(sandbox: Sandbox, client: httpx.Client, docs: tuple[str, str]) -> None:
    update_title_and_file, delete_image, rename, form_update, _ = update_examples(docs[0])
    snippet_id = create_from_docs(client, sandbox, docs[1])
    snippet_path = f"/snippets/demo/{snippet_id}"

    # Change foo.txt and the title: one commit, image.png untouched.
    response = send(client, sandbox, update_title_and_file, snippet_path)
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "My updated snippet"
    files = files_of(client, sandbox, snippet_id)
    assert files["foo.txt"].rstrip(b"\r\n") == b"Updated file contents."
    assert files["image.png"].startswith(b"\x89PNG")
    assert commit_count(client, sandbox, snippet_id) == 2

    # A listed file without a part is deleted.
    response = send(client, sandbox, delete_image, snippet_path)
    assert response.status_code == 200, response.text
    assert sorted(response.json()["files"]) == ["foo.txt"]
    assert commit_count(client, sandbox, snippet_id) == 3

    # Rename: delete foo.txt and add bar.txt in one request, one commit.
    response = send(client, sandbox, rename, snippet_path)
    assert response.status_code == 200, response.text
    assert files_of(client, sandbox, snippet_id) == {"bar.txt": b"foo\r\n"}
    assert commit_count(client, sandbox, snippet_id) == 4

    # form-data: a title field and a file field (the doc's body even lacks its closing "--").
    response = send(client, sandbox, form_update, snippet_path)
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "My updated snippet"
    assert files_of(client, sandbox, snippet_id) == {"bar.txt": b"foo\r\n", "foo.txt": b"foo\r\n"}
    assert commit_count(client, sandbox, snippet_id) == 5


def test_the_docs_form_data_files_field_deletes_a_file(
    sandbox: Sandbox, client: httpx.Client, docs: tuple[str, str]
) -> None:
    *_, delete_by_name = update_examples(docs[0])
    snippet_id = create_from_docs(client, sandbox, docs[1])

    response = send(client, sandbox, delete_by_name, f"/snippets/demo/{snippet_id}")

    assert response.status_code == 200, response.text
    assert sorted(response.json()["files"]) == ["foo.txt"]
    assert commit_count(client, sandbox, snippet_id) == 2


@pytest.mark.parametrize(
    ("document", "title"), [('{"title": "Updated title"}', "Updated title"), ('{"title": null}', "")]
)
def test_the_docs_json_title_updates(
    sandbox: Sandbox, client: httpx.Client, docs: tuple[str, str], document: str, title: str
) -> None:
    assert document in docs[0]  # the curl examples of the update doc
    snippet_id = create_from_docs(client, sandbox, docs[1])

    response = client.put(
        f"{sandbox.base_url}/snippets/demo/{snippet_id}",
        content=document,
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 200
    assert response.json()["title"] == title
    assert sorted(response.json()["files"]) == ["foo.txt", "image.png"]
    assert commit_count(client, sandbox, snippet_id) == 1  # metadata is not versioned


def test_the_parsers_find_every_example(docs: tuple[str, str]) -> None:
    examples = update_examples(docs[0])
    assert [example.headers["Content-Type"].split(";")[0] for example in examples] == [
        "multipart/related",
        "multipart/related",
        "multipart/related",
        "multipart/form-data",
        "multipart/form-data",
    ]
    assert all(b"\r\n" in example.body and b"\n" not in example.body.replace(b"\r\n", b"") for example in examples)
