"""Demo content for trying the product offline: a few snippets in ``users[0]``'s workspace.

They show what a real account holds: several revisions of one snippet (so ``commits``, ``diff`` and
``patch`` have something to say), a file in a subdirectory, a binary file next to text ones, a private
snippet, and a comment thread with a reply.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Sequence

from .accounts import SandboxUser
from .store import Store

__all__ = ["seed"]

_KEY = "demo_snippets"

_HELLO_V1 = b'print("Hello from the snippet sandbox!")\n'
_HELLO_V2 = b"""def greet(name: str) -> str:
    return f"Hello, {name}!"


if __name__ == "__main__":
    print(greet("snippet sandbox"))
"""
_README = b"""# Welcome

This snippet lives in a local sandbox that speaks the Bitbucket Cloud snippets API.
Edit it, comment on it, look at its revisions: nothing leaves this machine.
"""
_TODO = b"- try the diff of each revision\n- reply to a comment\n"
_SHELL_V1 = b"#!/bin/sh\n# Count lines of Python code\nfind . -name '*.py' | xargs wc -l\n"
_SHELL_V2 = (
    b"#!/bin/sh\n# Count lines of Python code, spaces in names welcome\nfind . -name '*.py' -print0 | xargs -0 wc -l\n"
)


def _png() -> bytes:
    """A valid 1x1 PNG, made here so that no binary file ships with the package."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x20\x60\xc0\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def seed(store: Store, users: Sequence[SandboxUser]) -> list[str]:
    """Create the demo snippets (once: while they all exist, their ids are returned again)."""
    owner = users[0]
    other = users[1] if len(users) > 1 else owner
    workspace = owner.nickname
    with store.lock:
        known = json.loads(store.get_meta(_KEY) or "[]")
        if known and all(store.get_snippet(workspace, snippet_id) for snippet_id in known):
            return list(known)

        welcome = store.create_snippet(
            workspace,
            owner,
            title="Welcome to the snippet sandbox",
            is_private=False,
            files={"hello.py": _HELLO_V1, "README.md": _README},
        )
        store.update_snippet(workspace, welcome.id, owner, changes={"hello.py": _HELLO_V2})
        store.update_snippet(workspace, welcome.id, other, changes={"notes/todo.txt": _TODO})
        first = store.add_comment(welcome.id, owner.nickname, "Try editing `hello.py` and look at the diff.", None)
        store.add_comment(welcome.id, other.nickname, "Done: the second revision adds `greet()`.", first.id)
        store.watch(welcome.id, owner.nickname)

        binary = store.create_snippet(
            workspace,
            owner,
            title="Binary and text files",
            is_private=True,
            files={
                "pixel.png": _png(),
                "all-bytes.bin": bytes(range(256)),
                "config.json": b'{\n  "name": "sandbox",\n  "private": true\n}\n',
            },
        )

        shell = store.create_snippet(
            workspace, owner, title="Shell one-liners", is_private=False, files={"count-lines.sh": _SHELL_V1}
        )
        store.update_snippet(workspace, shell.id, owner, changes={"count-lines.sh": _SHELL_V2})

        ids = [welcome.id, binary.id, shell.id]
        store.set_meta(_KEY, json.dumps(ids))
        return ids
