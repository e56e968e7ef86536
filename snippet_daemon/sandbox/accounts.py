"""Who exists in the sandbox and what they may do: users, workspaces, authentication and scopes.

What it mimics of Bitbucket Cloud as of 2026 (``../shared/bitbucket-api/FACTS.md``):

* API tokens are HTTP Basic credentials whose username is the Atlassian account **email**; a
  username that is not an email (an app-password style login) is refused, app passwords being gone.
* OAuth access tokens travel as ``Authorization: Bearer <token>``.
* Every operation needs scopes: reading snippets ``read:snippet:bitbucket``, writing them read *and*
  ``write:snippet:bitbucket``, deleting a snippet ``delete:snippet:bitbucket``, ``GET /user``
  ``read:user:bitbucket``. The legacy OAuth consumer names (``snippet``, ``snippet:write``,
  ``account``) are understood too, so hand-made users may use either vocabulary.
* Every user owns a personal workspace whose slug is the nickname and whose UUID is the user's.

Tokens live only in memory: nothing in this module writes them anywhere, and ``repr`` hides them.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import uuid as uuid_module
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

__all__ = [
    "ALL_SCOPES",
    "SCOPE_DELETE_SNIPPET",
    "SCOPE_READ_SNIPPET",
    "SCOPE_READ_USER",
    "SCOPE_READ_WORKSPACE",
    "SCOPE_WRITE_SNIPPET",
    "SHARED_WORKSPACE",
    "AccountInfo",
    "AuthResult",
    "Directory",
    "SandboxUser",
    "Workspace",
    "default_users",
    "new_user",
]

SCOPE_READ_SNIPPET = "read:snippet:bitbucket"
SCOPE_WRITE_SNIPPET = "write:snippet:bitbucket"
SCOPE_DELETE_SNIPPET = "delete:snippet:bitbucket"
SCOPE_READ_USER = "read:user:bitbucket"
SCOPE_READ_WORKSPACE = "read:workspace:bitbucket"
ALL_SCOPES = frozenset(
    {SCOPE_READ_SNIPPET, SCOPE_WRITE_SNIPPET, SCOPE_DELETE_SNIPPET, SCOPE_READ_USER, SCOPE_READ_WORKSPACE}
)

# OAuth 2.0 consumer scopes and what they grant in the API-token vocabulary.
_LEGACY_SCOPES: dict[str, frozenset[str]] = {
    "snippet": frozenset({SCOPE_READ_SNIPPET}),
    "snippet:write": frozenset({SCOPE_READ_SNIPPET, SCOPE_WRITE_SNIPPET, SCOPE_DELETE_SNIPPET}),
    "account": frozenset({SCOPE_READ_USER, SCOPE_READ_WORKSPACE}),
}

SHARED_WORKSPACE = "sandbox-team"

# UUIDs derive from names so that snippets keep their owner across restarts with fresh tokens.
_NAMESPACE = uuid_module.UUID("6f1c3b0e-5d3a-4c52-9a59-3b1f3f0c7a11")


def _stable_uuid(kind: str, name: str) -> str:
    return "{" + str(uuid_module.uuid5(_NAMESPACE, f"{kind}:{name}")) + "}"


@dataclass
class SandboxUser:
    """A sandbox account with its credentials. ``repr`` never shows the tokens."""

    nickname: str
    display_name: str
    email: str
    api_token: str = field(repr=False)
    access_token: str = field(repr=False)
    scopes: frozenset[str]
    uuid: str = ""
    account_id: str = ""

    def __post_init__(self) -> None:
        self.scopes = frozenset(self.scopes)
        if not self.uuid:
            self.uuid = _stable_uuid("user", self.nickname)
        if not self.account_id:
            self.account_id = "557058:" + str(uuid_module.uuid5(_NAMESPACE, f"account:{self.nickname}"))

    @property
    def granted_scopes(self) -> frozenset[str]:
        """The scopes in the API-token vocabulary, legacy OAuth names expanded."""
        granted = set(self.scopes)
        for scope in self.scopes:
            granted |= _LEGACY_SCOPES.get(scope, frozenset())
        return frozenset(granted)

    @property
    def account(self) -> AccountInfo:
        return AccountInfo(self.nickname, self.display_name, self.uuid, self.account_id)


@dataclass(frozen=True)
class AccountInfo:
    """The public face of an account: what the API shows of it (no email, no tokens)."""

    nickname: str
    display_name: str
    uuid: str
    account_id: str


def new_user(
    nickname: str,
    display_name: str,
    scopes: Iterable[str] = ALL_SCOPES,
    *,
    email: str | None = None,
) -> SandboxUser:
    """A user with fresh random tokens (API tokens look like Atlassian's, which start ``ATATT``)."""
    return SandboxUser(
        nickname=nickname,
        display_name=display_name,
        email=email or f"{nickname}@sandbox.invalid",
        api_token="ATATT3x" + secrets.token_urlsafe(32),
        access_token=secrets.token_urlsafe(40),
        scopes=frozenset(scopes),
    )


def default_users() -> list[SandboxUser]:
    """``demo`` (all scopes), ``alice`` (all scopes), ``reader`` (read snippets only); new tokens each call."""
    return [
        new_user("demo", "Demo User"),
        new_user("alice", "Alice Example"),
        new_user("reader", "Read-Only Reader", {SCOPE_READ_SNIPPET}),
    ]


@dataclass(frozen=True)
class Workspace:
    """A workspace: who belongs to it, who administers it, and whether it is on the Free plan."""

    slug: str
    uuid: str
    name: str
    members: frozenset[str]
    admins: frozenset[str]
    free_plan: bool = False
    personal_of: str | None = None

    def is_member(self, user: SandboxUser | None) -> bool:
        return user is not None and user.nickname in self.members

    def is_admin(self, user: SandboxUser | None) -> bool:
        return user is not None and user.nickname in self.admins


@dataclass(frozen=True)
class AuthResult:
    """The user an ``Authorization`` header names, or why it names nobody (a 401 message)."""

    user: SandboxUser | None
    error: str | None = None


_MISSING = "Authentication required: send an API token (HTTP Basic with your account email) or a Bearer token."
_INVALID = "Token is invalid, expired, or not supported for this endpoint."
_NOT_EMAIL = (
    "App passwords are no longer supported. Use an API token with your Atlassian account email as the username."
)


class Directory:
    """Users and workspaces of one sandbox; looks tokens up at request time, so edits to a user apply at once."""

    def __init__(self, users: Sequence[SandboxUser], free_plan_workspaces: Iterable[str]) -> None:
        self.users = users
        nicknames = [user.nickname for user in users]
        workspaces: dict[str, Workspace] = {}
        for user in users:
            workspaces[user.nickname] = Workspace(
                slug=user.nickname,
                uuid=user.uuid,  # a personal workspace shares its owner's UUID
                name=user.display_name,
                members=frozenset({user.nickname}),
                admins=frozenset({user.nickname}),
                personal_of=user.nickname,
            )
        workspaces[SHARED_WORKSPACE] = Workspace(
            slug=SHARED_WORKSPACE,
            uuid=_stable_uuid("workspace", SHARED_WORKSPACE),
            name="Sandbox Team",
            members=frozenset(nicknames),
            admins=frozenset(nicknames[:1]),
        )
        for slug in free_plan_workspaces:
            existing = workspaces.get(slug)
            if existing is not None:
                workspaces[slug] = replace(existing, free_plan=True)
            else:
                workspaces[slug] = Workspace(
                    slug=slug,
                    uuid=_stable_uuid("workspace", slug),
                    name=slug.replace("-", " ").title(),
                    members=frozenset(nicknames),
                    admins=frozenset(nicknames[:1]),
                    free_plan=True,
                )
        self.workspaces = workspaces

    def workspace(self, selector: str) -> Workspace | None:
        """By slug, or by ``{uuid}`` (braces required, case-insensitive) as the API accepts."""
        if selector.startswith("{") and selector.endswith("}"):
            wanted = selector.lower()
            return next((ws for ws in self.workspaces.values() if ws.uuid.lower() == wanted), None)
        return self.workspaces.get(selector)

    def add_workspace(self, slug: str, name: str, members: Iterable[str]) -> Workspace:
        """Another shared workspace (tests: users who see many workspaces); its first member administers it."""
        nicknames = list(members)
        workspace = Workspace(
            slug=slug,
            uuid=_stable_uuid("workspace", slug),
            name=name,
            members=frozenset(nicknames),
            admins=frozenset(nicknames[:1]),
        )
        self.workspaces[slug] = workspace
        return workspace

    def workspaces_of(self, user: SandboxUser) -> list[Workspace]:
        """The workspaces ``user`` belongs to, by slug (``GET /user/workspaces``)."""
        return sorted((ws for ws in self.workspaces.values() if ws.is_member(user)), key=lambda ws: ws.slug)

    def user(self, nickname: str) -> SandboxUser | None:
        return next((user for user in self.users if user.nickname == nickname), None)

    def user_by_email(self, email: str) -> SandboxUser | None:
        wanted = email.strip().lower()
        return next((user for user in self.users if user.email.lower() == wanted), None)

    def user_by_selector(self, selector: str) -> SandboxUser | None:
        """``/users/{selector}``: a ``{uuid}`` or an account id."""
        wanted = selector.lower()
        return next(
            (user for user in self.users if wanted in (user.uuid.lower(), user.account_id.lower())),
            None,
        )

    def authenticate(self, header: str | None) -> AuthResult:
        if not header or not header.strip():
            return AuthResult(None, _MISSING)
        scheme, _, credentials = header.strip().partition(" ")
        credentials = credentials.strip()
        if scheme.lower() == "bearer":
            for user in self.users:
                if credentials and hmac.compare_digest(user.access_token.encode(), credentials.encode()):
                    return AuthResult(user)
            return AuthResult(None, _INVALID)
        if scheme.lower() != "basic":
            return AuthResult(None, _INVALID)
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except ValueError:  # binascii.Error, UnicodeDecodeError, and non-ASCII text in the header
            return AuthResult(None, _INVALID)
        username, sep, password = decoded.partition(":")
        if not sep:
            return AuthResult(None, _INVALID)
        if "@" not in username:
            return AuthResult(None, _NOT_EMAIL)
        found = self.user_by_email(username)
        if found is None or not hmac.compare_digest(found.api_token.encode(), password.encode()):
            return AuthResult(None, _INVALID)
        return AuthResult(found)
