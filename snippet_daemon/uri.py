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
from collections.abc import Collection
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


# --------------------------------------------------------------------------- references a user types or pastes

BITBUCKET_WEB_HOSTS = frozenset({"bitbucket.org", "www.bitbucket.org", "api.bitbucket.org"})
REFERENCE_FORMS = (
    "WORKSPACE/ID, or the snippet's web address (https://bitbucket.org/WORKSPACE/workspace/snippets/ID "
    "or https://bitbucket.org/snippets/WORKSPACE/ID)"
)
_PLAIN_REFERENCE = re.compile(r"([^/\s:?#]+)/([^/\s?#]+)(?:/(.*))?")
_FILE_FRAGMENT = "file-"


@dataclass(frozen=True)
class SnippetReference:
    """A snippet as a user names it: ``WORKSPACE/ID`` or an address, and what the address points at."""

    workspace: str
    id: str
    file: str | None = None  # ``#file-NAME`` (or a bbsnippet:// file URI): the file it points at
    revision: str | None = None  # ``.../revisions/HASH`` or ``?rev=HASH``


def _not_a_reference(text: str, why: str = "") -> ProtocolError:
    return ProtocolError(
        ErrorKind.INVALID_ARGUMENT, f"{text.strip()!r} does not name a snippet{why}; expected {REFERENCE_FORMS}."
    )


def parse_reference(text: str, api_url: str | None = None) -> SnippetReference:
    """``WORKSPACE/ID[/FILE]``, a ``bbsnippet://`` URI, or one of a snippet's web or API addresses as a
    :class:`SnippetReference`. The one parser every command and client uses (``bbsnippets.open {url}``,
    the CLI's verbs); :class:`ProtocolError` ``invalidArgument`` when ``text`` is none of them.

    Addresses on bitbucket.org are understood whatever API the daemon talks to, and so are those on the host of
    ``api_url`` (the sandbox's own pages): ``/{ws}/workspace/snippets/{id}[/{slug}]``, ``/snippets/{ws}/{id}
    [/{slug}]``, either with ``/revisions/{hash}`` instead of the slug, with or without ``#file-{name}``, and
    the API's ``/2.0/snippets/{ws}/{id}``."""
    stripped = text.strip()
    if stripped.startswith(f"{URI_SCHEME}:"):
        parsed = parse(stripped)
        if parsed.id is None:
            raise _not_a_reference(text, " (it names a workspace)")
        return SnippetReference(parsed.workspace, parsed.id, parsed.path, parsed.revision)
    parts = urlsplit(stripped)
    if not parts.scheme:
        plain = _PLAIN_REFERENCE.fullmatch(stripped)
        if plain is None:
            raise _not_a_reference(text)
        return SnippetReference(plain.group(1), plain.group(2), plain.group(3) or None)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _not_a_reference(text)
    known_hosts = set(BITBUCKET_WEB_HOSTS)
    if api_url:
        known_hosts.add(urlsplit(api_url).netloc.lower())
    if parts.hostname.lower() not in known_hosts and parts.netloc.lower() not in known_hosts:
        raise _not_a_reference(text, f" ({parts.hostname} is neither Bitbucket nor the API this uses)")
    segments = [unquote(segment) for segment in parts.path.split("/") if segment]
    if segments[:2] == ["!api", "2.0"]:
        segments = segments[2:]  # bitbucket.org/!api/2.0/..., where api.bitbucket.org redirects
    elif segments[:1] == ["2.0"]:
        segments = segments[1:]
    if len(segments) >= 3 and segments[0] == "snippets":
        workspace, snippet_id, rest = segments[1], segments[2], segments[3:]
    elif len(segments) >= 4 and segments[1:3] == ["workspace", "snippets"]:
        workspace, snippet_id, rest = segments[0], segments[3], segments[4:]
    else:
        raise _not_a_reference(text)
    revision = rest[1] if len(rest) >= 2 and rest[0] == "revisions" else None
    revision = revision or next(iter(parse_qs(parts.query).get("rev") or []), None)
    fragment = unquote(parts.fragment)
    file = fragment[len(_FILE_FRAGMENT) :] if fragment.startswith(_FILE_FRAGMENT) else None
    return SnippetReference(workspace, snippet_id, file or None, revision)


_ANCHOR_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_named(anchor: str, names: Collection[str]) -> str | None:
    """The file of ``names`` an address's ``#file-NAME`` points at: the exact name, else the one whose name
    matches as Bitbucket writes anchors (case and punctuation aside); ``None`` when none does."""
    if anchor in names:
        return anchor

    def key(name: str) -> str:
        return _ANCHOR_UNSAFE.sub("-", name).lower()

    wanted = key(anchor)
    return next((name for name in sorted(names) if key(name) == wanted), None)
