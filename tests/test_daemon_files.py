"""End to end: the ``bbsnippets/*`` file-system requests, through the real daemon, against the sandbox.

Every test runs once per client capability set (VS Code, Neovim). What is asserted is what a
user notices: the bytes they read and save, the errors they are shown, and how many requests
reach Bitbucket (its rate limit is the user's budget), counted on the sandbox's request log.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from snippet_daemon.bitbucket import NotFound
from snippet_daemon.bitbucket.multipart import decode_snippet_body
from snippet_daemon.documents import STAT_FRESH_SECONDS
from snippet_daemon.sandbox import Sandbox
from snippet_daemon.uri import snippet_uri
from tests.conftest import make_client
from tests.daemon import CLIENTS, Daemon, DaemonError, start_daemon

# --------------------------------------------------------------------------- fixtures and helpers


@pytest.fixture(params=CLIENTS)
async def daemon(request: pytest.FixtureRequest, sandbox: Sandbox) -> AsyncIterator[Daemon]:
    started = await start_daemon(sandbox, capabilities=request.param)
    try:
        yield started
    finally:
        await started.stop()


@dataclass
class SentBody:
    method: str
    path: str
    content_type: str
    body: bytes


@pytest.fixture
def bodies(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[SentBody]]:
    """Every request body the sandbox's API receives (its request log keeps only sizes)."""
    sent: list[SentBody] = []
    api = sandbox._api
    assert api is not None
    original = api.handle

    def recording(request: Any) -> Any:
        sent.append(SentBody(request.method, request.path, request.headers.get("content-type", ""), request.body))
        return original(request)

    monkeypatch.setattr(api, "handle", recording)
    yield sent


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


async def create(daemon: Daemon, files: dict[str, bytes], *, private: bool = True) -> tuple[str, str]:
    result = await daemon.command(
        "bbsnippets.create",
        files=[{"name": name, "base64": b64(data)} for name, data in files.items()],
        isPrivate=private,
        title="files test",
    )
    return result["workspace"], result["id"]


async def read(daemon: Daemon, uri: str) -> bytes:
    result = await daemon.request("bbsnippets/readFile", uri=uri)
    return base64.b64decode(result["base64"])


async def write(daemon: Daemon, uri: str, data: bytes, **flags: Any) -> Any:
    return await daemon.request("bbsnippets/writeFile", uri=uri, base64=b64(data), **flags)


async def rename(daemon: Daemon, old: str, new: str) -> Any:
    return await daemon.request("bbsnippets/rename", oldUri=old, newUri=new)


async def remote(sandbox: Sandbox, workspace: str, snippet_id: str) -> tuple[str | None, dict[str, bytes]]:
    """The snippet's HEAD revision and files as Bitbucket has them (read with a separate client)."""
    async with make_client(sandbox) as client:
        content = await client.get_snippet_content(workspace, snippet_id)
    return content.revision, dict(content.files)


async def fails(kind: str, call: Any) -> DaemonError:
    with pytest.raises(DaemonError) as raised:
        await call
    assert raised.value.kind == kind, f"expected {kind}, got {raised.value.kind}: {raised.value.message}"
    return raised.value


def api_requests(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [(request.method, request.path) for request in sandbox.requests]


# --------------------------------------------------------------------------- reading


async def test_browsing_workspace_snippet_and_files(daemon: Daemon, sandbox: Sandbox) -> None:
    files = {
        "README.md": b"# hello\n",
        "src/main.py": b"print('hi')\n",
        "src/lib/util.py": b"X = 1\n",
        "logo.bin": b"\x89PNG\x00\xff",
        "odd names/ünï code #1?.txt": "ünï\n".encode(),
    }
    ws, sid = await create(daemon, files)

    workspace = await daemon.request("bbsnippets/stat", uri=f"bbsnippet://{ws}/")
    assert workspace["type"] == "directory"
    listing = await daemon.request("bbsnippets/readDirectory", uri=f"bbsnippet://{ws}/")
    assert {"name": sid, "type": "directory"} in listing["entries"]

    snippet = await daemon.request("bbsnippets/stat", uri=snippet_uri(ws, sid))
    assert snippet["type"] == "directory"
    assert snippet["readonly"] is False
    assert snippet["mtime"] > 0
    top = await daemon.request("bbsnippets/readDirectory", uri=snippet_uri(ws, sid))
    assert top["entries"] == [
        {"name": "README.md", "type": "file"},
        {"name": "logo.bin", "type": "file"},
        {"name": "odd names", "type": "directory"},
        {"name": "src", "type": "directory"},
    ]
    # A file name with "/" appears as nested directories.
    assert (await daemon.request("bbsnippets/stat", uri=snippet_uri(ws, sid, "src")))["type"] == "directory"
    src = await daemon.request("bbsnippets/readDirectory", uri=snippet_uri(ws, sid, "src"))
    assert src["entries"] == [{"name": "lib", "type": "directory"}, {"name": "main.py", "type": "file"}]
    lib = await daemon.request("bbsnippets/readDirectory", uri=snippet_uri(ws, sid, "src/lib"))
    assert lib["entries"] == [{"name": "util.py", "type": "file"}]

    util = await daemon.request("bbsnippets/stat", uri=snippet_uri(ws, sid, "src/lib/util.py"))
    assert util["type"] == "file"
    assert util["size"] == len(files["src/lib/util.py"])
    assert util["readonly"] is False
    text = await daemon.request("bbsnippets/readFile", uri=snippet_uri(ws, sid, "src/lib/util.py"))
    assert text["text"] == "X = 1\n"
    assert base64.b64decode(text["base64"]) == b"X = 1\n"
    binary = await daemon.request("bbsnippets/readFile", uri=snippet_uri(ws, sid, "logo.bin"))
    assert "text" not in binary
    assert base64.b64decode(binary["base64"]) == files["logo.bin"]
    odd = await daemon.request("bbsnippets/readDirectory", uri=snippet_uri(ws, sid, "odd names"))
    assert odd["entries"] == [{"name": "ünï code #1?.txt", "type": "file"}]
    assert (await daemon.request("bbsnippets/readFile", uri=snippet_uri(ws, sid, "odd names/ünï code #1?.txt")))[
        "text"
    ] == "ünï\n"

    # Missing things are notFound; anything that is not a bbsnippet URI is invalidArgument.
    missing = snippet_uri(ws, sid, "nope.txt")
    await fails("notFound", daemon.request("bbsnippets/readFile", uri=missing))
    await fails("notFound", daemon.request("bbsnippets/stat", uri=missing))
    await fails("notFound", daemon.request("bbsnippets/readDirectory", uri=snippet_uri(ws, sid, "nodir")))
    error = await fails("invalidArgument", daemon.request("bbsnippets/readFile", uri=snippet_uri(ws, sid, "src")))
    assert "directory" in error.message
    await fails("notFound", daemon.request("bbsnippets/readFile", uri=snippet_uri(ws, "nosuchsnippet", "a.txt")))
    for foreign in ("file:///etc/passwd", "https://bitbucket.org/snippets/x/y", "untitled:Untitled-1"):
        await fails("invalidArgument", daemon.request("bbsnippets/readFile", uri=foreign))
        await fails("invalidArgument", daemon.request("bbsnippets/stat", uri=foreign))
        await fails("invalidArgument", daemon.request("bbsnippets/writeFile", uri=foreign, text="x"))


async def test_old_revisions_are_readable_and_read_only(daemon: Daemon, sandbox: Sandbox) -> None:
    ws, sid = await create(daemon, {"notes.txt": b"first\n", "other.txt": b"other\n"})
    old = (await daemon.command("bbsnippets.open", workspace=ws, id=sid))["revision"]
    assert old
    new = (await write(daemon, snippet_uri(ws, sid, "notes.txt"), b"second\n"))["revision"]
    assert new and new != old

    assert await read(daemon, snippet_uri(ws, sid, "notes.txt")) == b"second\n"
    at_old = snippet_uri(ws, sid, "notes.txt", old)
    assert "?rev=" in at_old
    assert await read(daemon, at_old) == b"first\n"
    stat = await daemon.request("bbsnippets/stat", uri=at_old)
    assert stat == {**stat, "type": "file", "size": len(b"first\n"), "readonly": True}
    old_listing = await daemon.request("bbsnippets/readDirectory", uri=snippet_uri(ws, sid, None, old))
    assert [entry["name"] for entry in old_listing["entries"]] == ["notes.txt", "other.txt"]

    error = await fails("readOnly", write(daemon, at_old, b"rewrite history\n"))
    assert "?rev=" in error.message
    await fails("readOnly", daemon.request("bbsnippets/delete", uri=at_old))
    await fails(
        "readOnly",
        daemon.request("bbsnippets/rename", oldUri=at_old, newUri=snippet_uri(ws, sid, "renamed.txt")),
    )
    revision, files = await remote(sandbox, ws, sid)
    assert revision == new
    assert files == {"notes.txt": b"second\n", "other.txt": b"other\n"}


# --------------------------------------------------------------------------- request economy


async def test_opening_and_reading_every_file_is_one_request(daemon: Daemon, sandbox: Sandbox) -> None:
    files = {"a.txt": b"alpha\n", "b/c.txt": b"gamma\n", "d.bin": bytes(range(256))}
    async with make_client(sandbox) as other:  # created elsewhere: the daemon has nothing cached
        created = await other.create_snippet(sandbox.users[0].nickname, files, title="three")
    ws, sid = created.workspace, created.id

    sandbox.clear_requests()
    opened = await daemon.command("bbsnippets.open", workspace=ws, id=sid)
    assert sorted(f["name"] for f in opened["files"]) == sorted(files)
    for info in opened["files"]:
        assert await read(daemon, info["uri"]) == files[info["name"]]
    await daemon.request("bbsnippets/stat", uri=snippet_uri(ws, sid, "a.txt"))
    await daemon.request("bbsnippets/readDirectory", uri=snippet_uri(ws, sid))
    await daemon.request("bbsnippets/readDirectory", uri=snippet_uri(ws, sid, "b"))
    assert api_requests(sandbox) == [("GET", f"/2.0/snippets/{ws}/{sid}")]


async def test_saving_renaming_and_deleting_spend_one_request_each(
    daemon: Daemon, sandbox: Sandbox, bodies: list[SentBody]
) -> None:
    ws, sid = await create(daemon, {"a.txt": b"a1\n", "b.txt": b"b1\n", "c.txt": b"c1\n"})
    first = (await daemon.command("bbsnippets.open", workspace=ws, id=sid))["revision"]

    # One file saved: one PUT that carries that file and nothing else.
    sandbox.clear_requests()
    bodies.clear()
    saved = (await write(daemon, snippet_uri(ws, sid, "a.txt"), b"a2\n"))["revision"]
    assert [method for method, _ in api_requests(sandbox)] == ["PUT"]
    (put,) = bodies
    metadata, sent_files = decode_snippet_body(put.body, put.content_type)
    assert sent_files == {"a.txt": b"a2\n"}
    assert set(metadata.get("files", {})) == {"a.txt"}
    assert saved and saved != first
    assert await remote(sandbox, ws, sid) == (saved, {"a.txt": b"a2\n", "b.txt": b"b1\n", "c.txt": b"c1\n"})

    # The same content again: nothing to send, and the revision stays.
    sandbox.clear_requests()
    again = (await write(daemon, snippet_uri(ws, sid, "a.txt"), b"a2\n"))["revision"]
    assert again == saved
    assert api_requests(sandbox) == []

    # Three files saved at once ("Save All"): one PUT with all three.
    sandbox.clear_requests()
    bodies.clear()
    results = await asyncio.gather(
        *(write(daemon, snippet_uri(ws, sid, name), f"{name} v3\n".encode()) for name in ("a.txt", "b.txt", "c.txt"))
    )
    assert [method for method, _ in api_requests(sandbox)] == ["PUT"]
    assert len({result["revision"] for result in results}) == 1
    _, sent_files = decode_snippet_body(bodies[0].body, bodies[0].content_type)
    assert sent_files == {name: f"{name} v3\n".encode() for name in ("a.txt", "b.txt", "c.txt")}
    revision, files = await remote(sandbox, ws, sid)
    assert revision == results[0]["revision"]
    assert files == sent_files

    # Rename: one request; the old name is gone, the new one has the same bytes.
    sandbox.clear_requests()
    await rename(daemon, snippet_uri(ws, sid, "c.txt"), snippet_uri(ws, sid, "d.txt"))
    assert len(api_requests(sandbox)) == 1
    await fails("notFound", daemon.request("bbsnippets/readFile", uri=snippet_uri(ws, sid, "c.txt")))
    assert await read(daemon, snippet_uri(ws, sid, "d.txt")) == b"c.txt v3\n"
    _, files = await remote(sandbox, ws, sid)
    assert files == {"a.txt": b"a.txt v3\n", "b.txt": b"b.txt v3\n", "d.txt": b"c.txt v3\n"}

    # Delete a file: one PUT.
    sandbox.clear_requests()
    assert await daemon.request("bbsnippets/delete", uri=snippet_uri(ws, sid, "b.txt")) == {}
    assert [method for method, _ in api_requests(sandbox)] == ["PUT"]
    await fails("notFound", daemon.request("bbsnippets/stat", uri=snippet_uri(ws, sid, "b.txt")))
    _, files = await remote(sandbox, ws, sid)
    assert files == {"a.txt": b"a.txt v3\n", "d.txt": b"c.txt v3\n"}
    await fails("notFound", daemon.request("bbsnippets/delete", uri=snippet_uri(ws, sid, "b.txt")))


# --------------------------------------------------------------------------- bytes


async def test_binary_and_odd_text_survive_byte_for_byte(daemon: Daemon, sandbox: Sandbox) -> None:
    contents = {
        "all-bytes.bin": bytes(range(256)),
        "latin1.txt": "café naïve\n".encode("latin-1"),  # not UTF-8
        "broken.txt": b"ok \xc3\x28 \xff\xfe end",
        "windows.txt": b"line one\r\nline two\r\n\r\n",
        "nul.dat": b"before\x00after\x00",
        "empty-ish.txt": b"\n",
    }
    ws, sid = await create(daemon, {"placeholder.txt": b"x\n"})
    for name, data in contents.items():
        await write(daemon, snippet_uri(ws, sid, name), data)

    # Bitbucket got exactly these bytes.
    _, stored = await remote(sandbox, ws, sid)
    assert stored == {"placeholder.txt": b"x\n", **contents}

    # And they come back exactly, read afresh from Bitbucket (open refreshes the cache).
    opened = await daemon.command("bbsnippets.open", workspace=ws, id=sid)
    binary = {info["name"]: info["binary"] for info in opened["files"]}
    assert binary["all-bytes.bin"] and binary["broken.txt"] and binary["nul.dat"] and binary["latin1.txt"]
    assert not binary["windows.txt"]
    for name, data in contents.items():
        result = await daemon.request("bbsnippets/readFile", uri=snippet_uri(ws, sid, name))
        assert base64.b64decode(result["base64"]) == data, name
    windows = await daemon.request("bbsnippets/readFile", uri=snippet_uri(ws, sid, "windows.txt"))
    assert windows["text"] == "line one\r\nline two\r\n\r\n"
    nul = await daemon.request("bbsnippets/readFile", uri=snippet_uri(ws, sid, "nul.dat"))
    assert "text" not in nul

    # Files another client uploaded come down byte-exact too (nothing cached in this daemon).
    fresh = await start_daemon(sandbox)
    try:
        for name, data in contents.items():
            assert await read(fresh, snippet_uri(ws, sid, name)) == data, name
    finally:
        await fresh.stop()

    # Text given as text keeps its CRLFs.
    await daemon.request("bbsnippets/writeFile", uri=snippet_uri(ws, sid, "typed.txt"), text="a\r\nb\r\n")
    _, stored = await remote(sandbox, ws, sid)
    assert stored["typed.txt"] == b"a\r\nb\r\n"


# --------------------------------------------------------------------------- conflicts


async def test_a_stale_save_is_refused_until_forced(daemon: Daemon, sandbox: Sandbox) -> None:
    ws, sid = await create(daemon, {"shared.txt": b"original\n", "keep.txt": b"keep\n"})
    uri = snippet_uri(ws, sid, "shared.txt")
    assert await read(daemon, uri) == b"original\n"

    async with make_client(sandbox) as other:
        theirs = await other.update_snippet(ws, sid, files={"shared.txt": b"their edit\n"})
    assert theirs.revision

    error = await fails("conflict", write(daemon, uri, b"my edit\n"))
    assert error.data["remoteRevision"] == theirs.revision
    assert await remote(sandbox, ws, sid) == (theirs.revision, {"shared.txt": b"their edit\n", "keep.txt": b"keep\n"})

    forced = (await write(daemon, uri, b"my edit\n", force=True))["revision"]
    assert forced and forced != theirs.revision
    assert await remote(sandbox, ws, sid) == (forced, {"shared.txt": b"my edit\n", "keep.txt": b"keep\n"})
    assert await read(daemon, uri) == b"my edit\n"


async def test_the_stat_before_a_save_reads_the_snippet_again_and_says_it_is_stale(sandbox: Sandbox) -> None:
    """What VS Code's own "file is newer" check needs: 1 GET before a save (STAT_FRESH_SECONDS is 0: always)."""
    assert STAT_FRESH_SECONDS == 0
    daemon = await start_daemon(sandbox)
    try:
        ws, sid = await create(daemon, {"plan.txt": b"base\n"})
        uri = snippet_uri(ws, sid, "plan.txt")
        assert await read(daemon, uri) == b"base\n"
        read_at = await daemon.request("bbsnippets/stat", uri=uri)
        async with make_client(sandbox) as other:
            await other.update_snippet(ws, sid, files={"plan.txt": b"their longer text\n"})

        sandbox.clear_requests()
        unchecked = await daemon.request("bbsnippets/stat", uri=uri)
        assert api_requests(sandbox) == [], "a stat that is not before a save is served from the cache"
        assert (unchecked["size"], unchecked["stale"]) == (5, False)

        sandbox.clear_requests()
        checked = await daemon.request("bbsnippets/stat", uri=uri, fresh=True)
        assert api_requests(sandbox) == [("GET", f"/2.0/snippets/{ws}/{sid}")], "exactly 1 GET before the save"
        assert checked["stale"] is True and checked["size"] == len(b"their longer text\n")
        assert checked["mtime"] > read_at["mtime"]
        # Asked again without a save coming (VS Code does, all the time): from the cache, still stale.
        sandbox.clear_requests()
        assert (await daemon.request("bbsnippets/stat", uri=uri))["stale"] is True
        assert api_requests(sandbox) == []
        # Reading their version (VS Code's Compare does) makes the client's copy current: a save is no conflict.
        assert await read(daemon, uri) == b"their longer text\n"
        assert (await daemon.request("bbsnippets/stat", uri=uri))["stale"] is False
        assert (await write(daemon, uri, b"mine\n"))["revision"]
        # Our own save is not someone else's change.
        assert (await daemon.request("bbsnippets/stat", uri=uri, fresh=True))["stale"] is False
    finally:
        await daemon.stop()


async def test_a_stale_save_of_a_file_another_writer_did_not_touch_still_conflicts(
    daemon: Daemon, sandbox: Sandbox
) -> None:
    ws, sid = await create(daemon, {"a.txt": b"a\n", "b.txt": b"b\n"})
    await read(daemon, snippet_uri(ws, sid, "a.txt"))
    async with make_client(sandbox) as other:
        theirs = await other.update_snippet(ws, sid, files={"b.txt": b"their b\n"})
    # Compare-and-swap is per snippet: the daemon must not silently overwrite (or revert) their b.txt.
    await fails("conflict", write(daemon, snippet_uri(ws, sid, "a.txt"), b"my a\n"))
    assert await remote(sandbox, ws, sid) == (theirs.revision, {"a.txt": b"a\n", "b.txt": b"their b\n"})


async def test_our_own_saves_are_not_conflicts(daemon: Daemon, sandbox: Sandbox) -> None:
    ws, sid = await create(daemon, {"a.txt": b"a1\n", "b.txt": b"b1\n", "c.txt": b"c1\n"})
    for name in ("a.txt", "b.txt", "c.txt"):
        await read(daemon, snippet_uri(ws, sid, name))  # all read at the first revision

    sandbox.clear_requests()
    r2 = (await write(daemon, snippet_uri(ws, sid, "a.txt"), b"a2\n"))["revision"]
    r3 = (await write(daemon, snippet_uri(ws, sid, "b.txt"), b"b2\n"))["revision"]
    r4 = (await write(daemon, snippet_uri(ws, sid, "a.txt"), b"a3\n"))["revision"]
    r5 = (await write(daemon, snippet_uri(ws, sid, "c.txt"), b"c2\n"))["revision"]
    assert len({r2, r3, r4, r5}) == 4
    assert [method for method, _ in api_requests(sandbox)] == ["PUT"] * 4
    assert await remote(sandbox, ws, sid) == (r5, {"a.txt": b"a3\n", "b.txt": b"b2\n", "c.txt": b"c2\n"})


async def test_renaming_onto_a_file_just_written_replaces_it(daemon: Daemon, sandbox: Sandbox) -> None:
    ws, sid = await create(daemon, {"a.txt": b"a1\n", "x.txt": b"x1\n", "k.txt": b"k\n"})
    await daemon.command("bbsnippets.open", workspace=ws, id=sid)  # every file read at the first revision

    # Our own write of x.txt is what the client holds of it: renaming a.txt over it is no conflict.
    sandbox.clear_requests()
    await write(daemon, snippet_uri(ws, sid, "x.txt"), b"x2\n")
    await daemon.request(
        "bbsnippets/rename", oldUri=snippet_uri(ws, sid, "a.txt"), newUri=snippet_uri(ws, sid, "x.txt"), overwrite=True
    )
    assert [method for method, _ in api_requests(sandbox)] == ["PUT", "PUT"]
    assert (await remote(sandbox, ws, sid))[1] == {"x.txt": b"a1\n", "k.txt": b"k\n"}

    # The same onto a file our write just created.
    sandbox.clear_requests()
    await write(daemon, snippet_uri(ws, sid, "new.txt"), b"n\n")
    await daemon.request(
        "bbsnippets/rename",
        oldUri=snippet_uri(ws, sid, "k.txt"),
        newUri=snippet_uri(ws, sid, "new.txt"),
        overwrite=True,
    )
    assert [method for method, _ in api_requests(sandbox)] == ["PUT", "PUT"]
    assert (await remote(sandbox, ws, sid))[1] == {"x.txt": b"a1\n", "new.txt": b"k\n"}
    assert await read(daemon, snippet_uri(ws, sid, "new.txt")) == b"k\n"


# --------------------------------------------------------------------------- create / overwrite flags


async def test_create_and_overwrite_flags(daemon: Daemon, sandbox: Sandbox) -> None:
    ws, sid = await create(daemon, {"exists.txt": b"old\n", "dir/inner.txt": b"inner\n"})
    await read(daemon, snippet_uri(ws, sid, "exists.txt"))
    before = await remote(sandbox, ws, sid)

    sandbox.clear_requests()
    await fails("notFound", write(daemon, snippet_uri(ws, sid, "missing.txt"), b"x\n", create=False))
    await fails("fileExists", write(daemon, snippet_uri(ws, sid, "exists.txt"), b"new\n", overwrite=False))
    await fails("fileExists", write(daemon, snippet_uri(ws, sid, "dir"), b"x\n"))
    error = await fails("invalidArgument", write(daemon, snippet_uri(ws, sid, "exists.txt/inner.txt"), b"x\n"))
    assert "exists.txt is a file" in error.message
    assert [method for method, _ in api_requests(sandbox)] == []
    assert await remote(sandbox, ws, sid) == before

    created = (await write(daemon, snippet_uri(ws, sid, "added/new.txt"), b"brand new\n"))["revision"]
    assert created and created != before[0]
    assert (await remote(sandbox, ws, sid))[1] == {**before[1], "added/new.txt": b"brand new\n"}
    assert await read(daemon, snippet_uri(ws, sid, "added/new.txt")) == b"brand new\n"
    top = await daemon.request("bbsnippets/readDirectory", uri=snippet_uri(ws, sid))
    assert {"name": "added", "type": "directory"} in top["entries"]

    # overwrite: false is fine for a file that does not exist yet; create: false for one that does.
    await write(daemon, snippet_uri(ws, sid, "second.txt"), b"2\n", overwrite=False)
    await write(daemon, snippet_uri(ws, sid, "exists.txt"), b"replaced\n", create=False)
    _, files = await remote(sandbox, ws, sid)
    assert files["second.txt"] == b"2\n"
    assert files["exists.txt"] == b"replaced\n"


async def test_directories_rename_and_delete_as_a_whole(daemon: Daemon, sandbox: Sandbox) -> None:
    ws, sid = await create(daemon, {"src/a.py": b"a\n", "src/deep/b.py": b"b\n", "top.txt": b"t\n"})
    await daemon.command("bbsnippets.open", workspace=ws, id=sid)

    sandbox.clear_requests()
    await rename(daemon, snippet_uri(ws, sid, "src"), snippet_uri(ws, sid, "lib"))
    assert [method for method, _ in api_requests(sandbox)] == ["PUT"]
    assert (await remote(sandbox, ws, sid))[1] == {"lib/a.py": b"a\n", "lib/deep/b.py": b"b\n", "top.txt": b"t\n"}
    await fails("notFound", daemon.request("bbsnippets/stat", uri=snippet_uri(ws, sid, "src")))
    await fails("fileExists", rename(daemon, snippet_uri(ws, sid, "lib/a.py"), snippet_uri(ws, sid, "top.txt")))
    await fails("invalidArgument", rename(daemon, snippet_uri(ws, sid, "top.txt"), snippet_uri(ws, "other", "x.txt")))

    sandbox.clear_requests()
    await daemon.request("bbsnippets/delete", uri=snippet_uri(ws, sid, "lib"))
    assert [method for method, _ in api_requests(sandbox)] == ["PUT"]
    assert (await remote(sandbox, ws, sid))[1] == {"top.txt": b"t\n"}
    top = await daemon.request("bbsnippets/readDirectory", uri=snippet_uri(ws, sid))
    assert top["entries"] == [{"name": "top.txt", "type": "file"}]


# --------------------------------------------------------------------------- secrets


AWS_KEY = "AKIA" + "ABCDEFGHIJKLMNOP"


async def test_secrets_are_not_published_by_accident(daemon: Daemon, sandbox: Sandbox) -> None:
    content = f"region = 'eu-west-1'\naws_access_key_id = '{AWS_KEY}'\n".encode()
    ws, public = await create(daemon, {"readme.txt": b"public\n"}, private=False)
    uri = snippet_uri(ws, public, "config.py")

    sandbox.clear_requests()
    error = await fails("secretDetected", write(daemon, uri, content))
    assert "config.py" in error.message
    assert "line 2" in error.message
    assert AWS_KEY not in error.message
    assert AWS_KEY not in repr(error.data)
    assert not [method for method, _ in api_requests(sandbox) if method != "GET"]
    assert "config.py" not in (await remote(sandbox, ws, public))[1]

    await write(daemon, uri, content, allowSecrets=True)
    assert (await remote(sandbox, ws, public))[1]["config.py"] == content

    _, private = await create(daemon, {"readme.txt": b"private\n"}, private=True)
    await write(daemon, snippet_uri(ws, private, "config.py"), content)
    assert (await remote(sandbox, ws, private))[1]["config.py"] == content


# --------------------------------------------------------------------------- deleting a snippet


async def test_deleting_a_snippet_uri_deletes_the_snippet(daemon: Daemon, sandbox: Sandbox) -> None:
    ws, sid = await create(daemon, {"a.txt": b"a\n"})
    await read(daemon, snippet_uri(ws, sid, "a.txt"))
    assert await daemon.request("bbsnippets/delete", uri=snippet_uri(ws, sid)) == {}

    async with make_client(sandbox) as other:
        with pytest.raises(NotFound):
            await other.get_snippet(ws, sid)
    await fails("notFound", daemon.request("bbsnippets/stat", uri=snippet_uri(ws, sid)))
    await fails("notFound", daemon.request("bbsnippets/readFile", uri=snippet_uri(ws, sid, "a.txt")))
    listing = await daemon.request("bbsnippets/readDirectory", uri=f"bbsnippet://{ws}/")
    assert sid not in [entry["name"] for entry in listing["entries"]]


# --------------------------------------------------------------------------- saves racing each other


async def test_saving_again_while_the_first_save_is_on_its_way(daemon: Daemon, sandbox: Sandbox) -> None:
    ws, sid = await create(daemon, {"a.txt": b"a1\n", "b.txt": b"b1\n"})
    uri = snippet_uri(ws, sid, "a.txt")
    await read(daemon, uri)
    sandbox.clear_requests()
    sandbox.faults.latency_ms = 300  # a slow network: the first PUT is still in flight
    first = asyncio.create_task(write(daemon, uri, b"a2\n"))
    await asyncio.sleep(0.15)  # past the batch window
    second = await write(daemon, uri, b"a3\n")
    await first
    sandbox.faults.latency_ms = 0
    assert [method for method, _ in api_requests(sandbox)] == ["PUT", "PUT"]  # really two saves
    assert await remote(sandbox, ws, sid) == (second["revision"], {"a.txt": b"a3\n", "b.txt": b"b1\n"})


async def test_renaming_right_after_a_save_moves_the_saved_bytes(daemon: Daemon, sandbox: Sandbox) -> None:
    ws, sid = await create(daemon, {"a.txt": b"a1\n", "k.txt": b"k\n"})
    await read(daemon, snippet_uri(ws, sid, "a.txt"))
    sandbox.faults.latency_ms = 200
    saving = asyncio.create_task(write(daemon, snippet_uri(ws, sid, "a.txt"), b"a2\n"))
    await asyncio.sleep(0.01)
    await rename(daemon, snippet_uri(ws, sid, "a.txt"), snippet_uri(ws, sid, "b.txt"))
    await saving
    sandbox.faults.latency_ms = 0
    assert (await remote(sandbox, ws, sid))[1] == {"b.txt": b"a2\n", "k.txt": b"k\n"}
    assert await read(daemon, snippet_uri(ws, sid, "b.txt")) == b"a2\n"


async def test_a_forced_save_over_a_stale_cache_loses_nobody_s_work(daemon: Daemon, sandbox: Sandbox) -> None:
    ws, sid = await create(daemon, {"a.txt": b"a1\n", "b.txt": b"b1\n"})
    await read(daemon, snippet_uri(ws, sid, "a.txt"))
    await read(daemon, snippet_uri(ws, sid, "b.txt"))
    async with make_client(sandbox) as other:
        await other.update_snippet(ws, sid, files={"a.txt": b"their a\n", "b.txt": b"their b\n"})

    # Forcing a.txt back to what we read really writes it (our stale copy says "unchanged"),
    # and keeps their b.txt.
    await write(daemon, snippet_uri(ws, sid, "a.txt"), b"a1\n", force=True)
    assert (await remote(sandbox, ws, sid))[1] == {"a.txt": b"a1\n", "b.txt": b"their b\n"}
    # What the daemon serves is what Bitbucket has, not our stale copy.
    assert await read(daemon, snippet_uri(ws, sid, "a.txt")) == b"a1\n"
    assert (await daemon.request("bbsnippets/stat", uri=snippet_uri(ws, sid, "b.txt")))["size"] == len(b"their b\n")


async def test_a_forced_save_does_not_bless_other_stale_files(daemon: Daemon, sandbox: Sandbox) -> None:
    ws, sid = await create(daemon, {"a.txt": b"a1\n", "b.txt": b"b1\n"})
    await read(daemon, snippet_uri(ws, sid, "a.txt"))
    await read(daemon, snippet_uri(ws, sid, "b.txt"))
    async with make_client(sandbox) as other:
        await other.update_snippet(ws, sid, files={"b.txt": b"their b\n"})
    await write(daemon, snippet_uri(ws, sid, "a.txt"), b"forced a\n", force=True)
    # Our b.txt was read before their change: saving it is a conflict, not a silent overwrite.
    await fails("conflict", write(daemon, snippet_uri(ws, sid, "b.txt"), b"my b\n"))
    assert (await remote(sandbox, ws, sid))[1] == {"a.txt": b"forced a\n", "b.txt": b"their b\n"}
    assert await read(daemon, snippet_uri(ws, sid, "b.txt")) == b"their b\n"


async def test_a_forced_and_a_normal_save_in_one_batch_both_land(daemon: Daemon, sandbox: Sandbox) -> None:
    ws, sid = await create(daemon, {"a.txt": b"a1\n", "b.txt": b"b1\n"})
    await read(daemon, snippet_uri(ws, sid, "a.txt"))
    await read(daemon, snippet_uri(ws, sid, "b.txt"))
    await asyncio.gather(
        write(daemon, snippet_uri(ws, sid, "a.txt"), b"a2\n", force=True),
        write(daemon, snippet_uri(ws, sid, "b.txt"), b"b2\n"),
    )
    assert (await remote(sandbox, ws, sid))[1] == {"a.txt": b"a2\n", "b.txt": b"b2\n"}


async def test_files_of_several_megabytes_round_trip_exactly(daemon: Daemon, sandbox: Sandbox) -> None:
    # Big answers are encoded in pieces (no whole-message copies): the bytes must still be exact.
    text = "".join(f'line {number}: ünïcödé \t "quoted" \\ back\n' for number in range(80_000)).encode("utf-8")
    binary = bytes(range(256)) * 12_000  # ~3 MB, every byte value
    workspace, snippet_id = await create(daemon, {"big.txt": text, "big.bin": binary})
    base = f"bbsnippet://{workspace}/{snippet_id}/"
    read_text = await daemon.request("bbsnippets/readFile", uri=base + "big.txt")
    assert read_text["text"].encode("utf-8") == text and base64.b64decode(read_text["base64"]) == text
    assert await read(daemon, base + "big.bin") == binary
    changed = binary[::-1]
    await write(daemon, base + "big.bin", changed)
    _, files = await remote(sandbox, workspace, snippet_id)
    assert files["big.bin"] == changed and files["big.txt"] == text


# --------------------------------------------------------------------------- #19 item 1: writes keep their order


async def test_save_rename_save_land_in_the_order_sent(daemon: Daemon, sandbox: Sandbox) -> None:
    """An editor that renames and autosaves: save a.txt, rename b.txt -> d.txt, save a new b.txt, a few ms apart.
    The rename moves the OLD b.txt text; the new b.txt is a file of its own; every ok is a state that happened."""
    ws, sid = await create(daemon, {"a.txt": b"a1\n", "b.txt": b"old b\n"})
    for name in ("a.txt", "b.txt"):
        await read(daemon, snippet_uri(ws, sid, name))
    sandbox.faults.latency_ms = 50
    sends = []
    for call in (
        write(daemon, snippet_uri(ws, sid, "a.txt"), b"a2\n"),
        rename(daemon, snippet_uri(ws, sid, "b.txt"), snippet_uri(ws, sid, "d.txt")),
        write(daemon, snippet_uri(ws, sid, "b.txt"), b"new b\n", create=True, overwrite=True),
    ):
        sends.append(asyncio.create_task(call))
        await asyncio.sleep(0.005)
    answers = await asyncio.gather(*sends, return_exceptions=True)
    sandbox.faults.latency_ms = 0

    assert not [answer for answer in answers if isinstance(answer, BaseException)], answers
    assert (await remote(sandbox, ws, sid))[1] == {"a.txt": b"a2\n", "d.txt": b"old b\n", "b.txt": b"new b\n"}
    assert await read(daemon, snippet_uri(ws, sid, "d.txt")) == b"old b\n"


async def test_a_rename_of_a_file_whose_save_failed_is_not_answered_ok(daemon: Daemon, sandbox: Sandbox) -> None:
    ws, sid = await create(daemon, {"b.txt": b"old b\n"})
    await read(daemon, snippet_uri(ws, sid, "b.txt"))
    async with make_client(sandbox) as other:  # someone else changed b.txt: our save of it is a conflict
        await other.update_snippet(ws, sid, files={"b.txt": b"their b\n"})
    saving = asyncio.create_task(write(daemon, snippet_uri(ws, sid, "b.txt"), b"my b\n"))
    await asyncio.sleep(0.005)
    renaming = asyncio.create_task(rename(daemon, snippet_uri(ws, sid, "b.txt"), snippet_uri(ws, sid, "d.txt")))
    await fails("conflict", saving)
    await fails("conflict", renaming)
    assert (await remote(sandbox, ws, sid))[1] == {"b.txt": b"their b\n"}
