#!/usr/bin/env python3
"""Write the editors' protocol mirrors from ``snippet_daemon/protocol.py``, the one source of truth.

    .venv/bin/python scripts/gen_protocol.py            # rewrite both mirrors
    .venv/bin/python scripts/gen_protocol.py --out DIR  # write them under DIR instead (the contract test)

Writes ``editors/vscode/src/protocol.ts`` (typed constants, as rust-analyzer's ``lsp_ext.ts``: a ``RequestType`` or
``NotificationType`` per request, a constant per command and a map from command name to params and result) and
``editors/nvim/lua/bbsnippets/protocol.lua`` (string constants and LuaCATS classes). Both keep protocol.py's order
and its comments: the module is read as source (``ast``) for the order, the comments and the type spellings
(``PullStatus`` stays a name), and imported for the method table. Fields are camelCase as on the wire; a field is
optional (``field?``) when its type allows ``None`` (left out of results) or, in what a client sends, when it has
a default.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import sys
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from snippet_daemon import protocol  # noqa: E402
from snippet_daemon.protocol import MethodKind  # noqa: E402

SOURCE = ROOT / "snippet_daemon" / "protocol.py"
ERROR_KINDS_SOURCE = ROOT / "snippet_daemon" / "error_kinds.py"
TS_MIRROR = Path("editors/vscode/src/protocol.ts")
LUA_MIRROR = Path("editors/nvim/lua/bbsnippets/protocol.lua")
REGENERATE = ".venv/bin/python scripts/gen_protocol.py"
SECTION_MARK = "# " + "-" * 20
SKIPPED_SECTIONS = {"the method table", "JSON conversion"}

# --------------------------------------------------------------------------- reading protocol.py


@dataclass
class Field:
    name: str  # camelCase, as on the wire
    annotation: ast.expr
    has_default: bool
    default: str | None  # a literal default, as JSON
    comment: str | None  # the trailing comment
    lead: list[str]  # comment lines just above it


@dataclass
class Klass:
    name: str
    doc: str | None
    fields: list[Field]


@dataclass
class Alias:
    name: str
    value: ast.expr
    lead: list[str]


@dataclass
class Constant:
    name: str
    value: str
    lead: list[str]


@dataclass
class Section:
    title: str
    items: list[Klass | Alias | Constant] = field(default_factory=list)


def comments_by_line(source: str) -> dict[int, str]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {token.start[0]: token.string.lstrip("#").strip() for token in tokens if token.type == tokenize.COMMENT}


def leading_comments(lines: list[str], lineno: int) -> list[str]:
    """The comment lines right above line ``lineno`` (1-based), section marks excluded."""
    found: list[str] = []
    index = lineno - 2
    while index >= 0 and lines[index].strip().startswith("#") and not lines[index].startswith(SECTION_MARK):
        found.insert(0, lines[index].strip().lstrip("#").strip())
        index -= 1
    return found


def has_default(value: ast.expr | None) -> bool:
    """``= x`` and ``attrs.Factory(...)`` give a default; ``attrs.field(...)`` only with ``default``/``factory``."""
    if isinstance(value, ast.Call) and ast.unparse(value.func) == "attrs.field":
        return any(keyword.arg in ("default", "factory") for keyword in value.keywords)
    return value is not None


def literal_default(value: ast.expr | None) -> str | None:
    if isinstance(value, ast.Constant) and value.value is not None:
        literal = value.value
        return json.dumps(int(literal) if isinstance(literal, float) and literal.is_integer() else literal)
    return None


def read_class(node: ast.ClassDef, lines: list[str], comments: dict[int, str]) -> Klass:
    doc = ast.get_docstring(node)
    fields = [
        Field(
            name=protocol.camel_case(statement.target.id),
            annotation=statement.annotation,
            has_default=has_default(statement.value),
            default=literal_default(statement.value),
            comment=comments.get(statement.lineno),
            lead=leading_comments(lines, statement.lineno),
        )
        for statement in node.body
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
    ]
    return Klass(node.name, doc, fields)


def read_sections() -> list[Section]:
    source = SOURCE.read_text(encoding="utf-8")
    lines = source.splitlines()
    comments = comments_by_line(source)
    marks = [(number, line.strip("# -")) for number, line in enumerate(lines, start=1) if line.startswith(SECTION_MARK)]
    sections: list[Section] = []
    for statement in ast.parse(source).body:
        title = next((title for number, title in reversed(marks) if number < statement.lineno), None)
        if title is None or title in SKIPPED_SECTIONS:
            continue
        if not sections or sections[-1].title != title:
            sections.append(Section(title))
        items = sections[-1].items
        lead = leading_comments(lines, statement.lineno)
        if isinstance(statement, ast.ClassDef) and any(
            "attrs" in ast.unparse(decorator) for decorator in statement.decorator_list
        ):
            items.append(read_class(statement, lines, comments))
        elif isinstance(statement, ast.Assign) and isinstance(target := statement.targets[0], ast.Name):
            value = statement.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                items.append(Constant(target.id, value.value, lead))
            elif isinstance(value, ast.BinOp | ast.Subscript) and not target.id.isupper():
                items.append(Alias(target.id, value, lead))
    return sections


def error_kinds() -> list[tuple[str, str, list[str]]]:
    """ErrorKind's members (name, value, comment lines above it), from error_kinds.py."""
    source = ERROR_KINDS_SOURCE.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    enum_class = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ErrorKind")
    members = []
    for statement in enum_class.body:
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant):
            name = statement.targets[0]
            assert isinstance(name, ast.Name)
            members.append((name.id, str(statement.value.value), leading_comments(lines, statement.lineno)))
    assert [value for _, value, _ in members] == [str(kind) for kind in protocol.ErrorKind], "error_kinds.py"
    return members


def input_classes(classes: dict[str, Klass]) -> set[str]:
    """The classes a client sends: the options and whatever commands and requests take, nested ones included."""
    pending = [protocol.InitializationOptions.__name__] + [
        method.params.__name__ for method in protocol.METHODS if method.kind is not MethodKind.NOTIFICATION
    ]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen or name not in classes:
            continue
        seen.add(name)
        for item in classes[name].fields:
            pending += [node.id for node in ast.walk(item.annotation) if isinstance(node, ast.Name)]
    return seen


# --------------------------------------------------------------------------- types


def union_members(annotation: ast.expr) -> list[ast.expr]:
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return union_members(annotation.left) + union_members(annotation.right)
    return [annotation]


def is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


class Language:
    """How one mirror spells types."""

    primitives: ClassVar[dict[str, str]]
    union: str
    prefix: str

    def name(self, name: str) -> str:
        return self.primitives.get(name, self.prefix + name)

    def list_of(self, item: str) -> str:
        return f"({item})[]" if self.union.strip() in item else f"{item}[]"

    def dict_of(self, key: str, value: str) -> str:
        raise NotImplementedError

    def spell(self, annotation: ast.expr) -> str:
        members = [member for member in union_members(annotation) if not is_none(member)]
        if len(members) > 1:
            return self.union.join(self.spell(member) for member in members)
        node = members[0]
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            arguments = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
            if node.value.id == "Literal":
                values = [str(argument.value) for argument in arguments if isinstance(argument, ast.Constant)]
                return self.union.join(f'"{value}"' for value in values)
            if node.value.id == "list":
                return self.list_of(self.spell(arguments[0]))
            if node.value.id == "dict":
                return self.dict_of(self.spell(arguments[0]), self.spell(arguments[1]))
        raise SystemExit(f"gen_protocol.py: no spelling for the annotation {ast.unparse(annotation)}")


class TypeScript(Language):
    primitives: ClassVar[dict[str, str]] = {
        "str": "string",
        "int": "number",
        "float": "number",
        "bool": "boolean",
        "Any": "unknown",
    }
    union = " | "
    prefix = ""

    def dict_of(self, key: str, value: str) -> str:
        return f"Record<{key}, {value}>"


class Lua(Language):
    primitives: ClassVar[dict[str, str]] = {
        "str": "string",
        "int": "integer",
        "float": "number",
        "bool": "boolean",
        "Any": "any",
    }
    union = "|"
    prefix = "bbsnippets."

    def dict_of(self, key: str, value: str) -> str:
        return f"table<{key}, {value}>"


def optional(item: Field, is_input: bool) -> bool:
    return any(is_none(member) for member in union_members(item.annotation)) or (is_input and item.has_default)


def sentence(text: str) -> str:
    """A comment as a sentence in the mirrors' style (Markdown backticks, not reStructuredText's)."""
    text = " ".join(text.replace("``", "`").split())
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")


def plain(comment: str) -> str:
    return comment.replace("``", "`")


def described(member: Field, is_input: bool) -> str | None:
    """A field's comment, with its default when a client may leave it out."""
    default = f"default {member.default}" if is_input and member.default is not None else None
    if member.comment and default and "default" not in member.comment:
        return f"{member.comment} ({default})"
    return member.comment or default


def error_data_fields(classes: dict[str, Klass], alias: Alias) -> list[Field]:
    """``error.data`` on the wire: ``{kind, **data}`` (ProtocolError.to_json) for any of the alias's classes."""
    return [item for member in union_members(alias.value) for item in classes[ast.unparse(member)].fields]


# --------------------------------------------------------------------------- TypeScript


def typescript(sections: list[Section]) -> str:
    ts = TypeScript()
    classes = {item.name: item for section in sections for item in section.items if isinstance(item, Klass)}
    inputs = input_classes(classes)
    out = [
        f"// Generated from snippet_daemon/protocol.py by scripts/gen_protocol.py: do not edit; run `{REGENERATE}`.",
        "// Declarations only, in protocol.py's order. Fields are camelCase exactly as on the wire; a Python",
        "// `X | None` (left out when empty) and a parameter with a default are `field?: X`.",
        "",
        'import { NotificationType, RequestType } from "vscode-languageserver-protocol";',
    ]

    def doc(text: str | None, indent: str = "") -> Iterator[str]:
        if text:
            yield f"{indent}/** {sentence(text)} */"

    for section in sections:
        out += ["", f"// {'-' * 75} {section.title}", ""]
        if section.title == "errors":
            out.append("/** The values of `error.data.kind` on a failed request. */")
            out.append("export const ErrorKind = {")
            for name, value, lead in error_kinds():
                out += [f"  // {plain(line)}" for line in lead]
                out.append(f'  {name}: "{value}",')
            out += ["} as const;", "export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];", ""]
        for item in section.items:
            if isinstance(item, Constant):
                if item.lead and out[-1] != "":
                    out.append("")
                out += [f"// {plain(line)}" for line in item.lead]
                method = protocol.METHODS_BY_NAME.get(item.value)
                if method is None or method.kind is MethodKind.COMMAND:
                    out.append(f'export const {item.name} = "{item.value}";')
                elif method.kind is MethodKind.REQUEST:
                    assert method.result is not None
                    types = f"{method.params.__name__}, {method.result.__name__}, void"
                    out.append(f'export const {item.name} = new RequestType<{types}>("{item.value}");')
                else:
                    out.append(
                        f'export const {item.name} = new NotificationType<{method.params.__name__}>("{item.value}");'
                    )
                continue
            if out[-1] != "":
                out.append("")
            if isinstance(item, Alias):
                out += [f"// {plain(line)}" for line in item.lead]
                if item.name == "ErrorData":
                    out.append("/** A failed request's `error.data`: `{kind, ...}` plus what that kind has to say. */")
                    members = " & ".join(ast.unparse(member) for member in union_members(item.value))
                    out.append(f"export type ErrorData = {{ kind?: ErrorKind }} & Partial<{members}>;")
                else:
                    out.append(f"export type {item.name} = {ts.spell(item.value)};")
                continue
            out += doc(item.doc)
            if not item.fields:
                out.append(f"export type {item.name} = Record<string, never>;")
                out.append("")
                continue
            out.append(f"export interface {item.name} {{")
            for member in item.fields:
                out += [f"  // {plain(line)}" for line in member.lead]
                out += doc(described(member, item.name in inputs), "  ")
                mark = "?" if optional(member, item.name in inputs) else ""
                out.append(f"  {member.name}{mark}: {ts.spell(member.annotation)};")
            out += ["}", ""]
        while out[-1] == "":
            out.pop()

    commands = [method for method in protocol.METHODS if method.kind is MethodKind.COMMAND]
    constant_of = {
        item.value: item.name for section in sections for item in section.items if isinstance(item, Constant)
    }
    out += ["", f"// {'-' * 75} the typed command map", ""]
    out.append("/** Every `workspace/executeCommand` of the daemon: its one object argument and its result. */")
    out.append("export interface Commands {")
    for method in commands:
        assert method.result is not None
        out.append(f"  [{constant_of[method.name]}]: [{method.params.__name__}, {method.result.__name__}];")
    out += [
        "}",
        "",
        "export type CommandName = keyof Commands;",
        "export type CommandParams<K extends CommandName> = Commands[K][0];",
        "export type CommandResult<K extends CommandName> = Commands[K][1];",
    ]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- Lua


def lua(sections: list[Section]) -> str:
    lu = Lua()
    classes = {item.name: item for section in sections for item in section.items if isinstance(item, Klass)}
    inputs = input_classes(classes)
    out = [
        f"-- Generated from snippet_daemon/protocol.py by scripts/gen_protocol.py: do not edit; run `{REGENERATE}`.",
        "-- Declarations only, in protocol.py's order. Fields are camelCase exactly as on the wire; `field?` is left",
        "-- out when it has no value (or, sent to the daemon, takes its default). No arguments: vim.empty_dict().",
        "",
        "local M = {}",
    ]

    def doc(text: str | None) -> Iterator[str]:
        if text:
            yield f"--- {sentence(text)}"

    def field_line(member: Field, is_input: bool) -> str:
        mark = "?" if optional(member, is_input) else ""
        text = described(member, is_input)
        comment = f" {plain(text)}" if text else ""
        return f"---@field {member.name}{mark} {lu.spell(member.annotation)}{comment}"

    for section in sections:
        out += ["", f"-- {'-' * 77} {section.title}", ""]
        if section.title == "errors":
            out += ["--- The values of `error.data.kind` on a failed request.", "---@enum bbsnippets.ErrorKind"]
            out.append("M.ErrorKind = {")
            for name, value, lead in error_kinds():
                out += [f"  -- {plain(line)}" for line in lead]
                out.append(f'  {name} = "{value}",')
            out += ["}", ""]
        for item in section.items:
            if isinstance(item, Constant):
                if item.lead and out[-1] != "":
                    out.append("")
                out += [f"-- {plain(line)}" for line in item.lead]
                out.append(f'M.{item.name} = "{item.value}"')
                continue
            if out[-1] != "":
                out.append("")
            if isinstance(item, Alias):
                out += [f"--- {plain(line)}" for line in item.lead]
                if item.name == "ErrorData":
                    out.append("--- A failed request's `error.data`: `{kind, ...}` plus what that kind has to say.")
                    data = ", ".join(
                        f"{member.name}?: {lu.spell(member.annotation)}" for member in error_data_fields(classes, item)
                    )
                    out.append(f"---@alias bbsnippets.ErrorData {{kind?: bbsnippets.ErrorKind, {data}}}")
                else:
                    out.append(f"---@alias bbsnippets.{item.name} {lu.spell(item.value)}")
                continue
            out += doc(item.doc)
            out.append(f"---@class bbsnippets.{item.name}")
            for member in item.fields:
                out += [f"--- {plain(line)}" for line in member.lead]
                out.append(field_line(member, item.name in inputs))
            out.append("")
        while out[-1] == "":
            out.pop()
    out += ["", "return M"]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main


def mirrors() -> dict[Path, str]:
    """Each mirror's path (relative to the repository) and its text."""
    sections = read_sections()
    return {TS_MIRROR: typescript(sections), LUA_MIRROR: lua(sections)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT, help="the folder to write under (default: the repository)")
    arguments = parser.parse_args()
    for relative, text in mirrors().items():
        target = arguments.out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
