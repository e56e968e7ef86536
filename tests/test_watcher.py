"""The poller's schedule, in-process, on simulated time: the real :class:`Watcher` against the real sandbox.

A :class:`Simulation` is the watcher's clock and sleep: every wait passes at once, so hours of
polling take seconds, and every request the sandbox records is stamped with the simulated time it
was sent at. "Another writer" changes the sandbox's storage directly at chosen simulated times.
The figures asserted here are the ones ``docs/protocol.md`` documents for the watch paragraph.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from lsprotocol import types

from snippet_daemon.budget import TokenBucket
from snippet_daemon.protocol import DidChangeParams, InitializationOptions
from snippet_daemon.sandbox import Sandbox
from snippet_daemon.watcher import (
    COMMENT_POLL_EVERY,
    IDLE_AFTER_SECONDS,
    IDLE_SLOWDOWN,
    MAX_BACKOFF,
    Watcher,
)
from tests.conftest import make_client

if TYPE_CHECKING:
    from snippet_daemon.bitbucket import Snippet, SnippetsClient
    from snippet_daemon.documents import CachedSnippet
    from snippet_daemon.sandbox.faults import RecordedRequest

TEAM = "sandbox-team"
HOUR = 3600.0


# --------------------------------------------------------------------------- the documented bounds


def burst(budget: float) -> float:
    return max(3.0, budget / 12)


def documented_period(interval: float, budget: float, workspaces: int, watched: int) -> float:
    """P = max(pollIntervalSeconds, 3600 (W + min(1, N/5)) / r), r = B - C an hour."""
    return max(interval, HOUR * (workspaces + min(1.0, watched / 5)) / (budget - burst(budget)))


def documented_comment_bound(interval: float, budget: float, workspaces: int, watched: int) -> float:
    """D = P (5 + ceil(N / s)), s = min(r P / 3600, C) - W comment checks a cycle."""
    period = documented_period(interval, budget, workspaces, watched)
    checks = min((budget - burst(budget)) * period / HOUR, burst(budget)) - workspaces
    return period * (COMMENT_POLL_EVERY + math.ceil(watched / checks))


# --------------------------------------------------------------------------- a host and simulated time


class Simulation:
    """The watcher's clock and sleep: waits pass at once; requests are stamped with the simulated time."""

    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.now = 1_000.0
        self.sandbox = sandbox
        self.stamps: list[float] = []  # the simulated time of each request in sandbox.requests
        self._actions: list[tuple[float, Callable[[], None]]] = []
        self._until = math.inf
        self._done = asyncio.Event()

    def __call__(self) -> float:
        return self.now

    def at(self, when: float, action: Callable[[], None]) -> None:
        """Do ``action`` (as another writer would) at simulated time ``when``."""
        self._actions.append((when, action))
        self._actions.sort(key=lambda item: item[0])

    def _stamp(self) -> None:
        if self.sandbox is not None:
            self.stamps += [self.now] * (len(self.sandbox.requests) - len(self.stamps))

    async def sleep(self, seconds: float) -> None:
        self._stamp()
        target = self.now + seconds
        while self._actions and self._actions[0][0] <= target:
            when, action = self._actions.pop(0)
            self.now = max(self.now, when)
            action()
        self.now = target
        if self.now >= self._until:
            self._done.set()
            await asyncio.Event().wait()  # until the test stops the watcher
        await asyncio.sleep(0)

    async def run(self, watcher: Watcher, seconds: float) -> None:
        """Let ``watcher`` poll for ``seconds`` of simulated time."""
        assert self.sandbox is not None
        self.sandbox.clear_requests()
        self.stamps.clear()
        self._until = self.now + seconds
        watcher.start()
        await asyncio.wait_for(self._done.wait(), timeout=100)
        await watcher.aclose()
        self._stamp()

    def timeline(self) -> list[tuple[float, RecordedRequest]]:
        assert self.sandbox is not None
        return list(zip(self.stamps, self.sandbox.requests, strict=True))


class NothingOpen:
    """The snippet cache of an editor that has nothing open."""

    def cached(self, workspace: str, snippet_id: str) -> CachedSnippet | None:
        return None

    def tracked(self) -> list[tuple[str, str]]:
        return []

    def dropped(self, workspace: str, snippet_id: str) -> Snippet | None:
        return None

    def invalidate(self, workspace: str, snippet_id: str) -> None:
        pass

    def refreshed(self, workspace: str, snippet_id: str, snippet: Snippet, files: dict[str, bytes]) -> None:
        pass

    def forget(self, workspace: str, snippet_id: str) -> None:
        pass


@dataclass
class Host:
    """What the watcher needs of a server: options, where watching.json goes, a client, a place to notify."""

    clock: Simulation
    options: InitializationOptions
    env: dict[str, str]
    api_url: str = "http://127.0.0.1:1/2.0"
    sandbox: Sandbox | None = None
    documents: NothingOpen = field(default_factory=NothingOpen)
    idle_since: float | None = None  # None: the editor is in use all along
    changes: list[tuple[float, DidChangeParams]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    _client: SnippetsClient | None = None
    _background: SnippetsClient | None = None

    @property
    def last_activity(self) -> float:
        return self.clock.now if self.idle_since is None else self.idle_since

    def client(self) -> SnippetsClient:
        assert self.sandbox is not None
        if self._client is None:
            self._client = make_client(self.sandbox)
        return self._client

    def background_client(self) -> SnippetsClient:
        """As the server's: the same account, never waiting out a 429 (the watcher backs off by itself)."""
        from snippet_daemon.bitbucket import RetryPolicy, SnippetsClient

        if self._background is None:
            main = self.client()
            self._background = SnippetsClient(main.credentials, main.api_url, retry=RetryPolicy.background())
        return self._background

    async def credentials_ready(self) -> None:
        pass

    def notify_did_change(self, change: DidChangeParams) -> None:
        self.changes.append((self.clock.now, change))

    def show_message(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.messages.append(message)

    def run_task(self, coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        return asyncio.get_running_loop().create_task(coroutine, name=name)

    async def aclose(self) -> None:
        for client in (self._client, self._background):
            if client is not None:
                await client.aclose()


def make_watcher(
    tmp_path: Path, *, interval: float = 60, budget: float = 100, sandbox: Sandbox | None = None
) -> tuple[Watcher, Host, Simulation]:
    clock = Simulation(sandbox)
    host = Host(
        clock=clock,
        options=InitializationOptions(poll_interval_seconds=interval, poll_budget_per_hour=budget),
        env={"XDG_DATA_HOME": str(tmp_path / "xdg-data")},
        api_url=sandbox.base_url if sandbox is not None else "http://127.0.0.1:1/2.0",
        sandbox=sandbox,
    )
    return Watcher(host, clock=clock, sleep=clock.sleep), host, clock


def watched_snippets(sandbox: Sandbox, count: int) -> list[tuple[str, str]]:
    """``count`` snippets, half in the user's workspace and half in the shared one (alice's), oldest first;
    then newer ones in the shared workspace, so that its oldest watched snippet is beyond the first page."""
    store = sandbox._open()
    demo, alice = sandbox.users[0], sandbox.users[1]
    keys = []
    for number in range(count):
        workspace, creator = ("demo", demo) if number % 2 == 0 else (TEAM, alice)
        record = store.create_snippet(workspace, creator, title=f"w{number}", is_private=True, files={"a.txt": b"1"})
        keys.append((workspace, record.id))
    for number in range(101 - count // 2):
        store.create_snippet(TEAM, alice, title=f"newer {number}", is_private=True, files={"n.txt": b"n"})
    return keys


def comment_checks(timeline: Iterable[tuple[float, RecordedRequest]]) -> list[tuple[float, tuple[str, str]]]:
    checks = []
    for when, request in timeline:
        parts = request.path.split("/")  # /2.0/snippets/{workspace}/{id}/comments
        if request.method == "GET" and len(parts) == 6 and parts[5] == "comments":
            checks.append((when, (parts[3], parts[4])))
    return checks


def most_in_an_hour(times: list[float]) -> int:
    most, start = 0, 0
    for end, when in enumerate(times):
        while when - times[start] >= HOUR:
            start += 1
        most = max(most, end - start + 1)
    return most


# --------------------------------------------------------------------------- the budget and the plan


def test_the_budget_is_a_burst_then_a_steady_rate_and_never_more_than_its_total_in_any_hour() -> None:
    clock = Simulation()
    bucket = TokenBucket.within(100, clock=clock)  # Bitbucket's 1,000/h, 10% of it
    taken = [clock.now] * sum(bucket.take() for _ in range(50))
    assert len(taken) == 8  # a five-minute share at once, then nothing until tokens refill
    for _ in range(5 * 3600):  # then as fast as it allows, for five hours
        clock.now += 1
        if bucket.take():
            taken.append(clock.now)
    assert most_in_an_hour(taken) <= 100
    assert len(taken) >= 8 + 5 * (100 - 100 / 12) - 1  # and the rest of it is there to spend


def test_what_is_left_for_later_is_kept() -> None:
    clock = Simulation()
    bucket = TokenBucket(per_hour=3600, capacity=3, clock=clock)  # 3 a burst, refilled at one a second
    assert bucket.take(keep=2, by=clock.now + 1)  # 2 left, and 3 a second later
    assert not bucket.take(keep=3, by=clock.now + 1)  # 1 left now, 2 a second later: short of 3
    assert bucket.take(keep=2, by=clock.now + 1)


def test_the_plan_at_the_defaults_stretches_the_cycle_so_lists_and_a_comment_check_fit(tmp_path: Path) -> None:
    keys = {(workspace, f"s{number}") for workspace in ("demo", TEAM) for number in range(100)}
    for interval in (60, 1):  # the default, and one second: the budget (100/h) sets the pace either way
        watcher, _, _ = make_watcher(tmp_path, interval=interval)
        watcher.watched = set(keys)
        plan = watcher.plan()
        assert plan.lists == 2
        assert plan.period == pytest.approx(117.82, abs=0.01) == documented_period(interval, 100, 2, 200)
        assert plan.comment_checks == pytest.approx(1)
        assert plan.comment_delay == pytest.approx(documented_comment_bound(interval, 100, 2, 200))
        assert plan.comment_delay == pytest.approx(205 * 117.82, rel=1e-4)  # 6.7 hours
        # 2 lists and 1 comment check every 117.8 s: 91.7 requests an hour, never more than 100 in any hour
        assert 3 * HOUR / plan.period == pytest.approx(100 - 100 / 12)

    watcher, _, _ = make_watcher(tmp_path)
    watcher.watched = {("demo", "one")}  # one snippet: its comments every fifth cycle leave the interval alone
    assert watcher.plan().period == 60 == documented_period(60, 100, 1, 1)

    watcher, _, _ = make_watcher(tmp_path, interval=0.5, budget=100_000)
    watcher.watched = set(keys)
    assert watcher.plan().period == 0.5  # a budget that affords every interval


def test_polls_slow_down_after_429s_and_while_the_editor_is_idle(tmp_path: Path) -> None:
    watcher, host, clock = make_watcher(tmp_path)
    watcher.watched = {("demo", "one")}
    assert watcher.period() == 60
    watcher.backoff = 4  # two 429s in a row
    assert watcher.period() == 240
    watcher.backoff = MAX_BACKOFF
    assert watcher.period() == 60 * MAX_BACKOFF
    watcher.backoff = 1
    host.idle_since = clock.now - IDLE_AFTER_SECONDS - 1
    assert watcher.period() == 60 * IDLE_SLOWDOWN


# --------------------------------------------------------------------------- hours of polling, simulated


async def test_hours_at_the_defaults_with_200_watched_stay_within_the_budget_and_lists_come_first(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    keys = watched_snippets(sandbox, 200)
    watcher, host, clock = make_watcher(tmp_path, sandbox=sandbox)  # 60 s, 100 requests an hour
    watcher.watched = set(keys)  # as after a restart: nothing known yet; the first cycle is the baseline
    oldest_shared = next(key for key in keys if key[0] == TEAM)  # the last in the list's order: on page 2
    last_sorted = max(keys)
    store, alice, demo = sandbox._open(), sandbox.users[1], sandbox.users[0]
    commits: dict[tuple[str, str], float] = {}

    def commit(key: tuple[str, str]) -> Callable[[], None]:
        def run() -> None:
            store.update_snippet(*key, alice if key[0] == TEAM else demo, changes={"a.txt": b"2"})
            commits[key] = clock.now

        return run

    clock.at(clock.now + 1800, commit(oldest_shared))
    clock.at(clock.now + 3700, commit(last_sorted))
    try:
        await clock.run(watcher, 2 * HOUR)
    finally:
        await host.aclose()

    timeline = clock.timeline()
    times = [when for when, _ in timeline]
    assert most_in_an_hour(times) <= 100, "more than pollBudgetPerHour in an hour"
    assert len(times) <= 2 * 100
    # Every cycle listed both workspaces, 117.8 s apart: never starved by the comment checks.
    lists = [when for when, request in timeline if request.path in ("/2.0/snippets/demo", f"/2.0/snippets/{TEAM}")]
    cycles = sorted(set(lists))
    assert lists == [when for when in cycles for _ in range(2)]
    period = documented_period(60, 100, 2, 200)
    assert all(later - earlier == pytest.approx(period) for earlier, later in itertools.pairwise(cycles))
    assert len(cycles) >= 2 * HOUR / period - 1
    # Comment checks take turns: nobody twice before everyone once, and nothing but lists and comments.
    checked = [key for _, key in comment_checks(timeline)]
    assert len(checked) >= len(cycles) - 1 and len(set(checked)) == len(checked)
    assert len(lists) + len(checked) == len(timeline)
    # A commit to the snippet last in the list's order (beyond its first page), or last in sort order,
    # is told at the next cycle.
    told = {(change.workspace, change.id): when for when, change in host.changes if change.kind == "commit"}
    assert told.keys() == commits.keys()
    assert all(told[key] - commits[key] <= period for key in commits)


@pytest.mark.parametrize(("count", "budget"), [(20, 100), (200, 1000)])
async def test_every_watched_snippets_comments_are_checked_within_the_documented_bound(
    sandbox: Sandbox, tmp_path: Path, count: int, budget: float
) -> None:
    keys = watched_snippets(sandbox, count)
    watcher, host, clock = make_watcher(tmp_path, budget=budget, sandbox=sandbox)
    async with make_client(sandbox) as client:
        for workspace, snippet_id in keys:  # as bbsnippets.watch does after its PUT
            sandbox.clear_requests()
            await watcher.baseline(client, workspace, snippet_id)
            requests = [(r.method, r.path.rsplit("/", 1)[-1]) for r in sandbox.requests]
            assert requests[0] == ("GET", "comments")  # the watch's one request here (the other is its PUT)
            assert requests[1:] in ([], [("GET", workspace)])  # the first in a workspace brings its list forward
    bound = documented_comment_bound(60, budget, 2, count)
    store = sandbox._open()
    commented: dict[tuple[str, str], float] = {}

    def comment_on_the_latest_checked_and_the_last() -> None:
        latest = comment_checks(zip(clock.stamps, sandbox.requests, strict=False))[-1][1]  # the worst case
        for key in {latest, max(keys)}:
            store.add_comment(key[1], sandbox.users[1].nickname, "have a look", None)
            commented[key] = clock.now

    start = clock.now
    clock.at(start + bound, comment_on_the_latest_checked_and_the_last)  # once every snippet had its turn
    try:
        await clock.run(watcher, 2 * bound + 120)
    finally:
        await host.aclose()

    timeline = clock.timeline()
    assert most_in_an_hour([when for when, _ in timeline]) <= budget
    told = {(change.workspace, change.id): when for when, change in host.changes if change.kind == "comment"}
    assert told.keys() == commented.keys()
    assert all(told[key] - commented[key] <= bound for key in commented), (told, commented, bound)
    # Every snippet's comments were checked: again within the bound, and not before five cycles passed.
    checks: dict[tuple[str, str], list[float]] = {}
    for when, key in comment_checks(timeline):
        checks.setdefault(key, []).append(when)
    assert checks.keys() == set(keys)
    gaps = [later - earlier for times in checks.values() for earlier, later in itertools.pairwise([start, *times])]
    assert max(gaps) <= bound
    again = [later - earlier for times in checks.values() for earlier, later in itertools.pairwise(times)]
    assert min(again) >= COMMENT_POLL_EVERY * documented_period(60, budget, 2, count) - 1
