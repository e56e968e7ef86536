"""Hostile multipart bodies: valid seed bodies, and mutations of them driven by one ``random.Random``.

Shared by the decoder's property test (Hypothesis drives the ``Random``, so failures shrink) and the
sandbox's raw-HTTP test (a seeded ``Random``). The mutations are the ones an independent tester used:
bit flips, truncation, boundary games, header games, plus the shapes that once crashed the decoder or
made it slow (deep JSON, odd RFC 2231 charsets, folded headers, a flood of empty parts).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from snippet_daemon.bitbucket.multipart import encode_form_data, encode_related, parse_header_params
from snippet_daemon.sandbox.render import form_data_body, related_body

Body = tuple[bytes, str]  # (body, Content-Type)
Mutation = Callable[[random.Random, bytes, str], Body]

BINARY = bytes(range(256)) + b"\r\n\x00\xff"
FILES = {
    "a.txt": b"hello\n",
    "dir/binary.bin": BINARY,
    "na\u00efve \u65e5\u672c.md": "\u00fcber\n".encode(),
    "crlf.txt": b"a\r\nb\r\n",
    "empty": b"",
}


def seed_bodies() -> list[Body]:
    """Valid bodies in every shape the client and the sandbox write or read."""
    listed = {"title": "Seed", "is_private": True, "files": {name: {} for name in FILES}}
    seeds = [
        encode_related(listed, FILES),
        encode_related({"title": "one"}, {"x.py": b"print(1)\n"}),
        encode_form_data({"title": "Seed", "is_private": "true"}, FILES),
        related_body({"type": "snippet", "title": "Seed", "files": {}}, FILES),
        form_data_body({"title": "Seed", "is_private": "false"}, FILES),
    ]
    # Hand-written, as the API docs print them: LF line ends, preamble and epilogue, the JSON part not first,
    # unquoted and bracketed Content-IDs, quoted-printable and base64 parts, an RFC 2231 file name.
    handwritten = (
        b"preamble\n--b0und\nContent-ID: <q.txt>\nContent-Transfer-Encoding: quoted-printable\n\n"
        b"caf=C3=A9 =3D soft=\n break\n--b0und\nContent-Type: application/json\nContent-ID: meta\n\n"
        b'{"title": "hand", "files": {"q.txt": {}, "b64.bin": {}}}\n--b0und\nContent-ID: b64.bin\n'
        b"Content-Transfer-Encoding: base64\n\nAAEC\nAwQF\n--b0und\nContent-Disposition: attachment; "
        b"filename*=utf-8''%E6%97%A5.txt\n\n\xe6\x97\xa5\n--b0und--\nepilogue\n"
    )
    seeds.append((handwritten, 'multipart/related; boundary=b0und; start="<meta>"'))
    return seeds


SEEDS = seed_bodies()


def _boundary(content_type: str) -> str:
    return parse_header_params(content_type)[1].get("boundary", "")


def _position(rng: random.Random, body: bytes) -> int:
    return rng.randrange(len(body) + 1)


def _header_block_starts(body: bytes, content_type: str) -> list[int]:
    """Where each part's headers begin (just after a delimiter line)."""
    delimiter = b"--" + _boundary(content_type).encode("utf-8", "replace")
    starts, index = [], body.find(delimiter)
    while index >= 0 and len(starts) < 50:
        line_end = body.find(b"\n", index)
        if line_end < 0:
            break
        starts.append(line_end + 1)
        index = body.find(delimiter, line_end)
    return starts or [0]


# --------------------------------------------------------------------------- byte games


def flip_bits(rng: random.Random, body: bytes, content_type: str) -> Body:
    data = bytearray(body)
    for _ in range(rng.randint(1, 8)):
        if data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data), content_type


def truncate(rng: random.Random, body: bytes, content_type: str) -> Body:
    return body[: _position(rng, body)], content_type


def delete_span(rng: random.Random, body: bytes, content_type: str) -> Body:
    start = _position(rng, body)
    return body[:start] + body[start + rng.randint(1, 64) :], content_type


def duplicate_span(rng: random.Random, body: bytes, content_type: str) -> Body:
    start = _position(rng, body)
    span = body[start : start + rng.randint(1, 200)]
    at = _position(rng, body)
    return body[:at] + span * rng.randint(1, 3) + body[at:], content_type


TOKENS = [
    b"\r\n",
    b"\n",
    b"\r",
    b"--",
    b"\r\n--",
    b";",
    b'"',
    b"\\",
    b"=",
    b"%",
    b"*",
    b"'",
    b"\x00",
    b"\xff",
    b"\r\n ",
]


def insert_token(rng: random.Random, body: bytes, content_type: str) -> Body:
    at = _position(rng, body)
    return body[:at] + rng.choice(TOKENS) * rng.randint(1, 3) + body[at:], content_type


# --------------------------------------------------------------------------- boundary games


def change_boundary(rng: random.Random, body: bytes, content_type: str) -> Body:
    real = _boundary(content_type)
    mime = content_type.split(";", 1)[0]
    choices = [
        f"boundary={real[: rng.randint(0, len(real))]}",  # a prefix: delimiters found inside others
        f'boundary="{real}x"',
        f'boundary="{real}',  # unterminated quote
        "boundary=",
        f"boundary={'a' * rng.choice([70, 201, 5000])}",
        "boundary=\u20ac",
        "boundary*=utf-8''%E2%82%AC",  # non-Latin-1 once decoded
        "boundary*=ut\x00f-8''x",  # NUL in the charset
        "boundary*=idna''x",
        "boundary*=utf-8''" + "".join(f"%{byte:02X}" for byte in real.encode()),  # valid, percent-encoded
        "BOUNDARY=" + real,
        f"boundary={real}; boundary=other",
    ]
    rest = [p for p in content_type.split(";")[1:] if not p.strip().lower().startswith("boundary")]
    return body, "; ".join([mime, rng.choice(choices), *rest])


def drop_closing_dashes(rng: random.Random, body: bytes, content_type: str) -> Body:
    closing = ("--" + _boundary(content_type) + "--").encode("utf-8", "replace")
    return body.replace(closing, closing[:-2]), content_type


def strip_line_breaks_before_delimiters(rng: random.Random, body: bytes, content_type: str) -> Body:
    delimiter = ("--" + _boundary(content_type)).encode("utf-8", "replace")
    before = rng.choice([b"\r\n", b"\n"])
    return body.replace(before + delimiter, rng.choice([b"\n", b"", b"\r", b" "]) + delimiter), content_type


def insert_delimiter(rng: random.Random, body: bytes, content_type: str) -> Body:
    delimiter = ("--" + _boundary(content_type)).encode("utf-8", "replace")
    piece = rng.choice([b"\r\n", b"\n", b""]) + delimiter + rng.choice([b"", b"--", b"\r\n", b"  \r\n", b"junk\r\n"])
    at = _position(rng, body)
    return body[:at] + piece + body[at:], content_type


def flood_of_empty_parts(rng: random.Random, body: bytes, content_type: str) -> Body:
    delimiter = ("--" + _boundary(content_type)).encode("utf-8", "replace")
    count = rng.choice([10, 1_000, 10_001, 12_000])
    return delimiter + b"\r\n" + (delimiter + b"\r\n") * count + body, content_type


# --------------------------------------------------------------------------- header games


def _charset_filename(rng: random.Random) -> bytes:
    charset = rng.choice(
        ["utf-8", "ut\x00f-8", "idna", "punycode", "utf-16", "x-nope", "", "undefined", "unicode_escape", "a" * 100]
    )
    encoded = "".join(f"%{rng.randrange(256):02X}" for _ in range(rng.randint(0, 12)))
    return f"Content-Disposition: attachment; filename*={charset}''{encoded}".encode("utf-8", "surrogatepass")


def _header_line(rng: random.Random) -> bytes:
    kind = rng.randrange(10)
    if kind == 0:
        return b"Content-ID: a\r\n" + b" folded\r\n" * rng.choice([1, 10, 1_000, 30_000])
    if kind == 1:
        return b"no colon on this header line\r\n"
    if kind == 2:
        encoding = rng.choice([b"base64", b"quoted-printable", b"x-unknown", b"BASE64 "])
        return b"Content-Transfer-Encoding: " + encoding + b"\r\n"
    if kind == 3:
        return _charset_filename(rng) + b"\r\n"
    if kind == 4:
        return b"Content-ID: " + rng.choice([b'"unterminated', b'"\\', b"<>", b"<", b'"a\\"b"', b"\xff\xfe"]) + b"\r\n"
    if kind == 5:
        return b'Content-Disposition: attachment; filename="x' + b';a="' * rng.choice([1, 100, 5_000]) + b"\r\n"
    if kind == 6:
        return b"X-Big: " + b"v" * rng.choice([100, 70_000]) + b"\r\n"
    if kind == 7:
        return b"".join(b"X-%d: v\r\n" % number for number in range(rng.choice([10, 2_000])))
    if kind == 8:
        return b"Content-Type: " + rng.choice([b"text/plain; charset=\x00", b'; ; =; "', b"multipart/mixed"]) + b"\r\n"
    return b" continuation before any header\r\n"


def header_games(rng: random.Random, body: bytes, content_type: str) -> Body:
    at = rng.choice(_header_block_starts(body, content_type))
    return body[:at] + _header_line(rng) + body[at:], content_type


# --------------------------------------------------------------------------- the JSON start part


def start_part_games(rng: random.Random, body: bytes, content_type: str) -> Body:
    depth = rng.choice([100, 5_000, 100_000])
    replacement = rng.choice(
        [
            b"[" * depth + b"]" * depth,
            b'{"a": ' * depth,
            b"1" * 5_000,  # past Python's limit on digits in an int
            b"[]",
            b'"a string"',
            b"\xff\xfe{}",
            b'{"files": 5, "title": 7, "is_private": "yes"}',
            b'{"files": {"a.txt": {}}, "title": null}',
            b"",
        ]
    )
    starts = _header_block_starts(body, content_type)
    at = starts[0]
    separator = body.find(b"\n\n", at) if b"\r\n\r\n" not in body[at : at + 2000] else body.find(b"\r\n\r\n", at)
    if separator < 0:
        return body, content_type
    content_start = separator + (4 if body[separator : separator + 4] == b"\r\n\r\n" else 2)
    content_end = body.find(b"\n--", content_start)
    if content_end < 0:
        return body, content_type
    if body[content_end - 1 : content_end] == b"\r":
        content_end -= 1
    return body[:content_start] + replacement + body[content_end:], content_type


# --------------------------------------------------------------------------- the Content-Type


def content_type_games(rng: random.Random, body: bytes, content_type: str) -> Body:
    boundary = _boundary(content_type)
    return body, rng.choice(
        [
            f"multipart/related; boundary={boundary}",  # no start
            f'multipart/related; boundary="{boundary}"; start="nowhere"',
            f'multipart/related; boundary="{boundary}"; start="<snippet>"',
            f'multipart/form-data; boundary="{boundary}"',
            f'text/plain; boundary="{boundary}"',
            "multipart/related",
            f"multipart/related; ;; =; boundary=\"{boundary}\"; start*=utf-8''%FF",
            "",
        ]
    )


MUTATIONS: list[Mutation] = [
    flip_bits,
    truncate,
    delete_span,
    duplicate_span,
    insert_token,
    change_boundary,
    drop_closing_dashes,
    strip_line_breaks_before_delimiters,
    insert_delimiter,
    flood_of_empty_parts,
    header_games,
    start_part_games,
    content_type_games,
]
# The expensive shapes (up to ~800 KB) are drawn less often, so that thousands of bodies stay fast.
WEIGHTS = [6, 4, 4, 3, 5, 4, 2, 2, 4, 1, 6, 2, 3]


def mutated_body(rng: random.Random) -> Body:
    """One seed body with 1 to 3 mutations applied."""
    body, content_type = rng.choice(SEEDS)
    for _ in range(rng.randint(1, 3)):
        mutation = rng.choices(MUTATIONS, WEIGHTS)[0]
        body, content_type = mutation(rng, body, content_type)
    return body, content_type
