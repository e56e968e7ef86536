"""The request budget: a token bucket that holds a background job (polling, indexing) to its share of the
user's 1,000 Bitbucket requests an hour. Each job keeps its own bucket, sized by its own option
(``pollBudgetPerHour``, ``indexBudgetPerHour``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]


def default_burst(per_hour: float) -> float:
    """A budget's burst: a five-minute share, at least 3 requests, at most half the budget."""
    if per_hour < 1:
        return 0.0
    return max(1.0, min(max(3.0, per_hour / 12), per_hour / 2))


class TokenBucket:
    """Requests at ``per_hour`` an hour, in bursts of at most ``capacity`` (by default a five-minute share).

    Any hour then sees at most ``capacity + per_hour``; :meth:`within` makes a bucket whose hours never
    see more than a budget.
    """

    def __init__(self, per_hour: float, capacity: float | None = None, *, clock: Clock = time.monotonic) -> None:
        self.rate = max(0.0, per_hour) / 3600.0  # tokens a second
        self.capacity = capacity if capacity is not None else max(3.0, per_hour / 12)
        self.tokens = self.capacity
        self._clock = clock
        self._at = clock()

    @classmethod
    def within(cls, budget: float, *, clock: Clock = time.monotonic) -> TokenBucket:
        """At most ``budget`` requests in any hour: a burst of :func:`default_burst`, refilled at the rest of it."""
        burst = default_burst(budget)
        return cls(max(0.0, budget - burst), capacity=burst, clock=clock)

    def _refill(self) -> None:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._at) * self.rate)
        self._at = now

    def ensure_burst(self, requests: int) -> None:
        """Let one burst hold ``requests`` (a cycle's lists and a comment check) while the hourly refill keeps at
        least as much: what the burst gains, the refill gives up, so no hour sees more than before."""
        per_hour = self.rate * 3600
        wanted = min(float(requests), (self.capacity + per_hour) / 2)
        if wanted > self.capacity:
            self._refill()
            self.rate = (per_hour - (wanted - self.capacity)) / 3600
            self.capacity = wanted

    def take(self, *, keep: float = 0, by: float | None = None) -> bool:
        """Spend one request if there is one; with ``keep``, only if ``keep`` will be there again at ``by``."""
        self._refill()
        if self.tokens < 1:
            return False
        if keep and self.tokens - 1 + max(0.0, (self._at if by is None else by) - self._at) * self.rate < keep:
            return False
        self.tokens -= 1
        return True
