"""Talking to the daemon from Python: its commands and requests on top of any pygls client.

The demo (``scripts/demo.py``) and the end-to-end tests drive the real daemon over stdio through
this; a Python tool can too::

    client = LanguageClient("my-tool", "1")
    await client.start_io("snippet-daemon")
    session = DaemonSession(client)
    await client.initialize_async(InitializeParams(capabilities=ClientCapabilities()))
    client.initialized(InitializedParams())
    listed = await session.command("bbsnippets.list", workspace="myteam")

Results come back as plain JSON (camelCase dicts); a failure raises :class:`DaemonError` with the
``data.kind`` of ``docs/protocol.md``; ``bbsnippets/didChange`` notifications collect in
:attr:`DaemonSession.changes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from lsprotocol import types
from pygls.client import JsonRPCClient
from pygls.exceptions import JsonRpcException

from snippet_daemon import protocol


@attrs.define
class _RawResponse:
    """A response whose ``result`` stays JSON (pygls would make namedtuples of an unknown result)."""

    id: int | str
    jsonrpc: str
    result: Any = None


class DaemonError(Exception):
    """A request the daemon refused; ``kind`` is one of ``protocol.ErrorKind`` (None for a daemon bug)."""

    def __init__(self, error: JsonRpcException) -> None:
        super().__init__(error.message)
        self.code = error.code
        self.message = error.message
        self.data: dict[str, Any] = error.data if isinstance(error.data, dict) else {}
        self.kind: str | None = self.data.get("kind")


def plain(value: Any) -> Any:
    """namedtuples (pygls's shape for unknown notifications) back to dicts and lists."""
    if hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


class DaemonSession:
    """The daemon's protocol over a connected (or about to be started) pygls client."""

    def __init__(self, client: JsonRPCClient) -> None:
        self.client = client
        self.changes: list[dict[str, Any]] = []

        def on_did_change(params: Any) -> None:
            self.changes.append(plain(params))

        client.feature(protocol.DID_CHANGE)(on_did_change)

        original = client.protocol.get_result_type

        def result_type(method: str) -> Any:
            return _RawResponse if method in protocol.REQUESTS else original(method)

        client.protocol.get_result_type = result_type  # type: ignore[method-assign]

    async def command(self, name: str, arguments: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """``workspace/executeCommand`` with one object argument."""
        params = types.ExecuteCommandParams(command=name, arguments=[{**(arguments or {}), **kwargs}])
        try:
            return await self.client.protocol.send_request_async(types.WORKSPACE_EXECUTE_COMMAND, params)
        except JsonRpcException as error:
            raise DaemonError(error) from None

    async def request(self, method: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """One of the ``bbsnippets/*`` requests."""
        try:
            return await self.client.protocol.send_request_async(method, {**(params or {}), **kwargs})
        except JsonRpcException as error:
            raise DaemonError(error) from None
