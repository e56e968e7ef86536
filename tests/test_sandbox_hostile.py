"""The sandbox under hostile input over raw HTTP: every bad request gets a Bitbucket-shaped 4xx, never a 500,
never a dropped connection; hundreds of parallel clients are all answered; file names cannot break its answers.

Requests are written byte by byte on a socket (``RawHttp``), so that nothing between the test and the sandbox
tidies them up first.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
import random
import socket
import threading
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from snippet_daemon.bitbucket.multipart import decode_multipart, decode_snippet_body, encode_related
from snippet_daemon.sandbox import Faults, Sandbox, SandboxUser
from tests.conftest import make_client
from tests.multipart_mutations import mutated_body

MUTATED_BODIES = 3_000
PARALLEL = 300


def basic_header(user: SandboxUser) -> str:
    return "Basic " + base64.b64encode(f"{user.email}:{user.api_token}".encode()).decode()


class Dropped(AssertionError):
    """The sandbox closed the connection without answering."""


class RawHttp:
    """A keep-alive HTTP/1.1 connection that sends requests exactly as given and reads one answer each."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.address = (sandbox.host, sandbox.port)
        self.sock: socket.socket | None = None
        self.buffer = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    def _read_until(self, marker: bytes) -> bytes:
        assert self.sock is not None
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Dropped(f"connection closed after {len(self.buffer)} bytes of an answer")
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def _read_exactly(self, size: int) -> bytes:
        assert self.sock is not None
        while len(self.buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Dropped("connection closed inside an answer's body")
            self.buffer += chunk
        body, self.buffer = self.buffer[:size], self.buffer[size:]
        return body

    def send(self, head: bytes, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
        """(status, lower-cased headers, body) of the answer to ``head`` (request line + headers) and ``body``."""
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=60)
        self.sock.sendall(head + b"\r\n" + body)
        status_line, *lines = self._read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
        answer = self._read_exactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return int(status_line.split(" ")[1]), headers, answer

    def request(self, method: str, path: str, headers: dict[str, Any], body: bytes = b"") -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: 127.0.0.1"]
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            lines.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode("utf-8")))
        status, _, answer = self.send(b"\r\n".join(lines) + b"\r\n", body)
        return status, answer


def assert_bitbucket_error(status: int, answer: bytes, expected: int | tuple[int, ...] = 400) -> dict[str, Any]:
    assert status in ((expected,) if isinstance(expected, int) else expected), (status, answer[:300])
    document: dict[str, Any] = json.loads(answer)
    assert document["type"] == "error" and document["error"]["message"], document
    return document


# --------------------------------------------------------------------------- parallel clients


def test_300_parallel_connections_are_all_answered(sandbox: Sandbox) -> None:
    auth = basic_header(sandbox.users[0]).encode()
    request = b"GET /2.0/user HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + auth + b"\r\nConnection: close\r\n\r\n"
    start = threading.Barrier(PARALLEL)
    statuses: list[int] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        try:
            start.wait(timeout=60)
            with socket.create_connection((sandbox.host, sandbox.port), timeout=30) as sock:
                sock.sendall(request)
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
            with lock:
                statuses.append(int(answer.split(b" ", 2)[1]))
        except Exception as error:  # a timeout or a reset is what the listen backlog of 5 gave
            with lock:
                failures.append(f"{type(error).__name__}: {error}")

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    print(f"{len(statuses)}/{PARALLEL} parallel connections answered in {elapsed:.1f} s")
    assert not failures, f"{len(failures)} of {PARALLEL} unanswered: {Counter(failures).most_common(3)}"
    assert statuses == [200] * PARALLEL
    assert len(sandbox.requests) == PARALLEL


# --------------------------------------------------------------------------- mutated bodies


def test_thousands_of_mutated_bodies_get_4xx_or_success_never_500_or_silence(sandbox: Sandbox) -> None:
    http = RawHttp(sandbox)
    auth = basic_header(sandbox.users[0])
    target = sandbox.seed_demo()[0]  # PUTs edit this one; POSTs create
    rng = random.Random(20_000)
    statuses: Counter[int] = Counter()
    started = time.monotonic()
    try:
        for number in range(MUTATED_BODIES):
            body, content_type = mutated_body(rng)
            # Line breaks in the header would be another request's business (framing), not the body's.
            header = content_type.replace("\r", " ").replace("\n", " ").encode("utf-8", "surrogatepass")
            method, path = (
                ("PUT", f"/2.0/snippets/demo/{target}") if number % 4 == 3 else ("POST", "/2.0/snippets/demo")
            )
            status, answer = http.request(method, path, {"Authorization": auth, "Content-Type": header}, body)
            statuses[status] += 1
            if status >= 300:
                assert_bitbucket_error(status, answer, (400, 413))
            else:
                assert status in (200, 201), (status, answer[:300])
    finally:
        http.close()
    elapsed = time.monotonic() - started

    print(f"{MUTATED_BODIES} mutated bodies over raw HTTP in {elapsed:.1f} s: {dict(sorted(statuses.items()))}")
    assert sum(statuses.values()) == MUTATED_BODIES
    assert statuses[400] > MUTATED_BODIES / 4 and statuses[201] > 0  # both kinds of outcome were reached
    assert [r.status for r in sandbox.requests if r.status >= 500 or r.status == 0] == []


HOSTILE_REQUESTS: dict[str, tuple[bytes, bytes, int]] = {
    # http.server decodes a multipart Content-Type's RFC 2231 boundary* itself: a NUL in the charset made it raise,
    # and the client got no answer at all.
    "NUL in the charset of boundary*": (
        b"POST /2.0/snippets/demo HTTP/1.1\r\nContent-Type: multipart/related; boundary*=ut\x00f-8''x\r\n",
        b"--x--",
        400,
    ),
    "idna as the charset of boundary*": (
        b"POST /2.0/snippets/demo HTTP/1.1\r\nContent-Type: multipart/related; boundary*=idna''x\r\n",
        b"--x--",
        400,
    ),
    "non-ASCII Basic credentials": (b"GET /2.0/user HTTP/1.1\r\nAuthorization: Basic \xe9\xe9\r\n", b"", 401),
    "a request line that is no request line": (b"GARBAGE\r\n", b"", 400),
    "an unknown HTTP version": (b"GET /2.0/user HTTP/1.x\r\n", b"", 400),
    "an unknown method": (b"BREW /2.0/user HTTP/1.1\r\n", b"", 405),  # http.server alone says 501
    "an unparsable request target": (b"GET http://[x/2.0/user HTTP/1.1\r\n", b"", 400),
    "a 70 KB header line": (b"GET /2.0/user HTTP/1.1\r\nX-Long: " + b"v" * 70_000 + b"\r\n", b"", 431),
    "200 headers": (b"GET /2.0/user HTTP/1.1\r\n" + b"X: y\r\n" * 200, b"", 431),
    "a negative chunk size": (  # read(-5) waited for the client to close
        b"POST /2.0/snippets/demo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n",
        b"-5\r\nabc\r\n0\r\n\r\n",
        400,
    ),
    "a chunk size that is no number": (
        b"POST /2.0/snippets/demo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n",
        b"zz\r\n",
        400,
    ),
    "Content-Length 1_0": (b"POST /2.0/snippets/demo HTTP/1.1\r\nContent-Length: 1_0\r\n", b"0123456789", 400),
    "Content-Length -1": (b"POST /2.0/snippets/demo HTTP/1.1\r\nContent-Length: -1\r\n", b"", 400),
    "Content-Length 10**23": (
        b"POST /2.0/snippets/demo HTTP/1.1\r\nContent-Length: " + b"1" + b"0" * 23 + b"\r\n",
        b"",
        413,
    ),
}


@pytest.mark.parametrize("label", list(HOSTILE_REQUESTS))
def test_hostile_request_heads_get_a_bitbucket_4xx_not_silence(sandbox: Sandbox, label: str) -> None:
    head, body, expected = HOSTILE_REQUESTS[label]
    auth = basic_header(sandbox.users[0]).encode()
    if b"Authorization" not in head and head.startswith((b"GET /2.0", b"POST /2.0", b"BREW")):
        head += b"Authorization: " + auth + b"\r\n"
    if body and b"Content-Length" not in head and b"chunked" not in head:
        head += b"Content-Length: %d\r\n" % len(body)
    http = RawHttp(sandbox)
    try:
        status, _, answer = http.send(head, body)
        assert_bitbucket_error(status, answer, expected)
        again, _ = http.request("GET", "/2.0/user", {"Authorization": auth})  # and it goes on answering
        assert again == 200
    finally:
        http.close()


# --------------------------------------------------------------------------- numbers and knobs


def test_numbers_past_what_the_store_holds_are_4xx(sandbox: Sandbox) -> None:
    user = sandbox.users[0]
    huge = str(10**30)
    with httpx.Client(base_url=sandbox.base_url, auth=(user.email, user.api_token), timeout=30) as client:
        snippet_id = sandbox.seed_demo()[0]
        comments = f"/snippets/demo/{snippet_id}/comments"
        answers = {
            "page=10**30": (client.get(f"/snippets/demo?page={huge}"), 400),
            "page=2**63": (client.get(f"/snippets/demo?page={2**63}"), 400),
            "page of comments": (client.get(f"{comments}?page={10**12}"), 400),
            "pagelen=10**30": (client.get(f"/snippets/demo?pagelen={huge}"), 400),
            "page=5000 digits": (client.get("/snippets/demo?page=" + "9" * 5_000), 400),
            "commentId=10**30": (client.get(f"{comments}/{huge}"), 404),
            "commentId=2**63": (client.delete(f"{comments}/{2**63}"), 404),
            "commentId=Arabic digits": (client.get(f"{comments}/\u0663"), 404),
            "parent.id=10**30": (client.post(comments, json={"content": {"raw": "x"}, "parent": {"id": 10**30}}), 400),
            "deep JSON comment": (
                client.post(comments, content=b"[" * 100_000, headers={"Content-Type": "application/json"}),
                400,
            ),
            "NUL in a diff path": (client.get(f"/snippets/demo/{snippet_id}/HEAD/diff?path=a%00b"), (400, 404)),
        }
        assert client.get(f"/snippets/demo?page={2**31 - 1}").json()["values"] == []  # the last page: empty
    for label, (response, expected) in answers.items():
        assert_bitbucket_error(response.status_code, response.content, expected)
        print(f"{label}: {response.status_code} {response.json()['error']['message'][:60]}")
    assert [r.status for r in sandbox.requests if r.status >= 500] == []


@pytest.mark.parametrize(
    "values",
    [
        {"latency_ms": 1e23},
        {"latency_ms": 10**23},
        {"latency_ms": 60_001},
        {"drop_next": -1},
        {"ignore_sort": 2},
        {"rate_limit_next": 10**7},
        {"server_error_next": "5"},
        {"drop_next": True},
        {"latency_ms": None},
    ],
    ids=lambda values: json.dumps(values),
)
def test_fault_knobs_out_of_range_are_refused_with_a_clear_400(sandbox: Sandbox, values: dict[str, Any]) -> None:
    response = httpx.put(f"{sandbox.web_url}/_sandbox/faults", json=values)

    name = next(iter(values))
    document = assert_bitbucket_error(response.status_code, response.content)
    assert name in document["error"]["message"] and "from 0 to" in document["error"]["message"]
    assert sandbox.faults == Faults()  # nothing was set
    user = sandbox.users[0]
    assert httpx.get(f"{sandbox.base_url}/user", auth=(user.email, user.api_token)).status_code == 200


def test_fault_knobs_in_range_are_taken(sandbox: Sandbox) -> None:
    response = httpx.put(f"{sandbox.web_url}/_sandbox/faults", json={"latency_ms": 60_000, "ignore_sort": 1})
    assert response.status_code == 200 and response.json()["latency_ms"] == 60_000
    assert httpx.put(f"{sandbox.web_url}/_sandbox/faults", content=b"[" * 100_000).status_code == 400


def test_a_shared_workspace_comes_and_goes_through_the_control_routes(sandbox: Sandbox) -> None:
    """What the VS Code e2e test uses to put a watched snippet out of reach from another process."""
    user = sandbox.users[0]
    admin = f"{sandbox.web_url}/_sandbox/workspaces"

    def slugs() -> list[str]:
        listed = httpx.get(f"{sandbox.base_url}/user/workspaces", auth=(user.email, user.api_token)).json()
        return [entry["workspace"]["slug"] for entry in listed["values"]]

    assert httpx.put(f"{admin}/doomed", json={"members": [user.nickname]}).status_code == 204
    assert "doomed" in slugs()
    assert httpx.delete(f"{admin}/doomed").status_code == 204
    assert "doomed" not in slugs()
    assert httpx.get(f"{sandbox.base_url}/snippets/doomed", auth=(user.email, user.api_token)).status_code == 404
    assert httpx.put(f"{admin}/x", json={"name": "no members"}).status_code == 400


# --------------------------------------------------------------------------- file names


CONTROL_NAMES = ["new\nline.txt", "cr\r.txt", "tab\t.txt", "bell\x07", "del\x7f", "nel\x85.txt"]


@pytest.mark.parametrize("name", CONTROL_NAMES, ids=repr)
def test_names_with_control_characters_are_refused_with_a_bitbucket_400(sandbox: Sandbox, name: str) -> None:
    user = sandbox.users[0]
    encoded = "".join(f"%{byte:02X}" for byte in name.encode())
    form = (
        b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nt\r\n'
        b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename*=utf-8''" + encoded.encode() + b"\r\n\r\nX\r\n"
        b"--b--\r\n"
    )
    related, related_type = encode_related({"title": "t"}, {name: b"X"})
    with httpx.Client(base_url=sandbox.base_url, auth=(user.email, user.api_token), timeout=30) as client:
        existing = sandbox.seed_demo()[0]
        answers = [
            client.post("/snippets/demo", content=form, headers={"Content-Type": "multipart/form-data; boundary=b"}),
            client.post("/snippets/demo", content=related, headers={"Content-Type": related_type}),
            client.put(f"/snippets/demo/{existing}", content=related, headers={"Content-Type": related_type}),
        ]
        listed = client.get("/snippets/demo").json()["size"]
    for response in answers:
        document = assert_bitbucket_error(response.status_code, response.content)
        assert "control characters" in document["error"]["fields"]["files"][0]
    assert listed == len(sandbox.seed_demo())  # nothing was created


async def test_a_stored_name_with_a_newline_still_renders_as_valid_multipart(sandbox: Sandbox) -> None:
    """Names stored before the sandbox refused them: every answer's headers stay intact, the name exact."""
    names = {"new\nline.txt": b"one\n", "\u65e5\u672c.md": b"two\n", "plain.txt": b"three\n"}
    store = sandbox._open()
    record = store.create_snippet("demo", sandbox.users[0], title="legacy", is_private=True, files=names)
    user = sandbox.users[0]
    with httpx.Client(base_url=sandbox.base_url, auth=(user.email, user.api_token), timeout=30) as client:
        answers = [
            client.get(f"/snippets/demo/{record.id}", headers={"Accept": accept})
            for accept in ("multipart/related", "multipart/form-data")
        ]
    for response in answers:
        content_type = response.headers["Content-Type"]
        parts = decode_multipart(response.content, content_type)
        assert {part.filename: part.content for part in parts if part.filename in names} == names
        for part in parts:
            assert all(value.isprintable() for value in part.headers.values()), part.headers
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + response.content
        )
        assert len(list(message.iter_parts())) == len(parts)  # type: ignore[attr-defined]
    assert decode_snippet_body(answers[0].content, answers[0].headers["Content-Type"])[1] == names
    async with make_client(sandbox) as client:  # the daemon's client opens it, as the editor would
        content = await client.get_snippet_content("demo", record.id)
    assert content.files == names
