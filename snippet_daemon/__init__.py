"""snippet-daemon: Bitbucket Cloud snippets inside every editor."""

__version__ = "0.1.0"
