"""The HTTP side of the sandbox: a real threaded HTTP/1.1 server, and :class:`Sandbox`, its handle.

``/2.0/...`` goes to :mod:`.api` after the injected faults (:mod:`.faults`) had their say and is
recorded; ``/_sandbox/...`` are control routes for tests and demos driven from another process (request
log, faults, adding and removing a shared workspace); anything else is a web page (:mod:`.webpages`).

It is a local service, and a browser on the same machine must not be able to drive it: the control routes
answer only when the sandbox was started for tests (``control_routes=True``, ``snippet-daemon sandbox
--control``) or to a request carrying a sandbox user's credentials; only loopback ``Host`` values (and the
host it was told to serve) are answered, which closes the DNS-rebinding path; and a request body is read only
once the request is authenticated, so anonymous uploads cost nothing.

Like Bitbucket's front end this speaks keep-alive HTTP/1.1 with an exact ``Content-Length`` on
every answer, accepts chunked request bodies, and sends an empty ``text/html`` body with 204s.
Requests are logged to the ``snippet_daemon.sandbox`` logger at DEBUG, without their headers.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import socketserver
import threading
import time
import urllib.parse
from collections.abc import Iterable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from .accounts import Directory, SandboxUser, default_users
from .api import JSON_TYPE, ApiRequest, ApiResponse, SnippetsApi, empty_response, json_response
from .faults import RATE_LIMIT_MESSAGE, FaultKind, Faults, RecordedRequest
from .render import error_json
from .store import Store
from .webpages import WebPages

__all__ = ["Sandbox"]

logger = logging.getLogger("snippet_daemon.sandbox")

MAX_BODY = 64 * 1024 * 1024
MAX_RECORDED = 100_000  # oldest recorded requests are forgotten beyond this
_HOST_HEADER = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")
_HOST_NAME = re.compile(r"(?P<name>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?")
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "[::1]"})


_UNAVAILABLE = ApiResponse(503, b'{"type": "error", "error": {"message": "The sandbox is stopping"}}', JSON_TYPE)
# What a proxy in front of Bitbucket answers when the origin's answer did not reach it.
_BAD_GATEWAY = ApiResponse(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>\n", "text/html")


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not hold up stop()
    # The listen backlog (socketserver's default is 5): hundreds of clients connecting at once, as parallel
    # tests and editors do, must wait in the queue, not see their SYNs dropped and time out.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._open: set[socket.socket] = set()
        self._busy = 0
        self._state = threading.Condition()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall on an offline machine.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._state:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._state:
            self._open.discard(request)
        super().shutdown_request(request)

    def busy(self, delta: int) -> None:
        with self._state:
            self._busy += delta
            self._state.notify_all()

    def close_connections(self, grace: float = 2.0) -> None:
        """Let requests in flight finish (briefly), then cut every connection, idle ones included."""
        deadline = time.monotonic() + grace
        with self._state:
            while self._busy and time.monotonic() < deadline:
                self._state.wait(0.05)
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "snippet-sandbox/1.0"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are closed after this
    wbufsize = 64 * 1024  # headers and body leave in one write; flushed after every request
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        # Small answers must not wait for the client's delayed ACK (Nagle): that costs 40 ms each.
        with contextlib.suppress(OSError):
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_expect_100(self) -> bool:
        if not self._body_welcome():
            return True  # no "100 Continue": the answer comes without the body being read
        accepted = super().handle_expect_100()
        self.wfile.flush()  # the writer is buffered: "100 Continue" must not wait for the answer
        return accepted

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()

    def __getattr__(self, name: str) -> Any:
        # Any other method goes to the router too, which answers 405 with Allow, as Bitbucket does;
        # http.server alone would answer 501, a server error, to what is the client's mistake.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def parse_request(self) -> bool:
        try:
            return super().parse_request()
        except Exception as error:
            # http.client parses request headers as an email message, which decodes a multipart Content-Type's
            # RFC 2231 boundary* and raises on a bad charset (a NUL, say): without this the client got no answer.
            logger.debug("sandbox: unparsable request headers: %s", error)
            self.send_error(400, "Malformed request headers")
            return False

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (bad request line, headers too long, ...) as Bitbucket error documents."""
        if self.request_version == "HTTP/0.9":  # the request line was not understood: answer as HTTP/1.1 anyway
            self.request_version = "HTTP/1.1"
        reason = self.responses.get(code, ("Error", ""))[0]
        body = json_response(code, error_json(message or reason)).body
        self.send_response(code, reason)
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Connection", "close")  # what came after the bad part cannot be trusted
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # _handle logs one line per request itself

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s: " + format, self.address_string(), *args)

    # ------------------------------------------------------------------ plumbing

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not (length.isascii() and length.strip().isdigit()):  # int() would also take "-1", "1_0" and "+1"
            raise _BadRequest(400, "Invalid Content-Length")
        size = int(length)
        if size > MAX_BODY:
            raise _BadRequest(413, "Request body too large")
        return self.rfile.read(size)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(65537)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError as error:
                raise _BadRequest(400, "Invalid chunked body") from error
            if size < 0:  # int() takes "-5", and read(-5) would wait for the client to close
                raise _BadRequest(400, "Invalid chunked body")
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                raise _BadRequest(413, "Request body too large")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(65537)

    def _origin(self) -> str:
        host = self.headers.get("Host")
        if host and _HOST_HEADER.fullmatch(host):
            return f"http://{host}"
        return self.server.sandbox.web_url

    def _send(self, response: ApiResponse) -> None:
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers:
            self.send_header(name, value)
        if self.close_connection:  # say so, or a keep-alive client sends its next request into a closed socket
            self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    def _body_welcome(self) -> bool:
        """Whether this request's body would be read (an authenticated API or control request)."""
        if not self._host_allowed():
            return False
        path = self.path.split("?", 1)[0]
        sandbox = self.server.sandbox
        if path.startswith("/_sandbox/") and sandbox.control_routes:
            return True
        if not (path == "/2.0" or path.startswith(("/2.0/", "/_sandbox/"))):
            return False
        services = sandbox._services()
        return services is not None and services[1].authenticate(self.headers.get("Authorization")).user is not None

    def _has_body(self) -> bool:
        length = (self.headers.get("Content-Length") or "0").strip()
        return length != "0" or "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()

    def _refuse_body(self) -> bytes:
        """No body is read: if one was announced, the connection closes after the answer (it is still on the wire)."""
        if self._has_body():
            self.close_connection = True
        return b""

    def _host_allowed(self) -> bool:
        host = self.headers.get("Host")
        if host is None:
            return True  # HTTP/1.0 without Host: no browser sends that
        match = _HOST_NAME.fullmatch(host.strip())
        if match is None:
            return False
        name = match.group("name").lower()
        if name in _LOOPBACK_NAMES or name == self.server.sandbox.host.lower():
            return True
        return re.fullmatch(r"127(\.\d{1,3}){3}", name) is not None

    def _handle(self) -> None:
        started = time.monotonic()
        self.server.busy(1)
        try:
            if not self._host_allowed():
                self._refuse_body()
                self.close_connection = True
                self._send(json_response(421, error_json("This sandbox only answers requests addressed to localhost")))
                return
            try:
                split = urllib.parse.urlsplit(self.path)
            except ValueError as error:  # a target like "//[x"
                self.close_connection = True
                self._send(json_response(400, error_json(str(error) or "Bad request")))
                return
            path = split.path
            if path == "/2.0" or path.startswith("/2.0/"):
                self._handle_api(path, split.query, started)
            elif path.startswith("/_sandbox/"):
                self._handle_control(path)
            else:
                self._refuse_body()  # web pages take no body
                page = self.server.sandbox._web_page(
                    self.command, path, self.headers.get("Authorization"), self._origin()
                )
                self._send(page)
        finally:
            self.server.busy(-1)

    def _read_or_refuse(self) -> bytes | None:
        try:
            return self._read_body()
        except _BadRequest as error:
            self.close_connection = True  # the rest of the body may still be on the wire
            self._send(json_response(error.status, error_json(str(error) or "Bad request")))
            return None

    def _handle_control(self, path: str) -> None:
        sandbox = self.server.sandbox
        if not sandbox.control_routes:
            services = sandbox._services()
            authorized = services is not None and services[1].authenticate(self.headers.get("Authorization")).user
            if not authorized:
                self._refuse_body()
                self._send(
                    json_response(
                        401,
                        error_json(
                            "The sandbox's control routes need a sandbox user's credentials, "
                            "or a sandbox started with --control (for tests)"
                        ),
                    )
                )
                return
        body = self._read_or_refuse()
        if body is not None:
            self._send(sandbox._admin(self.command, path, body))

    def _handle_api(self, path: str, query: str, started: float) -> None:
        sandbox = self.server.sandbox
        services = sandbox._services()
        if services is None:
            self._refuse_body()
            self.close_connection = True
            self._send(_UNAVAILABLE)
            return
        api, directory, _ = services
        auth = directory.authenticate(self.headers.get("Authorization"))
        # Nothing on /2.0 is open to anonymous writes: an unauthenticated body is never read (it is answered
        # 401, or 404 for an unknown route, and the connection closes).
        read = self._read_or_refuse() if auth.user is not None else self._refuse_body()
        if read is None:
            return
        body = read
        latency, fault = sandbox._take_fault()
        if latency:
            time.sleep(latency / 1000)
        response: ApiResponse | None = None
        if fault is FaultKind.RATE_LIMIT:
            response = ApiResponse(429, RATE_LIMIT_MESSAGE.encode("utf-8"), "text/plain")
        elif fault is FaultKind.SERVER_ERROR:
            response = json_response(500, error_json("Internal Server Error", detail="Injected by the sandbox."))
        elif fault is None:
            segments = [urllib.parse.unquote(part) for part in path[len("/2.0") :].split("/")[1:]]
            request = ApiRequest(
                method=self.command,
                path=path,
                segments=segments,
                query=urllib.parse.parse_qs(query, keep_blank_values=True),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
                origin=self._origin(),
                auth=auth,
            )
            try:
                response = api.handle(request)
            except Exception:
                logger.exception("sandbox: %s %s failed", self.command, path)
                response = json_response(500, error_json("Internal Server Error"))
            after = sandbox._take_fault_after_apply(self.command, response.status)
            if after is FaultKind.DROP_AFTER_APPLY:
                response = None
            elif after is FaultKind.BAD_GATEWAY_AFTER_APPLY:
                response = _BAD_GATEWAY
        status = response.status if response is not None else 0
        # Recorded before answering, so that a client holding the answer always finds its request logged.
        sandbox._record(
            RecordedRequest(
                method=self.command,
                path=path,
                query=query,
                status=status,
                content_type=self.headers.get("Content-Type"),
                accept=self.headers.get("Accept"),
                user=auth.user.nickname if auth.user else None,
                body_size=len(body),
            )
        )
        logger.debug(
            "%s %s%s -> %s (%d bytes in, %.1f ms)",
            self.command,
            path,
            "?" + query if query else "",
            status or "dropped",
            len(body),
            (time.monotonic() - started) * 1000,
        )
        if response is None:
            self.close_connection = True  # a dropped connection: no answer at all
            return
        self._send(response)


class Sandbox:
    """A local, Bitbucket-Cloud-compatible snippets server on loopback.

    ``with Sandbox(tmp_path) as sandbox:`` serves at ``sandbox.base_url`` until the block ends.
    """

    def __init__(
        self,
        data_dir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        users: Sequence[SandboxUser] | None = None,
        free_plan_workspaces: Iterable[str] = ("free-plan",),
        *,
        control_routes: bool = False,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        # /_sandbox/* without credentials: only for a sandbox started for tests
        self.control_routes = control_routes
        self._requested_port = port
        self.users: list[SandboxUser] = list(users) if users is not None else default_users()
        self.faults = Faults()
        self.requests: list[RecordedRequest] = []
        self._free_plan = tuple(free_plan_workspaces)
        self._lock = threading.Lock()
        self._store: Store | None = None
        self._api: SnippetsApi | None = None
        self._web: WebPages | None = None
        self._directory: Directory | None = None
        self._extra_workspaces: list[tuple[str, str, tuple[str, ...]]] = []
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        state = self.base_url if self._server is not None else "stopped"
        return f"<Sandbox {state} data_dir={str(self.data_dir)!r}>"

    # ------------------------------------------------------------------ life cycle

    def _open(self) -> Store:
        with self._lock:
            if self._store is None:
                store = Store(self.data_dir)
                store.remember_accounts(self.users)
                self._directory = Directory(self.users, self._free_plan)
                for slug, name, members in self._extra_workspaces:
                    self._directory.add_workspace(slug, name, members)
                self._api = SnippetsApi(store, self._directory, self.faults)
                self._web = WebPages(store, self._directory)
                self._store = store
            return self._store

    def _services(self) -> tuple[SnippetsApi, Directory, WebPages] | None:
        """What requests need, or None while stopping (a request must not reopen the storage)."""
        with self._lock:
            if self._api is None or self._directory is None or self._web is None:
                return None
            return self._api, self._directory, self._web

    def start(self) -> Sandbox:
        """Serve in a daemon thread; returns self. Starting a started sandbox does nothing."""
        if self._server is not None:
            return self
        self._open()
        try:
            server = _HTTPServer((self.host, self._requested_port), self)
        except OSError:
            self.stop()  # close the storage opened above
            raise
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="snippet-sandbox", daemon=True
        )
        self._thread.start()
        logger.info("sandbox serving %s (data in %s)", self.base_url, self.data_dir)
        return self

    def stop(self) -> None:
        """Stop serving, close every connection, close the storage. Safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.close_connections()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        with self._lock:
            store, self._store = self._store, None
            self._api = self._web = None
            self._directory = None
        if store is not None:
            store.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        if self._server is not None:
            return int(self._server.server_address[1])
        return self._requested_port

    @property
    def web_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.web_url + "/2.0"

    # ------------------------------------------------------------------ tests and demos

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)
            if len(self.requests) > MAX_RECORDED:
                del self.requests[: len(self.requests) - MAX_RECORDED]  # a long-running sandbox must not grow forever

    def _take_fault(self) -> tuple[int, FaultKind | None]:
        with self._lock:
            return self.faults.latency_ms, self.faults.take()

    def _take_fault_after_apply(self, method: str, status: int) -> FaultKind | None:
        with self._lock:
            return self.faults.take_after_apply(method, status)

    def add_workspace(self, slug: str, name: str, members: Iterable[str]) -> None:
        """One more shared workspace whose members are these users' nicknames (kept across restarts)."""
        nicknames = tuple(members)
        self._extra_workspaces.append((slug, name, nicknames))
        with self._lock:
            if self._directory is not None:
                self._directory.add_workspace(slug, name, nicknames)

    def remove_workspace(self, slug: str) -> None:
        """The workspace is gone (deleted, or renamed away): its snippets answer 404 from now on."""
        self._extra_workspaces = [entry for entry in self._extra_workspaces if entry[0] != slug]
        with self._lock:
            if self._directory is not None:
                self._directory.workspaces.pop(slug, None)

    def seed_demo(self) -> list[str]:
        """Demo snippets in ``users[0]``'s workspace (several revisions, a binary file, a comment thread).

        Returns their ids; calling it again returns the same ones while they all still exist.
        """
        from .demo import seed

        return seed(self._open(), self.users)

    def _admin(self, method: str, path: str, body: bytes) -> ApiResponse:
        if path == "/_sandbox/requests":
            if method == "GET":
                with self._lock:
                    recorded = [request.to_json() for request in self.requests]
                return json_response(200, recorded)
            if method == "DELETE":
                self.clear_requests()
                return empty_response()
        elif path == "/_sandbox/faults":
            if method == "PUT":
                try:
                    values = json.loads(body.decode("utf-8") or "{}")
                    if not isinstance(values, dict):
                        raise ValueError("expected a JSON object")
                    with self._lock:
                        self.faults.update(values)
                except (ValueError, RecursionError) as error:  # ValueError: also bad UTF-8 and range checks
                    return json_response(400, error_json(str(error) or "nested too deeply"))
            if method in ("GET", "PUT"):
                with self._lock:
                    return json_response(200, self.faults.to_json())
        elif path.startswith("/_sandbox/workspaces/") and path.count("/") == 3:
            # A shared workspace made (PUT {"name", "members": [nicknames]}) or gone (DELETE: 404 from now on),
            # for tests driven from another process (an editor's "workspace out of reach").
            slug = path.rsplit("/", 1)[1]
            if method == "DELETE":
                self.remove_workspace(slug)
                return empty_response()
            if method == "PUT":
                try:
                    values = json.loads(body.decode("utf-8") or "{}")
                    members = [str(member) for member in values["members"]]
                    name = str(values.get("name") or slug)
                except (ValueError, KeyError, TypeError, RecursionError) as error:
                    return json_response(400, error_json(f"expected {{name, members}}: {error}"))
                self.add_workspace(slug, name, members)
                return empty_response()
        else:
            return json_response(404, error_json("Resource not found"))
        return json_response(405, error_json(f"Method {method} not allowed"))

    def _web_page(self, method: str, path: str, authorization: str | None, origin: str) -> ApiResponse:
        services = self._services()
        if services is None:
            return _UNAVAILABLE
        if method not in ("GET", "HEAD"):
            return ApiResponse(405, b"Method not allowed\n", "text/plain; charset=utf-8", [("Allow", "GET")])
        return services[2].handle(path, authorization, origin)
