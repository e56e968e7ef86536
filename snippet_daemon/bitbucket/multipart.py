"""MIME multipart bodies as Bitbucket's snippets API speaks them.

Bitbucket reads and writes a whole snippet (its JSON metadata and every file) in one
``multipart/related`` body (RFC 2387) whose ``start`` part is the JSON; it also accepts
``multipart/form-data``. This module encodes the former and decodes both, byte-exact:

* A file part is named by ``Content-Disposition: attachment; filename=...`` when present
  (RFC 2231 ``filename*`` first), else by its ``Content-ID`` (quoted or not, with or
  without angle brackets); a form-data part also has a ``name``.
* ``Content-Transfer-Encoding`` may be ``base64``, ``quoted-printable``, ``7bit``,
  ``8bit`` or ``binary``; the decoded bytes are returned.
* Delimiters are ``CRLF--boundary``; bare ``LF--boundary`` is tolerated because
  hand-written bodies (and the API docs' own examples) use it.

Nothing here knows HTTP or Bitbucket's URLs: the sandbox server and the client share it.
"""

from __future__ import annotations

import base64
import binascii
import json
import quopri
import secrets
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MultipartError",
    "Part",
    "content_disposition",
    "decode_multipart",
    "decode_snippet_body",
    "encode_form_data",
    "encode_related",
    "is_text",
    "parse_header_params",
    "quote_header_value",
]


class MultipartError(ValueError):
    """A body that is not valid multipart (no boundary, no closing delimiter, bad encoding)."""


@dataclass
class Part:
    """One decoded body part: lower-cased header names, and the decoded content."""

    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def content_id(self) -> str | None:
        raw = self.header("content-id")
        if raw is None:
            return None
        value = raw.strip()
        if len(value) >= 2 and value[0] == "<" and value[-1] == ">":
            value = value[1:-1]
        return _unquote(value)

    @property
    def disposition(self) -> tuple[str, dict[str, str]]:
        return parse_header_params(self.header("content-disposition") or "")

    @property
    def form_name(self) -> str | None:
        """The ``name`` of a ``multipart/form-data`` field."""
        return self.disposition[1].get("name")

    @property
    def filename(self) -> str | None:
        """The file name this part carries: the Content-Disposition filename wins over Content-ID."""
        params = self.disposition[1]
        if "filename" in params:
            return params["filename"]
        return self.content_id

    @property
    def mime_type(self) -> str:
        return parse_header_params(self.header("content-type") or "text/plain")[0]


# --------------------------------------------------------------------------- headers


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        inner = value[1:-1]
        out, escaped = [], False
        for char in inner:
            if escaped:
                out.append(char)
                escaped = False
            elif char == "\\":
                escaped = True
            else:
                out.append(char)
        return "".join(out)
    return value


def _split_params(value: str) -> list[str]:
    """Split on ``;`` outside double quotes."""
    items, current, quoted, escaped = [], [], False, False
    for char in value:
        if escaped:
            current.append(char)
            escaped = False
            continue
        if char == "\\" and quoted:
            current.append(char)
            escaped = True
            continue
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return items


def parse_header_params(value: str) -> tuple[str, dict[str, str]]:
    """``'attachment; filename="a b.txt"'`` -> ``('attachment', {'filename': 'a b.txt'})``.

    Parameter names are lower-cased; RFC 2231 ``name*=utf-8''...`` values are decoded and
    win over the plain ``name`` parameter.
    """
    pieces = _split_params(value)
    main = pieces[0].strip().lower()
    params: dict[str, str] = {}
    extended: dict[str, str] = {}
    for piece in pieces[1:]:
        if "=" not in piece:
            continue
        key, _, raw = piece.partition("=")
        key = key.strip().lower()
        raw = raw.strip()
        if key.endswith("*"):
            charset, _, rest = raw.partition("'")
            _, _, encoded = rest.partition("'")
            try:
                extended[key[:-1]] = urllib.parse.unquote(encoded, encoding=charset or "utf-8", errors="strict")
            except (LookupError, UnicodeDecodeError):
                extended[key[:-1]] = urllib.parse.unquote(encoded, encoding="latin-1")
        else:
            params[key] = _unquote(raw)
    params.update(extended)
    return main, params


def quote_header_value(value: str) -> str:
    """A header parameter as a quoted string (backslash-escaping ``\\`` and ``"``)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def content_disposition(kind: str, filename: str, *, name: str | None = None) -> str:
    """``attachment; filename="x"``, or RFC 2231 ``filename*`` when the name is not plain ASCII."""
    parts = [kind]
    if name is not None:
        parts.append(f"name={quote_header_value(name)}")
    if filename.isascii() and filename.isprintable():
        parts.append(f"filename={quote_header_value(filename)}")
    else:
        # RFC 2231: a plain filename= with non-ASCII bytes is read differently by every parser.
        parts.append("filename*=utf-8''" + urllib.parse.quote(filename, safe=""))
    return "; ".join(parts)


# --------------------------------------------------------------------------- encoding


def is_text(content: bytes) -> bool:
    """Whether ``content`` can travel as an 8bit text part unchanged.

    UTF-8 without NUL and without CR: MIME 8bit text may have its line endings rewritten by
    a receiver, so anything whose CRs matter goes as base64 instead.
    """
    if b"\x00" in content or b"\r" in content:
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _file_part(name: str, content: bytes, *, form_field: str | None = None) -> bytes:
    if is_text(content):
        headers = [
            'Content-Type: text/plain; charset="utf-8"',
            "Content-Transfer-Encoding: 8bit",
        ]
        body = content
    else:
        headers = ["Content-Type: application/octet-stream", "Content-Transfer-Encoding: base64"]
        body = base64.encodebytes(content).replace(b"\n", b"\r\n")
    if form_field is None:
        headers.append(f"Content-ID: {quote_header_value(name)}")
        headers.append("Content-Disposition: " + content_disposition("attachment", name))
    else:
        headers.insert(0, "Content-Disposition: " + content_disposition("form-data", name, name=form_field))
    return ("\r\n".join(headers) + "\r\n\r\n").encode("utf-8") + body


def _assemble(parts: list[bytes], boundary: str) -> bytes:
    delimiter = f"--{boundary}".encode("ascii")
    pieces: list[bytes] = []
    for part in parts:
        pieces += (delimiter, b"\r\n", part, b"\r\n")
    pieces += (delimiter, b"--\r\n")
    return b"".join(pieces)  # one copy: a 20 MB file must not be copied once per part


def _new_boundary(parts: list[bytes]) -> str:
    while True:
        boundary = "===============" + secrets.token_hex(12) + "=="
        if not any(boundary.encode("ascii") in part for part in parts):
            return boundary


def encode_related(metadata: Mapping[str, Any], files: Mapping[str, bytes]) -> tuple[bytes, str]:
    """A ``multipart/related`` snippet body: the JSON part first (``Content-ID: snippet``), then one
    part per file in ``files``. Returns ``(body, content_type)``.

    ``metadata`` is sent as is: to delete a file, list it in ``metadata["files"]`` and leave it out
    of ``files``.
    """
    json_part = b'Content-Type: application/json; charset="utf-8"\r\nContent-ID: snippet\r\n\r\n' + json.dumps(
        metadata, ensure_ascii=False
    ).encode("utf-8")
    parts = [json_part] + [_file_part(name, content) for name, content in files.items()]
    boundary = _new_boundary(parts)
    return _assemble(parts, boundary), f'multipart/related; start="snippet"; boundary="{boundary}"'


def encode_form_data(fields: Mapping[str, str], files: Mapping[str, bytes]) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body with flat ``fields`` and each file in the field ``file``."""
    parts = [
        ("Content-Disposition: form-data; name=" + quote_header_value(key) + "\r\n\r\n").encode("utf-8")
        + value.encode("utf-8")
        for key, value in fields.items()
    ]
    parts += [_file_part(name, content, form_field="file") for name, content in files.items()]
    boundary = _new_boundary(parts)
    return _assemble(parts, boundary), f'multipart/form-data; boundary="{boundary}"'


# --------------------------------------------------------------------------- decoding


def _find_delimiter(body: bytes, delimiter: bytes, start: int) -> tuple[int, int] | None:
    """Where the next ``(CR)LF--boundary`` begins and where its ``--boundary`` text ends."""
    position = start
    while True:
        index = body.find(delimiter, position)
        if index < 0:
            return None
        line_start = index
        if index >= 2 and body[index - 2 : index] == b"\r\n":
            line_start = index - 2
        elif index >= 1 and body[index - 1 : index] == b"\n":
            line_start = index - 1
        elif index != 0:
            position = index + 1
            continue
        return line_start, index + len(delimiter)


def _parse_headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    last: str | None = None
    for raw_line in block.replace(b"\r\n", b"\n").split(b"\n"):
        if not raw_line:
            continue
        try:
            line = raw_line.decode("utf-8")
        except UnicodeDecodeError:
            line = raw_line.decode("latin-1")
        if line[0] in " \t" and last is not None:
            headers[last] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise MultipartError(f"malformed part header line: {line[:80]!r}")
        last = name.strip().lower()
        headers[last] = value.strip()
    return headers


def _decode_transfer(headers: dict[str, str], raw: bytes) -> bytes:
    encoding = headers.get("content-transfer-encoding", "").strip().lower()
    if encoding == "base64":
        try:
            return base64.b64decode(b"".join(raw.split()), validate=True)
        except binascii.Error as error:
            raise MultipartError(f"invalid base64 in a body part: {error}") from error
    if encoding == "quoted-printable":
        return quopri.decodestring(raw)
    return raw


def decode_multipart(body: bytes, content_type: str) -> list[Part]:
    """Every part of a multipart body, in order, with transfer encodings undone."""
    mime, params = parse_header_params(content_type)
    if not mime.startswith("multipart/"):
        raise MultipartError(f"expected a multipart body, got {mime or 'no content type'}")
    boundary = params.get("boundary")
    if not boundary:
        raise MultipartError("multipart content type without a boundary")
    delimiter = b"--" + boundary.encode("latin-1")

    found = _find_delimiter(body, delimiter, 0)
    if found is None:
        raise MultipartError("no multipart delimiter found in the body")
    parts: list[Part] = []
    cursor = found[1]
    while True:
        if body[cursor : cursor + 2] == b"--":
            return parts
        # The rest of the delimiter line (transport padding) ends at the first line break.
        line_end = body.find(b"\n", cursor)
        if line_end < 0:
            raise MultipartError("multipart body ends inside a delimiter line")
        part_start = line_end + 1
        following = _find_delimiter(body, delimiter, part_start)
        if following is None:
            raise MultipartError("multipart body has no closing delimiter")
        raw_part = body[part_start : following[0]]
        header_end, separator_length = _header_end(raw_part)
        headers = _parse_headers(raw_part[:header_end])
        content = raw_part[header_end + separator_length :]
        parts.append(Part(headers=headers, content=_decode_transfer(headers, content)))
        cursor = following[1]


def _header_end(raw_part: bytes) -> tuple[int, int]:
    if raw_part.startswith(b"\r\n"):
        return 0, 2
    if raw_part.startswith(b"\n"):
        return 0, 1
    candidates = [(raw_part.find(b"\r\n\r\n"), 4), (raw_part.find(b"\n\n"), 2)]
    found = [(index, length) for index, length in candidates if index >= 0]
    if not found:
        return len(raw_part), 0
    return min(found)


def decode_snippet_body(body: bytes, content_type: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    """A ``multipart/related`` snippet: ``(metadata, {file name: bytes})``.

    The metadata is the part named by the ``start`` parameter (its Content-ID), else the first
    part; every other part is a file.
    """
    _, params = parse_header_params(content_type)
    parts = decode_multipart(body, content_type)
    if not parts:
        return {}, {}
    start = params.get("start")
    start_id = _unquote(start.strip("<>")) if start else None
    index = next((i for i, part in enumerate(parts) if start_id and part.content_id == start_id), 0)
    try:
        metadata = json.loads(parts[index].content.decode("utf-8")) if parts[index].content.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MultipartError(f"the snippet part is not JSON: {error}") from error
    if not isinstance(metadata, dict):
        raise MultipartError("the snippet part is not a JSON object")
    files: dict[str, bytes] = {}
    for position, part in enumerate(parts):
        if position == index:
            continue
        name = part.filename
        if name is None:
            raise MultipartError("a file part has neither Content-Disposition filename nor Content-ID")
        files[name] = part.content
    return metadata, files
