"""The poller's spending rules, in-process: the request budget and the interval it waits."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from snippet_daemon.protocol import InitializationOptions
from snippet_daemon.watcher import IDLE_AFTER_SECONDS, IDLE_SLOWDOWN, MAX_BACKOFF, TokenBucket, Watcher


def test_the_budget_allows_a_burst_then_its_hourly_rate() -> None:
    bucket = TokenBucket(per_hour=100)  # Bitbucket's 1,000/h, 10% of it
    burst = sum(bucket.take() for _ in range(50))
    assert burst == 8  # a 5-minute share, then nothing until tokens refill
    bucket._at -= 36  # 36 s later: 100/h refills one request
    assert bucket.take() and not bucket.take()


def _watcher(**server: Any) -> Watcher:
    fake = SimpleNamespace(options=InitializationOptions(poll_interval_seconds=60), last_activity=time.monotonic())
    vars(fake).update(server)
    return Watcher(fake)  # type: ignore[arg-type]


def test_polls_slow_down_after_429s_and_while_the_editor_is_idle() -> None:
    watcher = _watcher()
    assert watcher._interval() == 60
    watcher.backoff = 4  # two 429s in a row
    assert watcher._interval() == 240
    watcher.backoff = MAX_BACKOFF
    assert watcher._interval() == 60 * MAX_BACKOFF
    idle = _watcher(last_activity=time.monotonic() - IDLE_AFTER_SECONDS - 1)
    assert idle._interval() == 60 * IDLE_SLOWDOWN
