"""The contract in one table (``protocol.METHODS``) and everything that must agree with it: the server's
registration, ``docs/protocol.md``, and the editor mirrors (``editors/vscode/src/protocol.ts``,
``editors/nvim/lua/bbsnippets/protocol.lua``) once they exist. So the three codebases cannot drift apart.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any

import attrs
import pytest

from snippet_daemon import protocol
from snippet_daemon.app import create_server
from snippet_daemon.protocol import ErrorKind, MethodKind

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "protocol.md"
MIRRORS = [
    ROOT / "editors" / "vscode" / "src" / "protocol.ts",
    ROOT / "editors" / "nvim" / "lua" / "bbsnippets" / "protocol.lua",
]
ERROR_DATA = (protocol.ConflictData, protocol.SecretDetectedData, protocol.ForbiddenData, protocol.InvalidArgumentData)


def _attrs_classes_in(annotation: Any) -> list[type]:
    if attrs.has(annotation):
        return [annotation]
    found: list[type] = []
    for argument in typing.get_args(annotation):
        found += _attrs_classes_in(argument)
    return found


def contract_types() -> list[type]:
    """Every attrs class a method, the options or an error's data uses, nested ones included."""
    roots: list[type] = [protocol.InitializationOptions, *ERROR_DATA]
    for method in protocol.METHODS:
        roots += [method.params] + ([method.result] if method.result else [])
    seen: list[type] = []
    while roots:
        cls = roots.pop()
        if cls in seen:
            continue
        seen.append(cls)
        for annotation in typing.get_type_hints(cls, vars(protocol)).values():
            roots += _attrs_classes_in(annotation)
    return seen


def wire_fields(cls: type) -> list[str]:
    return [protocol.camel_case(field.name) for field in attrs.fields(cls)]


def words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


def test_the_server_registers_exactly_the_table() -> None:
    server = create_server({})
    commands = {m.name for m in protocol.METHODS if m.kind is MethodKind.COMMAND}
    requests = {m.name for m in protocol.METHODS if m.kind is MethodKind.REQUEST}
    assert set(server.protocol.fm.commands) == commands == set(protocol.COMMANDS)
    assert requests <= set(server.protocol.fm.features) and set(protocol.REQUESTS) == requests
    assert len(protocol.METHODS_BY_NAME) == len(protocol.METHODS)  # no name twice
    for method in protocol.METHODS:
        assert attrs.has(method.params), method.name
        assert (method.result is None) is (method.kind is MethodKind.NOTIFICATION), method.name


def test_every_name_and_field_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [f"method {m.name}" for m in protocol.METHODS if f"`{m.name}`" not in text]
    missing += [f"error kind {kind}" for kind in ErrorKind if f"`{kind}`" not in text]
    documented = words(text)
    for cls in contract_types():
        missing += [f"{cls.__name__}.{name}" for name in wire_fields(cls) if name not in documented]
    assert missing == [], f"docs/protocol.md does not mention: {missing}"


@pytest.mark.parametrize("mirror", MIRRORS, ids=lambda path: path.name)
def test_every_name_field_and_type_is_mirrored(mirror: Path) -> None:
    if not mirror.exists():
        pytest.skip(f"{mirror.relative_to(ROOT)} does not exist yet")
    text = mirror.read_text(encoding="utf-8")
    mirrored = words(text)
    missing = [f"method {m.name}" for m in protocol.METHODS if f'"{m.name}"' not in text]
    missing += [f"error kind {kind}" for kind in ErrorKind if f'"{kind}"' not in text]
    for cls in contract_types():
        if cls.__name__ not in mirrored:
            missing.append(f"type {cls.__name__}")
        missing += [f"{cls.__name__}.{name}" for name in wire_fields(cls) if name not in mirrored]
    assert missing == [], f"{mirror.relative_to(ROOT)} does not mention: {missing}"


def test_every_error_kind_has_its_own_code() -> None:
    assert set(protocol.ERROR_CODES) == set(ErrorKind)
    assert len(set(protocol.ERROR_CODES.values())) == len(ErrorKind)


def test_contract_types_cover_nested_results() -> None:
    names = {cls.__name__ for cls in contract_types()}
    assert {"PullFile", "WorkspaceInfo", "KeyringHealth", "SecretFinding", "FileInfo"} <= names
