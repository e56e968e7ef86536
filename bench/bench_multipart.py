"""Benchmark the multipart decoder on hostile and on large bodies: time and peak memory per body.

Each body is decoded by both entry points (``decode_multipart``, ``decode_snippet_body``); the
figures are wall time (best of ``--repeat``, without tracing) and the peak of Python allocations
while decoding (``tracemalloc``, one more run), beside the body's size. A hostile body must end in
``MultipartError`` (printed as "error") in time linear in its size and memory a small multiple of it:
compare the rows of the same shape at two sizes. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_multipart.py [--repeat 3] [--large-mb 20]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from snippet_daemon.bitbucket.multipart import (  # noqa: E402
    MultipartError,
    decode_multipart,
    decode_snippet_body,
    encode_related,
)

RELATED = 'multipart/related; start="snippet"; boundary=x'


def folded_headers(lines: int) -> tuple[bytes, str]:
    """One part whose Content-ID header is folded over ``lines`` continuation lines."""
    return b"--x\r\nContent-ID: a\r\n" + b" continued-header-text\r\n" * lines + b"\r\n{}\r\n--x--\r\n", RELATED


def empty_parts(count: int) -> tuple[bytes, str]:
    """``count`` empty parts (5 bytes each): the cheapest way to make a decoder allocate per part."""
    return b"--x\r\n" * count + b"--x--\r\n", RELATED


def folded_parts(parts: int, lines: int) -> tuple[bytes, str]:
    """``parts`` files, each named by a header folded over ``lines`` lines: under the limits, so all decoded."""
    json_part = b"--x\r\nContent-ID: snippet\r\n\r\n{}\r\n"
    files = b"".join(
        b"--x\r\nContent-ID: f%d\r\n" % number + b" continued\r\n" * lines + b"\r\nbody\r\n" for number in range(parts)
    )
    return json_part + files + b"--x--\r\n", RELATED


def small_files(count: int) -> tuple[bytes, str]:
    files = {f"dir/file-{number}.txt": b"x\n" for number in range(count)}
    return encode_related({"files": {name: {} for name in files}}, files)


def nested_json(depth: int) -> tuple[bytes, str]:
    return b"--x\r\nContent-ID: snippet\r\n\r\n" + b"[" * depth + b"]" * depth + b"\r\n--x--\r\n", RELATED


def json_metadata(item: bytes, count: int) -> tuple[bytes, str]:
    """Metadata of ``count`` copies of ``item`` in one array: what json.loads itself makes of dense JSON."""
    metadata = b'{"a": [' + item * count + b"0]}"
    return b"--x\r\nContent-ID: snippet\r\n\r\n" + metadata + b"\r\n--x--\r\n", RELATED


def short_base64_lines(size: int) -> tuple[bytes, str]:
    """A base64 part wrapped every 4 characters (splitting it into lines costs an object per line)."""
    part = b"--x\r\nContent-ID: snippet\r\n\r\n{}\r\n--x\r\nContent-ID: a\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    return part + b"QUFB\r\n" * (size // 6) + b"\r\n--x--\r\n", RELATED


def large_snippet(megabytes: int) -> tuple[bytes, str]:
    files = {"big.txt": b"0123456789abcdef\n" * (megabytes * 1024 * 1024 // 17), "bin.dat": bytes(range(256)) * 4096}
    return encode_related({"title": "large", "files": {name: {} for name in files}}, files)


def measure(
    decode: Callable[[bytes, str], object], body: bytes, content_type: str, repeat: int
) -> tuple[float, int, str]:
    outcome = "ok"
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        try:
            decode(body, content_type)
        except MultipartError:
            outcome = "error"
        except Exception as error:  # the decoder's bug, shown as such
            outcome = type(error).__name__
        best = min(best, time.perf_counter() - started)
    gc.collect()
    tracemalloc.start()
    with contextlib.suppress(Exception):
        decode(body, content_type)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--large-mb", type=int, default=20)
    args = parser.parse_args()
    cases: list[tuple[str, tuple[bytes, str]]] = [
        ("folded header, 100,000 lines", folded_headers(100_000)),
        ("folded header, 200,000 lines", folded_headers(200_000)),
        ("folded headers, 100 parts x 5,000 lines", folded_parts(100, 5_000)),
        ("folded headers, 200 parts x 5,000 lines", folded_parts(200, 5_000)),
        ("empty parts, 500,000", empty_parts(500_000)),
        ("empty parts, 1,000,000", empty_parts(1_000_000)),
        ("small files, 5,000", small_files(5_000)),
        ("small files, 9,999 (+ JSON: the part limit)", small_files(9_999)),
        ("nested JSON start part, depth 100,000", nested_json(100_000)),
        ("metadata: 1,000,000 empty arrays", json_metadata(b"[],", 1_000_000)),
        ("metadata: 70,000 empty arrays (under the limit)", json_metadata(b"[],", 70_000)),
        ("metadata: 1,000,000 floats", json_metadata(b"1.5,", 1_000_000)),
        ("base64 in 4-char lines, 5 MB", short_base64_lines(5 * 1024 * 1024)),
        (f"valid snippet, {args.large_mb} MB text + 1 MB binary", large_snippet(args.large_mb)),
    ]
    print(f"{'body':<46} {'size':>9}  {'entry point':<20} {'time':>9} {'peak':>10} {'peak/size':>9}  outcome")
    for label, (body, content_type) in cases:
        for name, decode in (("decode_multipart", decode_multipart), ("decode_snippet_body", decode_snippet_body)):
            seconds, peak, outcome = measure(decode, body, content_type, args.repeat)
            print(
                f"{label:<46} {len(body) / 1e6:>7.1f}MB  {name:<20} {seconds * 1000:>7.0f}ms "
                f"{peak / 1e6:>8.1f}MB {peak / len(body):>8.1f}x  {outcome}"
            )


if __name__ == "__main__":
    main()
