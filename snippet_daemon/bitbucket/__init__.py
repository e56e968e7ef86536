"""The Bitbucket Cloud snippets API client: HTTP, auth, pagination, multipart, errors.

It knows nothing of LSP; the daemon, the CLI and the migration all use it.
"""

from snippet_daemon.bitbucket.auth import (
    DEFAULT_API_URL,
    KEYRING_SERVICE,
    Credentials,
    KeyringStore,
    api_url_from_env,
    credentials_from_env,
    resolve_credentials,
)
from snippet_daemon.bitbucket.client import UNSET, RetryPolicy, SnippetsClient
from snippet_daemon.bitbucket.errors import (
    BitbucketError,
    Conflict,
    CredentialStoreError,
    Forbidden,
    InvalidApiUrl,
    InvalidRequest,
    NetworkError,
    NoKeyringBackend,
    NotAuthenticated,
    NotFound,
    PlanRestricted,
    RateLimited,
    ServerError,
)
from snippet_daemon.bitbucket.models import Account, Comment, Commit, Snippet, SnippetContent, Workspace

__all__ = [
    "DEFAULT_API_URL",
    "KEYRING_SERVICE",
    "UNSET",
    "Account",
    "BitbucketError",
    "Comment",
    "Commit",
    "Conflict",
    "CredentialStoreError",
    "Credentials",
    "Forbidden",
    "InvalidApiUrl",
    "InvalidRequest",
    "KeyringStore",
    "NetworkError",
    "NoKeyringBackend",
    "NotAuthenticated",
    "NotFound",
    "PlanRestricted",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "Snippet",
    "SnippetContent",
    "SnippetsClient",
    "Workspace",
    "api_url_from_env",
    "credentials_from_env",
    "resolve_credentials",
]
