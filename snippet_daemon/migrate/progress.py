"""Progress of a migration: a redrawn bar with an ETA on a terminal, plain lines otherwise.

The ETA is the Cloud requests still planned divided by the pace measured so far (requests done per
second since the first one), since requests, not snippets, are what Bitbucket Cloud limits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 24
REDRAW_EVERY = 0.1  # seconds: a faster bar only costs the terminal


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return "under 1 s"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


class Progress:
    """Counts finished snippets and completed Cloud requests against the plan."""

    def __init__(
        self,
        stream: TextIO,
        *,
        total_snippets: int,
        planned_requests: int,
        tty: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.total_snippets = total_snippets
        self.planned_requests = planned_requests
        self.tty = tty
        self.snippets_done = 0
        self.requests_done = 0
        self._clock = clock
        self._started = clock()
        self._last_draw = 0.0
        self._bar_shown = False

    # ------------------------------------------------------------------ figures

    def pace(self) -> float | None:
        """Cloud requests per second so far, once there is something to measure."""
        elapsed = self._clock() - self._started
        if self.requests_done == 0 or elapsed <= 0:
            return None
        return self.requests_done / elapsed

    def eta(self) -> float | None:
        pace = self.pace()
        if pace is None:
            return None
        return max(0, self.planned_requests - self.requests_done) / pace

    def _status(self) -> str:
        eta = self.eta()
        eta_text = f"ETA {format_duration(eta)}" if eta is not None else "ETA measuring"
        return (
            f"{self.snippets_done}/{self.total_snippets} snippets, "
            f"{self.requests_done}/{self.planned_requests} requests, {eta_text}"
        )

    # ------------------------------------------------------------------ events

    def request_done(self) -> None:
        self.requests_done += 1
        self._draw()

    def snippet_done(self, line: str) -> None:
        """One snippet finished (or failed): a line of its own on a pipe, the bar on a terminal."""
        self.snippets_done += 1
        if self.tty:
            self._draw(force=True)
        else:
            self._print(f"[{self.snippets_done}/{self.total_snippets}] {line}")

    def note(self, message: str) -> None:
        """A line everyone must see (a failure, a pause), above the bar on a terminal."""
        self._print(message)
        self._draw(force=True)

    def close(self) -> None:
        if self.tty and self._bar_shown:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
            self._bar_shown = False
        elif not self.tty:
            verb = "Finished" if self.snippets_done == self.total_snippets else "Stopped after"
            self._print(
                f"{verb} {self.snippets_done}/{self.total_snippets} snippets, {self.requests_done} Cloud requests, "
                f"in {format_duration(self._clock() - self._started)}."
            )

    # ------------------------------------------------------------------ output

    def _print(self, text: str) -> None:
        if self.tty and self._bar_shown:
            self.stream.write("\r\x1b[2K")
            self._bar_shown = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def _draw(self, *, force: bool = False) -> None:
        if not self.tty:
            return
        now = self._clock()
        if not force and now - self._last_draw < REDRAW_EVERY:
            return
        self._last_draw = now
        fraction = self.requests_done / self.planned_requests if self.planned_requests else 1.0
        filled = min(BAR_WIDTH, int(fraction * BAR_WIDTH))
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stream.write(f"\r\x1b[2K[{bar}] {self._status()}")
        self.stream.flush()
        self._bar_shown = True
