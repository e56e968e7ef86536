"""The frame reader on its own: what comes out of a byte stream however it is cut, and what it costs."""

from __future__ import annotations

import json

import pytest

from snippet_daemon.framing import (
    MAX_HEADER_BYTES,
    REQUEST,
    RESPONSE,
    BadFrame,
    FrameReader,
    Message,
    check_envelope,
)


def frame(message: object, *, length: int | None = None, name: bytes = b"Content-Length") -> bytes:
    body = json.dumps(message).encode()
    return name + b": " + str(len(body) if length is None else length).encode() + b"\r\n\r\n" + body


class Stream:
    """Bytes handed out in pieces of ``piece`` bytes, counting reads and the reader's largest buffer."""

    def __init__(self, data: bytes, piece: int = 7) -> None:
        self.data, self.piece, self.reads = data, piece, 0
        self.reader = FrameReader(self.read)
        self.largest_buffer = 0

    async def read(self, size: int) -> bytes:
        self.reads += 1
        self.largest_buffer = max(self.largest_buffer, len(self.reader._buffer))
        chunk, self.data = self.data[: min(size, self.piece)], self.data[min(size, self.piece) :]
        return chunk

    async def frames(self) -> list[Message | BadFrame]:
        found = []
        while (frame := await self.reader.next()) is not None:
            found.append(frame)
        return found


A, B = {"jsonrpc": "2.0", "id": 1, "method": "a"}, {"jsonrpc": "2.0", "id": 2, "method": "b"}


@pytest.mark.parametrize("piece", [1, 7, 1 << 20])
async def test_frames_come_out_whole_however_the_stream_is_cut(piece: int) -> None:
    data = frame(A) + b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n" + frame(B)
    assert [f.data for f in await Stream(data, piece).frames() if isinstance(f, Message)] == [A, B]


async def test_each_bad_frame_costs_only_itself() -> None:
    too_short = frame(A, length=len(json.dumps(A)) - 10)
    too_long = frame(A, length=len(json.dumps(A)) + 10)
    data = too_short + frame(B) + too_long + frame(B) + frame(A, length=10**12) + frame(B) + b"junk\r\n\r\n" + frame(B)
    frames = await Stream(data).frames()
    assert [type(f).__name__ for f in frames] == [
        "BadFrame",  # the short body is not JSON
        "Message",  # B, after the short body's tail (skipped: reported on B)
        "Message",  # A, from the long frame, whose extra bytes were handed back
        "Message",  # B
        "BadFrame",  # a length over the cap
        "Message",  # B, after the refused body
        "BadFrame",  # junk with no Content-Length
        "Message",  # B
    ]
    messages = [f for f in frames if isinstance(f, Message)]
    assert [m.data for m in messages] == [B, A, B, B, B]
    assert messages[0].skipped and messages[1].skipped and not messages[2].skipped


async def test_a_stream_of_garbage_is_read_once_in_bounded_memory() -> None:
    garbage = bytes(range(256)).replace(b"\n", b"") * 40_000  # 10 MB with no line break at all
    stream = Stream(garbage + b"\r\n\r\n" + frame(B), piece=1 << 16)
    frames = await stream.frames()
    assert [f.data for f in frames if isinstance(f, Message)] == [B]
    assert stream.largest_buffer <= MAX_HEADER_BYTES + (1 << 16)
    assert stream.reads <= len(garbage) // (1 << 16) + 4


def test_envelopes_say_what_is_wrong() -> None:
    assert check_envelope(A).kind == REQUEST
    assert check_envelope({"jsonrpc": "2.0", "id": 3, "result": None}).kind == RESPONSE
    assert check_envelope({"jsonrpc": "1.0", "id": 3, "method": "x"}).id == 3
    assert check_envelope({"jsonrpc": "2.0", "id": True, "method": "x"}).problem
    assert check_envelope({"jsonrpc": "2.0", "id": 4}).problem and check_envelope({"jsonrpc": "2.0", "id": 4}).id == 4
    assert check_envelope([A]).problem and check_envelope("x").problem
