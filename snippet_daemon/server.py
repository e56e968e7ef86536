"""The language server: one :class:`SnippetServer` holds all state; features live in ``features/`` (bound to
the server by :mod:`~snippet_daemon.app`), the services they use beside it (:mod:`~snippet_daemon.documents`,
:mod:`~snippet_daemon.watcher`, :mod:`~snippet_daemon.index`), and the LSP channel in
:mod:`~snippet_daemon.transport`.

Data flows one way: a client request is structured into a :mod:`snippet_daemon.protocol` type,
a feature handler works through :class:`~snippet_daemon.documents.SnippetDocuments` (the cache
and every write to a snippet) or, to read, the Bitbucket client, and its result is unstructured back to camelCase
JSON. Every failure a user can act on leaves as a JSON-RPC error whose ``data.kind`` names it.

Start-up stays light: httpx, keyring and the Bitbucket client are imported on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO

from lsprotocol import types
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from snippet_daemon import __version__, framing, logs, protocol
from snippet_daemon.documents import SnippetDocuments
from snippet_daemon.index import IndexService
from snippet_daemon.messages import WORKSPACE_SCOPE_HINT, ClientWords, api_url_problem, not_signed_in, words_for
from snippet_daemon.protocol import ErrorKind, InitializationOptions, MethodKind, ProtocolError
from snippet_daemon.transport import SnippetProtocol, is_bug, to_rpc_error, transport_log
from snippet_daemon.watcher import Watcher

if TYPE_CHECKING:
    import httpx

    from snippet_daemon.bitbucket import Account, Credentials, RetryPolicy, SnippetsClient, Workspace
    from snippet_daemon.features.common import Handler

log = logging.getLogger("snippet_daemon.server")

SHUTDOWN_GRACE_SECONDS = 5.0  # saves still on their way get this long to land when the editor shuts down


class SnippetServer(LanguageServer):
    """The daemon: settings, credentials, the Bitbucket client, the snippet cache and the watcher."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__("snippet-daemon", __version__, protocol_cls=SnippetProtocol)
        self.env = dict(os.environ if env is None else env)
        self.options = InitializationOptions()
        self.api_url = self.env.get("BITBUCKET_API_URL") or "https://api.bitbucket.org/2.0"
        self.words: ClientWords = words_for(None)  # how this client's user signs in, sets the API address...
        self.api_url_problem: str | None = None  # why api_url cannot be used, said by every request that needs it
        self.redactor = logs.SecretRedactor()
        self.client_log = logs.ClientLogHandler(self._send_log, self.redactor)
        self.documents = SnippetDocuments(self)
        self.search_index = IndexService(self)
        self.watcher = Watcher(self, on_list=self.search_index.offer_page)  # the index reuses the poller's pages
        self._credentials: Credentials | None = None
        self._credentials_loaded = False
        self._credentials_error: Exception | None = None
        self._client: SnippetsClient | None = None
        self._background_client: SnippetsClient | None = None
        # What the client sends through (None: httpx's own); the MCP face meters its requests here.
        self.http_transport: httpx.AsyncBaseTransport | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._finishing: set[asyncio.Task[Any]] = set()  # tasks shutdown lets finish (saves)
        self._closed = False
        self.exit_code = 0  # the process's, once serving ends (see _start_io_async)
        self.last_activity = time.monotonic()  # the last request from the client (polling slows when idle)
        self.credentials_lookup: asyncio.Task[Any] | None = None  # started once the client has initialized
        self.personal_workspace: str | None = None  # the account's, from GET /user (the default when none is set)
        # GET /user/workspaces once a session: what it listed, and a hint when it could not list them
        self.visible_workspaces: tuple[list[Workspace], str | None] | None = None

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
        if options.indexing is None:
            options.indexing = self.env.get("SNIPPET_DAEMON_INDEXING", "").strip().lower() not in ("0", "false", "off")
        self.options = options
        self.words = words_for(options.client_name)
        self.api_url = (options.api_url or "https://api.bitbucket.org/2.0").rstrip("/")
        self.api_url_problem = api_url_problem(self.api_url, self.words.api_url_setting)
        if self.api_url_problem:
            self.show_message(self.api_url_problem, types.MessageType.Error)
        logs.set_level(logs.level_from_name(options.log_level))

    # ------------------------------------------------------------------ credentials and the client

    @property
    def credentials(self) -> Credentials | None:
        """The credentials, looked up once (environment, then keyring); a keyring failure is remembered too
        (raised again, as ``credentialStore``) until something changes: a login, a logout, a health check that
        finds the keyring working again. The daemon reads the keyring only in a thread (``credentials_ready``)."""
        if not self._credentials_loaded:
            from snippet_daemon.bitbucket import KeyringStore, resolve_credentials

            try:
                self._credentials = resolve_credentials(self.api_url, self.env, KeyringStore())
                self._credentials_error = None
            except Exception as error:
                self._credentials, self._credentials_error = None, error
            self._credentials_loaded = True
            if self._credentials is not None:
                self.redactor.add(self._credentials.secret)
                log.info("credentials from the %s", self._credentials.source)
        if self._credentials_error is not None:
            raise self._credentials_error
        return self._credentials

    @property
    def credentials_failed(self) -> bool:
        """Whether the last lookup failed (the keyring refused); a new lookup may succeed."""
        return self._credentials_loaded and self._credentials_error is not None

    def forget_credentials(self) -> None:
        """Look the credentials up again (in a thread) on next use: something changed."""
        self._credentials_loaded, self._credentials_error = False, None
        self.start_credentials_lookup()

    def look_up_credentials(self) -> None:
        """Resolve the credentials ahead of the first request; a failure waits to be reported by it."""
        from snippet_daemon.bitbucket import BitbucketError

        try:
            _ = self.credentials
        except BitbucketError as error:
            log.info("credentials: %s", error)
        except Exception as error:  # remembered, and answered as credentialStore by every request that needs them
            log.info("credentials: %s: %s", type(error).__name__, error)

    def start_credentials_lookup(self) -> None:
        """Look the credentials up in a thread: a locked keyring may prompt, and importing it takes ~100 ms;
        neither may hold up the event loop. Requests wait for it (see ``_answer``)."""
        self.credentials_lookup = self.run_task(asyncio.to_thread(self.look_up_credentials), "looking up credentials")

    def client(self) -> SnippetsClient:
        """The Bitbucket client; ``notAuthenticated`` when there are no credentials."""
        if self._client is None:
            self.check_api_url()
            credentials = self.credentials
            if credentials is None:
                raise ProtocolError(ErrorKind.NOT_AUTHENTICATED, not_signed_in(self.words))
            from snippet_daemon.bitbucket import SnippetsClient

            self._client = SnippetsClient(
                credentials,
                self.api_url,
                retry=self.retry_policy(),
                transport=self.http_transport,
                sign_in=self.words.sign_in,
            )
        return self._client

    def check_api_url(self) -> None:
        """``invalidArgument`` saying what was expected when the API address set cannot be one (before a request
        goes to it, which would fail with a transport's name or a web page)."""
        if self.api_url_problem:
            raise ProtocolError(ErrorKind.INVALID_ARGUMENT, self.api_url_problem)

    def background_client(self) -> SnippetsClient:
        """The client of background work (polling, indexing), on a connection of its own: it never waits out a
        429 (:meth:`RetryPolicy.background`), so a job backs off by itself and a user's request never queues
        behind it. Same account as :meth:`client`; ``notAuthenticated`` when there are no credentials."""
        if self._background_client is None:
            from snippet_daemon.bitbucket import RetryPolicy, SnippetsClient

            main = self.client()
            self._background_client = SnippetsClient(
                main.credentials, main.api_url, retry=RetryPolicy.background(), sign_in=main.sign_in
            )
        return self._background_client

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
        old_background, self._background_client = self._background_client, None
        self._credentials, self._credentials_loaded = credentials, credentials is not None
        self._credentials_error = None
        self.documents.clear()
        self.visible_workspaces = None
        self.personal_workspace = None
        self.watcher.reset()
        await self.search_index.reset()  # the new account has an index file of its own
        if credentials is None:
            self.start_credentials_lookup()
        for client in (old, old_background):
            if client is not None:
                # Reads and saves on their way finish with it (they answer for the old account and cache nothing).
                self.run_task(self._close_when_done(client), "closing the previous account's connection")
        self.search_index.start()

    async def _close_when_done(self, old: SnippetsClient) -> None:
        try:
            if self._finishing:
                await asyncio.wait(list(self._finishing), timeout=SHUTDOWN_GRACE_SECONDS)
            await asyncio.sleep(SHUTDOWN_GRACE_SECONDS)  # a read on its way (not tracked) ends meanwhile
        finally:
            await old.aclose()

    async def default_workspace(self, given: str | None) -> str:
        """The workspace named, else the configured one, else the user's personal workspace."""
        if given:
            return given
        workspace = await self.default_workspace_or_none()
        if workspace is None:
            raise ProtocolError(
                ErrorKind.INVALID_ARGUMENT,
                "Which workspace? Pass workspace, or set the workspace option (or BITBUCKET_WORKSPACE).",
            )
        return workspace

    async def list_visible_workspaces(self) -> tuple[list[Workspace], str | None]:
        """The workspaces the user can see (``GET /user/workspaces``, once a session), and a hint when the
        credentials may not list them (no read:workspace scope, or a Bitbucket without the endpoint)."""
        from snippet_daemon.bitbucket import Forbidden, NotFound

        if self.visible_workspaces is None:
            try:
                self.visible_workspaces = (await self.client().list_user_workspaces(), None)
            except (Forbidden, NotFound) as error:
                log.info("listing workspaces: %s", error)
                self.visible_workspaces = ([], WORKSPACE_SCOPE_HINT)
        return self.visible_workspaces

    async def visible_workspace_slugs(self) -> list[str]:
        return [workspace.slug for workspace in (await self.list_visible_workspaces())[0]]

    async def credentials_ready(self) -> None:
        """Wait for the credentials lookup, which runs in a thread (started here if nothing started it yet): after
        this, ``credentials`` answers from memory, never from the keyring on the event loop."""
        if not self._credentials_loaded and (self.credentials_lookup is None or self.credentials_lookup.done()):
            self.start_credentials_lookup()
        if self.credentials_lookup is not None and not self.credentials_lookup.done():
            await asyncio.wait([self.credentials_lookup])

    async def default_workspace_or_none(self) -> str | None:
        """The configured workspace, else the personal one (one ``GET /user``), else ``None`` (the token may
        not read the account)."""
        if self.options.workspace or self.personal_workspace:
            return self.options.workspace or self.personal_workspace
        return self.workspace_for(await self.client().current_user_if_readable())

    def workspace_for(self, account: Account | None) -> str | None:
        """The default workspace given the account just read: the configured one, else the account's
        personal workspace (remembered until the account changes)."""
        if account is not None and account.nickname:
            self.personal_workspace = account.nickname
        return self.options.workspace or self.personal_workspace

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

    async def ask(self, message: str, actions: list[str]) -> str | None:
        """``window/showMessageRequest``: the action the user chose, or None (dismissed, or not supported)."""
        try:
            chosen = await self.window_show_message_request_async(
                types.ShowMessageRequestParams(
                    type=types.MessageType.Warning,
                    message=self.redactor.redact(message),
                    actions=[types.MessageActionItem(title=action) for action in actions],
                )
            )
        except Exception as error:  # a client without it, or one that went away
            log.info("the client did not answer a question: %s", error)
            return None
        return chosen.title if chosen is not None else None

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

    def run_task(
        self, coroutine: Coroutine[Any, Any, Any] | Awaitable[Any], name: str, *, finish_on_shutdown: bool = False
    ) -> asyncio.Task[Any]:
        """A background task that is kept alive, named, and whose failure is logged, not lost.

        ``finish_on_shutdown``: shutdown waits for it (briefly) instead of cancelling it, as for a save.
        """
        task = asyncio.ensure_future(coroutine)
        task.set_name(name)
        self._tasks.add(task)
        if finish_on_shutdown:
            self._finishing.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self._tasks.discard(finished)
            self._finishing.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                log.error("%s failed", name, exc_info=finished.exception())

        task.add_done_callback(done)
        return task

    async def close(self) -> None:
        """Shut down: polling and indexing stop, saves on their way get a few seconds to land, then every
        task is cancelled and awaited and every connection closed. Once: later calls return at once."""
        if self._closed:
            return
        self._closed = True
        await self.watcher.aclose()
        await self.search_index.aclose()
        if self._finishing:
            await asyncio.wait(list(self._finishing), timeout=SHUTDOWN_GRACE_SECONDS)
        tasks = list(self._tasks)
        for task in tasks:
            if not task.done():
                log.info("shutting down: %s is cancelled", task.get_name())
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for client in (self._client, self._background_client):
            if client is not None:
                await client.aclose()
        self._client = self._background_client = None

    # ------------------------------------------------------------------ the stdio transport

    def _start_io_async(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """pygls's, but frames are read by :mod:`snippet_daemon.framing`, which survives bad ones, and the end of
        the input or a SIGTERM gets the grace a ``shutdown`` gets. The process's exit code is :attr:`exit_code`:
        0 after ``shutdown`` + ``exit`` (or SIGTERM), 1 after ``exit`` or the end of the input without ``shutdown``
        (as LSP says)."""
        self._stop_event = threading.Event()
        stream = stdin or sys.stdin.buffer
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(self._serve(stream))
        except BrokenPipeError:
            transport_log.error("the connection to the client is lost; shutting down")
        except SystemExit as exiting:  # the exit notification: pygls's code says whether shutdown came first
            self.exit_code = exiting.code if isinstance(exiting.code, int) else 1
        except KeyboardInterrupt:
            pass
        finally:
            self.shutdown()  # type: ignore[no-untyped-call]

    async def _serve(self, stream: BinaryIO) -> None:
        import signal

        loop = asyncio.get_running_loop()
        terminated: asyncio.Future[Any] = loop.create_future()

        def on_sigterm() -> None:
            if not terminated.done():
                terminated.set_result(None)

        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not in the main thread
            loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        reader = framing.FrameReader(_reader(stream, loop, self.thread_pool))
        transport = self.protocol
        assert isinstance(transport, SnippetProtocol) and self._stop_event is not None
        while not self._stop_event.is_set():
            next_frame: asyncio.Future[Any] = asyncio.ensure_future(reader.next())
            await asyncio.wait([next_frame, terminated], return_when=asyncio.FIRST_COMPLETED)
            if terminated.done():
                next_frame.cancel()
                log.info("SIGTERM: stopping as if the client had asked to shut down")
                self.exit_code = 0
                break
            frame = next_frame.result()
            if frame is None:
                shut_down = bool(getattr(transport, "_shutdown", False))
                log.info("the client closed its end%s; stopping", "" if shut_down else " without shutdown")
                self.exit_code = 0 if shut_down else 1
                break
            transport.receive(frame)
        await self.close()  # the grace a shutdown gets: saves on their way land or are answered as not saved
        # Let the answers of the requests that just finished reach the client.
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        if others:
            await asyncio.wait(others, timeout=1.0)

    # ------------------------------------------------------------------ registering handlers

    def register_methods(self, handlers: Mapping[str, Handler]) -> None:
        """Bind every command and request of :data:`protocol.METHODS` to its handler: all of them, nothing else.

        The commands registered here are what ``executeCommandProvider`` lists.
        """
        unbound = dict(handlers)
        for method in protocol.METHODS:
            if method.kind is MethodKind.NOTIFICATION:
                continue
            handler = unbound.pop(method.name, None)
            if handler is None:
                raise LookupError(f"no feature handles {method.name}")
            if method.kind is MethodKind.COMMAND:
                self._register_command(method, handler)
            else:
                self._register_request(method, handler)
        if unbound:
            raise LookupError(f"handlers for methods that protocol.METHODS does not have: {', '.join(sorted(unbound))}")

    def _register_command(self, method: protocol.Method, handler: Handler) -> None:
        async def run(ls: SnippetServer, *arguments: Any) -> Any:
            if len(arguments) > 1:
                raise to_rpc_error(
                    ProtocolError(ErrorKind.INVALID_ARGUMENT, f"{method.name} takes one object argument.")
                )
            return await ls._answer(method, arguments[0] if arguments else None, handler)

        self.command(method.name)(run)

    def _register_request(self, method: protocol.Method, handler: Handler) -> None:
        async def run(ls: SnippetServer, params: Any) -> Any:
            return await ls._answer(method, params, handler)

        self.feature(method.name)(run)

    def touch(self) -> None:
        """The client asked for something: polling goes back to full speed."""
        self.last_activity = time.monotonic()

    async def _answer(self, method: protocol.Method, raw: Any, handler: Handler) -> Any:
        self.touch()
        await self.credentials_ready()  # reading the keyring here too would block the event loop
        try:
            params = protocol.structure(raw, method.params, what=method.name)
            result = await handler(self, params)
            if method.result is not None and not isinstance(result, method.result):
                raise TypeError(f"{method.name} answered {type(result).__name__}, not {method.result.__name__}")
            return protocol.unstructure(result)
        except Exception as error:
            rpc_error = to_rpc_error(error, action=method.name)
            if is_bug(error):
                # One line for the user; the traceback for whoever debugs it (stderr, debug level).
                log.error("%s failed: %s: %s (see the log)", method.name, type(error).__name__, error)
                log.debug("%s failed", method.name, exc_info=error)
            else:
                log.info("%s: %s: %s", method.name, (rpc_error.data or {}).get("kind"), rpc_error.message)
            raise rpc_error from None


def _reader(stream: BinaryIO, loop: asyncio.AbstractEventLoop, pool: Any) -> Callable[[int], Awaitable[bytes]]:
    """``read(n)`` of the client's stream, off the event loop. A real file descriptor is read by one daemon thread
    with ``os.read`` (no lock of the buffered stream held), so a daemon stopping on SIGTERM while the client keeps
    its end open never waits for that read; anything else (tests' streams) in the pool."""
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, ValueError):
        read_some: Callable[[int], bytes] = getattr(stream, "read1", stream.read)  # what has arrived, up to n bytes

        def in_pool(size: int) -> Awaitable[bytes]:
            return loop.run_in_executor(pool, read_some, size)

        return in_pool
    import queue

    wanted: queue.SimpleQueue[tuple[int, asyncio.Future[bytes]]] = queue.SimpleQueue()

    def answer(future: asyncio.Future[bytes], data: bytes | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(data or b"")

    def work() -> None:
        while True:
            size, future = wanted.get()
            try:
                data, error = os.read(descriptor, size), None
            except OSError as failure:
                data, error = None, failure
            try:
                loop.call_soon_threadsafe(answer, future, data, error)
            except RuntimeError:  # the loop is closed: nobody waits any more
                return

    threading.Thread(target=work, name="snippet-daemon stdin", daemon=True).start()

    def read(size: int) -> asyncio.Future[bytes]:
        future: asyncio.Future[bytes] = loop.create_future()
        wanted.put((size, future))
        return future

    return read
