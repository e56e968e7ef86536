"""The sandbox's JSON answers validated against Bitbucket's official OpenAPI (Swagger 2.0) schemas.

The spec's ``definitions`` become one JSON Schema (draft 2020-12) whose ``$ref``s point at ``$defs``.
Where the real API is known to differ from its spec, the schema is patched in ONE place,
:func:`apply_real_world_deviations`, each patch with its evidence.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest

from snippet_daemon.bitbucket.multipart import encode_related
from snippet_daemon.sandbox import Sandbox
from tests.conftest import require_shared

SPEC = "bitbucket-api/snippets-openapi.json"


def apply_real_world_deviations(definitions: dict[str, Any]) -> None:
    """Every place where the sandbox follows the real API rather than its spec."""
    # 1. Snippet ids are short strings ("kypj", "ggd4X") in every recorded answer; the spec says integer.
    definitions["snippet"]["allOf"][1]["properties"]["id"] = {"type": "string", "pattern": "^[A-Za-z0-9]+$"}
    error = definitions["error"]["properties"]["error"]
    # 2. Scope errors carry a structured detail, {"required": [...], "granted": [...]} (seen in 2024-2026
    #    reports); the spec types detail as a string.
    error["properties"]["detail"] = {"type": ["string", "object"]}
    # 3. Validation errors name the offending fields in "fields" (FACTS.md); the spec closes the error object.
    error["properties"]["fields"] = {"type": "object"}
    # 4. A Free-plan workspace lists 200 with a *string* inside "values" (FACTS.md).
    definitions["paginated_snippets"]["properties"]["values"]["items"] = {
        "anyOf": [{"$ref": "#/definitions/snippet"}, {"type": "string"}]
    }


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: value.replace("#/definitions/", "#/$defs/") if key == "$ref" else _rewrite_refs(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item) for item in node]
    return node


@pytest.fixture(scope="module")
def definitions() -> dict[str, Any]:
    shared = require_shared()
    spec = json.loads((shared / SPEC).read_text(encoding="utf-8"))
    patched = copy.deepcopy(spec["definitions"])
    apply_real_world_deviations(patched)
    return dict(_rewrite_refs(patched))


# jsonschema checks "uri" and "date-time" only with optional packages: check them here, always.
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("uri")
def is_absolute_uri(value: object) -> bool:
    parts = urllib.parse.urlsplit(value) if isinstance(value, str) else None
    return parts is None or bool(parts.scheme and parts.netloc)


@FORMATS.checks("date-time", raises=ValueError)
def is_date_time(value: object) -> bool:
    if isinstance(value, str):
        dt.datetime.fromisoformat(value)
    return True


def validate(definitions: dict[str, Any], name: str, document: Any) -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": definitions,
        "$ref": f"#/$defs/{name}",
    }
    validator = jsonschema.Draft202012Validator(schema, format_checker=FORMATS)
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    assert not errors, "\n".join(f"{list(error.absolute_path)}: {error.message}" for error in errors)
    _check_dates(document)


def _check_dates(node: Any) -> None:
    """date-time values as Bitbucket writes them (``+00:00`` offsets), whether or not jsonschema checks formats."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("created_on", "updated_on", "date"):
                assert dt.datetime.fromisoformat(value).utcoffset() == dt.timedelta(0), value
                assert value.endswith("+00:00"), value
            else:
                _check_dates(value)
    elif isinstance(node, list):
        for item in node:
            _check_dates(item)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[httpx.Client]:
    user = sandbox.users[0]
    with httpx.Client(base_url=sandbox.base_url, auth=(user.email, user.api_token), timeout=10) as http:
        yield http


@pytest.fixture
def snippet(client: httpx.Client) -> dict[str, Any]:
    body, content_type = encode_related(
        {"title": "Contract", "is_private": False}, {"a.py": b"print(1)\n", "b.bin": b"\x00\xff"}
    )
    response = client.post("/snippets/demo", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 201
    document: dict[str, Any] = response.json()
    return document


def test_created_snippet(definitions: dict[str, Any], snippet: dict[str, Any]) -> None:
    validate(definitions, "snippet", snippet)
    assert isinstance(snippet["id"], str)


def test_fetched_snippet_at_head_and_at_a_revision(
    definitions: dict[str, Any], client: httpx.Client, snippet: dict[str, Any]
) -> None:
    first = snippet["links"]["diff"]["href"].split("/")[-2]
    client.put(f"/snippets/demo/{snippet['id']}", json={"title": "Renamed"})

    validate(definitions, "snippet", client.get(f"/snippets/demo/{snippet['id']}").json())
    validate(definitions, "snippet", client.get(f"/snippets/demo/{snippet['id']}/{first}").json())


def test_snippet_page(definitions: dict[str, Any], client: httpx.Client, snippet: dict[str, Any]) -> None:
    client.post("/snippets/demo", json={"title": "second"})

    page = client.get("/snippets/demo", params={"pagelen": 1}).json()

    validate(definitions, "paginated_snippets", page)
    assert all(isinstance(value, dict) for value in page["values"])
    assert "next" in page


def test_free_plan_page(definitions: dict[str, Any], client: httpx.Client) -> None:
    validate(definitions, "paginated_snippets", client.get("/snippets/free-plan").json())


def test_comment_and_comment_page(definitions: dict[str, Any], client: httpx.Client, snippet: dict[str, Any]) -> None:
    comments = f"/snippets/demo/{snippet['id']}/comments"
    parent = client.post(comments, json={"content": {"raw": "first"}}).json()
    reply = client.post(comments, json={"content": {"raw": "reply"}, "parent": {"id": parent["id"]}}).json()

    validate(definitions, "snippet_comment", parent)
    validate(definitions, "snippet_comment", reply)
    validate(definitions, "paginated_snippet_comments", client.get(comments).json())


def test_commit_and_commit_page(definitions: dict[str, Any], client: httpx.Client, snippet: dict[str, Any]) -> None:
    body, content_type = encode_related({}, {"a.py": b"print(2)\n"})
    client.put(f"/snippets/demo/{snippet['id']}", content=body, headers={"Content-Type": content_type})

    page = client.get(f"/snippets/demo/{snippet['id']}/commits").json()

    validate(definitions, "paginated_snippet_commit", page)
    validate(
        definitions,
        "snippet_commit",
        client.get(f"/snippets/demo/{snippet['id']}/commits/{page['values'][0]['hash']}").json(),
    )
    assert len(page["values"][0]["parents"]) == 1


def test_watchers_page(definitions: dict[str, Any], client: httpx.Client, snippet: dict[str, Any]) -> None:
    client.put(f"/snippets/demo/{snippet['id']}/watch")

    page = client.get(f"/snippets/demo/{snippet['id']}/watchers").json()

    validate(definitions, "paginated_accounts", page)
    assert [account["nickname"] for account in page["values"]] == ["demo"]


def test_current_user(definitions: dict[str, Any], client: httpx.Client) -> None:
    user = client.get("/user").json()

    validate(definitions, "account", user)
    assert "username" not in user  # removed from the API


@pytest.mark.parametrize(
    ("method", "path", "auth", "status"),
    [
        ("GET", "/snippets/demo/nope", "demo", 404),
        ("GET", "/snippets", "demo", 410),
        ("GET", "/snippets/demo", None, 401),
        ("POST", "/snippets/demo", "reader", 403),
        ("POST", "/snippets/demo", "demo", 400),
        ("PATCH", "/snippets/demo", "demo", 405),
    ],
)
def test_error_bodies(
    definitions: dict[str, Any], sandbox: Sandbox, method: str, path: str, auth: str | None, status: int
) -> None:
    user = next((user for user in sandbox.users if user.nickname == auth), None)
    credentials = (user.email, user.api_token) if user else None
    response = httpx.request(
        method,
        sandbox.base_url + path,
        auth=credentials,
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    validate(definitions, "error", response.json())
