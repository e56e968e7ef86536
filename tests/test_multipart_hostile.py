"""The multipart decoder against the bodies that once crashed it or made it slow, and its memory bound.

Each crash an independent tester found has its own test here; ``tests/test_multipart_fuzz.py`` covers the
rest. Time is measured by ``bench/bench_multipart.py`` (it prints figures); here memory is checked
structurally, as the peak of Python allocations while decoding against a multiple of the body's size.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import threading
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from snippet_daemon.bitbucket import client as client_module
from snippet_daemon.bitbucket.multipart import (
    MAX_PART_HEADER_BYTES,
    MAX_PARTS,
    MultipartError,
    content_id_header,
    decode_multipart,
    decode_snippet_body,
    encode_form_data,
    encode_related,
    parse_header_params,
)
from snippet_daemon.sandbox import Sandbox
from tests.conftest import make_client

RELATED = 'multipart/related; start="snippet"; boundary=x'
DECODERS: list[Callable[[bytes, str], Any]] = [decode_multipart, decode_snippet_body]


def snippet_body(*file_parts: bytes, metadata: bytes = b"{}") -> bytes:
    parts = [b"Content-ID: snippet\r\n\r\n" + metadata, *file_parts]
    return b"".join(b"--x\r\n" + part + b"\r\n" for part in parts) + b"--x--\r\n"


def peak_while(decode: Callable[[bytes, str], Any], body: bytes, content_type: str) -> int:
    """Peak bytes Python allocated while decoding (the body itself is not counted)."""
    tracemalloc.start()
    try:
        decode(body, content_type)
    except MultipartError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


# --------------------------------------------------------------------------- the crashes


def test_a_deeply_nested_json_start_part_is_a_multipart_error_not_a_recursion_error() -> None:
    body = snippet_body(metadata=b"[" * 50_000 + b"]" * 50_000)  # under the container limit
    with pytest.raises(MultipartError, match="nested too deeply"):
        decode_snippet_body(body, RELATED)


def test_metadata_of_a_million_empty_arrays_is_refused_before_json_builds_them() -> None:
    body = snippet_body(metadata=b'{"a": [' + b"[]," * 1_000_000 + b"[]]}")  # 3 MB; json.loads peaked at 23x
    with pytest.raises(MultipartError, match="JSON arrays and objects"):
        decode_snippet_body(body, RELATED)
    assert peak_while(decode_snippet_body, body, RELATED) < 1.5 * len(body)  # the part's one copy, and no more
    brackets_in_strings = b'{"title": "' + b"[{" * 100_000 + b'", "files": {"a.txt": {}}}'
    assert decode_snippet_body(snippet_body(metadata=brackets_in_strings), RELATED)[0]["files"] == {"a.txt": {}}


def test_a_json_integer_over_pythons_digit_limit_is_a_multipart_error() -> None:
    with pytest.raises(MultipartError, match="not JSON"):
        decode_snippet_body(snippet_body(metadata=b'{"title": ' + b"9" * 5_000 + b"}"), RELATED)


@pytest.mark.parametrize(
    "boundary_parameter",
    [
        "boundary*=utf-8''%E2%82%AC",  # decodes to a non-Latin-1 boundary (was UnicodeEncodeError)
        "boundary=\u20ac",
        'boundary="a\r\nb"',
        "boundary=" + "b" * 201,
    ],
)
@pytest.mark.parametrize("decode", DECODERS)
def test_a_boundary_that_is_no_boundary_is_a_multipart_error(
    decode: Callable[[bytes, str], Any], boundary_parameter: str
) -> None:
    with pytest.raises(MultipartError, match="boundary"):
        decode(snippet_body(), f"multipart/related; {boundary_parameter}")


@pytest.mark.parametrize("boundary_parameter", ["boundary*=utf-8''x", "boundary*=ut\x00f-8''x"])
def test_an_rfc2231_boundary_is_read_even_with_a_nul_in_its_charset(boundary_parameter: str) -> None:
    body = snippet_body(b'Content-ID: "a.txt"\r\n\r\nA')
    assert decode_snippet_body(body, f"multipart/related; {boundary_parameter}") == ({}, {"a.txt": b"A"})


@pytest.mark.parametrize(
    ("charset", "expected"),
    [
        ("ut\x00f-8", "\u00e6\u0097\u00a5.txt"),  # NUL in the charset (was ValueError): read as Latin-1
        ("idna", "\u00e6\u0097\u00a5.txt"),  # a codec but no MIME charset (was UnicodeError)
        ("undefined", "\u00e6\u0097\u00a5.txt"),
        ("punycode", "\u00e6\u0097\u00a5.txt"),  # quadratic to decode: never tried
        ("x-no-such-charset", "\u00e6\u0097\u00a5.txt"),
        ("zlib", "\u00e6\u0097\u00a5.txt"),  # a codec, but bytes to bytes: never run
        ("a" * 5_000, "\u00e6\u0097\u00a5.txt"),
        ("UTF-8", "\u65e5.txt"),
        ("iso-8859-1", "\u00e6\u0097\u00a5.txt"),
    ],
)
def test_rfc2231_filenames_in_any_charset_are_read_without_raising(charset: str, expected: str) -> None:
    header = f"Content-Disposition: attachment; filename*={charset}''%E6%97%A5.txt"
    _, files = decode_snippet_body(snippet_body(header.encode("utf-8") + b"\r\n\r\nA"), RELATED)
    assert files == {expected: b"A"}
    assert parse_header_params(header.split(": ", 1)[1])[1]["filename"] == expected


def test_folded_header_lines_are_joined_and_a_part_over_the_header_limit_is_refused() -> None:
    folded = b"Content-ID: first\r\n" + b" piece\r\n" * 5_000 + b"\r\nA"  # ~40 KB of headers: allowed
    _, files = decode_snippet_body(snippet_body(folded), RELATED)
    assert files == {"first" + " piece" * 5_000: b"A"}

    too_many = b"Content-ID: a\r\n" + b" continued-header-text\r\n" * 100_000 + b"\r\nA"  # 2.4 MB (took 3 s)
    for decode in DECODERS:
        with pytest.raises(MultipartError, match=f"exceed {MAX_PART_HEADER_BYTES}"):
            decode(snippet_body(too_many), RELATED)


def test_a_million_empty_parts_are_refused_past_the_part_limit_in_a_fraction_of_the_body_size() -> None:
    body = b"--x\r\n" * 1_000_000 + b"--x--\r\n"  # 5 MB; decoding all of it peaked at 160 MB
    for decode in DECODERS:
        with pytest.raises(MultipartError, match=f"at most {MAX_PARTS} parts"):
            decode(body, RELATED)
        assert peak_while(decode, body, RELATED) < len(body)


def test_many_header_fields_are_bounded_in_all() -> None:
    fields = b"".join(b"X-%d: v\r\n" % number for number in range(6_000)) + b"\r\nA"  # ~60 KB per part
    body = snippet_body(*[b'Content-ID: "f%d"\r\n' % number + fields for number in range(20)])
    with pytest.raises(MultipartError, match="header fields"):
        decode_multipart(body, RELATED)


# --------------------------------------------------------------------------- memory: a small multiple of the body


def _many_files() -> tuple[bytes, str]:
    files = {f"dir/{number}.txt": b"line\n" * 20 for number in range(5_000)}
    return encode_related({"files": {name: {} for name in files}}, files)


def _large_files() -> tuple[bytes, str]:
    return encode_related({}, {"big.txt": b"0123456789abcdef\n" * 300_000, "bin.dat": bytes(range(256)) * 8_000})


def _short_base64_lines() -> tuple[bytes, str]:
    # split() made an object per line of this: it peaked at 24x
    part = b'Content-ID: "b"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + b"QUFB\r\n" * 800_000
    return snippet_body(part), RELATED


def _folded_headers() -> tuple[bytes, str]:
    return snippet_body(*[b'Content-ID: "f%d"\r\n' % n + b" piece\r\n" * 7_000 + b"\r\nA" for n in range(12)]), RELATED


BIG_BODIES: dict[str, Callable[[], tuple[bytes, str]]] = {
    "5,000 small files": _many_files,
    "a 5 MB text file and a 2 MB binary": _large_files,
    "base64 wrapped every 4 characters": _short_base64_lines,
    "12 parts with 7,000 folded header lines each": _folded_headers,
}


@pytest.mark.parametrize("label", list(BIG_BODIES))
def test_decoding_peaks_at_a_small_multiple_of_the_body_size(label: str) -> None:
    body, content_type = BIG_BODIES[label]()
    for decode in DECODERS:
        peak = peak_while(decode, body, content_type)
        print(f"{label}: {decode.__name__} peaked at {peak / len(body):.1f}x the body's {len(body):,} bytes")
        assert peak < 5 * len(body), label


# --------------------------------------------------------------------------- what the encoders write


def test_no_header_the_encoders_write_carries_a_control_character() -> None:
    names = ["new\nline.txt", "cr\r.txt", "tab\t.txt", "nul\x00", "nel\x85", "\u2028sep", "plain.txt", "\u65e5.md"]
    files = {name: b"x" for name in names}
    for body, content_type in (encode_related({}, files), encode_form_data({}, files)):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        # An independent parser sees one part per file: no name ended a header early or made a header of its own.
        stdlib_parts = list(message.iter_parts())  # type: ignore[attr-defined]
        assert len([part for part in stdlib_parts if part.get_filename()]) == len(names)
        parts = decode_multipart(body, content_type)
        for part in parts:
            for value in part.headers.values():
                assert value.isprintable(), value
        assert {part.filename for part in parts} >= set(names)  # and the exact names survive
    assert content_id_header("new\nline.txt") == '"new%0Aline.txt"'
    assert content_id_header("\u65e5.md") == '"\u65e5.md"'  # printable names are kept as they are


# --------------------------------------------------------------------------- the client's event loop


async def test_big_answers_are_decoded_off_the_event_loop(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    real_decode = client_module.decode_snippet_body

    def recording_decode(body: bytes, content_type: str) -> Any:
        threads.append(threading.current_thread().name)
        return real_decode(body, content_type)

    monkeypatch.setattr(client_module, "decode_snippet_body", recording_decode)
    loop_thread = threading.current_thread().name
    big = b"x" * (client_module.DECODE_OFF_LOOP_BYTES + 1)
    async with make_client(sandbox) as client:
        small_snippet = await client.create_snippet("demo", {"small.txt": b"small\n"}, title="small")
        big_snippet = await client.create_snippet("demo", {"big.txt": big}, title="big")
        small_content, big_content = await asyncio.gather(
            client.get_snippet_content("demo", small_snippet.id), client.get_snippet_content("demo", big_snippet.id)
        )

    assert small_content.files == {"small.txt": b"small\n"} and big_content.files == {"big.txt": big}
    assert len(threads) == 2 and threads.count(loop_thread) == 1  # the small one on the loop, the big one not
