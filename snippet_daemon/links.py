"""Links between a local folder (or one local file) and a snippet: what status and push compare against.

A link says: this folder holds snippet ``workspace/id`` as it was at ``revision``, and each tracked file had
this content digest there. Status compares the files on disk with those digests (no request); push sends
exactly the tracked files that differ (and the files the user names), in one compare-and-swap PUT at
``revision``. Files the snippet never had are never tracked: a snippet pulled into a project folder cannot
swallow the project.

The links live in the daemon's data folder, never in the user's tree: one private file per account
(``links/<hash of API URL and account>.json``, written atomically, 0600), shared by the daemon and the
command line (``pull`` records a link; ``link``, ``status``, ``push`` read it).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from snippet_daemon.error_kinds import ErrorKind
from snippet_daemon.paths import user_data_dir, write_private

if TYPE_CHECKING:
    from snippet_daemon.bitbucket import SnippetsClient
    from snippet_daemon.folder_writer import PullReport

log = logging.getLogger("snippet_daemon.links")

FileState = Literal["unchanged", "modified", "deleted"]
STORE_VERSION = 1


def content_digest(data: bytes) -> str:
    """:func:`snippet_daemon.bitbucket.models.content_digest`, imported on first use: importing the Bitbucket
    package at start-up would load httpx, which the daemon defers until it first talks to Bitbucket."""
    from snippet_daemon.bitbucket.models import content_digest as digest

    return digest(data)


class LinkError(ValueError):
    """A link that cannot be made or used; the message says what to do."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Link:
    """``target`` (absolute: a folder, or one file when ``file`` names the snippet file it holds) tied to
    a snippet at ``revision``. ``files``: every tracked snippet file -> its content digest at ``revision``;
    ``others``: digests of the snippet's files that are not tracked here (to recognise a push whose answer
    was lost, which compares the whole snippet)."""

    workspace: str
    id: str
    revision: str
    target: str
    files: dict[str, str]
    others: dict[str, str] = field(default_factory=dict)
    file: str | None = None
    # whether the snippet was private when linked (a push to a public one is secret-scanned); None: not known
    private: bool | None = None

    def path_of(self, name: str) -> Path:
        """Where the tracked snippet file ``name`` is on disk (names are checked before a link is made)."""
        if self.file is not None:
            return Path(self.target)
        return Path(self.target).joinpath(*name.split("/"))

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "workspace": self.workspace,
            "id": self.id,
            "revision": self.revision,
            "files": self.files,
            "others": self.others,
        }
        if self.file is not None:
            data["file"] = self.file
        if self.private is not None:
            data["private"] = self.private
        return data

    @classmethod
    def from_json(cls, target: str, data: Mapping[str, object]) -> Link | None:
        try:
            files = data["files"]
            others = data.get("others", {})
            file = data.get("file")
            private = data.get("private")
            assert isinstance(files, dict) and isinstance(others, dict)
            return cls(
                workspace=str(data["workspace"]),
                id=str(data["id"]),
                revision=str(data["revision"]),
                target=target,
                files={str(k): str(v) for k, v in files.items()},
                others={str(k): str(v) for k, v in others.items()},
                file=str(file) if file is not None else None,
                private=private if isinstance(private, bool) else None,
            )
        except (KeyError, AssertionError, TypeError):
            return None


@dataclass
class TrackedFile:
    name: str
    path: Path
    state: FileState


def local_states(link: Link) -> list[TrackedFile]:
    """Each tracked file's state on disk against the link (reads the files; no request)."""
    states: list[TrackedFile] = []
    for name, digest in sorted(link.files.items()):
        path = link.path_of(name)
        if not path.is_file():
            state: FileState = "deleted"
        else:
            state = "unchanged" if content_digest(path.read_bytes()) == digest else "modified"
        states.append(TrackedFile(name, path, state))
    return states


@dataclass
class PushPlan:
    """What a push sends (name -> bytes, or None to delete) and the digests of every file the snippet holds
    once it lands."""

    changes: dict[str, bytes | None]
    digests_after: dict[str, str]


def plan_push(link: Link, add: Iterable[str] = ()) -> PushPlan:
    """Every modified or deleted tracked file, plus ``add`` (names relative to the folder, which must exist)."""
    from snippet_daemon.names import UnsafePath, safe_target

    changes: dict[str, bytes | None] = {}
    for tracked in local_states(link):
        if tracked.state == "modified":
            changes[tracked.name] = tracked.path.read_bytes()
        elif tracked.state == "deleted":
            changes[tracked.name] = None
    for name in add:
        if link.file is not None:
            raise LinkError(
                ErrorKind.INVALID_ARGUMENT,
                f"{link.target} is one linked file; only it is pushed. Link a folder to add more files.",
            )
        try:
            path = safe_target(Path(link.target), name)
        except UnsafePath as error:
            raise LinkError(ErrorKind.UNSAFE_PATH, f"Cannot add {name!r}: {error}.") from None
        if not path.is_file():
            raise LinkError(
                ErrorKind.INVALID_ARGUMENT,
                f"Cannot add {name!r}: there is no such file in {link.target}. Name files relative to the folder.",
            )
        changes[name] = path.read_bytes()
    digests = {**link.others, **link.files}
    for name, data in changes.items():
        if data is None:
            digests.pop(name, None)
        else:
            digests[name] = content_digest(data)
    # A file sent with the content the link already records changes nothing: not sent.
    changes = {
        name: data
        for name, data in changes.items()
        if data is None or {**link.others, **link.files}.get(name) != content_digest(data)
    }
    return PushPlan(changes, digests)


def after_push(link: Link, revision: str, plan: PushPlan) -> Link:
    """The link once ``plan`` landed as ``revision``: every file sent is now tracked at its new content."""
    files = dict(link.files)
    others = dict(link.others)
    for name, data in plan.changes.items():
        others.pop(name, None)
        if data is None:
            files.pop(name, None)
        else:
            files[name] = content_digest(data)
    return Link(link.workspace, link.id, revision, link.target, files, others, link.file, link.private)


def new_link(
    workspace: str,
    snippet_id: str,
    revision: str,
    target: Path,
    snippet_files: Mapping[str, bytes],
    tracked: Iterable[str],
    *,
    file: str | None = None,
) -> Link:
    """A link tracking ``tracked`` of ``snippet_files`` (the snippet at ``revision``)."""
    chosen = set(tracked)
    digests = {name: content_digest(data) for name, data in snippet_files.items()}
    return Link(
        workspace,
        snippet_id,
        revision,
        str(target),
        {name: digest for name, digest in digests.items() if name in chosen},
        {name: digest for name, digest in digests.items() if name not in chosen},
        file,
    )


def link_folder(
    workspace: str, snippet_id: str, revision: str, target: Path, snippet_files: Mapping[str, bytes]
) -> Link:
    """``link`` of a folder: the snippet files present there are tracked; a single file: the snippet file of
    its name, or the snippet's only file. Local differences then show as ``modified``."""
    from snippet_daemon.names import UnsafePath, safe_target

    if target.is_file():
        if target.name in snippet_files:
            name = target.name
        elif len(snippet_files) == 1:
            name = next(iter(snippet_files))
        else:
            raise LinkError(
                ErrorKind.INVALID_ARGUMENT,
                f"Snippet {workspace}/{snippet_id} has no file named {target.name!r} (it has "
                f"{', '.join(sorted(snippet_files)) or 'none'}). Rename the file, or link its folder.",
            )
        return new_link(workspace, snippet_id, revision, target, snippet_files, [name], file=name)
    if not target.is_dir():
        raise LinkError(ErrorKind.INVALID_ARGUMENT, f"{target} is neither a folder nor a file.")
    present = []
    for name in snippet_files:
        try:
            if safe_target(target, name).is_file():
                present.append(name)
        except UnsafePath:
            continue
    return new_link(workspace, snippet_id, revision, target, snippet_files, present)


def pull_and_link(
    store: LinkStore | None,
    workspace: str,
    snippet_id: str,
    revision: str | None,
    files: Mapping[str, bytes],
    target: Path,
    *,
    overwrite: bool = False,
    private: bool | None = None,
) -> PullReport:
    """``pull`` for the daemon and the command line alike: write the files
    (:func:`~snippet_daemon.folder_writer.write_files`) and link the folder at ``revision``, tracking every file
    now on disk under the snippet's name (written, unchanged, or kept: a kept file differs, so it shows as
    ``modified``). Refused and failed names are not tracked, so a push never deletes them."""
    from snippet_daemon.folder_writer import write_files

    report = write_files(target, files, overwrite=overwrite)
    if store is not None and revision:
        tracked = [outcome.name for outcome in report.files if outcome.status in ("written", "unchanged", "kept")]
        made = new_link(workspace, snippet_id, revision, target, files, tracked)
        made.private = private
        store.put(made)
    return report


# --------------------------------------------------------------------------- the store


def store_path(data_dir: Path, api_url: str, account: str) -> Path:
    """The links of one account at one API URL (the name is a hash: no email in a file name)."""
    key = hashlib.sha256(f"{api_url.rstrip('/')}\n{account}".encode()).hexdigest()[:16]
    return data_dir / "links" / f"{key}.json"


class LinkStore:
    """The links of one account, by absolute target path; read once, written whole on each change."""

    def __init__(self, path: Path, api_url: str) -> None:
        self.path = path
        self.api_url = api_url
        self._links: dict[str, Link] | None = None

    @classmethod
    def for_account(cls, api_url: str, account: str, env: Mapping[str, str] | None = None) -> LinkStore:
        return cls(store_path(user_data_dir(env), api_url, account), api_url)

    def _load(self) -> dict[str, Link]:
        if self._links is None:
            self._links = {}
            try:
                document = json.loads(self.path.read_bytes())
            except FileNotFoundError:
                document = {}
            except (OSError, ValueError) as error:
                log.warning("the links file %s cannot be read (%s); starting without links", self.path, error)
                document = {}
            raw = document.get("links", {}) if isinstance(document, dict) else {}
            for target, data in raw.items() if isinstance(raw, dict) else []:
                link = Link.from_json(target, data) if isinstance(data, dict) else None
                if link is not None:
                    self._links[target] = link
        return self._links

    def _save(self) -> None:
        links = self._load()
        document = {
            "version": STORE_VERSION,
            "apiUrl": self.api_url,
            "links": {target: link.to_json() for target, link in sorted(links.items())},
        }
        write_private(self.path, json.dumps(document, indent=1).encode("utf-8"))

    def get(self, target: Path) -> Link | None:
        return self._load().get(str(canonical(target)))

    def find(self, target: Path) -> Link:
        """The link of ``target``; ``invalidArgument`` saying how to make one when there is none."""
        link = self.get(target)
        if link is None:
            raise LinkError(
                ErrorKind.INVALID_ARGUMENT,
                f"{target} is not linked to a snippet. Pull a snippet into it, or link it: "
                f"`snippet-daemon link {target} WORKSPACE/ID` (editors: the link command).",
            )
        return link

    def put(self, link: Link) -> None:
        """Record ``link`` (replacing the target's old one). The file is read again first: the daemon and a
        command line may both have written it since this store last read it."""
        link.target = str(canonical(Path(link.target)))
        self._links = None
        self._load()[link.target] = link
        self._save()

    def remove(self, target: Path) -> bool:
        """Forget ``target``'s link; whether there was one."""
        self._links = None
        removed = self._load().pop(str(canonical(target)), None)
        if removed is not None:
            self._save()
        return removed is not None

    def links(self, under: Path | None = None) -> list[Link]:
        """Every link, by target; ``under``: only those of that folder and below."""
        found = sorted(self._load().values(), key=lambda link: link.target)
        if under is None:
            return found
        root = canonical(under)
        return [link for link in found if Path(link.target) == root or Path(link.target).is_relative_to(root)]


def canonical(target: Path) -> Path:
    """The one spelling of a path that links are kept under (absolute, symlinks resolved)."""
    return target.expanduser().resolve()


def check_absolute(given: str, what: str = "folder") -> Path:
    path = Path(given).expanduser()
    if not path.is_absolute():
        raise LinkError(
            ErrorKind.INVALID_ARGUMENT,
            f"{what} must be an absolute path (got {given!r}): the daemon's own folder is not yours.",
        )
    return path


async def store_for_client(client: SnippetsClient, env: Mapping[str, str] | None, nickname: str | None) -> LinkStore:
    """The links of the account ``client`` speaks for: by its login name, else (an OAuth token has none) by the
    account's nickname, given or read (``GET /user``, one request)."""
    account = client.credentials.username if client.credentials else None
    if not account:
        account = nickname
    if not account:
        found = await client.current_user_if_readable()
        account = (found.nickname or found.uuid) if found else None
    return LinkStore.for_account(client.api_url, account or "account", env)
