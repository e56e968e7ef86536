"""The language server: one :class:`SnippetServer` holds all state; features live in ``features/``.

Data flows one way: a client request is structured into a :mod:`snippet_daemon.protocol` type,
a feature handler works through :class:`~snippet_daemon.documents.SnippetDocuments` (the cache
and the write path) or the Bitbucket client, and its result is unstructured back to camelCase
JSON. Every failure a user can act on leaves as a JSON-RPC error whose ``data.kind`` names it.

Start-up stays light: httpx, keyring and the Bitbucket client are imported on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInternalError
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from snippet_daemon import __version__, logs, protocol
from snippet_daemon.documents import SnippetDocuments
from snippet_daemon.protocol import ErrorKind, InitializationOptions, ProtocolError

if TYPE_CHECKING:
    from snippet_daemon.bitbucket import Credentials, RetryPolicy, SnippetsClient
    from snippet_daemon.features.watch import Watcher

log = logging.getLogger("snippet_daemon.server")
# Records about the LSP channel itself: never forwarded to the client over that channel.
_transport_log = logging.getLogger("pygls.snippet_daemon.transport")

P = TypeVar("P")

NOT_AUTHENTICATED_HELP = (
    "Not logged in to Bitbucket. Run `snippet-daemon login` in a terminal (or the editor's "
    "Bitbucket Snippets: Log in command), or set BITBUCKET_USERNAME and BITBUCKET_API_TOKEN. "
    "The API token needs the scopes read:snippet:bitbucket, write:snippet:bitbucket and "
    "delete:snippet:bitbucket (create one at https://id.atlassian.com/manage-profile/security/api-tokens)."
)


class _SnippetProtocol(LanguageServerProtocol):
    """Keeps our custom requests' params as plain JSON (pygls would make namedtuples of them)."""

    _closed = False  # the client's end of stdout is gone

    def get_message_type(self, method: str) -> type[Any] | None:  # type: ignore[override]
        if method in protocol.REQUESTS:
            return _RawRequest
        return super().get_message_type(method)

    def _send_data(self, data: Any) -> None:
        """pygls's, minus two whole-message copies: a 20 MB file answer is ~50 MB of JSON.

        The body is encoded to bytes once and written after its header, instead of building a
        header+body string and encoding that. (pygls also logs every body at INFO; we do not.)
        Once the client has gone (stdout closed), nothing more is sent, and the failure is
        logged only to stderr: a log record forwarded to the client would fail again, forever.
        """
        if not data or self._closed:
            return
        if self.writer is None:
            _transport_log.error("Unable to send data, no available transport!")
            return
        try:
            pieces = self._encode(data)
            with _write_lock:  # header and body stay together even when a worker thread logs meanwhile
                if self._include_headers:
                    length = sum(map(len, pieces))
                    content_type = f"{self.CONTENT_TYPE}; charset={self.CHARSET}"
                    self._write(f"Content-Length: {length}\r\nContent-Type: {content_type}\r\n\r\n".encode())
                for piece in pieces:
                    self._write(piece)
        except (BrokenPipeError, ValueError, OSError) as error:  # ValueError: write to a closed file
            self._closed = True
            _transport_log.info("the client has gone (%s); no more messages are sent", type(error).__name__)
        except Exception as error:
            _transport_log.exception("Error sending data")
            self._server._report_server_error(error, JsonRpcInternalError)

    def _encode(self, data: Any) -> list[bytes]:
        """The message as UTF-8 JSON, in one piece, or for a big file's content in a few pieces, so that
        no copy of the whole message (as text and again as bytes) is ever held."""
        result = getattr(data, "result", None)
        if not (isinstance(result, dict) and len(result.get("base64") or "") > _STREAM_ABOVE):
            return [json.dumps(data, default=self._serialize_message).encode(self.CHARSET)]
        pieces: list[bytes] = []
        small: list[str] = []
        for text in json.JSONEncoder(default=self._serialize_message).iterencode(data):
            if len(text) < _STREAM_ABOVE:
                small.append(text)
                continue
            if small:
                pieces.append("".join(small).encode(self.CHARSET))
                small = []
            pieces.append(text.encode(self.CHARSET))
        if small:
            pieces.append("".join(small).encode(self.CHARSET))
        return pieces

    def _write(self, chunk: bytes) -> None:
        assert self.writer is not None
        result = self.writer.write(chunk)
        if inspect.isawaitable(result):  # an async writer (websockets): keep the write alive until done
            task = asyncio.ensure_future(result)
            _pending_writes.add(task)
            task.add_done_callback(_pending_writes.discard)


_pending_writes: set[asyncio.Future[Any]] = set()
_write_lock = threading.Lock()
_STREAM_ABOVE = 1 << 20  # characters: a result string this long is encoded on its own


@attrs.define
class _RawRequest:
    """A request whose ``params`` stay as the client sent them (a subclass of pygls's would not)."""

    id: int | str
    method: str
    jsonrpc: str
    params: Any = None


class SnippetServer(LanguageServer):
    """The daemon: settings, credentials, the Bitbucket client, the snippet cache and the watcher."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__("snippet-daemon", __version__, protocol_cls=_SnippetProtocol)
        self.env = dict(os.environ if env is None else env)
        self.options = InitializationOptions()
        self.api_url = self.env.get("BITBUCKET_API_URL") or "https://api.bitbucket.org/2.0"
        self.redactor = logs.SecretRedactor()
        self.client_log = logs.ClientLogHandler(self._send_log)
        self.client_log.addFilter(self.redactor)
        self.documents = SnippetDocuments(self)
        self.watcher: Watcher | None = None
        self._credentials: Credentials | None = None
        self._credentials_loaded = False
        self._client: SnippetsClient | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.last_activity = time.monotonic()  # the last request from the client (polling slows when idle)
        self.credentials_lookup: asyncio.Task[Any] | None = None  # started once the client has initialized

    # ------------------------------------------------------------------ settings

    def configure(self, raw_options: Any) -> None:
        """Apply ``initializationOptions`` (env as fallback); bad values are reported, not fatal."""
        try:
            options = protocol.structure(raw_options or {}, InitializationOptions, what="initializationOptions")
        except ProtocolError as error:
            self.show_message(f"snippet-daemon: {error} Using the defaults.", types.MessageType.Warning)
            options = InitializationOptions()
        if options.poll_interval_seconds < 0:
            options.poll_interval_seconds = 0
        options.api_url = (options.api_url or self.env.get("BITBUCKET_API_URL") or "").strip() or None
        options.workspace = options.workspace or self.env.get("BITBUCKET_WORKSPACE") or None
        options.log_level = options.log_level or self.env.get("SNIPPET_DAEMON_LOG") or "info"
        self.options = options
        self.api_url = (options.api_url or "https://api.bitbucket.org/2.0").rstrip("/")
        logs.set_level(logs.level_from_name(options.log_level))

    # ------------------------------------------------------------------ credentials and the client

    @property
    def credentials(self) -> Credentials | None:
        if not self._credentials_loaded:
            from snippet_daemon.bitbucket import KeyringStore, resolve_credentials

            self._credentials = resolve_credentials(self.api_url, self.env, KeyringStore())
            self._credentials_loaded = True
            if self._credentials is not None:
                self.redactor.add(self._credentials.secret)
                log.info("credentials from the %s", self._credentials.source)
        return self._credentials

    def look_up_credentials(self) -> None:
        """Resolve the credentials ahead of the first request; a failure waits to be reported by it."""
        from snippet_daemon.bitbucket import BitbucketError

        try:
            _ = self.credentials
        except BitbucketError as error:
            log.info("credentials: %s", error)

    def client(self) -> SnippetsClient:
        """The Bitbucket client; ``notAuthenticated`` when there are no credentials."""
        if self._client is None:
            credentials = self.credentials
            if credentials is None:
                raise ProtocolError(ErrorKind.NOT_AUTHENTICATED, NOT_AUTHENTICATED_HELP)
            from snippet_daemon.bitbucket import SnippetsClient

            self._client = SnippetsClient(credentials, self.api_url, retry=self.retry_policy())
        return self._client

    def retry_policy(self) -> RetryPolicy:
        """The client's back-off; ``SNIPPET_DAEMON_RETRY_SCALE`` shrinks it (tests, demos)."""
        from snippet_daemon.bitbucket import RetryPolicy

        try:
            scale = float(self.env.get("SNIPPET_DAEMON_RETRY_SCALE") or 1)
        except ValueError:
            scale = 1.0
        return RetryPolicy().scaled(scale) if scale != 1 else RetryPolicy()

    async def use_credentials(self, credentials: Credentials | None) -> None:
        """Switch accounts: drop the client and everything cached for the old one.

        ``credentials`` after login; ``None`` after logout, to look them up again on next use
        (credentials in the environment, if any, apply again).
        """
        if credentials is not None:
            self.redactor.add(credentials.secret)
        old, self._client = self._client, None
        self._credentials, self._credentials_loaded = credentials, credentials is not None
        self.documents.clear()
        if self.watcher is not None:
            self.watcher.reset()
        if old is not None:
            await old.aclose()

    async def default_workspace(self, given: str | None) -> str:
        """The workspace named, else the configured one, else the user's personal workspace."""
        if given:
            return given
        if self.options.workspace:
            return self.options.workspace
        account = await self.client().current_user_if_readable()
        if account is None or not account.nickname:
            raise ProtocolError(
                ErrorKind.INVALID_ARGUMENT,
                "Which workspace? Pass workspace, or set the workspace option (or BITBUCKET_WORKSPACE).",
            )
        self.options.workspace = account.nickname
        return account.nickname

    # ------------------------------------------------------------------ talking to the client

    def _send_log(self, level: int, message: str) -> None:
        kind = (
            types.MessageType.Error
            if level >= logging.ERROR
            else types.MessageType.Warning
            if level >= logging.WARNING
            else types.MessageType.Info
            if level >= logging.INFO
            else types.MessageType.Log
        )
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def show_message(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=self.redactor.redact(message)))

    def notify_did_change(self, change: protocol.DidChangeParams) -> None:
        self.protocol.notify(protocol.DID_CHANGE, protocol.unstructure(change))

    @contextlib.asynccontextmanager
    async def work_done(self, title: str) -> AsyncIterator[Callable[[str, int | None], None]]:
        """LSP work-done progress (when the client supports it): ``report(message, percentage)``."""
        window = self.client_capabilities.window
        if not (window and window.work_done_progress):
            yield lambda message, percentage: None
            return
        token = f"bbsnippets-{uuid.uuid4().hex[:12]}"
        try:
            await self.work_done_progress.create_async(token)
        except Exception as error:  # the client may refuse; the work goes on without a bar
            log.debug("progress refused by the client: %s", error)
            yield lambda message, percentage: None
            return
        self.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, percentage=0))

        def report(message: str, percentage: int | None) -> None:
            self.work_done_progress.report(token, types.WorkDoneProgressReport(message=message, percentage=percentage))

        try:
            yield report
        finally:
            self.work_done_progress.end(token, types.WorkDoneProgressEnd())

    def run_task(self, coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """A background task that is kept alive and whose failure is logged, not lost."""
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self._tasks.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                log.error("%s failed", name, exc_info=finished.exception())

        task.add_done_callback(done)
        return task

    async def close(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        for task in list(self._tasks):
            task.cancel()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # ------------------------------------------------------------------ registering handlers

    def snippet_command(
        self, name: str, params_type: type[P]
    ) -> Callable[[Callable[[SnippetServer, P], Awaitable[Any]]], None]:
        """Register ``workspace/executeCommand`` ``name`` taking one object argument of ``params_type``."""

        def register(handler: Callable[[SnippetServer, P], Awaitable[Any]]) -> None:
            async def run(ls: SnippetServer, *arguments: Any) -> Any:
                if len(arguments) > 1:
                    raise to_rpc_error(ProtocolError(ErrorKind.INVALID_ARGUMENT, f"{name} takes one object argument."))
                return await ls._answer(name, params_type, arguments[0] if arguments else None, handler)

            self.command(name)(run)

        return register

    def snippet_request(
        self, method: str, params_type: type[P]
    ) -> Callable[[Callable[[SnippetServer, P], Awaitable[Any]]], None]:
        """Register the custom request ``method`` (params: one object of ``params_type``)."""

        def register(handler: Callable[[SnippetServer, P], Awaitable[Any]]) -> None:
            async def run(ls: SnippetServer, params: Any) -> Any:
                return await ls._answer(method, params_type, params, handler)

            self.feature(method)(run)

        return register

    async def _answer(
        self, name: str, params_type: type[P], raw: Any, handler: Callable[[SnippetServer, P], Awaitable[Any]]
    ) -> Any:
        self.last_activity = time.monotonic()
        if self.credentials_lookup is not None and not self.credentials_lookup.done():
            # The keyring is being read in a thread; reading it here too would block the event loop.
            await asyncio.wait([self.credentials_lookup])
        try:
            params = protocol.structure(raw, params_type, what=name)
            return protocol.unstructure(await handler(self, params))
        except Exception as error:
            rpc_error = to_rpc_error(error)
            if rpc_error.data and rpc_error.data.get("kind"):
                log.info("%s: %s: %s", name, rpc_error.data["kind"], rpc_error.message)
            else:
                log.error("%s failed", name, exc_info=error)
            raise rpc_error from None


def to_rpc_error(error: BaseException) -> JsonRpcException:
    """Any failure as a JSON-RPC error; the ones a user can act on carry ``data.kind``."""
    if isinstance(error, JsonRpcException):
        return error
    if isinstance(error, ProtocolError):
        return JsonRpcException(code=protocol.ERROR_CODES[error.kind], message=error.message, data=error.data)
    kind = getattr(error, "kind", None)
    if isinstance(kind, str) and kind in protocol.ERROR_CODES:
        data: dict[str, Any] = {"kind": kind}
        for attribute, key in (("remote_revision", "remoteRevision"), ("missing_scopes", "missingScopes")):
            value = getattr(error, attribute, None)
            if value:
                data[key] = list(value) if isinstance(value, tuple) else value
        fields = getattr(error, "fields", None)
        if fields:
            data["fields"] = fields
        return JsonRpcException(code=protocol.ERROR_CODES[kind], message=str(error), data=data)
    return JsonRpcException(
        code=-32603,
        message=f"snippet-daemon hit a bug ({type(error).__name__}: {error}). Nothing was lost; the log has details.",
    )


def create_server(env: Mapping[str, str] | None = None) -> SnippetServer:
    """A server with every feature registered (used by ``run_stdio`` and by tests in-process)."""
    from snippet_daemon.features import commands, comments, files, history, pull, watch

    server = SnippetServer(env)

    @server.feature(types.INITIALIZE)
    def on_initialize(ls: SnippetServer, params: types.InitializeParams) -> None:
        ls.configure(params.initialization_options)

    @server.feature(types.INITIALIZED)
    def on_initialized(ls: SnippetServer, params: types.InitializedParams) -> None:
        ls.client_log.ready = True
        log.info("snippet-daemon %s ready (API %s)", __version__, ls.api_url)
        # Look the credentials up now, off the event loop: a locked keyring may prompt, and importing
        # it takes ~100 ms; neither should hold up the first request.
        ls.credentials_lookup = ls.run_task(asyncio.to_thread(ls.look_up_credentials), "looking up credentials")
        if ls.watcher is not None:
            ls.watcher.start()

    @server.feature(types.SHUTDOWN)
    async def on_shutdown(ls: SnippetServer, params: None) -> None:
        await ls.close()

    for feature in (commands, files, comments, watch, history, pull):
        feature.register(server)
    return server


def run_stdio() -> int:
    """``snippet-daemon`` / ``--stdio``: serve LSP on stdin/stdout until the client exits."""
    import gc

    level = logs.level_from_name(os.environ.get("SNIPPET_DAEMON_LOG"))
    server = create_server()
    logs.configure(level, server.redactor)
    logging.getLogger().addHandler(server.client_log)
    # Start-up objects live as long as the process: keep them out of every future collection.
    # (cmd_server disabled gc before importing, which saves a full collection during start-up.)
    gc.freeze()
    gc.enable()
    server.start_io()
    return 0
