"""What the features share: the handler type, Bitbucket models as protocol results, file content in and out,
the secret gate."""

from __future__ import annotations

import base64
import binascii
import datetime
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from snippet_daemon import protocol, uri
from snippet_daemon.protocol import ErrorKind, ProtocolError

if TYPE_CHECKING:
    from snippet_daemon.bitbucket import Snippet
    from snippet_daemon.documents import CachedSnippet
    from snippet_daemon.server import SnippetServer

# A feature's handler of one method: the server and the structured params in, the result type out.
# (The server is only a type here: features never import it at run time; app.py wires them to it.)
Handler = Callable[["SnippetServer", Any], Awaitable[Any]]


def is_binary(data: bytes) -> bool:
    """Not UTF-8, or has NUL bytes: shown as bytes, never as text."""
    if b"\x00" in data:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def decode_content(what: str, text: str | None, base64_text: str | None) -> bytes:
    """The bytes of ``{text}`` or ``{base64}`` (exactly one of them)."""
    if (text is None) == (base64_text is None):
        raise ProtocolError(ErrorKind.INVALID_ARGUMENT, f"{what}: give exactly one of text or base64.")
    if text is not None:
        return text.encode("utf-8")
    try:
        return base64.b64decode(base64_text or "", validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(ErrorKind.INVALID_ARGUMENT, f"{what}: base64 is not valid base64.") from None


def encode_content(data: bytes, revision: str | None) -> protocol.ReadFileResult:
    text: str | None = None
    if b"\x00" not in data:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    return protocol.ReadFileResult(base64=base64.b64encode(data).decode("ascii"), text=text, revision=revision)


def milliseconds(timestamp: str | None) -> int:
    """An ISO-8601 time as milliseconds since the epoch (VS Code's mtime); 0 when unknown."""
    if not timestamp:
        return 0
    try:
        return int(datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return 0


def summary(snippet: Snippet, *, watching: bool = False) -> protocol.SnippetSummary:
    return protocol.SnippetSummary(
        workspace=snippet.workspace,
        id=snippet.id,
        title=snippet.title,
        is_private=snippet.is_private,
        created_on=snippet.created_on,
        updated_on=snippet.updated_on,
        html_url=snippet.html_url,
        watching=watching,
    )


def open_result(entry: CachedSnippet, revision: str | None = None) -> protocol.OpenResult:
    """A snippet and its files; file URIs carry ``?rev=`` when ``revision`` was asked for."""
    snippet = entry.snippet
    return protocol.OpenResult(
        workspace=snippet.workspace,
        id=snippet.id,
        title=snippet.title,
        is_private=snippet.is_private,
        revision=entry.revision,
        html_url=snippet.html_url,
        files=[
            protocol.FileInfo(
                name=name,
                uri=uri.snippet_uri(snippet.workspace, snippet.id, name, revision),
                binary=is_binary(data),
                size=len(data),
            )
            for name, data in sorted(entry.files.items())
        ],
    )


def refuse_secrets(files: Mapping[str, bytes], *, allow_secrets: bool) -> None:
    """``secretDetected`` when content headed for a public snippet looks like it holds a credential."""
    if allow_secrets or not files:
        return
    from snippet_daemon.secret_scan import scan_files

    findings = scan_files(files)
    if not findings:
        return
    listed = "; ".join(finding.describe() for finding in findings[:5])
    more = f" (and {len(findings) - 5} more)" if len(findings) > 5 else ""
    raise ProtocolError(
        ErrorKind.SECRET_DETECTED,
        f"This would publish what looks like a credential: {listed}{more}. Remove it, keep the snippet "
        "private (visible to the workspace's members only), or repeat with allowSecrets: true if it is not a secret.",
        protocol.SecretDetectedData(
            findings=[protocol.SecretFinding(path=f.path, line=f.line, rule=f.rule) for f in findings]
        ),
    )


def check_file_name(name: str) -> None:
    """A name Bitbucket and every editor can hold: relative, no empty/'.'/'..' parts, no NUL or backslash."""
    from snippet_daemon.names import UnsafePath, check_name

    try:
        check_name(name)
    except UnsafePath as error:
        raise ProtocolError(
            ErrorKind.UNSAFE_PATH, f"Unsafe file name: {error}. Use a relative name like src/app.py."
        ) from None
