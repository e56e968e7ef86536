"""Property: whatever bytes arrive, both decoders succeed or raise MultipartError, and nothing else.

Hypothesis drives the mutations of ``tests/multipart_mutations.py`` (bit flips, truncation, boundary games,
header games, hostile JSON and charsets) over valid seed bodies. Derandomized, with no example database:
every run tries the same bodies, and a failure shrinks to a small one.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snippet_daemon.bitbucket.multipart import MultipartError, decode_multipart, decode_snippet_body
from tests.multipart_mutations import SEEDS, mutated_body

EXAMPLES = 2_500

FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,  # a flood of parts takes milliseconds; time is the benchmark's business
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _read_every_part(body: bytes, content_type: str) -> None:
    """Decode, then touch everything the client and the sandbox read of a part: none of it may raise."""
    for part in decode_multipart(body, content_type):
        assert isinstance(part.content, bytes)
        _ = (part.filename, part.content_id, part.form_name, part.mime_type, part.disposition)


def _decode_snippet(body: bytes, content_type: str) -> None:
    metadata, files = decode_snippet_body(body, content_type)
    assert isinstance(metadata, dict)
    assert all(isinstance(name, str) and isinstance(content, bytes) for name, content in files.items())


def _outcome(decode: Any, body: bytes, content_type: str) -> str:
    try:
        decode(body, content_type)
    except MultipartError:
        return "MultipartError"
    return "ok"


def test_the_seed_bodies_decode() -> None:
    for body, content_type in SEEDS:
        _read_every_part(body, content_type)
        if content_type.startswith("multipart/related"):
            _decode_snippet(body, content_type)


def test_mutated_bodies_end_in_success_or_multipart_error_from_both_entry_points() -> None:
    outcomes: dict[str, int] = {}

    @FUZZ
    @given(st.randoms(use_true_random=False))
    def check(rng: random.Random) -> None:
        body, content_type = mutated_body(rng)
        for decode in (_read_every_part, _decode_snippet):
            outcome = _outcome(decode, body, content_type)  # any other exception fails the property
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

    check()

    tried = sum(outcomes.values()) // 2
    print(f"fuzzed {tried} mutated bodies through both decoders: {outcomes}")
    assert tried >= EXAMPLES * 0.9  # Hypothesis really ran them (it stops early only if the space is exhausted)
    assert outcomes.get("ok", 0) > 0 and outcomes.get("MultipartError", 0) > 0  # both outcomes were reached
