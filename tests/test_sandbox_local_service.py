"""#19 item 12: the sandbox is a local service a browser on the same machine cannot drive.

Control routes are off unless the sandbox was started for tests (``control_routes`` / ``--control``) or the
request carries a sandbox user's credentials; only loopback ``Host`` values are served (no DNS rebinding);
a request body is refused before it is read when the request is not authenticated.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from snippet_daemon.sandbox import Sandbox


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Sandbox]:
    """A sandbox as ``snippet-daemon sandbox`` runs it for a user: no --control."""
    with Sandbox(data_dir=tmp_path / "data", port=0) as sandbox:
        yield sandbox


def test_control_routes_need_the_flag_or_the_sandboxs_credentials(service: Sandbox) -> None:
    admin = f"{service.web_url}/_sandbox"
    user = service.users[0]

    refused = httpx.put(f"{admin}/faults", json={"server_error_next": 5})
    assert refused.status_code == 401 and "--control" in refused.json()["error"]["message"]
    assert httpx.get(f"{admin}/requests").status_code == 401
    assert service.faults.server_error_next == 0  # nothing was set

    taken = httpx.put(f"{admin}/faults", json={"latency_ms": 5}, auth=(user.email, user.api_token))
    assert taken.status_code == 200 and service.faults.latency_ms == 5
    bearer = {"Authorization": f"Bearer {user.access_token}"}
    assert httpx.get(f"{admin}/requests", headers=bearer).status_code == 200


def test_only_loopback_host_values_are_served(service: Sandbox) -> None:
    user = service.users[0]
    auth = (user.email, user.api_token)
    for host in ("evil.example", "evil.example:80", f"192.168.1.5:{service.port}", "127.0.0.1.evil.example"):
        answer = httpx.get(f"{service.base_url}/user", auth=auth, headers={"Host": host})
        assert answer.status_code == 421, host
        assert httpx.get(f"{service.web_url}/", headers={"Host": host}).status_code == 421, host
    for host in (f"localhost:{service.port}", f"127.0.0.1:{service.port}", "localhost", f"[::1]:{service.port}"):
        assert httpx.get(f"{service.base_url}/user", auth=auth, headers={"Host": host}).status_code == 200, host


def _answer_to_headers_only(sandbox: Sandbox, head: str) -> bytes:
    """Send a request's head announcing a 60 MB body, never the body; what comes back within 5 s."""
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=5) as connection:
        connection.sendall(head.encode("ascii"))
        try:
            return connection.recv(65536)
        except TimeoutError:
            return b""  # the server is still waiting for the body


@pytest.mark.parametrize("path", ["/2.0/snippets/demo", "/_sandbox/faults", "/"])
def test_an_unauthenticated_body_is_refused_before_it_is_read(service: Sandbox, path: str) -> None:
    size = 60 * 1024 * 1024
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{service.port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n\r\n"
    )
    answer = _answer_to_headers_only(service, head)
    assert answer.split(b"\r\n", 1)[0] in (b"HTTP/1.1 401 Unauthorized", b"HTTP/1.1 405 Method Not Allowed"), answer
    assert b"Connection: close" in answer

    expect = head.replace("\r\n\r\n", "\r\nExpect: 100-continue\r\n\r\n")
    assert b"100 Continue" not in _answer_to_headers_only(service, expect)


def test_an_authenticated_body_is_still_read(service: Sandbox) -> None:
    user = service.users[0]
    created = httpx.post(
        f"{service.base_url}/snippets/{user.nickname}",
        json={"title": "t", "is_private": True},
        auth=(user.email, user.api_token),
    )
    assert created.status_code == 201
