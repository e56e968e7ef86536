"""The end-of-run report: counts, failures with their reasons, and where every snippet went.

Printed at the end of a run and written to ``--report`` (Markdown, or JSON when the file name ends
in ``.json``). It covers every snippet the server listed, not only those touched by this run, so the
last report of a resumed migration is the complete mapping from server guid to Cloud link.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from snippet_daemon.migrate.state import utc_now, write_atomically

OutcomeKind = Literal["migrated", "completed", "already done", "failed", "not attempted", "planned"]


@dataclass
class Outcome:
    guid: str
    name: str
    kind: OutcomeKind
    cloud_url: str | None = None
    comments: int = 0  # server comments re-posted (or to re-post, in a plan)
    files: int = 0
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "guid": self.guid,
            "name": self.name,
            "outcome": self.kind,
            "cloudUrl": self.cloud_url,
            "files": self.files,
            "comments": self.comments,
            "reason": self.reason,
        }


@dataclass
class MigrationReport:
    server_url: str
    workspace: str
    state_path: Path
    dry_run: bool = False
    started_at: str = field(default_factory=utc_now)
    finished_at: str | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    cloud_requests: int = 0
    server_requests: int = 0
    stopped_because: str | None = None  # a fatal error ended the run early

    def counts(self) -> dict[str, int]:
        counted = Counter(outcome.kind for outcome in self.outcomes)
        return {
            kind: counted.get(kind, 0)
            for kind in ("migrated", "completed", "already done", "failed", "not attempted", "planned")
        }

    @property
    def failures(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.kind in ("failed", "not attempted")]

    @property
    def complete(self) -> bool:
        return not self.failures and self.stopped_because is None and not self.dry_run

    def summary_lines(self) -> list[str]:
        counts = self.counts()
        if self.dry_run:
            lines = [
                f"Dry run: {counts['planned']} snippet(s) would be migrated, {counts['already done']} already are; "
                "nothing was written."
            ]
        else:
            lines = [
                f"{len(self.outcomes)} snippet(s) on the server: {counts['migrated']} migrated now, "
                f"{counts['completed']} completed (started earlier), {counts['already done']} already done, "
                f"{counts['failed']} failed, {counts['not attempted']} not attempted.",
            ]
        lines.append(
            f"Bitbucket Cloud requests: {self.cloud_requests}; Bitbucket Server requests: {self.server_requests}."
        )
        if self.stopped_because:
            lines.append(f"Stopped early: {self.stopped_because}")
        return lines

    def to_markdown(self) -> str:
        lines = [
            "# Snippet migration report",
            "",
            f"- From: Bitbucket Server {self.server_url} (Snippets for Bitbucket)",
            f"- To: Bitbucket Cloud workspace `{self.workspace}`",
            f"- State file: {self.state_path}",
            f"- Run: {self.started_at} to {self.finished_at or utc_now()}",
            "",
            *self.summary_lines(),
        ]
        if self.failures:
            lines += ["", "## Failures", ""]
            lines += [f"- `{o.guid}` {o.name!r}: {o.reason or o.kind}" for o in self.failures]
            lines += ["", "Run the same command again to retry them; what is done is not done twice."]
        lines += [
            "",
            "## Server snippet -> Bitbucket Cloud",
            "",
            "| server guid | name | outcome | Cloud |",
            "|---|---|---|---|",
        ]
        for outcome in self.outcomes:
            name = outcome.name.replace("|", "\\|") or "(untitled)"
            lines.append(f"| `{outcome.guid}` | {name} | {outcome.kind} | {outcome.cloud_url or ''} |")
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "server": self.server_url,
            "workspace": self.workspace,
            "stateFile": str(self.state_path),
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "dryRun": self.dry_run,
            "counts": self.counts(),
            "cloudRequests": self.cloud_requests,
            "serverRequests": self.server_requests,
            "stoppedBecause": self.stopped_because,
            "snippets": [outcome.to_json() for outcome in self.outcomes],
        }

    def write(self, path: Path) -> None:
        if path.suffix.lower() == ".json":
            data = json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"
        else:
            data = self.to_markdown()
        write_atomically(path, data.encode("utf-8", "surrogatepass"))
