"""The LSP channel: frames in (read defensively by :mod:`snippet_daemon.framing`), messages out, and every
failure turned into a JSON-RPC error a client can act on.

:class:`SnippetProtocol` is pygls's protocol, hardened where an editor's bug would otherwise cost the user a
hang or a traceback. :func:`to_rpc_error` is the one place that turns an exception into the error a client
sees (``data.kind`` always; typed ``data`` for the kinds that carry more; never a traceback).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import sys
import threading
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInternalError
from pygls.protocol import LanguageServerProtocol, lsp_method

from snippet_daemon import __version__, framing, protocol
from snippet_daemon.protocol import ErrorKind, ProtocolError

if TYPE_CHECKING:
    from snippet_daemon.bitbucket import BitbucketError

# Records about the LSP channel itself: never forwarded to the client over that channel.
transport_log = logging.getLogger("pygls.snippet_daemon.transport")


class SnippetProtocol(LanguageServerProtocol):
    """pygls's protocol, hardened where an editor's bug would otherwise cost the user a hang or a traceback:

    * every frame is answered (:meth:`receive`): a body that is not JSON gets -32700, an invalid message
      -32600, params that do not fit their method -32602, each with its id when it has a usable one;
    * every error sent carries ``data.kind`` and never a traceback (:meth:`_send_response`);
    * our custom requests' params stay plain JSON (pygls would make namedtuples of them).
    """

    _closed = False  # the client's end of stdout is gone
    _resyncing = False  # a bad frame was reported; the junk after it is not reported again

    def receive(self, frame: framing.Frame) -> None:
        """One frame from the client, dispatched, or answered with why it cannot be."""
        if isinstance(frame, framing.BadFrame):
            self._report_bad_frame(frame.reason)
            self._send_error(None, -32700, f"Unreadable message ({frame.reason}); it was skipped. {_WIRE_HELP}")
            return
        if frame.skipped:
            self._report_bad_frame(frame.skipped)
        self._resyncing = False
        envelope = framing.check_envelope(frame.data)
        if envelope.problem is not None:
            self._send_error(envelope.id, -32600, f"Invalid request: {envelope.problem} {_WIRE_HELP}")
            return
        if self._shutdown and envelope.kind == framing.REQUEST and envelope.method != types.EXIT:
            self._send_error(envelope.id, -32600, "The server is shutting down and takes no more requests.")
            return
        try:
            message = self.structure_message(frame.data)
        except JsonRpcException as error:
            reasons = "; ".join(protocol.describe_errors(error.__cause__)) if error.__cause__ else ""
            text = f"The params of {envelope.method} do not fit it" + (f": {reasons}." if reasons else ".")
            if envelope.kind == framing.REQUEST:
                self._send_error(envelope.id, -32602, f"{text} See docs/protocol.md or the LSP specification.")
            else:
                transport_log.warning("%s (a notification: not answered)", text)
            return
        self.handle_message(message)
        if envelope.method == types.SHUTDOWN:
            # Shut down from the moment it is asked (pygls says so only once its handler has finished): an
            # ``exit`` right behind it is an exit after shutdown (code 0), and later requests are refused.
            self._shutdown = True

    def _report_bad_frame(self, reason: str) -> None:
        if not self._resyncing:  # once per run of bad bytes, and never the bytes themselves
            transport_log.warning("skipped a bad frame from the client: %s", reason)
        self._resyncing = True

    def _send_error(self, msg_id: int | str | None, code: int, message: str) -> None:
        self._send_response(msg_id, error=types.ResponseError(code=code, message=message))

    def _send_response(self, msg_id: Any, result: Any = None, error: Any = None) -> None:
        """Every error leaves with ``data.kind`` and a message that says what to do, and no traceback."""
        if error is not None:
            error = _public_error(error)
        super()._send_response(msg_id, result, error)

    def get_message_type(self, method: str) -> type[Any] | None:  # type: ignore[override]
        if method in protocol.REQUESTS:
            return _RawRequest
        return super().get_message_type(method)

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(self, params: types.ExecuteCommandParams) -> Generator[Any, Any, Any]:
        """pygls's, but an unknown command is ``invalidArgument`` naming the known ones (not a bare -32602)."""
        if params.command not in self.fm.commands:
            known = ", ".join(protocol.COMMANDS)
            raise to_rpc_error(
                ProtocolError(
                    ErrorKind.INVALID_ARGUMENT,
                    f"Unknown command {params.command!r}. snippet-daemon {__version__} knows: {known}.",
                )
            )
        return (yield from super().lsp_workspace__execute_command(params))

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
            transport_log.error("Unable to send data, no available transport!")
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
            transport_log.info("the client has gone (%s); no more messages are sent", type(error).__name__)
        except Exception as error:
            transport_log.exception("Error sending data")
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


_WIRE_HELP = "Later messages are still read; check the client's framing (Content-Length in bytes) and JSON."
_CLIENT_ERRORS = (-32700, -32600, -32601, -32602)  # the client sent something wrong: invalidArgument


def _public_error(error: types.ResponseError) -> types.ResponseError:
    """``error`` with ``data.kind`` (invalidArgument for the client's mistakes, else server), no traceback,
    and a message that says what to do."""
    data = dict(error.data) if isinstance(error.data, dict) else {}
    data.pop("traceback", None)
    message = error.message
    if "kind" not in data:
        data["kind"] = ErrorKind.INVALID_ARGUMENT if error.code in _CLIENT_ERRORS else ErrorKind.SERVER
        if error.code == -32601:
            message = f"{message}. snippet-daemon does not know this method; docs/protocol.md lists those it has."
        elif error.code == -32603 or data["kind"] == ErrorKind.SERVER:
            message = f"snippet-daemon failed ({message.splitlines()[0] if message else 'no detail'}); see its log."
    return types.ResponseError(code=error.code, message=message, data=data)


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


def _bitbucket_error_data(error: Exception) -> protocol.ErrorData | None:
    """What a Bitbucket failure has to say beyond its message, as the contract's data types."""
    from snippet_daemon.bitbucket import Conflict, Forbidden, InvalidRequest

    if isinstance(error, Conflict) and error.remote_revision:
        return protocol.ConflictData(remote_revision=error.remote_revision)
    if isinstance(error, Forbidden) and error.missing_scopes:
        return protocol.ForbiddenData(missing_scopes=list(error.missing_scopes))
    if isinstance(error, InvalidRequest) and error.fields:
        return protocol.InvalidArgumentData(fields=error.fields)
    return None


def _bitbucket_error(error: BaseException) -> BitbucketError | None:
    # Only a daemon that talked to Bitbucket can hold a Bitbucket error (and importing the client costs ~100 ms).
    if "snippet_daemon.bitbucket" not in sys.modules:
        return None
    from snippet_daemon.bitbucket import BitbucketError

    return error if isinstance(error, BitbucketError) else None


def is_bug(error: BaseException) -> bool:
    """Neither a failure the user can act on nor a JSON-RPC error: the daemon's own fault."""
    return not isinstance(error, ProtocolError | JsonRpcException) and _bitbucket_error(error) is None


def to_rpc_error(error: BaseException, *, action: str | None = None) -> JsonRpcException:
    """Any failure as a JSON-RPC error with ``data.kind``: the kind a user can act on, else ``server`` (a bug
    in ``action``, whose message names it and points at the log)."""
    if isinstance(error, JsonRpcException):
        return error
    if isinstance(error, ProtocolError):
        return JsonRpcException(code=protocol.ERROR_CODES[error.kind], message=error.message, data=error.to_json())
    failure = _bitbucket_error(error)
    if failure is not None:
        described = ProtocolError(failure.kind, failure.message, _bitbucket_error_data(failure))
        return JsonRpcException(
            code=protocol.ERROR_CODES[failure.kind], message=failure.message, data=described.to_json()
        )
    doing = f"{action} failed: " if action else ""
    return JsonRpcException(
        code=-32603,
        message=f"{doing}snippet-daemon hit a bug ({type(error).__name__}: {error}). See the daemon's log for details.",
        data={"kind": ErrorKind.SERVER},
    )
