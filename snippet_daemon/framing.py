"""LSP's base protocol on a byte stream, read defensively: every later message survives one bad frame.

A frame is header lines (``Content-Length: N`` is the one that matters; names are case-insensitive, as
rust-analyzer's lsp-server learned in its PR #15257), a blank line, then N bytes of JSON. Editors and
proxies get this wrong in a handful of ways; each one costs that frame at most, never the connection:

* a ``Content-Length`` that is missing, not a number, or above :data:`MAX_CONTENT_LENGTH` (refused
  without allocating it): the frame is bad, and the reader looks for the next header;
* a length too short (or counted in characters, not bytes): the body is not JSON (``-32700``), and what
  is left of it is skipped on the way to the next header, which may start mid-line;
* a length too long: the body holds the whole JSON value and the first bytes of the next frame, which are
  given back, so the next message is read as if nothing had happened.

The reader keeps at most :data:`MAX_HEADER_BYTES` of junk while it looks for a header, so a stream of
garbage costs neither memory nor time beyond reading it once. Bad frames are reported to the caller (to log
once and answer ``-32700``), never their bytes: a body may hold a secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

MAX_CONTENT_LENGTH = 512 * 1024 * 1024  # bytes: a bigger frame is refused unread (documented in docs/protocol.md)
MAX_HEADER_BYTES = 64 * 1024  # header lines longer than this are junk, whatever they say
_CHUNK = 1 << 20

_CONTENT_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*([^\r\n]*)", re.IGNORECASE)
_HEADER_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+[ \t]*:[^\r\n]*")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


def _last_match(pattern: re.Pattern[bytes], data: bytes) -> re.Match[bytes] | None:
    last = None
    for last in pattern.finditer(data):  # noqa: B007 - the loop keeps the last one
        pass
    return last


@dataclass(frozen=True)
class Message:
    """A frame whose body is one JSON value (not yet checked to be a JSON-RPC message)."""

    data: Any
    skipped: str | None = None  # bytes that were not a frame came before this one's header: why, not what


@dataclass(frozen=True)
class BadFrame:
    """Bytes that were not a frame, or a body that was not JSON; ``reason`` says which, without the bytes."""

    reason: str


Frame = Message | BadFrame


class FrameReader:
    """Frames from ``read(n)`` (an awaitable that gives up to ``n`` bytes, ``b""`` at the end)."""

    def __init__(self, read: Callable[[int], Awaitable[bytes]]) -> None:
        self._read = read
        self._buffer = bytearray()
        self._eof = False

    async def _fill(self) -> bool:
        """Read more into the buffer; False at the end of the stream."""
        if self._eof:
            return False
        chunk = await self._read(_CHUNK)
        if not chunk:
            self._eof = True
            return False
        self._buffer += chunk
        return True

    async def next(self) -> Frame | None:
        """The next frame, or ``None`` once the stream has ended (a half-read frame at the end is dropped)."""
        while True:
            header = await self._header()
            if header is None:
                return None
            length, junk = header
            if isinstance(length, BadFrame):
                return length
            while len(self._buffer) < length:
                if not await self._fill():
                    return None
            body = bytes(self._buffer[:length])
            del self._buffer[:length]
            frame = self._decode(body)
            if junk and isinstance(frame, Message):
                return Message(frame.data, f"{junk} bytes that were not a frame came before a header")
            return frame

    async def _header(self) -> tuple[int | BadFrame, int] | None:
        """``(content length or why the header is bad, bytes of junk skipped before it)``; None at the end."""
        while True:
            end = _BLANK_LINE.search(self._buffer)
            if end is None:
                if len(self._buffer) > MAX_HEADER_BYTES:
                    self._forget_junk()
                if not await self._fill():
                    return None
                continue
            block = bytes(self._buffer[: end.start()])
            del self._buffer[: end.end()]
            if not block.strip():
                continue  # blank lines between frames are harmless
            # The last Content-Length in the block is the one next to the blank line.
            found = _last_match(_CONTENT_LENGTH, block)
            if found is None:
                return BadFrame("a header without Content-Length"), 0
            junk = self._junk_before(block, found.start())
            value = found.group(1).strip()
            if not value.isdigit():
                return BadFrame("a Content-Length that is not a number of bytes"), junk
            length = int(value)
            if length > MAX_CONTENT_LENGTH:
                return BadFrame(f"a Content-Length above {MAX_CONTENT_LENGTH} bytes, refused unread"), junk
            return length, junk

    @staticmethod
    def _junk_before(block: bytes, start: int) -> int:
        """How much of ``block`` before the Content-Length header is not header lines."""
        before = block[:start]
        line_start = max(before.rfind(b"\n") + 1, 0)
        junk = start - line_start  # Content-Length starting mid-line: the rest of a too-short body before it
        for line in before[:line_start].splitlines():
            if line.strip() and not _HEADER_LINE.fullmatch(line.strip()):
                junk += len(line)
        return junk

    def _forget_junk(self) -> None:
        """No blank line within the header limit: keep only what could still start the next header."""
        tail = bytes(self._buffer[-MAX_HEADER_BYTES // 2 :])
        last = _last_match(_CONTENT_LENGTH, tail)
        keep = tail[last.start() :] if last is not None else tail[-32:]
        self._buffer[:] = keep

    def _decode(self, body: bytes) -> Frame:
        try:
            return Message(json.loads(body))
        except (ValueError, RecursionError):
            pass
        # A length too long swallows the start of the next frame: keep the first JSON value, give the rest back.
        try:
            text = body.decode("utf-8")
            stripped = text.lstrip()
            data, end = json.JSONDecoder().raw_decode(stripped)
        except (ValueError, RecursionError):
            return BadFrame(f"a body of {len(body)} bytes that is not JSON (a Content-Length too short?)")
        self._buffer[:0] = stripped[end:].encode("utf-8")
        return Message(data, f"a Content-Length {len(stripped) - end} bytes too long")


# --------------------------------------------------------------------------- the JSON-RPC envelope

REQUEST, NOTIFICATION, RESPONSE = "request", "notification", "response"


@dataclass(frozen=True)
class Envelope:
    """What a decoded message is, or why it is not a JSON-RPC 2.0 message (``problem``).

    ``id`` is the request id to answer with (``None`` when there is none, or it is unusable).
    """

    kind: str | None
    id: int | str | None = None
    method: str | None = None
    problem: str | None = None


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def check_envelope(data: Any) -> Envelope:
    """Classify ``data`` as a request, notification or response, or say what makes it invalid (-32600)."""
    if not isinstance(data, dict):
        what = "a batch (an array)" if isinstance(data, list) else f"a JSON {type(data).__name__}"
        return Envelope(None, problem=f"Expected a JSON-RPC message (an object), got {what}.")
    has_id = "id" in data and data["id"] is not None
    message_id = data["id"] if has_id and _valid_id(data["id"]) else None
    if has_id and message_id is None:
        return Envelope(None, problem="A request id must be a number or a string.")
    if data.get("jsonrpc") != "2.0":
        return Envelope(None, message_id, problem='Every message must carry "jsonrpc": "2.0".')
    if "method" in data:
        method = data["method"]
        if not isinstance(method, str) or not method:
            return Envelope(None, message_id, problem="method must be a non-empty string.")
        params = data.get("params")
        if params is not None and not isinstance(params, dict | list):
            return Envelope(None, message_id, method, problem=f"The params of {method} must be an object or an array.")
        return Envelope(REQUEST if has_id else NOTIFICATION, message_id, method)
    if has_id and ("result" in data or "error" in data):
        return Envelope(RESPONSE, message_id)
    if has_id:
        return Envelope(None, message_id, problem="A message with an id needs a method (or, as a response, a result).")
    return Envelope(None, problem="A message needs a method.")
