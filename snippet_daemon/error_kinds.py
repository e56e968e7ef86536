"""``ErrorKind``: the values of ``error.data.kind``, shared by the daemon's contract and the Bitbucket client.

It is part of the contract (:mod:`snippet_daemon.protocol` re-exports it; ``docs/protocol.md`` lists every
value). It lives in a module of its own so that :mod:`snippet_daemon.bitbucket` can name its failures
without importing the LSP contract's types.
"""

from __future__ import annotations

import enum


class ErrorKind(enum.StrEnum):
    """What went wrong, in words a client can switch on (``data.kind``)."""

    NOT_AUTHENTICATED = "notAuthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "notFound"
    CONFLICT = "conflict"
    RATE_LIMITED = "rateLimited"
    UNSAFE_PATH = "unsafePath"
    INVALID_ARGUMENT = "invalidArgument"
    NETWORK = "network"
    PLAN = "plan"
    SECRET_DETECTED = "secretDetected"
    # Extensions beyond the first contract (documented in docs/protocol.md).
    SERVER = "server"
    CREDENTIAL_STORE = "credentialStore"
    FILE_EXISTS = "fileExists"
    READ_ONLY = "readOnly"
    ACCOUNT_CHANGED = "accountChanged"
