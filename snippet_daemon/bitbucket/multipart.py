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

Decoding is for untrusted bodies (a server's answer, a client's request): every malformed body
raises :class:`MultipartError`, in time linear in its size and memory a small multiple of it.
That takes a few limits no real snippet comes near: at most :data:`MAX_PARTS` parts, at most
:data:`MAX_PART_HEADER_BYTES` of headers per part and :data:`MAX_HEADER_FIELDS` header fields in
all (per-part and per-field objects cost far more than the bytes that make them), at most
:data:`MAX_JSON_CONTAINERS` arrays and objects in a snippet's metadata (likewise), and a boundary of 1
to :data:`MAX_BOUNDARY_LENGTH` printable ASCII characters.

Nothing here knows HTTP or Bitbucket's URLs: the sandbox server and the client share it.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
import re
import secrets
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MAX_BOUNDARY_LENGTH",
    "MAX_HEADER_FIELDS",
    "MAX_JSON_CONTAINERS",
    "MAX_PARTS",
    "MAX_PART_HEADER_BYTES",
    "MultipartError",
    "Part",
    "content_disposition",
    "content_id_header",
    "decode_multipart",
    "decode_snippet_body",
    "encode_form_data",
    "encode_related",
    "is_text",
    "parse_header_params",
    "quote_header_value",
]


MAX_PARTS = 10_000  # files in one snippet, and then some
MAX_PART_HEADER_BYTES = 64 * 1024  # what HTTP servers allow a request's headers; a part has 3 or 4 short ones
MAX_HEADER_FIELDS = 100_000  # stored header fields of all parts together
MAX_BOUNDARY_LENGTH = 200  # RFC 2046 says 70; a little tolerance, but bounded (it is searched for)
# json.loads spends ~60 bytes on each "[]" or "{}" (3 bytes of text): a snippet's metadata has a few per file.
MAX_JSON_CONTAINERS = 8 * MAX_PARTS


class MultipartError(ValueError):
    """A body that is not valid multipart (no boundary, no closing delimiter, bad encoding, over a limit)."""


@dataclass(slots=True)  # slots: a body may hold MAX_PARTS of these
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


_QUOTED_PAIR = re.compile(r"\\(.?)", re.DOTALL)
_PARAM_SPECIAL = re.compile(r'[;"]')
_QUOTED_SPECIAL = re.compile(r'["\\]')
_MAX_CHARSET_LENGTH = 40  # registered charset names are far shorter: a longer one is not looked up
# Text codecs Python has that are no MIME charset: punycode decodes in quadratic time, the escape
# codecs interpret backslashes, idna is for host names. A filename in any of them falls back as unknown.
_NOT_CHARSETS = frozenset({"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined"})


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return _QUOTED_PAIR.sub(r"\1", value[1:-1])  # a lone backslash at the end is dropped
    return value


def _split_params(value: str) -> list[str]:
    """Split on ``;`` outside double quotes (a backslash escapes inside them; an open quote runs to the end).

    Slices, not characters: one object per parameter, whatever the header's length.
    """
    items: list[str] = []
    start = position = 0
    while (special := _PARAM_SPECIAL.search(value, position)) is not None:
        if special.group() == ";":
            items.append(value[start : special.start()])
            start = position = special.end()
            continue
        position = special.end()
        while (inside := _QUOTED_SPECIAL.search(value, position)) is not None:
            position = inside.end()
            if inside.group() == '"':
                break
            position += 1  # the escaped character
        else:
            break  # unterminated quote: the rest is one parameter
    items.append(value[start:])
    return items


def _decode_extended(raw: str) -> str:
    """An RFC 2231 ``charset'language'percent-encoded`` value; an unknown or unusable charset reads as Latin-1."""
    charset, _, rest = raw.partition("'")
    _, _, encoded = rest.partition("'")
    codec: str | None = "utf-8"
    if charset:
        codec = None
        try:
            info = codecs.lookup(charset) if len(charset) <= _MAX_CHARSET_LENGTH else None
        except (LookupError, ValueError):  # ValueError: a NUL in the name
            info = None
        if info is not None and info.name not in _NOT_CHARSETS:
            codec = info.name
    if codec is not None:
        try:
            return urllib.parse.unquote(encoded, encoding=codec, errors="strict")
        except (LookupError, ValueError):  # LookupError: no text codec (hex, rot13); ValueError: Unicode*Error
            pass
    return urllib.parse.unquote(encoded, encoding="latin-1")


def parse_header_params(value: str) -> tuple[str, dict[str, str]]:
    """``'attachment; filename="a b.txt"'`` -> ``('attachment', {'filename': 'a b.txt'})``.

    Parameter names are lower-cased; RFC 2231 ``name*=utf-8''...`` values are decoded and
    win over the plain ``name`` parameter. Never raises: whatever a peer sends is read somehow.
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
            extended[key[:-1]] = _decode_extended(raw)
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


def content_id_header(name: str) -> str:
    """A file's ``Content-ID`` value: its name as a quoted string, with anything unprintable percent-encoded.

    A Content-ID cannot use RFC 2231 (it is no parameter), so ``Content-Disposition`` carries the exact
    name (:func:`content_disposition`); this only guarantees that no CR, LF or other control character
    ever reaches a header, where it would end the header early and break the whole body.
    """
    if not name.isprintable():
        name = "".join(char if char.isprintable() else urllib.parse.quote(char, safe="") for char in name)
    return quote_header_value(name)


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
        headers.append(f"Content-ID: {content_id_header(name)}")
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


# Possessive (no backtracking state kept): a megabyte-long string costs no more memory than a short one.
_JSON_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
_BOUNDARY = re.compile(rf"[\x20-\x7e]{{1,{MAX_BOUNDARY_LENGTH}}}")
_WHITESPACE = b" \t\r\n\x0b\x0c"  # what base64 bodies may be wrapped with


def _boundary(content_type: str) -> bytes:
    mime, params = parse_header_params(content_type)
    if not mime.startswith("multipart/"):
        raise MultipartError(f"expected a multipart body, got {mime[:80] or 'no content type'}")
    boundary = params.get("boundary")
    if not boundary:
        raise MultipartError("multipart content type without a boundary")
    # Printable ASCII only: a boundary is matched byte for byte, and a line break in it would let
    # delimiters overlap (the linear-time search below relies on "\n--boundary" never overlapping itself).
    if not _BOUNDARY.fullmatch(boundary):
        raise MultipartError(
            f"the multipart boundary must be 1 to {MAX_BOUNDARY_LENGTH} printable ASCII characters, "
            f"got {boundary[:80]!r}"
        )
    return boundary.encode("ascii")


def _lines(block: bytes) -> Iterator[bytes]:
    """The lines of a header block, without their CRLF or LF, one at a time."""
    start = 0
    while start < len(block):
        end = block.find(b"\n", start)
        if end < 0:
            yield block[start:]
            return
        yield block[start : end - 1] if end > start and block[end - 1] == 0x0D else block[start:end]
        start = end + 1


def _parse_headers(block: bytes) -> dict[str, str]:
    # Folded lines are collected and joined once: appending to a str in a dict copies it every time.
    pieces: dict[str, list[str]] = {}
    last: list[str] | None = None
    for raw_line in _lines(block):
        if not raw_line:
            continue
        try:
            line = raw_line.decode("utf-8")
        except UnicodeDecodeError:
            line = raw_line.decode("latin-1")
        if line[0] in " \t" and last is not None:
            last.append(line.strip())
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise MultipartError(f"malformed part header line: {line[:80]!r}")
        last = pieces[name.strip().lower()] = [value.strip()]
    return {name: " ".join(values) for name, values in pieces.items()}


def _decode_transfer(headers: dict[str, str], raw: bytes) -> bytes:
    encoding = headers.get("content-transfer-encoding", "").strip().lower()
    if encoding == "base64":
        try:
            # translate, not split: one copy, where split makes an object per (possibly 1-byte) line
            return base64.b64decode(raw.translate(None, _WHITESPACE), validate=True)
        except binascii.Error as error:
            raise MultipartError(f"invalid base64 in a body part: {error}") from error
    if encoding == "quoted-printable":
        return binascii.a2b_qp(raw)
    return raw


def _header_end(body: bytes, start: int, end: int) -> tuple[int, int]:
    """Where the headers of the part ``body[start:end]`` end, and where its content starts."""
    if body.startswith(b"\r\n", start, end):
        return start, start + 2
    if body.startswith(b"\n", start, end):
        return start, start + 1
    # Looked for only within the allowed header size, so a huge part without a blank line costs nothing.
    limit = min(end, start + MAX_PART_HEADER_BYTES + 4)
    candidates = [(body.find(b"\r\n\r\n", start, limit), 4), (body.find(b"\n\n", start, limit), 2)]
    found = [(index, index + length) for index, length in candidates if index >= 0]
    if found:
        return min(found)
    if end - start > MAX_PART_HEADER_BYTES:
        raise MultipartError(f"a part's headers exceed {MAX_PART_HEADER_BYTES} bytes")
    return end, end  # headers only, no content


def decode_multipart(body: bytes, content_type: str) -> list[Part]:
    """Every part of a multipart body, in order, with transfer encodings undone.

    Raises :class:`MultipartError` for anything malformed or over the module's limits, and nothing else.
    """
    delimiter = b"--" + _boundary(content_type)
    # A delimiter starts a line: at the very start of the body, or right after an LF (a CR before that
    # LF belongs to the delimiter too). Searching for LF + delimiter finds only those, in one pass.
    line_delimiter = b"\n" + delimiter
    if body.startswith(delimiter):
        cursor = len(delimiter)
    else:
        index = body.find(line_delimiter)
        if index < 0:
            raise MultipartError("no multipart delimiter found in the body")
        cursor = index + len(line_delimiter)
    parts: list[Part] = []
    header_fields = 0
    while True:
        if body.startswith(b"--", cursor):
            return parts
        # The rest of the delimiter line (transport padding) ends at the first line break.
        line_end = body.find(b"\n", cursor)
        if line_end < 0:
            raise MultipartError("multipart body ends inside a delimiter line")
        part_start = line_end + 1
        # From the LF just read: an empty part's next delimiter starts right after it.
        index = body.find(line_delimiter, line_end)
        if index < 0:
            raise MultipartError("multipart body has no closing delimiter")
        part_end = index - 1 if index > part_start and body[index - 1] == 0x0D else index
        part_end = max(part_end, part_start)
        if len(parts) == MAX_PARTS:
            raise MultipartError(f"a multipart body may have at most {MAX_PARTS} parts")
        header_end, content_start = _header_end(body, part_start, part_end)
        headers = _parse_headers(body[part_start:header_end]) if header_end > part_start else {}
        header_fields += len(headers)
        if header_fields > MAX_HEADER_FIELDS:
            raise MultipartError(f"a multipart body may have at most {MAX_HEADER_FIELDS} part header fields")
        parts.append(Part(headers=headers, content=_decode_transfer(headers, body[content_start:part_end])))
        cursor = index + len(line_delimiter)


def _json_containers(document: bytes) -> int:
    """How many arrays and objects ``document`` opens (brackets inside strings do not count)."""
    rough = document.count(b"[") + document.count(b"{")
    if rough <= MAX_JSON_CONTAINERS:
        return rough  # the common case: one pass in C, and strings can only make it an over-count
    inside = 0
    for string in _JSON_STRING.finditer(document):  # one match at a time: no list of pieces
        start, end = string.span()
        inside += document.count(b"[", start, end) + document.count(b"{", start, end)
    return rough - inside


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
    raw_metadata = parts[index].content
    if _json_containers(raw_metadata) > MAX_JSON_CONTAINERS:
        raise MultipartError(f"the snippet part holds more than {MAX_JSON_CONTAINERS} JSON arrays and objects")
    try:
        metadata = json.loads(raw_metadata.decode("utf-8")) if raw_metadata.strip() else {}
    except RecursionError:
        # The C parser gives up cleanly on deep nesting; no snippet's metadata is nested that deep.
        raise MultipartError("the snippet part is JSON nested too deeply") from None
    except ValueError as error:  # not UTF-8, not JSON, or an integer over Python's digit limit
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
