"""The sandbox as a server: injected faults, the request log, admin routes, HTTP details, restarts, demo data."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from snippet_daemon.bitbucket.multipart import decode_snippet_body
from snippet_daemon.sandbox import Faults, RecordedRequest, Sandbox, SandboxUser, default_data_dir


def basic(user: SandboxUser) -> tuple[str, str]:
    return (user.email, user.api_token)


def test_rate_limit_answers_429_text_without_retry_after(sandbox: Sandbox) -> None:
    sandbox.faults.rate_limit_next = 2
    with httpx.Client(auth=basic(sandbox.users[0])) as client:
        limited = [client.get(f"{sandbox.base_url}/snippets/demo") for _ in range(2)]
        recovered = client.get(f"{sandbox.base_url}/snippets/demo")

    for response in limited:
        assert response.status_code == 429
        assert response.headers["Content-Type"] == "text/plain"
        assert response.text == "Rate limit for this resource has been exceeded"
        assert "Retry-After" not in response.headers
    assert recovered.status_code == 200
    assert sandbox.faults.rate_limit_next == 0


def test_server_errors_have_a_bitbucket_body(sandbox: Sandbox) -> None:
    sandbox.faults.server_error_next = 1

    response = httpx.get(f"{sandbox.base_url}/user", auth=basic(sandbox.users[0]))

    assert response.status_code == 500
    assert response.json()["type"] == "error"


def test_dropped_connections_get_no_answer(sandbox: Sandbox) -> None:
    sandbox.faults.drop_next = 1
    with httpx.Client(auth=basic(sandbox.users[0])) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(f"{sandbox.base_url}/user")
        assert client.get(f"{sandbox.base_url}/user").status_code == 200

    assert [request.status for request in sandbox.requests] == [0, 200]


def test_latency_delays_every_answer(sandbox: Sandbox) -> None:
    sandbox.faults.latency_ms = 150
    started = time.monotonic()

    httpx.get(f"{sandbox.base_url}/user", auth=basic(sandbox.users[0]))

    assert time.monotonic() - started >= 0.15


def test_faults_spare_admin_routes_and_web_pages(sandbox: Sandbox) -> None:
    sandbox.faults.rate_limit_next = 5

    assert httpx.get(f"{sandbox.web_url}/_sandbox/faults").status_code == 200
    assert httpx.get(f"{sandbox.web_url}/").status_code == 200
    assert sandbox.faults.rate_limit_next == 5


def test_requests_are_recorded(sandbox: Sandbox) -> None:
    demo = sandbox.users[0]
    body = b'{"title": "t"}'
    httpx.post(
        f"{sandbox.base_url}/snippets/demo?x=1",
        content=body,
        headers={"Content-Type": "application/json"},
        auth=basic(demo),
    )
    httpx.get(f"{sandbox.base_url}/snippets/demo", headers={"Accept": "application/json"})
    httpx.get(f"{sandbox.web_url}/_sandbox/requests")

    assert sandbox.requests == [
        RecordedRequest("POST", "/2.0/snippets/demo", "x=1", 201, "application/json", "*/*", "demo", len(body)),
        RecordedRequest("GET", "/2.0/snippets/demo", "", 401, None, "application/json", None, 0),
    ]
    sandbox.clear_requests()
    assert sandbox.requests == []


def test_admin_routes_drive_faults_and_the_log_from_another_process(sandbox: Sandbox) -> None:
    admin = f"{sandbox.web_url}/_sandbox"
    httpx.get(f"{sandbox.base_url}/user", auth=basic(sandbox.users[0]))

    logged = httpx.get(f"{admin}/requests").json()
    cleared = httpx.delete(f"{admin}/requests")
    updated = httpx.put(f"{admin}/faults", json={"rate_limit_next": 1, "latency_ms": 5})
    rejected = httpx.put(f"{admin}/faults", json={"explode_next": 1})

    assert logged[0]["path"] == "/2.0/user" and logged[0]["user"] == "demo"
    assert cleared.status_code == 204 and sandbox.requests == []
    assert updated.json() == {
        "latency_ms": 5,
        "rate_limit_next": 1,
        "server_error_next": 0,
        "drop_next": 0,
        "ignore_sort": 0,
        "drop_after_apply_next": 0,
        "bad_gateway_after_apply_next": 0,
    }
    assert sandbox.faults == Faults(latency_ms=5, rate_limit_next=1)
    assert rejected.status_code == 400


def test_keep_alive_head_and_chunked_bodies(sandbox: Sandbox) -> None:
    demo = sandbox.users[0]
    token = httpx.BasicAuth(demo.email, demo.api_token)._auth_header
    connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=10)
    try:
        connection.request("GET", "/2.0/user", headers={"Authorization": token})
        first = connection.getresponse()
        first_body = first.read()
        connection.request("HEAD", "/2.0/user", headers={"Authorization": token})
        head = connection.getresponse()
        head_body = head.read()
        connection.request(
            "POST",
            "/2.0/snippets/demo",
            body=iter([b'{"title": ', b'"chunked"}']),
            headers={"Authorization": token, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
            encode_chunked=True,
        )
        created = connection.getresponse()
        created_body = created.read()
    finally:
        connection.close()

    assert first.status == 200 and int(first.headers["Content-Length"]) == len(first_body)
    assert head.status == 200 and head_body == b"" and int(head.headers["Content-Length"]) == len(first_body)
    assert created.status == 201 and b'"chunked"' in created_body


def test_data_survives_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Sandbox(data) as first:
        demo = first.users[0]
        created = httpx.post(
            f"{first.base_url}/snippets/demo",
            files={"file": ("keep.bin", b"\x00\xffkept\r\n")},
            data={"title": "persisted", "is_private": "true"},
            auth=basic(demo),
        ).json()
        httpx.post(
            f"{first.base_url}/snippets/demo/{created['id']}/comments",
            json={"content": {"raw": "hi"}},
            auth=basic(demo),
        )

    with Sandbox(data) as second:
        demo = second.users[0]  # new tokens, same identities
        url = f"{second.base_url}/snippets/demo/{created['id']}"
        fetched = httpx.get(url, auth=basic(demo), headers={"Accept": "multipart/related"})
        comments = httpx.get(f"{url}/comments", auth=basic(demo)).json()["values"]

    metadata, files = decode_snippet_body(fetched.content, fetched.headers["Content-Type"])
    assert metadata["title"] == "persisted" and metadata["is_private"] is True
    assert metadata["creator"]["nickname"] == "demo"
    assert files == {"keep.bin": b"\x00\xffkept\r\n"}
    assert [comment["content"]["raw"] for comment in comments] == ["hi"]


def test_seed_demo_creates_history_binary_and_a_thread_once(sandbox: Sandbox) -> None:
    demo = sandbox.users[0]

    ids = sandbox.seed_demo()

    assert sandbox.seed_demo() == ids and len(ids) == 3
    base = f"{sandbox.base_url}/snippets/demo"
    assert httpx.get(f"{base}/{ids[0]}/commits", auth=basic(demo)).json()["size"] >= 3
    assert len(httpx.get(f"{base}/{ids[0]}/comments", auth=basic(demo)).json()["values"]) >= 2
    binary = httpx.get(f"{base}/{ids[1]}", auth=basic(demo), headers={"Accept": "multipart/related"})
    files = decode_snippet_body(binary.content, binary.headers["Content-Type"])[1]
    assert any(b"\x00" in content for content in files.values())


def test_web_pages_show_snippets_and_ask_for_login_on_private_ones(sandbox: Sandbox) -> None:
    ids = sandbox.seed_demo()
    public_html = httpx.get(f"{sandbox.web_url}/snippets/demo/{ids[0]}")
    private_anonymous = httpx.get(f"{sandbox.web_url}/snippets/demo/{ids[1]}")
    private_member = httpx.get(f"{sandbox.web_url}/snippets/demo/{ids[1]}", auth=basic(sandbox.users[0]))

    assert (
        public_html.status_code == 200 and "hello.py" in public_html.text and "id='file-hello.py'" in public_html.text
    )
    assert private_anonymous.status_code == 401 and "WWW-Authenticate" in private_anonymous.headers
    assert private_member.status_code == 200 and "pixel.png" in private_member.text
    assert sandbox.requests == []  # web pages are not API requests


def test_default_data_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_data_dir() == tmp_path / "snippet-daemon" / "sandbox"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_data_dir() == Path.home() / ".local" / "share" / "snippet-daemon" / "sandbox"


def test_run_sandbox_prints_credentials_and_stops_on_sigterm(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from snippet_daemon.sandbox import run_sandbox; "
        f"sys.exit(run_sandbox('127.0.0.1', 0, Path({str(tmp_path / 'data')!r}), seed_demo=True, "
        "api_token='stable-token', stream=sys.stdout))"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not any(line.startswith("Press Ctrl+C") for line in lines):
            line = process.stdout.readline()
            assert line, "run_sandbox exited before printing its banner"
            lines.append(line.strip())
        exports = dict(line.removeprefix("export ").split("=", 1) for line in lines if line.startswith("export "))
        response = httpx.get(
            exports["BITBUCKET_API_URL"] + "/user", auth=(exports["BITBUCKET_USERNAME"], exports["BITBUCKET_API_TOKEN"])
        )
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert exports["BITBUCKET_API_TOKEN"] == "stable-token"
    assert response.status_code == 200 and response.json()["nickname"] == "demo"
    assert any(line.startswith("Bearer token:") for line in lines)
    assert code == 0


def _run_sandbox_once(data: Path, *, new_tokens: bool = False) -> dict[str, str]:
    """``snippet-daemon sandbox`` until its banner, then SIGTERM: the credentials it printed."""
    command = [sys.executable, "-m", "snippet_daemon", "sandbox", "--port", "0", "--data", str(data), "--no-demo"]
    process = subprocess.Popen(
        [*command, *(["--new-tokens"] if new_tokens else [])],
        stdout=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "SNIPPET_SANDBOX_API_TOKEN"} | {"PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not any(line.startswith("Press Ctrl+C") for line in lines):
            line = process.stdout.readline()
            assert line, "the sandbox exited before printing its banner"
            lines.append(line.strip())
        exports = dict(line.removeprefix("export ").split("=", 1) for line in lines if line.startswith("export "))
        bearer = next(line for line in lines if line.startswith("Bearer token:")).removeprefix("Bearer token:").strip()
        response = httpx.get(
            exports["BITBUCKET_API_URL"] + "/user", auth=(exports["BITBUCKET_USERNAME"], exports["BITBUCKET_API_TOKEN"])
        )
        assert response.status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return {**exports, "bearer": bearer}


def test_the_sandbox_keeps_its_tokens_across_restarts_unless_asked_for_new_ones(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = _run_sandbox_once(data)
    stored = data / "credentials.json"
    assert oct(stored.stat().st_mode & 0o777) == "0o600"

    again = _run_sandbox_once(data)
    # what an editor stored at the first run still signs in at the second
    assert again["BITBUCKET_API_TOKEN"] == first["BITBUCKET_API_TOKEN"] and again["bearer"] == first["bearer"]

    renewed = _run_sandbox_once(data, new_tokens=True)
    assert renewed["BITBUCKET_API_TOKEN"] != first["BITBUCKET_API_TOKEN"] and renewed["bearer"] != first["bearer"]
    assert renewed["BITBUCKET_API_TOKEN"] in stored.read_text() and oct(stored.stat().st_mode & 0o777) == "0o600"
