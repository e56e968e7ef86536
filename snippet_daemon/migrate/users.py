"""Server user ids -> the names the migrated snippets show.

The add-on knows authors only by numeric Bitbucket Server user id. Names come from, in order:

1. ``--user-map FILE`` (what the user says wins): a JSON object ``{"12": "Ada Lovelace"}`` or lines
   ``12=Ada Lovelace`` (``#`` starts a comment line);
2. the server's user API: ``Display Name (slug)``;
3. otherwise the id itself: ``server user 12``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from snippet_daemon.migrate.source import ServerUser


class UserMapError(ValueError):
    """A ``--user-map`` file that cannot be read; the message names the file and the line."""


def load_user_map(path: Path) -> dict[str, str]:
    """Parse a ``--user-map`` file (JSON object, or ``id=name`` lines)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UserMapError(f"cannot read the user map {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise UserMapError(f"the user map {path} is not UTF-8 text") from None
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except ValueError as error:
            raise UserMapError(f"the user map {path} is not valid JSON: {error}") from None
        mapping: dict[str, str] = {}
        for key, value in document.items():
            if isinstance(value, dict):
                value = value.get("name") or value.get("displayName")
            if not isinstance(value, (str, int)) or isinstance(value, bool) or not str(value).strip():
                raise UserMapError(f"the user map {path} maps {key!r} to something that is not a name")
            mapping[str(key).strip()] = str(value).strip()
        return mapping
    mapping = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UserMapError(f"{path}:{number}: expected ID=NAME, like 12=Ada Lovelace")
        mapping[key.strip()] = value.strip()
    return mapping


@dataclass
class UserNames:
    """Names for user ids, from the user map and the server's user API."""

    user_map: Mapping[str, str] = field(default_factory=dict)
    server_users: Mapping[str, ServerUser] = field(default_factory=dict)

    def name(self, user_id: str | None) -> str:
        if user_id is None:
            return "an unknown user"
        mapped = self.user_map.get(user_id)
        if mapped:
            return mapped
        user = self.server_users.get(user_id)
        if user is not None:
            if user.display_name and user.slug and user.display_name != user.slug:
                return f"{user.display_name} ({user.slug})"
            if user.display_name or user.slug:
                return user.display_name or user.slug or user_id
        return f"server user {user_id}"
