"""The multipart codec against the API docs' exact example bodies and an independent MIME parser."""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
import re
from pathlib import Path

import pytest

from snippet_daemon.bitbucket.multipart import (
    MultipartError,
    decode_multipart,
    decode_snippet_body,
    encode_related,
    parse_header_params,
)

BINARY = bytes(range(256)) + b"\x00\xff\r\n\r\x00"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _http_body(example: str) -> tuple[bytes, str]:
    """An HTTP request as the docs print it -> (body with CRLF line ends, Content-Type)."""
    head, _, body = example.partition("\n\n")
    content_type = next(line.split(": ", 1)[1] for line in head.splitlines() if line.startswith("Content-Type:"))
    return body.replace("\n", "\r\n").encode("utf-8"), content_type


def _doc_example(shared: Path, name: str, marker: str) -> tuple[bytes, str]:
    text = (shared / "seeds" / name).read_text()
    start = text.index(marker)
    end_marker = "--===============1438169132528273974==--"
    return _http_body(text[start : text.index(end_marker, start) + len(end_marker)])


def test_decodes_the_docs_update_example_with_title_and_one_file(shared_dir: Path) -> None:
    body, content_type = _doc_example(shared_dir, "api-snippet-update.txt", "PUT /2.0/snippets/evzijst/kypj HTTP/1.1")
    metadata, files = decode_snippet_body(body, content_type)
    assert metadata == {"title": "My updated snippet", "files": {"foo.txt": {}}}
    assert files == {"foo.txt": b"Updated file contents.\r\n"}


def test_decodes_the_docs_rename_example(shared_dir: Path) -> None:
    body, content_type = _doc_example(shared_dir, "api-snippet-update.txt", "Content-Length: 212")
    metadata, files = decode_snippet_body(body, content_type)
    assert metadata["files"] == {"foo.txt": {}, "bar.txt": {}}
    assert set(files) == {"bar.txt"}  # foo.txt listed without a part: deleted


def test_decodes_the_docs_create_example_with_7bit_and_base64_parts(shared_dir: Path) -> None:
    text = (shared_dir / "seeds" / "api-snippets-all-endpoints.txt").read_text()
    # This doc is flattened onto one line: rebuild the exact body from its pieces.
    boundary = "===============1438169132528273974=="
    png_lines = re.search(r"(iVBORw0KGgo[A-Za-z0-9+/= ]+?==)", text)
    assert png_lines
    body = (
        f'--{boundary}\r\nContent-Type: application/json; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
        'Content-ID: snippet\r\n\r\n{"title": "My snippet", "is_private": true, "scm": "git", '
        '"files": {"foo.txt": {}, "image.png": {}}}\r\n'
        f'--{boundary}\r\nContent-Type: text/plain; charset="us-ascii"\r\nMIME-Version: 1.0\r\n'
        'Content-Transfer-Encoding: 7bit\r\nContent-ID: "foo.txt"\r\n'
        'Content-Disposition: attachment; filename="foo.txt"\r\n\r\nfoo\r\n'
        f"--{boundary}\r\nContent-Type: image/png\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\n"
        'Content-ID: "image.png"\r\nContent-Disposition: attachment; filename="image.png"\r\n\r\n'
        + png_lines.group(1).replace(" ", "\r\n")
        + f"\r\n--{boundary}--\r\n"
    ).encode()
    metadata, files = decode_snippet_body(body, f'multipart/related; start="snippet"; boundary="{boundary}"')
    assert metadata["title"] == "My snippet"
    assert files["foo.txt"] == b"foo"
    assert files["image.png"].startswith(PNG_SIGNATURE)
    assert files["image.png"].endswith(b"IEND\xaeB`\x82")


def test_encoding_follows_the_docs_and_parses_with_the_stdlib_mime_parser() -> None:
    files = {"foo.txt": b"foo\n", "image.png": PNG_SIGNATURE + BINARY, "naïve name.txt": "é\n".encode()}
    body, content_type = encode_related({"title": "My snippet", "files": {n: {} for n in files}}, files)
    assert content_type.startswith('multipart/related; start="snippet"; boundary=')

    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    parts = list(message.iter_parts())  # type: ignore[attr-defined]
    assert parts[0]["Content-ID"] == "snippet"
    assert json.loads(parts[0].get_content()) == {"title": "My snippet", "files": {n: {} for n in files}}
    assert parts[1]["Content-ID"] == '"foo.txt"'
    assert parts[1].get_filename() == "foo.txt"
    assert parts[2]["Content-Transfer-Encoding"] == "base64"
    assert parts[2].get_payload(decode=True) == PNG_SIGNATURE + BINARY
    assert parts[3].get_filename() == "naïve name.txt"


def test_round_trip_is_byte_exact_for_binary_crlf_and_unicode_names() -> None:
    files = {"bin.dat": BINARY, "crlf.txt": b"a\r\nb\r\n", "no-newline.txt": b"x", "empty": b"", "日本.md": b"# hi\n"}
    body, content_type = encode_related({"files": {n: {} for n in files}}, files)
    _, decoded = decode_snippet_body(body, content_type)
    assert decoded == files


def test_decodes_8bit_binary_parts_unquoted_content_ids_and_disposition_precedence() -> None:
    boundary = "b0und"
    body = (
        b'preamble\r\n--b0und\r\nContent-Type: application/json\r\nContent-ID: <snippet>\r\n\r\n{"id": "kypj"}'
        b"\r\n--b0und\r\nContent-ID: raw.bin\r\nContent-Transfer-Encoding: binary\r\n\r\n" + BINARY + b"\r\n--b0und\r\n"
        b'Content-ID: "ignored.txt"\r\nContent-Disposition: attachment; filename="wins.txt"\r\n'
        b"Content-Transfer-Encoding: 8bit\r\n\r\ncaf\xc3\xa9\r\n--b0und--\r\nepilogue"
    )
    metadata, files = decode_snippet_body(body, f'multipart/related; boundary={boundary}; start="<snippet>"')
    assert metadata == {"id": "kypj"}
    assert files == {"raw.bin": BINARY, "wins.txt": "café".encode()}


def test_start_parameter_names_the_json_part_even_when_it_is_not_first() -> None:
    body = b'--x\r\nContent-ID: "a.txt"\r\n\r\nA\r\n--x\r\nContent-ID: meta\r\n\r\n{"title": "t"}\r\n--x--\r\n'
    metadata, files = decode_snippet_body(body, 'multipart/related; boundary=x; start="meta"')
    assert metadata == {"title": "t"}
    assert files == {"a.txt": b"A"}


def test_rfc2231_filenames_are_decoded() -> None:
    assert parse_header_params("attachment; filename*=utf-8''%E6%97%A5.txt; filename=\"x.txt\"") == (
        "attachment",
        {"filename": "日.txt"},
    )


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"--x\r\nContent-ID: a\r\n\r\nA", "multipart/related; boundary=x"),  # never closed
        (b"no delimiter at all", "multipart/related; boundary=x"),
        (b"--x--", "multipart/related"),  # no boundary parameter
        (b"--x\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!\r\n--x--", "multipart/related; boundary=x"),
    ],
)
def test_malformed_bodies_raise_a_clear_error(body: bytes, content_type: str) -> None:
    with pytest.raises(MultipartError):
        decode_multipart(body, content_type)


def test_base64_bodies_wrap_lines() -> None:
    body, _ = encode_related({}, {"big.bin": b"\x00" * 3000})
    encoded_lines = [line for line in body.split(b"\r\n") if line.startswith(b"AAAA")]
    assert encoded_lines and all(len(line) <= 76 for line in encoded_lines)
    assert base64.b64decode(b"".join(encoded_lines)) == b"\x00" * 3000


def test_encoding_the_docs_update_yields_the_docs_parts(shared_dir: Path) -> None:
    """Our body for "new title + foo.txt" carries the same parts, headers and JSON as the docs' example."""
    expected_body, expected_type = _doc_example(
        shared_dir, "api-snippet-update.txt", "PUT /2.0/snippets/evzijst/kypj HTTP/1.1"
    )
    expected = decode_multipart(expected_body, expected_type)
    body, content_type = encode_related(
        {"title": "My updated snippet", "files": {"foo.txt": {}}}, {"foo.txt": b"Updated file contents.\r\n"}
    )
    actual = decode_multipart(body, content_type)
    assert parse_header_params(content_type)[1]["start"] == parse_header_params(expected_type)[1]["start"]
    assert [p.content_id for p in actual] == [p.content_id for p in expected] == ["snippet", "foo.txt"]
    assert [p.filename for p in actual] == [p.filename for p in expected]
    assert [p.mime_type for p in actual] == ["application/json", "application/octet-stream"]  # CR: sent as base64
    assert json.loads(actual[0].content) == json.loads(expected[0].content)
    assert actual[1].content == expected[1].content
