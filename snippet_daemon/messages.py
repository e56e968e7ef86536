"""User-facing help texts that the server and the features both give (a leaf module: importing it pulls in
nothing, so a feature can say what the server says without importing the server)."""

from __future__ import annotations

WORKSPACE_SCOPE_HINT = (
    "Only your default workspace is listed: the credentials may not list workspaces. An API token with the "
    "scope read:workspace:bitbucket lists all of them; or name one with the workspace setting."
)

# For an agent (snippet-daemon mcp): no editor to sign in from.
NOT_AUTHENTICATED_MCP_HELP = (
    "Not logged in to Bitbucket. Run `snippet-daemon login` in a terminal (the secret goes to the OS keyring), "
    "or set BITBUCKET_USERNAME and BITBUCKET_API_TOKEN (or BITBUCKET_ACCESS_TOKEN) in this server's environment."
)

NOT_AUTHENTICATED_HELP = (
    "Not logged in to Bitbucket. Sign in from the editor (VS Code: Bitbucket Snippets: Sign in; Neovim: "
    ":BBSnippet login), or run `snippet-daemon login` in a terminal, or set BITBUCKET_USERNAME and "
    "BITBUCKET_API_TOKEN. "
    "The API token needs the scopes read:snippet:bitbucket, write:snippet:bitbucket and "
    "delete:snippet:bitbucket (create one at https://id.atlassian.com/manage-profile/security/api-tokens)."
)
