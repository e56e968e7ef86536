"""The daemon's logging: stderr and ``window/logMessage``, never stdout, never a secret.

* stdout is the LSP channel, so every handler writes to stderr or to the client.
* :class:`SecretRedactor` masks every secret the daemon knows of (the credentials in use, a
  secret passed to ``bbsnippets.login``) in every line either handler writes, whoever logged it.
* Tracebacks go to stderr only; the client sees one line per record (a traceback is logged at DEBUG,
  next to the one-line ERROR that names the failed action).
* pygls logs whole messages (file contents, login arguments) at INFO and DEBUG; its logger is held
  at WARNING, and its tracebacks for errors we raise on purpose are dropped.
* Only ``snippet_daemon.*`` records are forwarded to the client, as esbonio does: forwarding
  pygls's own records would feed back into the channel it is logging.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

LEVELS = {
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": logging.DEBUG,
}

log = logging.getLogger("snippet_daemon")


def level_from_name(name: str | None, default: int = logging.INFO) -> int:
    return LEVELS.get((name or "").strip().lower(), default)


class SecretRedactor:
    """Replaces every known secret in a text with ``***``."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, secret: str | None) -> None:
        # Very short strings would mask ordinary words; no real token is that short.
        if secret and len(secret) >= 6:
            self._secrets.add(secret)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text


class RedactingFormatter(logging.Formatter):
    """A formatter whose every line has the known secrets masked; ``tracebacks=False`` leaves them out."""

    def __init__(self, redactor: SecretRedactor, fmt: str | None = None, *, tracebacks: bool = True) -> None:
        super().__init__(fmt)
        self.redactor = redactor
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if self.tracebacks:
            return self.redactor.redact(super().format(record))
        text = record.getMessage()
        if record.exc_info:
            text += " (the traceback is in the daemon's stderr log at debug level)"
        return self.redactor.redact(text)


class _DropExpectedErrors(logging.Filter):
    """pygls logs a traceback for every error response; ours are answers, not crashes."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        data = getattr(error, "data", None)
        return not (isinstance(data, dict) and "kind" in data)


class ClientLogHandler(logging.Handler):
    """Forwards ``snippet_daemon`` records to the client as ``window/logMessage``."""

    def __init__(self, send: Callable[[int, str], None], redactor: SecretRedactor) -> None:
        super().__init__()
        self.setFormatter(RedactingFormatter(redactor, tracebacks=False))
        self._send = send
        self.ready = False  # set once the client has initialized
        self._sending = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.ready or self._sending or not record.name.startswith("snippet_daemon"):
            return  # (a record logged while sending one would only loop back here)
        self._sending = True
        try:
            self._send(record.levelno, self.format(record))
        except Exception:  # a broken channel must not take the daemon down with it
            self.ready = False
        finally:
            self._sending = False


def configure(level: int, redactor: SecretRedactor) -> logging.Handler:
    """stderr logging for the whole process; returns the stderr handler."""
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(RedactingFormatter(redactor, "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    stderr.addFilter(_DropExpectedErrors())
    root = logging.getLogger()
    root.handlers[:] = [stderr]
    root.setLevel(level)
    log.setLevel(level)
    # Third-party chatter (pygls echoes whole messages; httpcore every socket event) stays out.
    for name in ("pygls", "httpx", "httpcore", "asyncio", "keyring"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return stderr


def set_level(level: int) -> None:
    logging.getLogger().setLevel(level)
    log.setLevel(level)
