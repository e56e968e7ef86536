"""What a migrated snippet says about its origin, as deterministic Markdown.

Bitbucket Cloud stores neither a snippet's original author and dates, nor the add-on's categories and
description, nor who wrote a comment when. This module writes them down:

* :func:`provenance_text`: the origin URL and guid, author, creation and update dates, server
  visibility, categories, any file renamed on the way, then the description. It becomes the new
  snippet's first comment (default) or a file inside it (``--provenance-file``).
* :func:`comment_text`: a re-posted comment, prefixed with its original author and dates.
* :func:`cloud_files`: the files as Cloud receives them; names git cannot store (empty, ``..``,
  ``.git``) and duplicates (Cloud keys files by name) are renamed so that no file is lost, and the
  renames are listed in the provenance.

Everything here is a pure function of its inputs, so that a re-run computes the same texts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Final

from snippet_daemon.migrate.source import ServerComment, ServerFile, ServerSnippet, snippet_origin_url
from snippet_daemon.migrate.users import UserNames

DEFAULT_PROVENANCE_FILE: Final = "SNIPPET-ORIGIN.md"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>])")


def format_time(moment: dt.datetime | None) -> str:
    if moment is None:
        return "unknown"
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _plain(text: str) -> str:
    """``text`` shown literally in Markdown (names may hold ``*`` or ``_``)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if fence == "`" else f"{fence} {text} {fence}"


def storable_name(name: str, index: int) -> str:
    """``name`` as git (so Bitbucket Cloud) can store it: no empty, ``.``, ``..`` or ``.git`` parts, no NUL."""
    parts = []
    for part in name.replace("\x00", "").split("/"):
        if part in ("", ".", ".."):
            continue
        parts.append("_git" if part.lower() == ".git" else part)
    return "/".join(parts) or f"file-{index}"


def cloud_files(files: Sequence[ServerFile]) -> tuple[dict[str, bytes], list[tuple[str, str]]]:
    """``(name -> bytes, [(original, new name)] for renamed files)``, in the add-on's order."""
    result: dict[str, bytes] = {}
    renamed: list[tuple[str, str]] = []
    wanted = [storable_name(file.name, index) for index, file in enumerate(files, start=1)]
    for index, (file, name) in enumerate(zip(files, wanted, strict=True), start=1):
        # A later file keeping its own name wins it; a renamed or repeated one steps aside.
        if name in result or (name != file.name and name in wanted[index:]):
            stem, dot, extension = name.rpartition(".")
            stem, extension = (stem, dot + extension) if stem else (name, "")
            counter = 2
            while f"{stem} ({counter}){extension}" in result or f"{stem} ({counter}){extension}" in wanted:
                counter += 1
            name = f"{stem} ({counter}){extension}"
        if name != file.name:
            renamed.append((file.name or f"(unnamed file {index})", name))
        result[name] = file.content
    return result, renamed


def provenance_file_name(
    existing: Sequence[str] | Mapping[str, bytes], preferred: str = DEFAULT_PROVENANCE_FILE
) -> str:
    """``preferred``, or ``NAME-2.md`` etc. when the snippet already has a file of that name."""
    if preferred not in existing:
        return preferred
    stem, dot, extension = preferred.rpartition(".")
    stem, extension = (stem, dot + extension) if stem else (preferred, "")
    counter = 2
    while f"{stem}-{counter}{extension}" in existing:
        counter += 1
    return f"{stem}-{counter}{extension}"


def provenance_text(
    snippet: ServerSnippet,
    *,
    server_url: str,
    names: UserNames,
    renamed: Sequence[tuple[str, str]] = (),
) -> str:
    """The origin of a snippet, for its first comment or its provenance file."""
    visibility = "public" if snippet.is_public else "private"
    if snippet.is_visible is not None:
        visibility += ", listed" if snippet.is_visible else ", hidden"
    lines = [
        "**Migrated from Bitbucket Server** (Snippets for Bitbucket) by snippet-daemon.",
        "",
        f"- **Origin:** {snippet_origin_url(server_url, snippet.guid)}",
        f"- **Server snippet:** {_code(snippet.guid)}",
        f"- **Author:** {_plain(names.name(snippet.user_id))}",
        f"- **Created:** {format_time(snippet.created_at)}",
        f"- **Updated:** {format_time(snippet.updated_at)}",
        f"- **Visibility on the server:** {visibility}",
        "- **Categories:** " + (", ".join(_plain(c) for c in snippet.categories) if snippet.categories else "none"),
    ]
    if snippet.comments:
        lines.append(f"- **Comments:** {len(snippet.comments)}, re-posted below with their authors and dates")
    for original, new in renamed:
        lines.append(f"- **File renamed:** {_code(original)} is {_code(new)} here (Cloud needs unique names)")
    lines += ["", "### Description", "", snippet.description if snippet.description.strip() else "*(none)*"]
    return "\n".join(lines) + "\n"


def comment_text(comment: ServerComment, names: UserNames) -> str:
    """A server comment re-posted on Cloud: who wrote it and when, then its text."""
    when = format_time(comment.created_at)
    if comment.updated_at and comment.created_at and comment.updated_at > comment.created_at:
        when += f", edited {format_time(comment.updated_at)}"
    header = f"*Originally posted by **{_plain(names.name(comment.user_id))}** on {when} on Bitbucket Server:*"
    return f"{header}\n\n{comment.text if comment.text.strip() else '*(empty comment)*'}"


def normalize_for_match(text: str) -> str:
    """The form two comment texts are compared in: Cloud may trim, or rewrite line endings."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()
