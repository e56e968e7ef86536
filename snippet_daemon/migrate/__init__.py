"""``snippet-daemon migrate``: Bitbucket Server's "Snippets for Bitbucket" add-on to Bitbucket Cloud.

The pieces, each in its own module:

    source        the add-on's REST API (and the server's user API), read with httpx
    credentials   where the *server* credentials come from (environment, keyring, prompt)
    users         server user ids -> names (user API, ``--user-map``)
    provenance    the text that keeps what Cloud cannot store: author, dates, categories, description
    state         the resumable, crash-safe state file (exactly-once bookkeeping)
    runner        the orchestration: plan, estimate, create, comment, resume
    progress      the progress bar (terminal) or plain lines (pipes)
    report        the end-of-run report, printed and written to a file
    command       the ``migrate`` subcommand (argparse)

See docs/migration.md for the user's guide.
"""
