"""Injected failures for ``/2.0`` requests, and the record of every ``/2.0`` request served.

The failures are the ones a Bitbucket client meets in the wild (``../shared/bitbucket-api/FACTS.md``):

* 429 with ``Content-Type: text/plain`` and the body ``Rate limit for this resource has been exceeded``,
  and neither ``Retry-After`` nor a remaining-count header (the client must back off on its own);
* 500 with a Bitbucket error body;
* a connection closed without any response;
* latency before every answer.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = ["RATE_LIMIT_MESSAGE", "FaultKind", "Faults", "RecordedRequest"]

RATE_LIMIT_MESSAGE = "Rate limit for this resource has been exceeded"
# The largest value each fault accepts: a minute of latency, and a million requests for any counter.
# (A latency of 1e20 ms made every later request fail; a knob without an entry here is a counter.)
MAX_FAULT_VALUE = {"latency_ms": 60_000, "ignore_sort": 1}
MAX_FAULT_COUNT = 1_000_000


class FaultKind(enum.Enum):
    DROP = "drop"
    RATE_LIMIT = "rate_limit"
    SERVER_ERROR = "server_error"


@dataclass
class Faults:
    """Mutable fault settings; each ``*_next`` counter drops by one per request it hits."""

    latency_ms: int = 0
    rate_limit_next: int = 0
    server_error_next: int = 0
    drop_next: int = 0
    # 1: snippet lists come oldest first whatever ``sort=`` asks, as a server that ignores it would
    ignore_sort: int = 0

    def to_json(self) -> dict[str, int]:
        return asdict(self)

    def update(self, values: Mapping[str, Any]) -> None:
        """Set the given fields (``PUT /_sandbox/faults``); ValueError names the first bad one."""
        known = {item.name for item in fields(self)}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(known))}")
            most = MAX_FAULT_VALUE.get(name, MAX_FAULT_COUNT)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
                raise ValueError(f"{name} must be an integer from 0 to {most}, not {str(value)[:40]}")
        for name, value in values.items():
            setattr(self, name, value)

    def take(self) -> FaultKind | None:
        """The fault the next request suffers, counted down; the caller serialises calls."""
        if self.drop_next > 0:
            self.drop_next -= 1
            return FaultKind.DROP
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            return FaultKind.RATE_LIMIT
        if self.server_error_next > 0:
            self.server_error_next -= 1
            return FaultKind.SERVER_ERROR
        return None


@dataclass
class RecordedRequest:
    """One ``/2.0`` request as served. ``status`` is 0 when the connection was dropped on purpose."""

    method: str
    path: str
    query: str
    status: int
    content_type: str | None
    accept: str | None
    user: str | None
    body_size: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
