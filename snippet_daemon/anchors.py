"""Line anchors for snippet comments, which Bitbucket does not have.

A comment on a line starts with a Markdown link to that line on the snippet's web page:

    [app.py, line 12](https://bitbucket.org/snippets/team/kypj#file-app.py-L12)
    <blank line>
    the comment itself

so it reads well on bitbucket.org too, and anyone writing that form there anchors a comment.
:func:`parse` accepts any link at the very start of a comment whose URL points into a snippet
page (``/snippets/...``) and whose fragment is ``#file-{name}-L{line}`` (also ``-{line}`` or
``:{line}``); the file name may be percent-encoded. Anything else is an ordinary comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

# The link text may hold backslash escapes (``\]``) and one level of balanced brackets, as a
# file name such as ``notes [draft].md`` needs; it is not used, the URL's fragment is.
_LINK = re.compile(r"^\s*\[(?P<text>(?:\\.|\[[^\[\]\n]*\]|[^\[\]\\\n])*)\]\((?P<url>[^)\s]+)\)[ \t]*(?:\r?\n)?")
_TEXT_SPECIAL = re.compile(r"([\\\[\]])")
_FRAGMENT = re.compile(r"#file-(?P<name>.+?)(?:-L|-|:)(?P<line>\d+)$")


@dataclass(frozen=True)
class Anchor:
    path: str
    line: int
    body: str  # the comment without the anchor link


def format_link(html_url: str, path: str, line: int) -> str:
    """The Markdown link that anchors a comment to ``path`` line ``line``."""
    fragment = quote(path, safe="/._-~")
    text = _TEXT_SPECIAL.sub(r"\\\1", " ".join(path.splitlines()))  # Markdown escapes: a ] ends the text
    return f"[{text}, line {line}]({html_url.split('#')[0]}#file-{fragment}-L{line})"


def anchored(html_url: str, path: str, line: int, raw: str) -> str:
    """A comment body anchored to a line."""
    return f"{format_link(html_url, path, line)}\n\n{raw}"


def parse(raw: str) -> Anchor | None:
    """The anchor at the start of a comment, if it has one."""
    match = _LINK.match(raw)
    if not match or "/snippets/" not in match["url"]:
        return None
    fragment = _FRAGMENT.search(match["url"])
    if not fragment:
        return None
    line = int(fragment["line"])
    if line < 1:
        return None
    body = raw[match.end() :].lstrip("\r\n")
    return Anchor(path=unquote(fragment["name"]), line=line, body=body)
