"""A create whose answer was lost: finding the snippet it may nevertheless have made.

A POST is not idempotent, so it is never sent twice. When its answer is lost (the connection broke
after it was sent, a proxy's 5xx, a crash) the snippet may exist: it is looked for among the
workspace's snippets and adopted. A candidate has the same title, the same file names (when the
listing names them) and was created no earlier than the create was decided, give or take
:data:`CLOCK_SKEW`; titles and names repeat, so the exact bytes of every file decide (one read per
candidate, the one created nearest to when the create was decided first: an identical snippet made
minutes before is not mistaken for it). Snippets already accounted for (``claimed``) are never
adopted twice.

Used by :meth:`SnippetsClient.create_snippet <snippet_daemon.bitbucket.client.SnippetsClient.create_snippet>`
(the daemon, the CLI) and by the migration's recovery of interrupted runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Awaitable, Callable, Collection, Container, Iterable, Mapping

from snippet_daemon.bitbucket.models import Snippet, SnippetContent

# A snippet created up to this long before the create was decided may still be it (clock skew).
CLOCK_SKEW = dt.timedelta(minutes=10)


def fingerprint(title: str, files: Mapping[str, bytes]) -> str:
    """What a create request carries, as one digest: the title and every file's name and bytes.

    Not the visibility: a workspace policy may make a snippet private whatever was asked, and the
    snippet would then go unrecognised. Surrounding spaces of the title may be trimmed by Cloud.
    """
    entries = sorted((name, hashlib.sha256(content).hexdigest()) for name, content in files.items())
    document = json.dumps({"title": title.strip(), "files": entries}, ensure_ascii=False)
    return hashlib.sha256(document.encode("utf-8", "surrogatepass")).hexdigest()


def parse_time(text: str | None) -> dt.datetime | None:
    """A Bitbucket timestamp (ISO 8601, ``Z`` or an offset) as an aware datetime; None when absent or odd."""
    if not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _candidate(
    snippet: Snippet, *, title: str, file_names: Collection[str], since: dt.datetime | None, claimed: Container[str]
) -> bool:
    if snippet.id in claimed or snippet.title.strip() != title.strip():
        return False
    if snippet.file_names and sorted(snippet.file_names) != sorted(file_names):
        return False
    created = parse_time(snippet.created_on)
    return since is None or created is None or created >= since - CLOCK_SKEW


async def find_created(
    listing: Iterable[Snippet],
    read: Callable[[str], Awaitable[SnippetContent]],
    *,
    title: str,
    file_names: Collection[str],
    expected_fingerprint: str,
    since: dt.datetime | None,
    claimed: Container[str] = frozenset(),
) -> Snippet | None:
    """The snippet of ``listing`` that a create of ``title`` with these files made, else None.

    ``read(id)`` reads a candidate's content (one request each, nearest to ``since`` first);
    ``expected_fingerprint`` is :func:`fingerprint` of what the create sent; ``since``: when it was decided.
    """
    candidates = [
        snippet
        for snippet in listing
        if _candidate(snippet, title=title, file_names=file_names, since=since, claimed=claimed)
    ]

    def nearest_first(snippet: Snippet) -> tuple[float, str]:
        created = parse_time(snippet.created_on)
        distance = abs((created - since).total_seconds()) if created is not None and since is not None else 0.0
        return distance, snippet.created_on or ""

    for snippet in sorted(candidates, key=nearest_first):
        content = await read(snippet.id)
        if fingerprint(content.snippet.title, content.files) == expected_fingerprint:
            return content.snippet
    return None
