"""The migration itself: read the add-on, plan, then create each snippet on Cloud exactly once.

Order of a run:

1. **Preflight** (reads only): the first page of the Cloud workspace (bad credentials, a Free-plan
   workspace or a wrong slug stop here), then the add-on's list (wrong server URL, server
   credentials, missing add-on stop here).
2. **Read**: each snippet not yet done, with its files and comments; the server's users for names.
3. **Plan**: the Cloud requests still needed, and an estimate of the time against Cloud's hourly
   budget and at the measured pace. ``--dry-run`` stops here, having written nothing.
4. **Recover** creates a killed run may have sent (state ``creating``): the workspace is listed and
   an unclaimed snippet with the same title, file names and exact content, created after the
   intent was recorded, is adopted instead of creating another.
5. **Migrate**: the first snippet alone (a token without ``write:snippet:bitbucket`` is found out
   by one refused request), then the others ``--concurrency`` at a time. Per snippet: record the
   intent, one multipart POST with every file, record the id; then, per comment, record the intent,
   POST, record it. A comment that may have been sent before a crash is looked for on Cloud by
   its text before being sent again.

Auth, scope, plan and exhausted rate-limit errors stop the run (nothing else could succeed);
other errors fail one snippet, are reported, and are retried by the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO, TypeVar

from snippet_daemon.bitbucket import (
    BitbucketError,
    Forbidden,
    NetworkError,
    NotAuthenticated,
    NotFound,
    PlanRestricted,
    RateLimited,
    ServerError,
    Snippet,
    SnippetContent,
    SnippetsClient,
)
from snippet_daemon.bitbucket.adopt import find_created, parse_time
from snippet_daemon.migrate.progress import Progress, format_duration
from snippet_daemon.migrate.provenance import (
    DEFAULT_PROVENANCE_FILE,
    cloud_files,
    comment_text,
    normalize_for_match,
    provenance_file_name,
    provenance_text,
)
from snippet_daemon.migrate.report import MigrationReport, Outcome, OutcomeKind
from snippet_daemon.migrate.source import AddonSource, ServerSnippet, SourceError
from snippet_daemon.migrate.state import (
    MigrationState,
    ProvenanceMode,
    SnippetRecord,
    StateError,
    StateStore,
    digest,
    exclusive_lock,
    utc_now,
)
from snippet_daemon.migrate.users import UserNames

T = TypeVar("T")

CLOUD_HOURLY_BUDGET = 1000
WRITE_SCOPES_HELP = (
    "Migrating needs Bitbucket Cloud credentials with the scopes read:snippet:bitbucket and "
    "write:snippet:bitbucket, and write access to the workspace: create an API token at "
    "https://id.atlassian.com/manage-profile/security/api-tokens and set BITBUCKET_USERNAME and "
    "BITBUCKET_API_TOKEN (or run `snippet-daemon login`)."
)


class MigrationAborted(Exception):
    """The run cannot go on (bad input, credentials, plan, rate limit); the message says what to do."""


class SnippetFailed(Exception):
    """One snippet could not be migrated this time; the run goes on."""


@dataclass(frozen=True)
class MigrateOptions:
    server_url: str
    workspace: str
    state_path: Path
    report_path: Path
    all_users: bool = False
    keep_public: bool = False
    provenance: ProvenanceMode = "comment"
    provenance_file_name: str = DEFAULT_PROVENANCE_FILE
    user_map: Mapping[str, str] = field(default_factory=dict)
    concurrency: int = 4
    server_concurrency: int = 8
    dry_run: bool = False
    hourly_budget: int = CLOUD_HOURLY_BUDGET
    # When the client's own ~1 minute of 429 back-off runs out: pause every request this long, this often.
    rate_limit_pause: float = 300.0
    rate_limit_pauses: int = 12


@dataclass
class WorkItem:
    """One server snippet, and what migrating it still takes."""

    summary: ServerSnippet
    record: SnippetRecord
    started_before: bool  # some of it reached Cloud in an earlier run
    snippet: ServerSnippet | None = None
    problem: str | None = None
    title: str = ""
    is_private: bool = True
    files: dict[str, bytes] = field(default_factory=dict)
    comment_texts: list[str] = field(default_factory=list)
    requests: int = 0  # Cloud requests still planned

    @property
    def done(self) -> bool:
        return self.record.status == "done"


def cloud_link(snippet: Snippet) -> str:
    return snippet.html_url or f"https://bitbucket.org/snippets/{snippet.workspace}/{snippet.id}"


def _ambiguous(error: BitbucketError) -> bool:
    """Whether a failed write may nevertheless have been applied (so must be looked for on Cloud)."""
    return isinstance(error, (NetworkError, ServerError))


class Migration:
    """One run. ``cloud`` and ``source`` are open clients; their lifetimes belong to the caller."""

    def __init__(
        self,
        options: MigrateOptions,
        *,
        cloud: SnippetsClient,
        source: AddonSource,
        state: MigrationState,
        out: TextIO,
        tty: bool = False,
    ) -> None:
        self.options = options
        self.cloud = cloud
        self.source = source
        self.store = StateStore(options.state_path, state, dry_run=options.dry_run)
        self.out = out
        self.tty = tty
        self.report = MigrationReport(
            server_url=options.server_url,
            workspace=options.workspace,
            state_path=options.state_path,
            dry_run=options.dry_run,
        )
        self.names = UserNames(user_map=options.user_map)
        self.progress: Progress | None = None
        self._abort: str | None = None
        self._cooldown_until = 0.0
        self._seconds_per_request = 0.3
        self._cloud_requests_at_start = cloud.request_count
        self._server_requests_at_start = source.request_count

    @property
    def state(self) -> MigrationState:
        return self.store.state

    def say(self, text: str) -> None:
        if self.progress is not None:
            self.progress.note(text)
        else:
            print(text, file=self.out, flush=True)

    # ------------------------------------------------------------------ the run

    async def run(self) -> MigrationReport:
        """The whole run. Raises :class:`MigrationAborted` when the input is bad (before any write)."""
        options = self.options
        self.say(
            f"Migrating snippets from Bitbucket Server {options.server_url} to the Bitbucket Cloud workspace "
            f"{options.workspace}" + (" (dry run: nothing will be written)." if options.dry_run else ".")
        )
        await self._preflight_cloud()
        items = await self._read_server()
        self._plan(items)
        if options.dry_run:
            self._print_plan(items)
            return self._finish(items)
        try:
            await self._recover_interrupted_creates(items)
            await self._migrate_all(items)
        finally:
            if self.progress is not None:
                self.progress.close()
                self.progress = None
        return self._finish(items)

    # ------------------------------------------------------------------ 1. preflight

    async def _preflight_cloud(self) -> None:
        workspace = self.options.workspace
        started = time.perf_counter()
        try:
            # One page is enough to learn about credentials and plan; the full list is read only to recover.
            snippets = self.cloud.iter_snippets(workspace)
            try:
                async for _ in snippets:
                    break
            finally:
                await snippets.aclose()
        except PlanRestricted as error:
            raise MigrationAborted(
                f"The Bitbucket Cloud workspace {workspace!r} is on the Free plan, which has no snippets "
                f"({error.message}). Pass --to-workspace with a Standard or Premium workspace, or upgrade this one."
            ) from None
        except NotAuthenticated as error:
            raise MigrationAborted(f"Bitbucket Cloud: {error.message}") from None
        except Forbidden as error:
            raise MigrationAborted(
                f"Bitbucket Cloud does not let these credentials read the workspace {workspace!r}: {error.message} "
                + WRITE_SCOPES_HELP
            ) from None
        except NotFound:
            raise MigrationAborted(
                f"There is no Bitbucket Cloud workspace {workspace!r} (or these credentials cannot see it). "
                "Pass --to-workspace with the workspace's slug, as in https://bitbucket.org/WORKSPACE/."
            ) from None
        except BitbucketError as error:
            raise MigrationAborted(f"Bitbucket Cloud: {error.message}") from None
        self._seconds_per_request = max(0.01, time.perf_counter() - started)

    # ------------------------------------------------------------------ 2. read

    async def _read_server(self) -> list[WorkItem]:
        options = self.options
        try:
            summaries = [s async for s in self.source.iter_snippets(all_users=options.all_users)]
        except SourceError as error:
            raise MigrationAborted(error.message) from None
        whose = "of every user" if options.all_users else "of this account (--all-users for everyone's)"
        self.say(f"Bitbucket Server has {len(summaries)} snippet(s) {whose}.")
        existing = len(self.state.snippets)
        items = []
        for summary in summaries:
            started_before = (
                summary.guid in self.state.snippets and self.state.snippets[summary.guid].status != "pending"
            )
            record = self.state.record(summary.guid, summary.name)
            items.append(WorkItem(summary=summary, record=record, started_before=started_before))
        if existing:
            done = sum(item.done for item in items)
            partial = sum(1 for item in items if item.started_before and not item.done)
            self.say(f"Resuming with the state file {options.state_path}: {done} done, {partial} started.")
        else:
            self.say(f"State file: {options.state_path}" + (" (not written in a dry run)" if options.dry_run else ""))

        to_read = [item for item in items if not item.done]
        slots = asyncio.Semaphore(options.server_concurrency)

        async def read(item: WorkItem) -> None:
            async with slots:
                try:
                    item.snippet = await self.source.get_snippet(item.summary.guid)
                except SourceError as error:
                    item.problem = f"cannot read it from Bitbucket Server: {error.message}"

        await asyncio.gather(*(read(item) for item in to_read))
        await self._load_user_names([item.snippet for item in to_read if item.snippet])
        return items

    async def _load_user_names(self, snippets: list[ServerSnippet]) -> None:
        wanted = {s.user_id for s in snippets} | {c.user_id for s in snippets for c in s.comments}
        wanted.discard(None)
        if not wanted or wanted <= set(self.options.user_map):
            return
        try:
            users = await self.source.users()
        except SourceError:
            users = None
        if users is None:
            self.say(
                "Author names: the server's user API is not available to these credentials, so authors are "
                "shown by their server user id; pass --user-map FILE to name them."
            )
            return
        self.names.server_users = users
        unknown = {user_id for user_id in wanted if user_id not in users and user_id not in self.options.user_map}
        self.say(
            f"Author names: from the server's user API ({len(users)} users)"
            + (f"; {len(unknown)} id(s) unknown there are shown as ids (see --user-map)." if unknown else ".")
        )

    # ------------------------------------------------------------------ 3. plan

    def _provenance_mode(self, record: SnippetRecord) -> ProvenanceMode:
        # A snippet started in one mode finishes in it, whatever this run's option says.
        if record.status != "pending" and record.provenance is not None:
            return record.provenance
        return self.options.provenance

    def _prepare(self, item: WorkItem) -> None:
        snippet, record = item.snippet, item.record
        if snippet is None or item.done:
            return
        options = self.options
        mode = self._provenance_mode(record)
        files, renamed = cloud_files(snippet.files)
        provenance = provenance_text(snippet, server_url=options.server_url, names=self.names, renamed=renamed)
        if mode == "file":
            files[provenance_file_name(files, options.provenance_file_name)] = provenance.encode("utf-8")
        item.title = snippet.name
        item.is_private = not (options.keep_public and snippet.is_public)
        item.files = files
        item.comment_texts = ([provenance] if mode == "comment" else []) + [
            comment_text(comment, self.names) for comment in snippet.comments
        ]
        creates = 1 if record.status in ("pending", "creating") else 0
        lookups = 1 if record.comment_in_flight else 0
        item.requests = creates + lookups + max(0, len(item.comment_texts) - len(record.posted))

    def _plan(self, items: list[WorkItem]) -> None:
        for item in items:
            self._prepare(item)
        work = [item for item in items if not item.done and item.problem is None]
        requests = sum(item.requests for item in work)
        unreadable = sum(1 for item in items if item.problem)
        resumed = sum(1 for item in work if item.started_before)
        done = sum(item.done for item in items)
        unreadable_text = f", {unreadable} unreadable" if unreadable else ""
        self.say(
            f"Plan: {len(work)} snippet(s) to migrate ({len(work) - resumed} new, {resumed} to complete), "
            f"{done} already done{unreadable_text}; {requests} Bitbucket Cloud request(s) "
            f"({self._per_snippet_text()})."
        )
        if requests:
            self.say(self._estimate_text(requests))

    def _per_snippet_text(self) -> str:
        if self.options.provenance == "file":
            return "1 per snippet with every file and the provenance file, plus 1 per comment"
        return "1 per snippet with every file, 1 for its provenance comment, plus 1 per comment"

    def _estimate_text(self, requests: int) -> str:
        budget = self.options.hourly_budget
        hours = requests / budget
        concurrency = max(1, self.options.concurrency)
        at_pace = requests * self._seconds_per_request / concurrency
        text = (
            f"Estimate: {requests} requests / {budget:,} an hour (Bitbucket Cloud's limit per user) = "
            f"{hours:.2f} h of budget; at the measured pace (~{self._seconds_per_request * 1000:.0f} ms a request, "
            f"{concurrency} at a time) about {format_duration(at_pace)}."
        )
        if requests > budget:
            least = (requests - budget) / budget * 3600
            text += (
                f" That is more than an hour's budget: Bitbucket will answer 429 and the migration will pause and "
                f"go on by itself, taking at least {format_duration(max(at_pace, least))}; Ctrl-C is safe, re-run to "
                "resume."
            )
        return text

    def _print_plan(self, items: list[WorkItem]) -> None:
        for item in items:
            name = item.summary.name or "(untitled)"
            record = item.record
            if item.done:
                line = f"  done            {item.summary.guid}  {name} -> {record.cloud_url}"
            elif item.problem:
                line = f"  cannot migrate  {item.summary.guid}  {name}: {item.problem}"
            else:
                size = sum(len(content) for content in item.files.values())
                verb = {"pending": "create", "creating": "check+create", "created": "complete"}[record.status]
                line = (
                    f"  {verb:<15} {item.summary.guid}  {name}: {len(item.files)} file(s), {size:,} bytes, "
                    f"{len(item.snippet.comments) if item.snippet else 0} comment(s) -> {item.requests} request(s)"
                )
            print(line, file=self.out)

    # ------------------------------------------------------------------ Cloud calls

    async def _cloud(self, call: Callable[[], Awaitable[T]]) -> T:
        """One Cloud request, pausing everything when the client's own 429 back-off gave up."""
        loop = asyncio.get_running_loop()
        pauses = 0
        while True:
            while (wait := self._cooldown_until - loop.time()) > 0:
                await asyncio.sleep(wait)
            try:
                result = await call()
            except RateLimited:
                pauses += 1
                if pauses > self.options.rate_limit_pauses:
                    raise
                now = loop.time()
                if self._cooldown_until <= now:  # else another request already started this pause
                    self._cooldown_until = now + self.options.rate_limit_pause
                    self.say(
                        "Bitbucket Cloud keeps answering 429 (1,000 requests an hour per user): pausing "
                        f"{format_duration(self.options.rate_limit_pause)}, then going on by itself."
                    )
                continue
            if self.progress is not None:
                self.progress.request_done()
            return result

    def _fatal(self, error: BitbucketError) -> str | None:
        """The message that stops the whole run, for errors no other snippet could escape."""
        if isinstance(error, Forbidden):
            scopes = f" (missing: {', '.join(error.missing_scopes)})" if error.missing_scopes else ""
            return f"Bitbucket Cloud refused a write to {self.options.workspace!r}{scopes}: {error.message} " + (
                WRITE_SCOPES_HELP
            )
        if isinstance(error, PlanRestricted):
            return (
                f"The workspace {self.options.workspace!r} is on the Free plan ({error.message}). Pass --to-workspace "
                "with a Standard or Premium workspace."
            )
        if isinstance(error, NotAuthenticated):
            return f"Bitbucket Cloud: {error.message}"
        if isinstance(error, RateLimited):
            return f"{error.message} Progress is saved: run the same command later to go on."
        return None

    # ------------------------------------------------------------------ 4. recover

    async def _recover_interrupted_creates(self, items: list[WorkItem]) -> None:
        """Adopt, rather than repeat, creates that a killed run sent without recording their answer."""
        interrupted = [item for item in items if item.record.status == "creating" and item.problem is None]
        if not interrupted:
            return
        workspace = self.options.workspace
        self.say(
            f"{len(interrupted)} create(s) of an earlier run were interrupted (a crash, a kill, a failed connection) "
            "and may have reached Bitbucket Cloud: looking for them there before creating anything."
        )
        try:
            listing = await self._cloud(lambda: self.cloud.list_snippets(workspace))
        except BitbucketError as error:
            if (fatal := self._fatal(error)) is not None:
                raise MigrationAborted(fatal) from None
            for item in interrupted:
                item.problem = f"could not check whether its interrupted create reached Cloud: {error.message}"
            return
        claimed = self.state.claimed_cloud_ids()
        for item in sorted(interrupted, key=lambda item: item.record.intent_at or ""):
            record = item.record
            try:
                found = await self._find_created(record, listing, claimed)
            except BitbucketError as error:
                if (fatal := self._fatal(error)) is not None:
                    raise MigrationAborted(fatal) from None
                item.problem = f"could not check whether its interrupted create reached Cloud: {error.message}"
                continue
            if found is not None:
                claimed.add(found.id)
                record.created(found.id, cloud_link(found))
                self.say(f"  {record.guid}: found on Cloud as {cloud_link(found)}; not creating it again.")
            else:
                # Nothing on Cloud carries this create: it never arrived, so it is safe to send.
                record.status = "pending"
            self._prepare(item)
        await self.store.commit()

    async def _find_created(self, record: SnippetRecord, listing: list[Snippet], claimed: set[str]) -> Snippet | None:
        if record.fingerprint is None:
            return None
        workspace = self.options.workspace

        async def read(snippet_id: str) -> SnippetContent:
            return await self._cloud(functools.partial(self.cloud.get_snippet_content, workspace, snippet_id))

        return await find_created(
            listing,
            read,
            title=record.title or "",
            file_names=record.file_names,
            expected_fingerprint=record.fingerprint,
            since=parse_time(record.intent_at),
            claimed=claimed,
        )

    # ------------------------------------------------------------------ 5. migrate

    async def _migrate_all(self, items: list[WorkItem]) -> None:
        work = [item for item in items if not item.done and item.problem is None]
        self.progress = Progress(
            self.out,
            total_snippets=len(work),
            planned_requests=sum(item.requests for item in work),
            tty=self.tty,
        )
        if not work:
            return
        # The first create alone: a token that may not write is found out by one refused request.
        first = next((item for item in work if item.record.status == "pending"), work[0])
        await self._migrate_one(first)
        slots = asyncio.Semaphore(max(1, self.options.concurrency))

        async def bounded(item: WorkItem) -> None:
            async with slots:
                await self._migrate_one(item)

        await asyncio.gather(*(bounded(item) for item in work if item is not first))

    async def _migrate_one(self, item: WorkItem) -> None:
        if self._abort is not None:
            return
        record = item.record
        try:
            await self._create(item)
            await self._post_comments(item)
            record.finish()
            await self.store.commit(record)
        except SnippetFailed as failure:
            item.problem = str(failure)
        except BitbucketError as error:
            item.problem = error.message
            fatal = self._fatal(error)
            if fatal is not None and self._abort is None:
                self._abort = fatal
                self.say(f"Stopping: {fatal}")
        if item.problem:
            record.last_error = item.problem
            await self.store.commit(record)
        assert self.progress is not None
        if item.problem:
            self.progress.snippet_done(f"FAILED   {record.guid}  {item.title or '(untitled)'}: {item.problem}")
        else:
            comments = len(item.snippet.comments) if item.snippet else 0
            self.progress.snippet_done(
                f"migrated {record.guid}  {item.title or '(untitled)'} -> {record.cloud_url} "
                f"({len(item.files)} file(s), {comments} comment(s))"
            )

    async def _create(self, item: WorkItem) -> None:
        record = item.record
        if record.status != "pending":
            return
        mode = self._provenance_mode(record)
        record.begin_create(title=item.title, files=item.files, mode=mode)
        await self.store.commit(record)  # the intent is on disk before the request leaves
        try:
            created = await self._cloud(
                # A lost answer is settled by the next run's recovery, against the intent recorded above.
                lambda: self.cloud.create_snippet(
                    self.options.workspace,
                    item.files,
                    title=item.title,
                    is_private=item.is_private,
                    adopt_if_lost=False,
                )
            )
        except BitbucketError as error:
            if _ambiguous(error):
                # It may exist on Cloud: stay "creating" so the next run looks for it before creating.
                record.last_error = error.message
                await self.store.commit(record)
                raise SnippetFailed(
                    f"{error.message} The next run checks whether it was created before trying again."
                ) from None
            record.create_refused(error.message)
            await self.store.commit(record)
            raise
        if not created.id:
            raise SnippetFailed("Bitbucket Cloud answered the create without a snippet id")
        record.created(created.id, cloud_link(created))
        # Not committed on its own: the first comment's intent (or the finish) carries it to disk.

    async def _post_comments(self, item: WorkItem) -> None:
        record = item.record
        cloud_id = record.cloud_id
        assert cloud_id is not None
        workspace = self.options.workspace
        record.comments_total = len(item.comment_texts)
        try:
            if record.comment_in_flight is not None:
                await self._settle_comment_in_flight(record, cloud_id)
            for text in item.comment_texts[len(record.posted) :]:
                text_digest = digest(normalize_for_match(text))
                record.comment_in_flight = text_digest
                await self.store.commit(record)  # the intent is on disk before the request leaves
                try:
                    await self._cloud(functools.partial(self.cloud.create_comment, workspace, cloud_id, text))
                except BitbucketError as error:
                    if not _ambiguous(error):
                        record.comment_in_flight = None
                    raise
                record.posted.append(text_digest)
                record.comment_in_flight = None
        except NotFound:
            record.forget_cloud_snippet("its Cloud snippet was deleted")
            await self.store.commit(record)
            raise SnippetFailed(
                f"its Cloud snippet {cloud_id} no longer exists (deleted?); the next run creates it again"
            ) from None

    async def _settle_comment_in_flight(self, record: SnippetRecord, cloud_id: str) -> None:
        """Whether the comment a crash interrupted reached Cloud: count its text there against what we know."""
        in_flight = record.comment_in_flight
        comments = await self._cloud(lambda: self.cloud.list_comments(self.options.workspace, cloud_id))
        on_cloud = sum(
            1 for comment in comments if not comment.deleted and digest(normalize_for_match(comment.raw)) == in_flight
        )
        if in_flight is not None and on_cloud > record.posted.count(in_flight):
            record.posted.append(in_flight)
        record.comment_in_flight = None

    # ------------------------------------------------------------------ report

    def _finish(self, items: list[WorkItem]) -> MigrationReport:
        report = self.report
        for item in items:
            record = item.record
            comments = len(item.snippet.comments) if item.snippet else 0
            files = len(item.files)
            kind: OutcomeKind
            if self.options.dry_run:
                kind = "already done" if item.done else ("failed" if item.problem else "planned")
            elif item.done and item.problem is None and record.finished_at and record.finished_at >= report.started_at:
                kind = "completed" if item.started_before else "migrated"
            elif item.done:
                kind = "already done"
            elif item.problem:
                kind = "failed"
            else:
                kind = "not attempted"
            reason = item.problem or (self._abort if kind == "not attempted" else None)
            report.outcomes.append(
                Outcome(
                    guid=record.guid,
                    name=item.summary.name,
                    kind=kind,
                    cloud_url=record.cloud_url,
                    comments=comments,
                    files=files,
                    reason=reason,
                )
            )
        report.stopped_because = self._abort
        report.cloud_requests = self.cloud.request_count - self._cloud_requests_at_start
        report.server_requests = self.source.request_count - self._server_requests_at_start
        report.finished_at = utc_now()
        return report


async def run_migration(
    options: MigrateOptions, *, cloud: SnippetsClient, source: AddonSource, out: TextIO, tty: bool = False
) -> MigrationReport:
    """Lock the state file, load it, run, and write the report (except in a dry run, which writes nothing)."""
    lock: contextlib.AbstractContextManager[None] = (
        contextlib.nullcontext() if options.dry_run else exclusive_lock(options.state_path)
    )
    try:
        with lock:
            state = MigrationState.load(options.state_path, server_url=options.server_url, workspace=options.workspace)
            migration = Migration(options, cloud=cloud, source=source, state=state, out=out, tty=tty)
            report = await migration.run()
    except StateError as error:
        raise MigrationAborted(str(error)) from None
    if not options.dry_run:
        report.write(options.report_path)
    return report
