"""``snippet-daemon mcp`` driven by the official SDK's own client over stdio, against the real sandbox.

The server is the real process (``python -m snippet_daemon mcp``) with a sandbox user's credentials in its
environment, as an MCP client (VS Code, Claude Code, ...) would start it. Request counts come from the
sandbox's own log of what it was sent.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult, TextContent

from snippet_daemon.mcp import TOOL_NAMES
from snippet_daemon.sandbox import Sandbox
from tests.daemon import daemon_env, user_env

pytestmark = pytest.mark.timeout(90)

AWS_KEY_LINE = 'AWS_ACCESS_KEY_ID = "AKIAQWERTYUIOP1234ZX"'


@asynccontextmanager
async def mcp_server(sandbox: Sandbox, **extra: str) -> AsyncIterator[Client]:
    env = daemon_env(sandbox, user_env(sandbox), {"SNIPPET_DAEMON_INDEXING": "0", **extra})
    env["SNIPPET_DAEMON_LOG"] = "info"
    parameters = StdioServerParameters(command=sys.executable, args=["-m", "snippet_daemon", "mcp"], env=env)
    async with Client(parameters, read_timeout_seconds=30) as client:
        yield client


def text_of(result: CallToolResult) -> str:
    return "\n".join(item.text for item in result.content if isinstance(item, TextContent))


def answer(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text_of(result)
    if result.structured_content is not None:
        return dict(result.structured_content.get("result", result.structured_content))
    return dict(json.loads(text_of(result)))


def api_requests(sandbox: Sandbox) -> list[str]:
    """What the sandbox was asked, as "METHOD /path", without the control routes."""
    return [
        f"{request.method} {request.path.split('?')[0]}"
        for request in sandbox.requests
        if not request.path.startswith("/_sandbox")
    ]


async def test_tools_are_listed_with_input_schemas_and_descriptions(sandbox: Sandbox) -> None:
    async with mcp_server(sandbox) as client:
        listed = await client.list_tools()
    tools = {tool.name: tool for tool in listed.tools}
    assert sorted(tools) == sorted(TOOL_NAMES)
    for tool in tools.values():
        assert tool.description and "\n" not in tool.description.strip(), tool.name
        assert tool.input_schema["type"] == "object", tool.name
    assert tools["read_snippet"].input_schema["required"] == ["workspace", "id"]
    assert set(tools["update_snippet_file"].input_schema["required"]) == {
        "workspace",
        "id",
        "path",
        "content",
        "revision",
    }
    assert tools["search_snippets"].input_schema["required"] == ["query"]
    files = tools["create_snippet"].input_schema["properties"]["files"]
    assert files["type"] == "array" and files["minItems"] == 1
    assert api_requests(sandbox) == []  # listing tools asks Bitbucket nothing


async def test_create_read_update_and_a_stale_revision_refused(sandbox: Sandbox) -> None:
    workspace = sandbox.users[0].nickname
    async with mcp_server(sandbox, BITBUCKET_WORKSPACE=workspace) as client:
        sandbox.clear_requests()
        created = answer(
            await client.call_tool(
                "create_snippet", {"title": "retry helper", "files": [{"name": "retry.py", "content": "tries = 3\n"}]}
            )
        )
        assert created["private"] is True  # private unless asked otherwise
        assert created["link"] and created["workspace"] == workspace
        assert api_requests(sandbox) == [f"POST /2.0/snippets/{workspace}"]

        sandbox.clear_requests()
        read = answer(await client.call_tool("read_snippet", {"workspace": workspace, "id": created["id"]}))
        assert read["files"] == [{"name": "retry.py", "content": "tries = 3\n"}]
        first = read["revision"]
        assert first and api_requests(sandbox) == [f"GET /2.0/snippets/{workspace}/{created['id']}"]

        sandbox.clear_requests()
        arguments = {"workspace": workspace, "id": created["id"], "path": "retry.py", "revision": first}
        updated = answer(await client.call_tool("update_snippet_file", {**arguments, "content": "tries = 5\n"}))
        assert updated["revision"] and updated["revision"] != first
        assert api_requests(sandbox) == [f"PUT /2.0/snippets/{workspace}/{created['id']}/{first}"]  # compare-and-swap

        sandbox.clear_requests()
        stale = await client.call_tool("update_snippet_file", {**arguments, "content": "tries = 99\n"})
        assert stale.is_error
        assert "changed since the revision" in text_of(stale) and "read_snippet" in text_of(stale)
        assert "Traceback" not in text_of(stale)
        assert api_requests(sandbox) == [f"PUT /2.0/snippets/{workspace}/{created['id']}/{first}"]  # refused: 405

        again = answer(await client.call_tool("read_snippet", {"workspace": workspace, "id": created["id"]}))
        assert again["files"] == [{"name": "retry.py", "content": "tries = 5\n"}]  # unchanged by the stale write
        assert again["revision"] == updated["revision"]


async def test_a_public_snippet_holding_an_aws_key_is_refused_before_any_request(sandbox: Sandbox) -> None:
    async with mcp_server(sandbox) as client:  # no workspace configured: not even GET /user may go out
        sandbox.clear_requests()
        result = await client.call_tool(
            "create_snippet",
            {
                "title": "config",
                "is_private": False,
                "files": [
                    {"name": "notes.md", "content": "hello\n"},
                    {"name": "settings.py", "content": f"x = 1\n{AWS_KEY_LINE}\n"},
                ],
            },
        )
        assert result.is_error
        message = text_of(result)
        assert "settings.py line 2" in message and "credential" in message
        assert "AKIAQWERTYUIOP1234ZX" not in message
        assert api_requests(sandbox) == []


async def test_list_search_and_comment(sandbox: Sandbox) -> None:
    workspace = sandbox.users[0].nickname
    async with mcp_server(sandbox, BITBUCKET_WORKSPACE=workspace, SNIPPET_DAEMON_INDEXING="1") as client:
        created = answer(
            await client.call_tool(
                "create_snippet",
                {
                    "title": "backoff",
                    "files": [{"name": "jitter.py", "content": "import random\nzanzibar_jitter = 7\n"}],
                },
            )
        )
        # Search first: once the background index holds the snippet, its own list reads are over, so the
        # request log below counts the list tool alone.
        hits: list[dict[str, object]] = []
        for _ in range(200):
            found = answer(await client.call_tool("search_snippets", {"query": "zanzibar_jitter"}))
            hits = [hit for hit in found["hits"] if hit["id"] == created["id"]]
            if hits:
                break
            await asyncio.sleep(0.05)
        assert hits, "the index never found the new snippet"
        hit = hits[0]
        assert hit["file"] == "jitter.py" and hit["line"] == 2 and "zanzibar_jitter = 7" in str(hit["preview"])

        sandbox.clear_requests()
        listed = answer(await client.call_tool("list_snippets", {}))
        mine = next(row for row in listed["snippets"] if row["id"] == created["id"])
        assert mine["files"] == ["jitter.py"] and mine["private"] is True and mine["updated"]
        assert api_requests(sandbox) == [f"GET /2.0/snippets/{workspace}"]  # one page

        sandbox.clear_requests()
        comment = answer(
            await client.call_tool(
                "add_comment",
                {"workspace": workspace, "id": created["id"], "content": "why 7?", "path": "jitter.py", "line": 2},
            )
        )
        assert comment["comment_id"] and comment["path"] == "jitter.py" and comment["line"] == 2
        assert api_requests(sandbox) == [f"POST /2.0/snippets/{workspace}/{created['id']}/comments"]

        resource = await client.read_resource(f"bbsnippet://{workspace}/{created['id']}/jitter.py")
        assert "zanzibar_jitter = 7" in resource.contents[0].text  # type: ignore[union-attr]

    # The account's one index file, which the daemon and the CLI use too: the CLI finds the snippet in it.
    cache = sandbox.data_dir.parent / "xdg-cache" / "snippet-daemon"
    files = sorted(cache.glob("index-*.sqlite3"))
    assert len(files) == 1, files
    env = daemon_env(sandbox, user_env(sandbox), {"BITBUCKET_WORKSPACE": workspace})
    cli = subprocess.run(
        [sys.executable, "-m", "snippet_daemon", "search", "zanzibar_jitter"], env=env, capture_output=True, text=True
    )
    assert f"{workspace}/{created['id']}:jitter.py:2:" in cli.stdout, cli.stderr
    assert sorted(cache.glob("index-*.sqlite3")) == files


async def test_no_credential_in_any_result_and_errors_in_plain_words(sandbox: Sandbox) -> None:
    account = sandbox.users[0]
    workspace = account.nickname
    results: list[str] = []
    async with mcp_server(sandbox, BITBUCKET_WORKSPACE=workspace) as client:
        created = answer(
            await client.call_tool(
                "create_snippet",
                {"title": "pasted", "files": [{"name": "env.sh", "content": f"export TOKEN={account.api_token}\n"}]},
            )
        )
        results.append(json.dumps(created))
        read = await client.call_tool("read_snippet", {"workspace": workspace, "id": created["id"]})
        results.append(text_of(read) + json.dumps(read.structured_content))
        assert "export TOKEN=" in text_of(read)
        for name, arguments in [
            ("list_snippets", {}),
            ("read_snippet", {"workspace": workspace, "id": "nosuchid"}),
            ("read_snippet", {"workspace": workspace, "id": created["id"], "path": "missing.txt"}),
            (
                "update_snippet_file",
                {"workspace": workspace, "id": created["id"], "path": "../x", "content": "", "revision": "abc"},
            ),
            (
                "add_comment",
                {"workspace": workspace, "id": created["id"], "content": "hi", "path": "nope.txt", "line": 1},
            ),
        ]:
            result = await client.call_tool(name, arguments)
            results.append(text_of(result) + json.dumps(result.structured_content))
            if result.is_error:
                assert "Traceback" not in text_of(result) and "BBSnippet" not in text_of(result), text_of(result)
    everything = "\n".join(results)
    assert account.api_token not in everything and account.access_token not in everything
    assert "nosuchid" in results[3] and "missing.txt" in results[4]


async def test_the_budget_runs_out_with_a_clear_error(sandbox: Sandbox) -> None:
    workspace = sandbox.users[0].nickname
    async with mcp_server(sandbox, BITBUCKET_WORKSPACE=workspace, SNIPPET_DAEMON_MCP_BUDGET_PER_HOUR="2") as client:
        assert not (await client.call_tool("list_snippets", {})).is_error  # 1 request
        assert not (await client.call_tool("list_snippets", {})).is_error  # 2: the budget is spent
        sandbox.clear_requests()
        spent = await client.call_tool("list_snippets", {})
    assert spent.is_error
    assert (
        "budget" in text_of(spent)
        and "mcpBudgetPerHour" in text_of(spent)
        and "Nothing more was sent" in text_of(spent)
    )
    assert api_requests(sandbox) == []


async def test_a_budget_spent_in_the_middle_of_a_call_sends_nothing_more(sandbox: Sandbox) -> None:
    workspace = sandbox.users[0].nickname
    async with mcp_server(sandbox, BITBUCKET_WORKSPACE=workspace) as client:
        created = answer(
            await client.call_tool("create_snippet", {"title": "t", "files": [{"name": "a.txt", "content": "one\n"}]})
        )
        revision = answer(await client.call_tool("read_snippet", {"workspace": workspace, "id": created["id"]}))[
            "revision"
        ]
    # A new session with one request to spend: the update reads the snippet (1 GET), and its PUT is not sent.
    async with mcp_server(sandbox, BITBUCKET_WORKSPACE=workspace, SNIPPET_DAEMON_MCP_BUDGET_PER_HOUR="1") as client:
        sandbox.clear_requests()
        arguments = {
            "workspace": workspace,
            "id": created["id"],
            "path": "a.txt",
            "content": "two\n",
            "revision": revision,
        }
        result = await client.call_tool("update_snippet_file", arguments)
        assert result.is_error and "budget" in text_of(result), text_of(result)
        assert api_requests(sandbox) == [f"GET /2.0/snippets/{workspace}/{created['id']}"]
    async with mcp_server(sandbox, BITBUCKET_WORKSPACE=workspace) as client:
        after = answer(await client.call_tool("read_snippet", {"workspace": workspace, "id": created["id"]}))
    assert after["files"] == [{"name": "a.txt", "content": "one\n"}] and after["revision"] == revision


async def test_without_credentials_the_error_says_how_to_log_in_without_naming_an_editor(sandbox: Sandbox) -> None:
    env = daemon_env(sandbox, None, {"SNIPPET_DAEMON_INDEXING": "0", "BITBUCKET_WORKSPACE": "demo"})
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)  # no keyring either
    parameters = StdioServerParameters(command=sys.executable, args=["-m", "snippet_daemon", "mcp"], env=env)
    async with Client(parameters, read_timeout_seconds=30) as client:
        result = await client.call_tool("list_snippets", {})
    assert result.is_error
    message = text_of(result)
    assert "snippet-daemon login" in message and "BITBUCKET_API_TOKEN" in message
    assert "BBSnippet" not in message and "VS Code" not in message and "Traceback" not in message
    assert api_requests(sandbox) == []
