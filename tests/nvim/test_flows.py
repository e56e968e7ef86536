"""The Neovim plugin end to end: each user flow is one Lua script (``editors/nvim/tests/*.lua``)
run in real headless Neovim, with the real daemon, against the real sandbox.

What the flows assert is what a Neovim user notices (buffers, prompts, registers, messages) and
what reaches Bitbucket (the sandbox's content and its request log); this side prepares the
sandbox, plays the other writer and checks the sandbox afterwards.
"""

from __future__ import annotations

from pathlib import Path

from snippet_daemon.sandbox import Sandbox
from tests.conftest import make_client
from tests.nvim.editor import run_flow

WORKSPACE = "demo"  # the sandbox's users[0], whose credentials the flows run with


async def create_snippet(sandbox: Sandbox, files: dict[str, bytes], *, title: str, private: bool = True) -> str:
    async with make_client(sandbox) as client:
        snippet = await client.create_snippet(WORKSPACE, files, title=title, is_private=private)
        return snippet.id


THREE_FILES = {
    "app.py": b"def main() -> None:\n    print('hello')\n",
    "README.md": b"# Three files\n\nA test snippet.\n",
    "notes/todo.txt": b"- [x] open from Neovim\n",
}


async def test_list_open_edit_save(sandbox: Sandbox, tmp_path: Path) -> None:
    snippet_id = await create_snippet(sandbox, THREE_FILES, title="three files")
    context = {
        "workspace": WORKSPACE,
        "id": snippet_id,
        "files": {name: data.decode() for name, data in THREE_FILES.items()},
    }
    await run_flow("open_edit_save", sandbox, tmp_path, context=context)
    async with make_client(sandbox) as client:
        content = await client.get_snippet_content(WORKSPACE, snippet_id)
    assert content.files["notes/todo.txt"] == b"- [x] open from Neovim\n- [ ] saved from Neovim\n"
    assert content.files["app.py"] == THREE_FILES["app.py"]  # untouched files stay byte for byte
