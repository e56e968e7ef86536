"""``bbsnippet://`` URIs: the one codec every feature and client agrees on.

Accepted forms (``{path}`` may contain ``/``; every segment is percent-encoded):

    bbsnippet://{workspace}/                       the workspace's snippets, as directories
    bbsnippet://{workspace}/{id}/                  a snippet, as a directory of its files
    bbsnippet://{workspace}/{id}                   the same (no trailing slash)
    bbsnippet://{workspace}/{id}/{path}            a file at HEAD (read/write)
    bbsnippet://{workspace}/{id}/{path}?rev={hash} a file at a revision (read-only)
    bbsnippet://{workspace}/{id}/{path}#L{line}    a file, pointing at a line (search results): the same file

The workspace is the URI's authority; editors lower-case authorities, so a workspace slug is
compared case-insensitively by Bitbucket anyway. Anything else is ``invalidArgument``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, unquote, urlsplit

from snippet_daemon.protocol import URI_SCHEME, ErrorKind, ProtocolError


@dataclass(frozen=True)
class SnippetUri:
    workspace: str
    id: str | None = None  # None: the workspace itself
    path: str | None = None  # None: the snippet as a directory
    revision: str | None = None
    line: int | None = field(default=None, compare=False)  # where to look (1-based); not part of which file

    @property
    def is_workspace(self) -> bool:
        return self.id is None

    @property
    def is_snippet(self) -> bool:
        return self.id is not None and self.path is None

    @property
    def is_file(self) -> bool:
        return self.path is not None

    @property
    def readonly(self) -> bool:
        return self.revision is not None

    @property
    def snippet_id(self) -> str:
        """The snippet id; only call this on snippet or file URIs."""
        assert self.id is not None, "a workspace URI has no snippet id"
        return self.id

    @property
    def file_path(self) -> str:
        assert self.path is not None, "a directory URI has no file path"
        return self.path

    def __str__(self) -> str:
        text = f"{URI_SCHEME}://{_quote(self.workspace)}/"
        if self.id is not None:
            text += f"{_quote(self.id)}/"
            if self.path is not None:
                text += "/".join(_quote(segment) for segment in self.path.split("/"))
        if self.revision is not None:
            text += f"?rev={_quote(self.revision)}"
        if self.line is not None:
            text += f"#L{self.line}"
        return text


def _quote(segment: str) -> str:
    return quote(segment, safe="-._~!$&'()*+,;=:@")


_LINE_FRAGMENT = re.compile(r"L([1-9][0-9]*)")


def snippet_uri(
    workspace: str, snippet_id: str, path: str | None = None, revision: str | None = None, line: int | None = None
) -> str:
    return str(SnippetUri(workspace, snippet_id, path, revision, line))


def parse(uri: str) -> SnippetUri:
    """``uri`` as a :class:`SnippetUri`; :class:`ProtocolError` ``invalidArgument`` when it is not one."""
    parts = urlsplit(uri)
    if parts.scheme != URI_SCHEME or not parts.netloc:
        raise ProtocolError(
            ErrorKind.INVALID_ARGUMENT,
            f"{uri!r} is not a snippet URI; expected {URI_SCHEME}://WORKSPACE/ID/PATH.",
        )
    workspace = unquote(parts.netloc)
    revision = None
    if parts.query:
        values = parse_qs(parts.query).get("rev")
        if not values or not values[0]:
            raise ProtocolError(ErrorKind.INVALID_ARGUMENT, f"{uri!r}: a snippet URI's only query is ?rev=HASH.")
        revision = values[0]
    line = None
    if parts.fragment:
        found = _LINE_FRAGMENT.fullmatch(parts.fragment)
        if found is None:
            raise ProtocolError(ErrorKind.INVALID_ARGUMENT, f"{uri!r}: a snippet URI's only fragment is #L<line>.")
        line = int(found.group(1))
    segments = parts.path.split("/")[1:]  # the path starts with "/"
    if segments and segments[-1] == "":
        segments.pop()  # a trailing slash names the directory itself
    if not segments:
        return SnippetUri(workspace, revision=revision)
    snippet_id = unquote(segments[0])
    file_segments = [unquote(segment) for segment in segments[1:]]
    if not snippet_id or any(segment in ("", ".", "..") for segment in file_segments):
        raise ProtocolError(ErrorKind.INVALID_ARGUMENT, f"{uri!r} has an empty, '.' or '..' path segment.")
    return SnippetUri(workspace, snippet_id, "/".join(file_segments) if file_segments else None, revision, line)
