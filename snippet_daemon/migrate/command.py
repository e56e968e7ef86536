"""The ``snippet-daemon migrate`` subcommand: arguments, credentials, clients, exit code.

Importing this module is cheap (argparse only); httpx, keyring and the runner are imported by the
handler, so that ``snippet-daemon --help`` stays instant.

Exit codes: 0 everything is on Cloud; 1 the run could not start or had to stop (the message says
why and what to do); 2 bad arguments; 3 some snippets failed (listed; re-run to retry); 130 interrupted
(progress is saved; re-run to resume).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from snippet_daemon.console import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, print_error
from snippet_daemon.paths import user_data_dir

RETRY_DELAY_ENV = "SNIPPET_DAEMON_RETRY_BASE_DELAY"

DESCRIPTION = """\
Copy every snippet of Bitbucket Server's "Snippets for Bitbucket" add-on to a Bitbucket Cloud workspace,
losing nothing: every file byte-exact (one request per snippet carries them all), the title, the
comments in order (each prefixed with its author and date), and, in a provenance comment (or with
--provenance-file, a file inside the snippet), the origin URL, author, dates, categories and description.
It is resumable and creates nothing twice: Ctrl-C, a crash or a kill are safe; run the same command again."""

EPILOG = """\
credentials:
  Bitbucket Server: BITBUCKET_SERVER_USERNAME + BITBUCKET_SERVER_PASSWORD (a password or an HTTP access
  token); else the OS keyring (service bitbucket-server-snippets, keyed by the server URL; see
  --save-server-credentials); else a prompt on a terminal.
  Bitbucket Cloud: as for every command (BITBUCKET_USERNAME + BITBUCKET_API_TOKEN, BITBUCKET_ACCESS_TOKEN,
  or `snippet-daemon login`), with the scopes read:snippet:bitbucket and write:snippet:bitbucket.
  BITBUCKET_API_URL chooses the Cloud API (e.g. a local sandbox).

--user-map FILE:
  names for server user ids, winning over the server's user API. Either a JSON object
  {"12": "Ada Lovelace", "15": "Alan Turing"} or lines of ID=NAME ("12=Ada Lovelace"; # starts a comment).

files:
  --state (default: $XDG_DATA_HOME/snippet-daemon/migrations/HOST-WORKSPACE.json) records, per server
  snippet, its Cloud id and how far it got; --report (default: beside the state file, .report.md; .json
  for JSON) gets the final counts, the failures and the server guid -> Cloud link mapping.

rate limit:
  Bitbucket Cloud allows 1,000 requests an hour per user. The plan says how many the migration needs;
  429 answers are backed off and the run pauses and goes on by itself. SNIPPET_DAEMON_RETRY_BASE_DELAY
  (seconds, default 1) scales every back-off and pause; it exists for tests.

exit codes: 0 done, 1 could not start or stopped (see the message), 2 bad arguments,
  3 some snippets failed (re-run to retry them), 130 interrupted (re-run to resume).

See docs/migration.md for the whole guide."""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _concurrency(text: str) -> int:
    value = _positive(text)
    if value > 16:
        raise argparse.ArgumentTypeError("at most 16: Bitbucket Cloud's hourly budget, not parallelism, is the limit")
    return value


def add_migrate_command(subparsers: Any) -> None:
    """Register ``migrate`` on the CLI's subparsers (``argparse._SubParsersAction``)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "migrate",
        help="copy the snippets of Bitbucket Server's Snippets add-on to Bitbucket Cloud (resumable)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--server", required=True, metavar="URL", help="Bitbucket Server's base URL")
    parser.add_argument("--to-workspace", required=True, metavar="WS", help="the Bitbucket Cloud workspace slug")
    parser.add_argument(
        "--all-users",
        action="store_true",
        help="every user's snippets (the add-on's /snippets/browse; needs an account allowed to see them), "
        "not only the credentials' own",
    )
    parser.add_argument(
        "--keep-public",
        action="store_true",
        help="snippets public on the server become public on Cloud (default: every snippet is created private)",
    )
    parser.add_argument(
        "--provenance-file",
        nargs="?",
        const="SNIPPET-ORIGIN.md",
        default=None,
        metavar="NAME",
        help="keep the origin in a file inside each snippet (default name SNIPPET-ORIGIN.md) instead of a first "
        "comment: one request per snippet plus one per comment",
    )
    parser.add_argument("--user-map", metavar="FILE", help="names for server user ids (JSON or ID=NAME lines)")
    parser.add_argument(
        "--concurrency",
        type=_concurrency,
        default=4,
        metavar="N",
        help="snippets migrated at once (default 4)",
    )
    parser.add_argument("--state", metavar="FILE", help="the resumable state file (default: see below)")
    parser.add_argument("--report", metavar="FILE", help="where the report goes (default: beside the state file)")
    parser.add_argument("--dry-run", action="store_true", help="show the plan and the estimate; write nothing anywhere")
    parser.add_argument(
        "--hourly-budget",
        type=_positive,
        default=1000,
        metavar="N",
        help="Cloud requests an hour, for the estimate (default 1000, Bitbucket Cloud's limit)",
    )
    parser.add_argument(
        "--save-server-credentials",
        action="store_true",
        help="after a successful read, keep prompted server credentials in the OS keyring for the next run",
    )
    parser.set_defaults(handler=cmd_migrate)


# --------------------------------------------------------------------------- defaults


def default_state_dir(env: Mapping[str, str] | None = None) -> Path:
    """The per-user data folder for migration state files."""
    return user_data_dir(env) / "migrations"


def default_state_name(server_url: str, workspace: str) -> str:
    """``bitbucket.example.com_7990-myteam.json``: one migration, one file name."""
    without_scheme = server_url.split("://", 1)[-1]
    server_part = re.sub(r"[^A-Za-z0-9.-]+", "_", without_scheme).strip("_.") or "server"
    workspace_part = re.sub(r"[^A-Za-z0-9.-]+", "_", workspace).strip("_.") or "workspace"
    return f"{server_part}-{workspace_part}.json"


def retry_scale() -> float:
    """``SNIPPET_DAEMON_RETRY_BASE_DELAY`` (seconds, default 1): the time scale of every back-off."""
    raw = os.environ.get(RETRY_DELAY_ENV)
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        return 1.0
    return value if value > 0 else 1.0


def _err(message: str) -> None:
    print_error(message, command="migrate")


# --------------------------------------------------------------------------- handler


def cmd_migrate(args: argparse.Namespace) -> int:
    import asyncio

    from snippet_daemon.bitbucket import (
        BitbucketError,
        RetryPolicy,
        SnippetsClient,
        api_url_from_env,
        resolve_credentials,
    )
    from snippet_daemon.bitbucket.errors import API_TOKEN_HELP
    from snippet_daemon.migrate.credentials import ServerKeyring, resolve_server_credentials
    from snippet_daemon.migrate.runner import MigrateOptions, MigrationAborted, run_migration
    from snippet_daemon.migrate.source import AddonSource, SourceError, normalize_server_url
    from snippet_daemon.migrate.users import UserMapError, load_user_map

    try:
        server_url, url_credentials = normalize_server_url(args.server)
    except SourceError as error:
        _err(error.message)
        return EXIT_USAGE
    workspace = args.to_workspace.strip().strip("/")
    if not workspace or "/" in workspace:
        _err(f"--to-workspace takes a workspace slug, like myteam (got {args.to_workspace!r}).")
        return EXIT_USAGE
    user_map: dict[str, str] = {}
    if args.user_map:
        try:
            user_map = load_user_map(Path(args.user_map))
        except UserMapError as error:
            _err(str(error))
            return EXIT_USAGE
    state_path = Path(args.state) if args.state else default_state_dir() / default_state_name(server_url, workspace)
    state_path = state_path.expanduser().absolute()
    report_path = Path(args.report).expanduser().absolute() if args.report else state_path.with_suffix(".report.md")
    scale = retry_scale()
    options = MigrateOptions(
        server_url=server_url,
        workspace=workspace,
        state_path=state_path,
        report_path=report_path,
        all_users=args.all_users,
        keep_public=args.keep_public,
        provenance="file" if args.provenance_file else "comment",
        provenance_file_name=args.provenance_file or "SNIPPET-ORIGIN.md",
        user_map=user_map,
        concurrency=args.concurrency,
        dry_run=args.dry_run,
        hourly_budget=args.hourly_budget,
        rate_limit_pause=300.0 * scale,
    )

    api_url = api_url_from_env()
    try:
        cloud_credentials = resolve_credentials(api_url)
    except BitbucketError as error:
        _err(f"Bitbucket Cloud credentials: {error.message}")
        return EXIT_ERROR
    if cloud_credentials is None:
        _err(f"no Bitbucket Cloud credentials for {api_url}. {API_TOKEN_HELP}")
        return EXIT_ERROR
    server_credentials = resolve_server_credentials(server_url, url_credentials=url_credentials)

    async def main() -> int:
        async with (
            SnippetsClient(cloud_credentials, api_url, retry=RetryPolicy().scaled(scale)) as cloud,
            AddonSource(server_url, server_credentials, retry_base_delay=0.5 * scale) as source,
        ):
            report = await run_migration(options, cloud=cloud, source=source, out=sys.stdout, tty=sys.stdout.isatty())
        print()
        for line in report.summary_lines():
            print(line)
        for failure in report.failures:
            print(f"  {failure.kind}: {failure.guid} {failure.name!r}: {failure.reason}")
        if not options.dry_run:
            print(f"Report: {options.report_path}")
            print(f"State:  {options.state_path}")
        if args.save_server_credentials and server_credentials is not None and server_credentials.source == "prompt":
            refused = ServerKeyring().save(server_url, server_credentials)
            print(f"Server credentials not saved. {refused}" if refused else "Server credentials saved in the keyring.")
        if report.stopped_because:
            _err(report.stopped_because)
            return EXIT_ERROR
        if report.failures:
            return EXIT_PARTIAL
        return EXIT_OK

    try:
        return asyncio.run(main())
    except MigrationAborted as error:
        _err(str(error))
        return EXIT_ERROR
    except (BitbucketError, SourceError) as error:
        _err(error.message)  # unexpected here, but the message is still the best help there is
        return EXIT_ERROR
    except OSError as error:
        _err(
            f"cannot write {error.filename or 'a file'}: {error.strerror or error}. What the state file records "
            "is safe: fix this and run the command again."
        )
        return EXIT_ERROR
    except KeyboardInterrupt:
        _err(
            f"interrupted. Progress is saved in {state_path}; run the same command again to resume "
            "(nothing is created twice)."
        )
        return EXIT_INTERRUPTED
