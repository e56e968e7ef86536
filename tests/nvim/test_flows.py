"""The Neovim plugin end to end: each user flow is one Lua script (``editors/nvim/tests/*.lua``)
run in real headless Neovim, with the real daemon, against the real sandbox.

What the flows assert is what a Neovim user notices (buffers, prompts, registers, messages) and
what reaches Bitbucket (the sandbox's content and its request log); this side prepares the
sandbox, plays the other writer and checks the sandbox afterwards.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from snippet_daemon.sandbox import Sandbox
from tests.conftest import make_client
from tests.git_repos import git, new_repository, tree
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


async def test_share_a_visual_selection(sandbox: Sandbox, tmp_path: Path) -> None:
    await run_flow("share", sandbox, tmp_path, context={"workspace": WORKSPACE})
    async with make_client(sandbox) as client:
        snippets = await client.list_snippets(WORKSPACE)
    by_title = {snippet.title: snippet for snippet in snippets}
    assert by_title["retry helper"].is_private
    assert not by_title["retry.py"].is_private  # no title given: the daemon names it after the file


async def test_conflict_compare_then_overwrite(sandbox: Sandbox, tmp_path: Path) -> None:
    snippet_id = await create_snippet(sandbox, {"app.py": b"x = 1\n", "other.txt": b"untouched\n"}, title="conflict")
    await run_flow("conflict", sandbox, tmp_path, context={"workspace": WORKSPACE, "id": snippet_id})
    async with make_client(sandbox) as client:
        content = await client.get_snippet_content(WORKSPACE, snippet_id)
    assert content.files == {"app.py": b"x = 5  # mine again\n", "other.txt": b"untouched\n"}


async def test_comments_thread_reply_and_line_comment(sandbox: Sandbox, tmp_path: Path) -> None:
    snippet_id = await create_snippet(sandbox, {"app.py": b"def main():\n    print('hi')\n"}, title="comments")
    async with make_client(sandbox) as client:
        first = await client.create_comment(WORKSPACE, snippet_id, "Looks good")
        await run_flow("comments", sandbox, tmp_path, context={"workspace": WORKSPACE, "id": snippet_id})
        comments = await client.list_comments(WORKSPACE, snippet_id)
    alive = [comment for comment in comments if not comment.deleted]
    assert [(comment.raw, comment.parent_id) for comment in alive] == [
        ("Looks good", None),
        ("Thanks, merged.", first.id),
    ]


async def test_watch_reloads_unmodified_and_marks_modified_stale(sandbox: Sandbox, tmp_path: Path) -> None:
    files = {"clean.txt": b"one\ntwo\nthree\n", "edited.txt": b"original\n"}
    snippet_id = await create_snippet(sandbox, files, title="watched")

    async def delete(args: dict[str, str]) -> None:  # another writer deletes the snippet
        async with make_client(sandbox) as client:
            await client.delete_snippet(args["workspace"], args["id"])

    context = {"workspace": WORKSPACE, "id": snippet_id}
    await run_flow("watch", sandbox, tmp_path, context=context, handlers={"delete": delete})
    async with make_client(sandbox) as client:
        assert snippet_id not in {snippet.id for snippet in await client.list_snippets(WORKSPACE)}


async def test_watch_not_remembered_warns_and_out_of_reach_is_said_once(sandbox: Sandbox, tmp_path: Path) -> None:
    """#19 items 6 and 7 in Neovim: `saved: false` is a warning; a watched snippet whose workspace is gone
    is said once to be out of reach, its buffer kept, and only the daemon asks whether to unwatch it."""
    data = tmp_path / "xdg-data"
    data.mkdir()
    (data / "snippet-daemon").write_bytes(b"")  # the daemon's data folder cannot hold files (even for root)
    sandbox.add_workspace("doomed", "Doomed", ["demo", "alice"])
    async with make_client(sandbox) as client:
        snippet = await client.create_snippet("doomed", {"d.txt": b"d\n"}, title="doomed")

    async def remove_workspace(args: dict[str, str]) -> None:
        sandbox.remove_workspace(args["workspace"])  # gone: its list answers 404 from now on

    context = {"workspace": "doomed", "id": snippet.id}
    await run_flow(
        "watch_out_of_reach", sandbox, tmp_path, context=context, handlers={"remove_workspace": remove_workspace}
    )


async def test_history_old_revision_read_only_and_diffed(sandbox: Sandbox, tmp_path: Path) -> None:
    v1, v2 = 'def greet(name):\n    return "Hello"\n', 'def greet(name):\n    return f"Hello, {name}!"\n'
    snippet_id = await create_snippet(sandbox, {"greet.py": v1.encode()}, title="history")
    async with make_client(sandbox) as client:
        first = (await client.get_snippet(WORKSPACE, snippet_id)).revision
        second = (await client.update_snippet(WORKSPACE, snippet_id, files={"greet.py": v2.encode()})).revision
    context = {"workspace": WORKSPACE, "id": snippet_id, "first": first, "second": second, "v1": v1, "v2": v2}
    await run_flow("history", sandbox, tmp_path, context=context)


async def test_pull_asks_only_about_the_differing_file(sandbox: Sandbox, tmp_path: Path) -> None:
    files = {"same.txt": b"same\n", "local.txt": b"theirs\n", "new.txt": b"new\n"}
    snippet_id = await create_snippet(sandbox, files, title="pull")
    target = tmp_path / "into"
    target.mkdir()
    (target / "same.txt").write_bytes(b"same\n")
    (target / "local.txt").write_bytes(b"mine\n")
    context = {"workspace": WORKSPACE, "id": snippet_id, "dir": str(target)}
    await run_flow("pull", sandbox, tmp_path, context=context)
    assert {path.name: path.read_bytes() for path in target.iterdir()} == files


async def test_binary_file(sandbox: Sandbox, tmp_path: Path) -> None:
    files = {"all-bytes.bin": bytes(range(256)), "notes.txt": b"text\n"}
    snippet_id = await create_snippet(sandbox, files, title="binary")
    await run_flow("binary", sandbox, tmp_path, context={"workspace": WORKSPACE, "id": snippet_id})
    async with make_client(sandbox) as client:
        content = await client.get_snippet_content(WORKSPACE, snippet_id)
    assert content.files == files


async def test_checkhealth(sandbox: Sandbox, tmp_path: Path) -> None:
    no_keyring = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}  # as on a headless box
    await run_flow("health", sandbox, tmp_path, env=no_keyring)


async def test_no_credentials_gives_one_clear_message(sandbox: Sandbox, tmp_path: Path) -> None:
    await run_flow("no_credentials", sandbox, tmp_path, credentials=False)


async def test_no_daemon_gives_one_clear_message(sandbox: Sandbox, tmp_path: Path) -> None:
    snippet_id = await create_snippet(sandbox, {"app.py": b"x = 1\n"}, title="crash")
    await run_flow("no_daemon", sandbox, tmp_path, context={"workspace": WORKSPACE, "id": snippet_id})


async def test_file_and_snippet_commands(sandbox: Sandbox, tmp_path: Path) -> None:
    files = {"main.py": b'AWS_KEY = "AKIAQWERTYUIOP1234ZX"\n'}
    snippet_id = await create_snippet(sandbox, files, title="files")
    async with make_client(sandbox) as client:
        team = await client.create_snippet("sandbox-team", {"team.txt": b"ours\n"}, title="team snippet")
    context = {"workspace": WORKSPACE, "id": snippet_id, "team_id": team.id}
    await run_flow("files", sandbox, tmp_path, context=context)
    async with make_client(sandbox) as client:
        assert snippet_id not in {snippet.id for snippet in await client.list_snippets(WORKSPACE)}


async def test_startup_requires_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    await run_flow("startup", sandbox, tmp_path)


DEPLOY = "#!/bin/sh\nset -e\nkubectl apply -f app.yaml\necho done\nkubectl rollout status deploy/app\n"


async def test_search_fills_the_quickfix_list_and_cnext_opens_the_hits(sandbox: Sandbox, tmp_path: Path) -> None:
    # The older snippet's text stays unread (the flow's index budget covers one list page and one snippet).
    await create_snippet(sandbox, {"notes.md": b"kubectl is everywhere\n"}, title="Rollout notes")
    files = {"deploy.sh": DEPLOY.encode(), "README.md": b"Run deploy.sh\n"}
    snippet_id = await create_snippet(sandbox, files, title="Deploy with kubectl")
    context = {"workspace": WORKSPACE, "id": snippet_id, "deploy": DEPLOY}
    await run_flow("search", sandbox, tmp_path, context=context)  # indexing = true in its daemon_options


RETRY = "def retry(times):\n    for _ in range(times):\n        pass\n\n# end\n"


async def test_insert_puts_a_snippet_files_lines_at_the_cursor(sandbox: Sandbox, tmp_path: Path) -> None:
    files = {
        "retry.py": RETRY.encode(),
        "util/strings.py": b"UPPER = str.upper\n",
        "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    }
    helpers = await create_snippet(sandbox, files, title="helpers")
    one = await create_snippet(sandbox, {"hello.txt": b"hello, world\r\n  indented\r\n"}, title="one liner")
    context = {"workspace": WORKSPACE, "helpers": helpers, "one": one, "retry": RETRY}
    await run_flow("insert", sandbox, tmp_path, context=context)
    async with make_client(sandbox) as client:  # inserting reads; it never writes
        assert (await client.get_snippet_content(WORKSPACE, helpers)).files == files


async def test_login_without_a_keyring_says_so_before_asking(sandbox: Sandbox, tmp_path: Path) -> None:
    no_keyring = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}  # as on a headless box
    await run_flow("login_no_keyring", sandbox, tmp_path, credentials=False, env=no_keyring)


async def test_open_by_web_address(sandbox: Sandbox, tmp_path: Path) -> None:
    snippet_id = await create_snippet(sandbox, THREE_FILES, title="three files")
    async with make_client(sandbox) as client:
        html_url = (await client.get_snippet(WORKSPACE, snippet_id)).html_url
    context = {"workspace": WORKSPACE, "id": snippet_id, "html_url": html_url}
    await run_flow("open_url", sandbox, tmp_path, context=context)


async def test_push_a_linked_folder_status_diffsplit_conflict_and_a_linked_file(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    files = {"a.txt": b"alpha\n", "b.txt": b"bravo\n", "c.txt": b"charlie\n"}
    snippet_id = await create_snippet(sandbox, files, title="linked folder")
    folder = tmp_path / "linked"
    context = {"workspace": WORKSPACE, "id": snippet_id, "dir": str(folder), "single": str(tmp_path / "notes.md")}
    await run_flow("push", sandbox, tmp_path, context=context)
    async with make_client(sandbox) as client:
        content = await client.get_snippet_content(WORKSPACE, snippet_id)
        snippets = {snippet.title: snippet for snippet in await client.list_snippets(WORKSPACE)}
        single = await client.get_snippet_content(WORKSPACE, snippets["notes"].id)
    # a.txt: overwritten by the forced push; b.txt deleted; c.txt: the other writer's; new.txt added; extra.txt
    # (never named) stays local only.
    assert content.files == {"a.txt": b"alpha, mine again\n", "c.txt": b"charlie, theirs\n", "new.txt": b"new\n"}
    assert (folder / "extra.txt").is_file()
    assert single.files == {"notes.md": b"# Notes\n\nlinked and pushed\n"}


async def test_share_a_diff_from_git_and_apply_it_to_a_clean_copy(sandbox: Sandbox, tmp_path: Path) -> None:
    repo = new_repository(tmp_path / "repo")
    (repo / "src").mkdir()
    (repo / "src" / "app.py").write_text("".join(f"line {n}\n" for n in range(1, 30)))
    (repo / "gone.txt").write_text("delete me\n")
    (repo / "staged.txt").write_text("before\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "start")
    clean = tmp_path / "clean"
    shutil.copytree(repo, clean, ignore=shutil.ignore_patterns(".git"))
    (repo / "src" / "app.py").write_text("".join(f"line {n}\n" for n in range(1, 30)).replace("line 7\n", "line 7!\n"))
    (repo / "gone.txt").unlink()
    (repo / "fresh.txt").write_text("brand new\n")  # untracked: included when the user says so
    (repo / "staged.txt").write_text("after\n")
    git(repo, "add", "staged.txt")
    context = {"workspace": WORKSPACE, "repo": str(repo), "clean": str(clean)}
    await run_flow("patch", sandbox, tmp_path, context=context)
    assert tree(clean) == tree(repo)  # applied: identical trees (the stale second apply changed nothing)


async def test_restore_a_version_from_history(sandbox: Sandbox, tmp_path: Path) -> None:
    v1, v2 = 'def greet(name):\n    return "Hello"\n', 'def greet(name):\n    return f"Hello, {name}!"\n'
    snippet_id = await create_snippet(sandbox, {"greet.py": v1.encode(), "other.txt": b"one\n"}, title="restore")
    async with make_client(sandbox) as client:
        first = (await client.get_snippet(WORKSPACE, snippet_id)).revision
        second = (
            await client.update_snippet(WORKSPACE, snippet_id, files={"greet.py": v2.encode(), "other.txt": b"two\n"})
        ).revision
    context = {"workspace": WORKSPACE, "id": snippet_id, "first": first, "second": second, "v1": v1, "v2": v2}
    await run_flow("restore", sandbox, tmp_path, context=context)
    async with make_client(sandbox) as client:
        content = await client.get_snippet_content(WORKSPACE, snippet_id)
    # greet.py alone restored to the first version, then every file restored to the second one.
    assert content.files == {"greet.py": v2.encode(), "other.txt": b"two\n"}


async def test_a_watched_snippet_out_of_reach_is_asked_about_once_and_unwatched(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    gone = "vanishing-team"
    sandbox.add_workspace(gone, "Vanishing team", [sandbox.users[0].nickname])
    async with make_client(sandbox) as client:
        snippet = await client.create_snippet(gone, {"g.txt": b"soon gone\n"}, title="doomed")

    async def remove_workspace(args: dict[str, str]) -> None:
        sandbox.remove_workspace(args["workspace"])

    context = {"workspace": WORKSPACE, "gone": gone, "id": snippet.id}
    await run_flow("unreachable", sandbox, tmp_path, context=context, handlers={"remove_workspace": remove_workspace})
