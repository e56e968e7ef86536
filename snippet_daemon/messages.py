"""User-facing help texts that the server, the features, the CLI and the Bitbucket client give (a leaf module:
importing it pulls in nothing, so a feature can say what the server says without importing the server, and the
daemon can check its settings without importing httpx).

Messages that name a command name the one of the tool the user is in: :func:`words_for` gives each editor's
words (from ``clientName``), and :data:`CLI_WORDS` the command line's.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

TOKEN_URL = "https://id.atlassian.com/manage-profile/security/api-tokens"
SNIPPET_SCOPES = ("read:snippet:bitbucket", "write:snippet:bitbucket", "delete:snippet:bitbucket")
CLOUD_API_URL = "https://api.bitbucket.org/2.0"
SANDBOX_API_URL = "http://127.0.0.1:7990/2.0"

WORKSPACE_SCOPE_HINT = (
    "Only your default workspace is listed: the credentials may not list workspaces. An API token with the "
    "scope read:workspace:bitbucket lists all of them; or name one with the workspace setting."
)


@dataclass(frozen=True)
class ClientWords:
    """How one tool's user does what a message asks: sign in, and set the API address."""

    sign_in: str  # completes "..., then {sign_in}."
    api_url_setting: str


CLI_WORDS = ClientWords("run `snippet-daemon login`", "BITBUCKET_API_URL")
_EDITOR_WORDS = {
    "vscode": ClientWords("run Bitbucket Snippets: Sign in", "the setting bitbucketSnippets.apiUrl"),
    "neovim": ClientWords("run :BBSnippet login", "api_url in require('bbsnippets').setup()"),
}
# An editor we do not know: the command line signs it in too (they share the OS keyring).
OTHER_CLIENT_WORDS = ClientWords(
    "run `snippet-daemon login` in a terminal", "the apiUrl initialization option (or BITBUCKET_API_URL)"
)

# For an agent (snippet-daemon mcp): no editor to sign in from.
NOT_AUTHENTICATED_MCP_HELP = (
    "Not logged in to Bitbucket. Run `snippet-daemon login` in a terminal (the secret goes to the OS keyring), "
    "or set BITBUCKET_USERNAME and BITBUCKET_API_TOKEN (or BITBUCKET_ACCESS_TOKEN) in this server's environment."
)


def words_for(client_name: str | None) -> ClientWords:
    """The words of the client that named itself ``client_name`` in its initialization options."""
    return _EDITOR_WORDS.get((client_name or "").strip().lower(), OTHER_CLIENT_WORDS)


def listed(items: tuple[str, ...] | list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def new_token(then: str, scopes: tuple[str, ...] | list[str] = SNIPPET_SCOPES) -> str:
    """The fix for a token that does not do: which scopes, where to create it, what to do with it."""
    noun = "scope" if len(scopes) == 1 else "scopes"
    return f"create an API token with the {noun} {listed(scopes)} at {TOKEN_URL}, then {then}"


def not_signed_in(words: ClientWords = CLI_WORDS) -> str:
    return (
        f"Not logged in to Bitbucket: {new_token(words.sign_in)} with your Atlassian account email "
        "(or set BITBUCKET_USERNAME and BITBUCKET_API_TOKEN)."
    )


# What the command line says; editors get theirs from not_signed_in(words_for(clientName)).
NOT_AUTHENTICATED_HELP = not_signed_in(CLI_WORDS)


def api_url_problem(url: str, setting: str = CLI_WORDS.api_url_setting) -> str | None:
    """Why ``url`` cannot be the API's address (it needs a scheme, a host and the ``/2.0`` the API lives
    under), in a sentence that says what was expected; ``None`` when it can."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        why = "it needs http:// or https:// and a host"
    elif not parts.path.rstrip("/").endswith("/2.0"):
        why = "it must end in /2.0, where the API lives"
    elif parts.query or parts.fragment:
        why = "it cannot have a ?query or a #fragment"
    else:
        return None
    return (
        f"{setting} is {url.strip()!r}, which is not an API address ({why}): use {CLOUD_API_URL} for Bitbucket "
        f"Cloud, or the address the sandbox printed, such as {SANDBOX_API_URL}."
    )
