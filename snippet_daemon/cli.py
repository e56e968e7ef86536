"""``snippet-daemon``: the command line.

With no subcommand (or ``--stdio``, which vscode-languageclient appends) it is the language
server. Subcommands are thin over the same Bitbucket client the daemon uses:

    login | logout | whoami        credentials in the OS keyring (or the environment)
    list [WORKSPACE]               the snippets of a workspace
    share FILE[:START-END]         a file, or some of its lines, as a new (private) snippet
    pull WORKSPACE/ID [DIR]        a snippet's files into a folder, byte-exact and path-safe (and linked)
    link FOLDER WORKSPACE/ID       tie a folder (or one file) to a snippet, for status and push
    status FOLDER                  a linked folder's files against its snippet
    push FOLDER                    send a linked folder's changes back, in one compare-and-swap write
    apply WS/ID[/FILE] [FOLDER]    apply a patch snippet to a folder, all or nothing
    share --diff                   a git repository's changes as a patch snippet
    sandbox                        a local Bitbucket-compatible server to try everything offline
    mcp                            the snippets for AI agents (a Model Context Protocol server on stdio)
    migrate                        copy Bitbucket Server's Snippets add-on to a Cloud workspace

Heavy modules (httpx, keyring, the sandbox) are imported inside the commands that need them,
so ``--version`` and ``--help`` stay instant.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from snippet_daemon import __version__
from snippet_daemon.console import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, print_error

if TYPE_CHECKING:
    from snippet_daemon.bitbucket import SnippetsClient
    from snippet_daemon.folder_writer import PullReport
    from snippet_daemon.links import Link
    from snippet_daemon.uri import SnippetReference


class CommandError(Exception):
    """An error a command reports to the user (message only, exit code 1)."""


def _err(message: str) -> None:
    print_error(message)


# --------------------------------------------------------------------------- helpers


def _open_client() -> SnippetsClient:
    from snippet_daemon.bitbucket import SnippetsClient, api_url_from_env, resolve_credentials

    api_url = api_url_from_env()
    return SnippetsClient(resolve_credentials(api_url), api_url)


async def _default_workspace(client: SnippetsClient, given: str | None) -> str:
    """The workspace named, else ``BITBUCKET_WORKSPACE``, else the user's personal workspace."""
    chosen = given or os.environ.get("BITBUCKET_WORKSPACE")
    if chosen:
        return chosen
    account = await client.current_user_if_readable()
    if account is None:
        raise CommandError(
            "Which workspace? Pass --workspace (or set BITBUCKET_WORKSPACE); the token cannot read "
            "your account (scope read:user:bitbucket) to guess your personal workspace."
        )
    if not account.nickname:
        raise CommandError("Which workspace? Pass --workspace or set BITBUCKET_WORKSPACE.")
    return account.nickname


async def describe_account(client: SnippetsClient) -> str:
    """Who the credentials belong to, in one request (``GET /user``); without read:user:bitbucket
    the username stands in for the name."""
    account = await client.current_user_if_readable()
    if account is None:
        username = (client.credentials.username if client.credentials else None) or "the token's account"
        return f"{username} (the token lacks read:user:bitbucket, so the name is not shown)"
    return f"{account.display_name} ({account.nickname or account.uuid})"


def snippet_reference(text: str) -> SnippetReference:
    """``WORKSPACE/ID`` or one of the snippet's web addresses (the daemon's one parser, :mod:`snippet_daemon.uri`)."""
    from snippet_daemon.bitbucket import api_url_from_env
    from snippet_daemon.protocol import ProtocolError
    from snippet_daemon.uri import parse_reference

    try:
        return parse_reference(text, api_url_from_env())
    except ProtocolError as error:
        raise CommandError(error.message) from None


def parse_snippet_ref(text: str) -> tuple[str, str]:
    """``WORKSPACE/ID`` or a snippet's web or API URL -> ``(workspace, id)``."""
    reference = snippet_reference(text)
    return reference.workspace, reference.id


_RANGE = re.compile(r"^(?P<path>.+):(?P<start>\d+)(?:-(?P<end>\d+))?$")


def read_selection(spec: str) -> tuple[Path, bytes, tuple[int, int] | None]:
    """``FILE`` or ``FILE:START-END`` (1-based, inclusive) -> (path, bytes, line range)."""
    path = Path(spec)
    line_range: tuple[int, int] | None = None
    match = _RANGE.match(spec)
    if not path.is_file() and match:
        path = Path(match["path"])
        start = int(match["start"])
        end = int(match["end"] or start)
        if start < 1 or end < start:
            raise CommandError(f"bad line range in {spec!r}: lines start at 1 and END must be >= START")
        line_range = (start, end)
    if path.is_dir():
        raise CommandError(f"{path} is a folder: name the files in it (share takes several).")
    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    content = path.read_bytes()
    if line_range:
        lines = content.splitlines(keepends=True)
        if line_range[0] > len(lines):
            raise CommandError(f"{path} has {len(lines)} lines; the range {line_range[0]}-{line_range[1]} is past it")
        content = b"".join(lines[line_range[0] - 1 : line_range[1]])
    return path, content, line_range


def _run(command: Callable[[SnippetsClient], Awaitable[int]]) -> int:
    from snippet_daemon.bitbucket import BitbucketError

    async def main() -> int:
        async with _open_client() as client:
            return await command(client)

    try:
        return asyncio.run(main())
    except (BitbucketError, CommandError) as error:
        _err(str(error))
        return EXIT_ERROR


# --------------------------------------------------------------------------- commands


def _read_secret(prompt: str) -> str:
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(prompt)
    # Piped input (scripts, tests): read one line without echoing anything back.
    return sys.stdin.readline().rstrip("\r\n")


def cmd_login(args: argparse.Namespace) -> int:
    from snippet_daemon.bitbucket import (
        BitbucketError,
        Credentials,
        KeyringStore,
        SnippetsClient,
        api_url_from_env,
    )

    api_url = api_url_from_env()
    # Said before anything is asked: without a keyring there is nowhere to keep what the user would type.
    _, keyring_problem = KeyringStore().check()
    if keyring_problem is not None:
        _err(f"{keyring_problem} Nothing was asked or stored.")
        return EXIT_ERROR
    if args.access_token:
        secret = _read_secret("OAuth access token: ").strip()
        credentials = Credentials(kind="accessToken", secret=secret, source="keyring")
    else:
        username = args.username
        if not username:
            if sys.stdin.isatty():
                username = input("Atlassian account email: ").strip()
            else:
                username = sys.stdin.readline().strip()
        secret = _read_secret("API token: ").strip()
        if "@" not in (username or ""):
            _err(
                "the username for an API token is your Atlassian account email (app passwords and "
                "Bitbucket usernames no longer work)."
            )
            return EXIT_USAGE
        credentials = Credentials(kind="apiToken", secret=secret, username=username, source="keyring")
    if not secret:
        _err("no secret given; nothing stored.")
        return EXIT_USAGE

    async def verify() -> str:
        async with SnippetsClient(credentials, api_url) as client:
            return await describe_account(client)

    try:
        who = asyncio.run(verify())
        KeyringStore().save(api_url, credentials)
    except BitbucketError as error:
        _err(f"{error} Nothing was stored.")
        return EXIT_ERROR
    print(f"Logged in to {api_url} as {who}. The secret is in the OS keyring (service bitbucket-snippets).")
    return EXIT_OK


def cmd_logout(args: argparse.Namespace) -> int:
    from snippet_daemon.bitbucket import BitbucketError, KeyringStore, api_url_from_env

    api_url = api_url_from_env()
    try:
        removed = KeyringStore().delete(api_url)
    except BitbucketError as error:
        _err(str(error))
        return EXIT_ERROR
    print(f"Logged out of {api_url}." if removed else f"No stored credentials for {api_url}.")
    if os.environ.get("BITBUCKET_ACCESS_TOKEN") or os.environ.get("BITBUCKET_API_TOKEN"):
        print("Credentials in the environment (BITBUCKET_*) still apply; unset them to log out fully.")
    return EXIT_OK


def cmd_whoami(args: argparse.Namespace) -> int:
    async def command(client: SnippetsClient) -> int:
        source = client.credentials.source if client.credentials else "nowhere"
        print(f"{await describe_account(client)} at {client.api_url}, credentials from the {source}")
        return EXIT_OK

    return _run(command)


def cmd_list(args: argparse.Namespace) -> int:
    async def command(client: SnippetsClient) -> int:
        workspace = await _default_workspace(client, args.workspace)
        snippets = await client.list_snippets(workspace, args.role)
        if args.json:
            import json

            rows = [
                {
                    "workspace": s.workspace,
                    "id": s.id,
                    "title": s.title,
                    "isPrivate": s.is_private,
                    "updatedOn": s.updated_on,
                    "htmlUrl": s.html_url,
                }
                for s in snippets
            ]
            print(json.dumps(rows, indent=2))
            return EXIT_OK
        if not snippets:
            print(f"No snippets in {workspace}.")
        for snippet in snippets:
            visibility = "private" if snippet.is_private else "public "
            updated = (snippet.updated_on or "")[:16].replace("T", " ")
            print(f"{snippet.workspace}/{snippet.id:<10} {visibility} {updated}  {snippet.title or '(untitled)'}")
        return EXIT_OK

    return _run(command)


STDIN = "-"
PRIVATE_MEANS = "private: only members of the workspace {workspace} can see it"
PUBLIC_MEANS = "public: anyone with the link can see it, signed in or not"


def read_share_files(specs: Sequence[str], name: str | None) -> tuple[dict[str, bytes], str]:
    """The files ``share`` sends (each ``FILE``, ``FILE:START-END`` or ``-`` for stdin) and their default title."""
    if specs.count(STDIN) > 1:
        raise CommandError("'-' (standard input) can be given once.")
    if STDIN in specs and not name:
        raise CommandError("reading standard input (-) needs --name NAME: the file's name in the snippet.")
    if name and len(specs) > 1 and STDIN not in specs:
        raise CommandError("--name names one file: give it with a single FILE, or with - for standard input.")
    files: dict[str, bytes] = {}
    titles: list[str] = []
    for spec in specs:
        if spec == STDIN:
            file_name, content, title = name or "", sys.stdin.buffer.read(), name or ""
        else:
            path, content, line_range = read_selection(spec)
            file_name = name if name and len(specs) == 1 else path.name
            title = f"{file_name} (lines {line_range[0]}-{line_range[1]})" if line_range else file_name
        if file_name in files:
            raise CommandError(f"two files would be named {file_name!r} in the snippet; a snippet's names are unique.")
        files[file_name] = content
        titles.append(title)
    return files, ", ".join(titles)


def refuse_secrets(files: dict[str, bytes]) -> None:
    """The daemon's own secret scan (:mod:`snippet_daemon.secret_scan`), before anything is sent."""
    from snippet_daemon.secret_scan import scan_files

    findings = scan_files(files)
    if findings:
        listed = "".join(f"\n  {finding.describe()}" for finding in findings)
        raise CommandError(
            f"nothing was shared: this would publish what looks like a credential:{listed}\n"
            "Remove it, share it privately (without --public), or add --allow-secrets if it is not a secret."
        )


def cmd_share(args: argparse.Namespace) -> int:
    if args.diff:
        if len(args.files) > 1:
            _err("--diff takes one folder (default: the current one).")
            return EXIT_USAGE
        return cmd_share_diff(args)
    if not args.files:
        _err("name the FILEs to share, - for standard input (or --diff to share a git repository's changes).")
        return EXIT_USAGE
    try:
        files, default_title = read_share_files(args.files, args.name)
        if args.public and not args.allow_secrets:
            refuse_secrets(files)
    except CommandError as error:
        _err(str(error))
        return EXIT_ERROR
    title = args.title if args.title is not None else default_title

    async def command(client: SnippetsClient) -> int:
        workspace = await _default_workspace(client, args.workspace)
        snippet = await client.create_snippet(workspace, files, title=title, is_private=not args.public)
        print(snippet.html_url or f"{workspace}/{snippet.id}")
        means = PRIVATE_MEANS.format(workspace=workspace) if snippet.is_private else PUBLIC_MEANS
        _err(f"shared {len(files)} file(s) as {workspace}/{snippet.id}, {means}.")
        return EXIT_OK

    return _run(command)


def _print_pull_report(report: PullReport) -> int:
    labels = {"written": "wrote", "unchanged": "unchanged", "kept": "kept", "refused": "refused", "failed": "failed"}
    for outcome in report.files:
        where = outcome.path if outcome.path is not None else outcome.name
        line = f"{labels[outcome.status]:<10} {where}" + (f": {outcome.message}" if outcome.message else "")
        print(line, file=sys.stderr if outcome.status in ("refused", "failed") else sys.stdout)
    if report.kept:
        _err(f"{len(report.kept)} file(s) differ locally and were kept; --overwrite replaces them.")
    if report.refused:
        _err(f"{len(report.refused)} file name(s) were unsafe and were not written.")
    if report.failed:
        _err(f"{len(report.failed)} file(s) could not be written (see above); the others were.")
    return EXIT_PARTIAL if report.not_written else EXIT_OK


def _chosen_files(reference: SnippetReference, files: dict[str, bytes], wanted: str | None) -> dict[str, bytes]:
    """All of ``files``, or the one ``--file`` or the address's ``#file-NAME`` points at."""
    from snippet_daemon.uri import file_named

    anchor = wanted or reference.file
    if anchor is None:
        return files
    name = file_named(anchor, files)
    if name is None:
        raise CommandError(
            f"{reference.workspace}/{reference.id} has no file {anchor!r}; its files: {', '.join(sorted(files))}."
        )
    return {name: files[name]}


def cmd_pull(args: argparse.Namespace) -> int:
    from snippet_daemon.folder_writer import default_target
    from snippet_daemon.names import UnsafePath

    try:
        reference = snippet_reference(args.snippet)
        target = Path(args.dir) if args.dir else default_target(Path.cwd(), reference.id)
    except (CommandError, UnsafePath) as error:
        _err(str(error))
        return EXIT_USAGE

    async def command(client: SnippetsClient) -> int:
        from snippet_daemon.bitbucket import BitbucketError
        from snippet_daemon.links import LinkStore, pull_and_link, store_for_client

        store: LinkStore | None
        try:
            store = await store_for_client(client, None, None)
        except BitbucketError as error:  # the pull goes on; the folder is not linked
            _err(f"the folder will not be linked (status and push need a link): {error}")
            store = None
        content = await client.get_snippet_content(
            reference.workspace, reference.id, args.revision or reference.revision
        )
        report = pull_and_link(
            store,
            reference.workspace,
            reference.id,
            content.snippet.revision,
            content.files,
            target,
            overwrite=args.overwrite,
            private=content.snippet.is_private,
        )
        return _print_pull_report(report)

    return _run(command)


def _show_files(files: dict[str, bytes]) -> int:
    """One file as it is; several as ``==> NAME <==`` sections (as ``head`` does); binary files not on a terminal."""
    from snippet_daemon.features.common import is_binary

    out = sys.stdout.buffer
    if len(files) == 1:
        [(name, content)] = files.items()
        if sys.stdout.isatty() and is_binary(content):
            raise CommandError(f"{name} is binary ({len(content):,} bytes): redirect it to a file, or use --dir DIR.")
        out.write(content)
        out.flush()
        return EXIT_OK
    for number, (name, content) in enumerate(sorted(files.items())):
        gap = b"\n" if number else b""
        if is_binary(content):
            out.write(gap + f"==> {name} <== (binary, {len(content):,} bytes: --file {name} prints it)\n".encode())
            continue
        ending = b"" if content.endswith(b"\n") or not content else b"\n"
        out.write(gap + f"==> {name} <==\n".encode() + content + ending)
    out.flush()
    return EXIT_OK


def cmd_open(args: argparse.Namespace) -> int:
    try:
        reference = snippet_reference(args.snippet)
    except CommandError as error:
        _err(str(error))
        return EXIT_USAGE

    async def command(client: SnippetsClient) -> int:
        from snippet_daemon.folder_writer import write_files

        revision = args.revision or reference.revision
        content = await client.get_snippet_content(reference.workspace, reference.id, revision)
        files = _chosen_files(reference, content.files, args.file)
        if args.dir:
            return _print_pull_report(write_files(Path(args.dir), files, overwrite=args.overwrite))
        return _show_files(files)

    return _run(command)


def _confirm(question: str) -> bool:
    print(question, end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def cmd_delete(args: argparse.Namespace) -> int:
    try:
        reference = snippet_reference(args.snippet)
    except CommandError as error:
        _err(str(error))
        return EXIT_USAGE
    name = f"{reference.workspace}/{reference.id}"
    if not args.yes and not sys.stdin.isatty():
        _err(f"not deleted: confirm with --yes to delete {name} (nothing asks on a pipe).")
        return EXIT_USAGE

    async def command(client: SnippetsClient) -> int:
        if not args.yes:
            snippet = await client.get_snippet(reference.workspace, reference.id)
            question = f"Delete {name} ({snippet.title or 'untitled'}) and its history for everyone? [y/N] "
            if not _confirm(question):
                _err("not deleted.")
                return EXIT_ERROR
        await client.delete_snippet(reference.workspace, reference.id)
        print(f"Deleted {name}.")
        return EXIT_OK

    return _run(command)


# --------------------------------------------------------------------------- link / status / push / apply (#17)


def cmd_link(args: argparse.Namespace) -> int:
    from snippet_daemon import links

    try:
        workspace, snippet_id = parse_snippet_ref(args.snippet)
    except CommandError as error:
        _err(str(error))
        return EXIT_USAGE
    target = links.canonical(Path(args.folder))

    async def command(client: SnippetsClient) -> int:
        store = await links.store_for_client(client, None, None)
        content = await client.get_snippet_content(workspace, snippet_id)
        try:
            made = links.link_folder(workspace, snippet_id, content.snippet.revision or "", target, content.files)
            made.private = content.snippet.is_private
        except links.LinkError as error:
            raise CommandError(str(error)) from None
        store.put(made)
        tracked = ", ".join(sorted(made.files)) or "no files yet (push --add NAME adds some)"
        print(f"linked {target} to {workspace}/{snippet_id} at {made.revision[:12]}: {tracked}")
        return _print_states(made, None)

    return _run(command)


def _print_states(link: Link, remote_revision: str | None) -> int:
    from snippet_daemon.links import local_states

    changed = 0
    for tracked in local_states(link):
        if tracked.state != "unchanged":
            changed += 1
            print(f"{tracked.state:<10} {tracked.path}")
    if remote_revision and remote_revision != link.revision:
        print(
            f"the snippet moved on Bitbucket (now {remote_revision[:12]}, linked at {link.revision[:12]}): "
            "a push would conflict; pull into another folder to compare."
        )
    if not changed:
        print("no local changes")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from snippet_daemon import links

    async def command(client: SnippetsClient) -> int:
        store = await links.store_for_client(client, None, None)
        try:
            found = store.find(links.canonical(Path(args.folder)))
        except links.LinkError as error:
            raise CommandError(str(error)) from None
        remote = await client.get_snippet(found.workspace, found.id)
        print(f"{found.target}: {found.workspace}/{found.id} at {found.revision[:12]}")
        return _print_states(found, remote.revision)

    return _run(command)


def cmd_push(args: argparse.Namespace) -> int:
    from snippet_daemon import links
    from snippet_daemon.bitbucket import Conflict

    async def command(client: SnippetsClient) -> int:
        store = await links.store_for_client(client, None, None)
        try:
            found = store.find(links.canonical(Path(args.folder)))
            plan = links.plan_push(found, args.add or [])
        except links.LinkError as error:
            raise CommandError(str(error)) from None
        if not plan.changes:
            print(f"nothing to push: {found.target} matches {found.workspace}/{found.id} at {found.revision[:12]}")
            return EXIT_OK
        if found.private is False and not args.allow_secrets:
            from snippet_daemon.secret_scan import scan_files

            findings = scan_files({name: data for name, data in plan.changes.items() if data is not None})
            if findings:
                listed = "; ".join(finding.describe() for finding in findings[:5])
                raise CommandError(
                    f"not pushed: {found.workspace}/{found.id} is public and this looks like a credential: {listed}. "
                    "Remove it, or push --allow-secrets if it is not a secret."
                )
        try:
            snippet = await client.update_snippet(
                found.workspace,
                found.id,
                files=plan.changes,
                at_revision=None if args.force else found.revision,
                digests_after=plan.digests_after,
            )
        except Conflict as conflict:
            now = f" (now {conflict.remote_revision[:12]})" if conflict.remote_revision else ""
            raise CommandError(
                f"{found.workspace}/{found.id} changed on Bitbucket{now} since {found.target} was linked at "
                f"{found.revision[:12]}: nothing was sent, and your files are as they were. Pull it into another "
                "folder to compare, or push --force to replace what is there."
            ) from None
        revision = snippet.revision or found.revision
        store.put(links.after_push(found, revision, plan))
        for name, data in sorted(plan.changes.items()):
            print(f"{'deleted' if data is None else 'sent':<10} {name}")
        print(f"{found.workspace}/{found.id} is now at {revision[:12]}")
        return EXIT_OK

    return _run(command)


def cmd_apply(args: argparse.Namespace) -> int:
    from snippet_daemon import patches

    try:
        workspace, snippet_id = parse_snippet_ref(args.snippet)
    except CommandError as error:
        _err(str(error))
        return EXIT_USAGE
    path: str | None = None
    prefix = f"{workspace}/{snippet_id}/"
    if args.snippet.startswith(prefix) and len(args.snippet) > len(prefix):
        path = args.snippet[len(prefix) :]
    folder = Path(args.folder) if args.folder else Path.cwd()
    if not folder.is_dir():
        _err(f"{folder} is not a folder: name the folder to apply the patch in.")
        return EXIT_USAGE

    async def command(client: SnippetsClient) -> int:
        content = await client.get_snippet_content(workspace, snippet_id)
        try:
            name = patches.choose_patch_file(content.files, path, f"{workspace}/{snippet_id}")
            report = patches.apply_patch(folder, content.files[name], dry_run=args.dry_run)
        except patches.PatchError as error:
            raise CommandError(str(error)) from None
        for outcome in report.files:
            where = outcome.path if outcome.path is not None else outcome.name
            line = f"{outcome.status:<10} {where}" + (f": {outcome.message}" if outcome.message else "")
            print(line, file=sys.stdout if outcome.status not in ("failed", "refused") else sys.stderr)
        if not report.applied:
            _err("the patch was not applied: nothing changed (see above).")
            return EXIT_ERROR
        if args.dry_run:
            print("dry run: the patch applies cleanly; nothing was written.")
        return EXIT_OK

    return _run(command)


def cmd_share_diff(args: argparse.Namespace) -> int:
    from snippet_daemon import patches

    folder = Path(args.files[0]) if args.files else Path.cwd()
    try:
        shared = patches.git_diff(folder.resolve(), staged=args.staged, include_untracked=args.untracked)
    except patches.GitError as error:
        _err(str(error))
        return EXIT_ERROR
    for item in shared.left_out:
        _err(f"left out {item.name}: {item.reason}")
    if not shared.files:
        _err(patches.nothing_to_share(shared, staged=args.staged))
        return EXIT_ERROR
    name = patches.patch_name(shared)
    files = {name: shared.patch}
    if args.public and not args.allow_secrets:
        try:
            refuse_secrets(files)
        except CommandError as error:
            _err(str(error))
            return EXIT_ERROR
    title = args.title if args.title is not None else patches.patch_title(shared, staged=args.staged)

    async def command(client: SnippetsClient) -> int:
        workspace = await _default_workspace(client, args.workspace)
        snippet = await client.create_snippet(workspace, files, title=title, is_private=not args.public)
        print(snippet.html_url or f"{workspace}/{snippet.id}")
        return EXIT_OK

    return _run(command)


def cmd_search(args: argparse.Namespace) -> int:
    """Refresh the local index (what changed since last time: a request or a few), then search it, grep style."""

    async def command(client: SnippetsClient) -> int:
        from snippet_daemon.budget import TokenBucket
        from snippet_daemon.index import DEFAULT_BUDGET_PER_HOUR, IndexRefresher, open_index, query_problem
        from snippet_daemon.paths import user_cache_dir

        problem = query_problem(args.query)
        if problem is not None:
            _err(problem)
            return EXIT_USAGE
        workspaces = [await _default_workspace(client, args.workspace)]
        index = await open_index(user_cache_dir(), client)
        if index.problem:
            _err(index.problem)
        try:
            indexer = IndexRefresher(
                index, client, TokenBucket(DEFAULT_BUDGET_PER_HOUR, capacity=DEFAULT_BUDGET_PER_HOUR)
            )
            complete = await indexer.refresh(workspaces)
            hits = index.search(args.query, workspaces, args.limit)
        finally:
            index.close()
        for hit in hits:
            print(f"{hit.workspace}/{hit.id}:{hit.name}:{hit.line or 1}: {hit.preview}")
        if not complete:
            _err("the index is not complete yet (its hourly request budget ran out); run it again later for more.")
        return EXIT_OK if hits else EXIT_ERROR

    return _run(command)


def cmd_index(args: argparse.Namespace) -> int:
    from snippet_daemon.paths import user_cache_dir

    folder = user_cache_dir()
    found = sorted(folder.glob("index-*.sqlite3*")) if folder.is_dir() else []
    if args.clear:
        for path in found:
            path.unlink(missing_ok=True)
        print(f"deleted {len([p for p in found if p.suffix == '.sqlite3'])} search index file(s) in {folder}")
        return EXIT_OK
    for path in found:
        if path.suffix == ".sqlite3":
            print(f"{path}  {path.stat().st_size:,} bytes")
    if not found:
        print(f"no search index in {folder} (the daemon and `snippet-daemon search` build one)")
    return EXIT_OK


def cmd_sandbox(args: argparse.Namespace) -> int:
    from snippet_daemon.sandbox import default_data_dir, run_sandbox

    data_dir = Path(args.data) if args.data else default_data_dir()
    return run_sandbox(
        args.host,
        args.port,
        data_dir,
        seed_demo=not args.no_demo,
        api_token=os.environ.get("SNIPPET_SANDBOX_API_TOKEN"),
        stream=sys.stdout,
        control_routes=args.control,
        new_tokens=args.new_tokens,
    )


def cmd_mcp(args: argparse.Namespace) -> int:
    """An MCP server on stdio (stdout is its channel: nothing else may print there)."""
    from snippet_daemon.mcp.server import run_stdio

    env = dict(os.environ)
    if args.budget_per_hour is not None:
        from snippet_daemon.mcp.tools import BUDGET_ENV

        env[BUDGET_ENV] = str(args.budget_per_hour)
    return run_stdio(env)


def cmd_server(args: argparse.Namespace) -> int:
    import gc

    # Importing pygls and lsprotocol allocates enough to trigger a full collection (~25 ms) of
    # objects that live forever anyway; run_stdio freezes them and turns gc back on.
    gc.disable()
    from snippet_daemon.app import run_stdio

    return run_stdio()


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="snippet-daemon",
        description="Bitbucket Cloud snippets inside every editor. With no command: the LSP server on stdio.",
        epilog=(
            "Environment: BITBUCKET_API_URL (default https://api.bitbucket.org/2.0), BITBUCKET_WORKSPACE, "
            "BITBUCKET_USERNAME + BITBUCKET_API_TOKEN or BITBUCKET_ACCESS_TOKEN (else the OS keyring)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"snippet-daemon {__version__}")
    parser.add_argument("--stdio", action="store_true", help="speak LSP on stdin/stdout (the default)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    login = commands.add_parser("login", help="store credentials in the OS keyring after checking them")
    login.add_argument("--username", help="your Atlassian account email (prompted for if missing)")
    login.add_argument(
        "--access-token", action="store_true", help="log in with an OAuth 2.0 access token instead of an API token"
    )
    login.set_defaults(handler=cmd_login)

    commands.add_parser("logout", help="forget the stored credentials").set_defaults(handler=cmd_logout)
    commands.add_parser("whoami", help="show who the credentials belong to").set_defaults(handler=cmd_whoami)

    listing = commands.add_parser("list", help="list a workspace's snippets")
    listing.add_argument("workspace", nargs="?", help="workspace slug (default: BITBUCKET_WORKSPACE or yours)")
    listing.add_argument("--role", choices=["owner", "contributor", "member"])
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=cmd_list)

    snippet_help = "WORKSPACE/ID, or the snippet's web address (https://bitbucket.org/...)"
    share = commands.add_parser(
        "share",
        help="share files (or some lines, or standard input) as a new snippet",
        description="Share files as one new snippet, private unless --public. Private means only the members of "
        "the workspace can see it; public means anyone with the link, signed in or not. A public share is "
        "scanned for credentials first and refused (before anything is sent) when one is found.",
    )
    share.add_argument(
        "files",
        nargs="*",
        metavar="FILE[:START-END]|-",
        help="files, line ranges, or - for stdin (with --diff: a folder)",
    )
    share.add_argument("--title", help="the snippet's title (default: the file names and lines)")
    share.add_argument("--name", help="the file's name in the snippet (needed for -; default: FILE's name)")
    share.add_argument(
        "--public",
        action="store_true",
        help="visible to anyone with the link (default: private, visible to the workspace's members only)",
    )
    share.add_argument(
        "--allow-secrets", action="store_true", help="publish even what looks like a credential (with --public)"
    )
    share.add_argument("--workspace", help="workspace slug (default: BITBUCKET_WORKSPACE or yours)")
    share.add_argument("--diff", action="store_true", help="share the git repository's changes as one .patch file")
    share.add_argument("--staged", action="store_true", help="with --diff: the staged changes")
    share.add_argument("--untracked", action="store_true", help="with --diff: untracked files too, as new files")
    share.set_defaults(handler=cmd_share)

    pull = commands.add_parser("pull", help="write a snippet's files into a folder")
    pull.add_argument("snippet", metavar="SNIPPET", help=snippet_help)
    pull.add_argument(
        "dir",
        nargs="?",
        metavar="DIR",
        help="the folder, used as it is (default: ./ID, a new folder named after the id)",
    )
    pull.add_argument("--revision", help="a revision (commit hash) instead of the latest")
    pull.add_argument("--overwrite", action="store_true", help="replace existing files whose content differs")
    pull.set_defaults(handler=cmd_pull)

    opening = commands.add_parser("open", help="print a snippet's files, or write them to a folder")
    opening.add_argument("snippet", metavar="SNIPPET", help=snippet_help)
    opening.add_argument("--file", metavar="NAME", help="only this file (an address's #file-NAME does the same)")
    opening.add_argument("--dir", metavar="DIR", help="write the files into this folder instead of printing them")
    opening.add_argument("--revision", help="a revision (commit hash) instead of the latest")
    opening.add_argument("--overwrite", action="store_true", help="with --dir: replace files whose content differs")
    opening.set_defaults(handler=cmd_open)

    delete = commands.add_parser("delete", help="delete a snippet and its history, for everyone")
    delete.add_argument("snippet", metavar="SNIPPET", help=snippet_help)
    delete.add_argument("--yes", action="store_true", help="do not ask first (needed when stdin is not a terminal)")
    delete.set_defaults(handler=cmd_delete)

    link = commands.add_parser("link", help="tie a folder (or one file) to a snippet, for status and push")
    link.add_argument("folder", metavar="FOLDER")
    link.add_argument("snippet", metavar="WORKSPACE/ID", help="or the snippet's URL")
    link.set_defaults(handler=cmd_link)

    status = commands.add_parser("status", help="a linked folder's files against its snippet")
    status.add_argument("folder", metavar="FOLDER")
    status.set_defaults(handler=cmd_status)

    push = commands.add_parser("push", help="send a linked folder's changes to its snippet (one write)")
    push.add_argument("folder", metavar="FOLDER")
    push.add_argument("--add", nargs="+", metavar="NAME", help="also send these files (relative to FOLDER)")
    push.add_argument("--force", action="store_true", help="replace the snippet even if it changed meanwhile")
    push.add_argument("--allow-secrets", action="store_true", help="push to a public snippet what looks like a secret")
    push.set_defaults(handler=cmd_push)

    apply = commands.add_parser("apply", help="apply a patch snippet to a folder, all or nothing")
    apply.add_argument("snippet", metavar="WS/ID[/FILE]", help="FILE: the .patch/.diff file (default: the only one)")
    apply.add_argument("folder", nargs="?", metavar="FOLDER", help="where to apply it (default: here)")
    apply.add_argument("--dry-run", action="store_true", help="say what would change, write nothing")
    apply.set_defaults(handler=cmd_apply)

    search = commands.add_parser("search", help="search your snippets' titles, file names and text (grep style)")
    search.add_argument("query", help="text to find; every word must match (substrings of 3+ characters)")
    search.add_argument("--workspace", help="workspace slug (default: BITBUCKET_WORKSPACE or yours)")
    search.add_argument("--limit", type=int, default=50, help="at most this many results (default 50)")
    search.set_defaults(handler=cmd_search)

    index = commands.add_parser("index", help="show the local search index (it holds private snippets too)")
    index.add_argument("--clear", action="store_true", help="delete it (it is built again when needed)")
    index.set_defaults(handler=cmd_index)

    sandbox = commands.add_parser("sandbox", help="run a local Bitbucket-compatible server (for trying and tests)")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=7990)
    sandbox.add_argument("--data", metavar="DIR", help="where it keeps its data (default: a per-user data dir)")
    sandbox.add_argument("--no-demo", action="store_true", help="do not seed the demo snippets")
    sandbox.add_argument(
        "--new-tokens",
        action="store_true",
        help="give its users new tokens (by default they keep theirs across restarts, so sign-ins stay valid)",
    )
    sandbox.add_argument(
        "--control",
        action="store_true",
        help="for tests: serve /_sandbox/faults and /_sandbox/requests without credentials",
    )
    sandbox.set_defaults(handler=cmd_sandbox)

    mcp = commands.add_parser("mcp", help="serve the snippets to AI agents (Model Context Protocol, stdio)")
    mcp.add_argument(
        "--budget-per-hour",
        type=float,
        metavar="N",
        help="mcpBudgetPerHour: at most N Bitbucket requests an hour for the agent's calls (default 300)",
    )
    mcp.set_defaults(handler=cmd_mcp)

    from snippet_daemon.migrate.command import add_migrate_command

    add_migrate_command(commands)
    return parser


EXIT_BROKEN_PIPE = 141  # as a shell reports a program that SIGPIPE stopped


def _silence_stdout() -> None:
    """Whoever read our output has gone (``| head -1``): send what is still buffered nowhere, so that the
    interpreter's last flush does not complain either."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. No traceback reaches a terminal: Ctrl-C and a closed pipe end quietly, and anything
    unexpected is one line (the traceback only with SNIPPET_DAEMON_LOG=debug)."""
    try:
        args = build_parser().parse_args(argv)
        handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
        if handler is None:
            return cmd_server(args)
        code = handler(args)
        sys.stdout.flush()  # here, where a closed pipe can still be told apart from a bug
        return code
    except KeyboardInterrupt:
        if sys.stderr.isatty():
            print(file=sys.stderr)  # end the line ^C was typed on (a prompt's, say)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        _err(f"{where}{error.strerror or error}.")
        return EXIT_ERROR
    except Exception as error:
        # (Only a command that imported the Bitbucket client can raise its errors: --help never imports it.)
        bitbucket = sys.modules.get("snippet_daemon.bitbucket.errors")
        if bitbucket is not None and isinstance(error, bitbucket.BitbucketError):
            _err(str(error))  # e.g. BITBUCKET_API_URL is no API address: said before any request
            return EXIT_ERROR
        if (os.environ.get("SNIPPET_DAEMON_LOG") or "").lower() == "debug":
            import traceback

            traceback.print_exc()
        _err(
            f"failed unexpectedly ({type(error).__name__}: {error}). This is a bug in snippet-daemon; "
            "run it again with SNIPPET_DAEMON_LOG=debug to see where."
        )
        return EXIT_ERROR
