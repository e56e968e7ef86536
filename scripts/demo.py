"""The README's main job: try snippet-daemon end to end, as an editor would, against the embedded sandbox.

Starts ``snippet-daemon sandbox`` on a free loopback port with a throw-away data folder, then the
language server itself (``python -m snippet_daemon --stdio``) logged in as the sandbox's demo user,
and drives one scripted LSP session through it, printing every step in plain lines:

 1. share a selection (lines 3-6 of a file of this repository)    bbsnippets.create
 2. open it as virtual documents                                  bbsnippets.open, bbsnippets/readFile
 3. edit and save                                                 bbsnippets/writeFile
 4. a second writer changes it: our stale save is a conflict      writeFile -> conflict, re-read, save
 5. comment on a line, and reply                                  bbsnippets.comments.add / .list
 6. watch it and hear about someone else's change                 bbsnippets.watch, bbsnippets/didChange
 7. history and diff                                              bbsnippets.history, bbsnippets.diff
 8. pull it into a folder                                         bbsnippets.pull

Needs no input; exits non-zero (after printing why) if any step does not do what it should.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from snippet_daemon.lsp_client import DaemonError, DaemonSession

ROOT = Path(__file__).resolve().parents[1]
SANDBOX_EMAIL = "demo@sandbox.invalid"  # the sandbox's first user; its workspace is "demo"
WORKSPACE = "demo"
SELECTION_FILE = "snippet_daemon/names.py"  # a real file of this repository
SELECTION = (3, 6)  # lines, from 1, inclusive
REQUEST_TIMEOUT = 30.0
CHANGE_TIMEOUT = 15.0


class DemoFailed(Exception):
    """A step did not do what it should."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


CURRENT_STEP = ["starting the sandbox"]


def step(number: int, title: str) -> None:
    CURRENT_STEP[0] = f"step {number} ({title})"
    print(f"\n== Step {number}: {title}", flush=True)


def say(line: str = "") -> None:
    print(f"   {line}" if line else "", flush=True)


def show_block(text: str, limit: int = 40) -> None:
    lines = text.splitlines()
    for line in lines[:limit]:
        say(f"| {line}")
    if len(lines) > limit:
        say(f"| ... ({len(lines) - limit} more lines)")


def check(condition: object, message: str) -> None:
    if not condition:
        raise DemoFailed(message)


def short(revision: str | None) -> str:
    return (revision or "?")[:12]


# --------------------------------------------------------------------------- the sandbox (a local Bitbucket)


def wait_until_up(base_url: str, token: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DemoFailed("the sandbox exited early:\n" + log.read_text(errors="replace"))
        try:
            if httpx.get(f"{base_url}/user", auth=(SANDBOX_EMAIL, token), timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise DemoFailed("the sandbox did not start within 30 s")


class SecondWriter:
    """Someone else, changing the snippet on Bitbucket directly (a form-data PUT, as ``curl -F`` sends)."""

    def __init__(self, base_url: str, token: str) -> None:
        self._http = httpx.AsyncClient(base_url=base_url + "/", auth=(SANDBOX_EMAIL, token), timeout=10)

    async def replace_file(self, snippet_id: str, name: str, text: str) -> str:
        response = await self._http.put(
            f"snippets/{WORKSPACE}/{snippet_id}", files={"file": (name, text.encode("utf-8"), "text/plain")}
        )
        check(response.status_code == 200, f"the second writer's PUT answered {response.status_code}")
        commits = (await self._http.get(f"snippets/{WORKSPACE}/{snippet_id}/commits")).json()["values"]
        revision: str = commits[0]["hash"]
        return revision

    async def aclose(self) -> None:
        await self._http.aclose()


# --------------------------------------------------------------------------- the daemon, over LSP


class Daemon:
    """``python -m snippet_daemon --stdio`` with a minimal LSP client in front of it."""

    def __init__(self) -> None:
        self.client = LanguageClient("snippet-daemon-demo", "1")
        self.session = DaemonSession(self.client)
        self.changes = self.session.changes
        self.shown: list[str] = []
        self.stderr: list[str] = []
        self._stderr_task: asyncio.Task[None] | None = None

        @self.client.feature(types.WINDOW_SHOW_MESSAGE)
        def on_show_message(params: types.ShowMessageParams) -> None:
            self.shown.append(params.message)

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def on_log_message(params: types.LogMessageParams) -> None:
            pass  # the same lines go to stderr, which we keep for a failure report

    async def start(self, env: dict[str, str], options: dict[str, Any]) -> None:
        await self.client.start_io(sys.executable, "-m", "snippet_daemon", "--stdio", env=env)
        server = self.client._server
        if server is not None and server.stderr is not None:
            self._stderr_task = asyncio.create_task(self._drain(server.stderr))
        result = await asyncio.wait_for(
            self.client.initialize_async(
                types.InitializeParams(
                    capabilities=types.ClientCapabilities(),
                    client_info=types.ClientInfo(name="snippet-daemon demo"),
                    initialization_options=options,
                )
            ),
            REQUEST_TIMEOUT,
        )
        self.client.initialized(types.InitializedParams())
        info = result.server_info
        say(f"initialized: {info.name} {info.version}" if info else "initialized")

    async def _drain(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self.stderr.append(line.decode("utf-8", "replace").rstrip())

    async def command(self, name: str, **arguments: Any) -> Any:
        return await asyncio.wait_for(self.session.command(name, arguments), REQUEST_TIMEOUT)

    async def request(self, method: str, **params: Any) -> Any:
        return await asyncio.wait_for(self.session.request(method, params), REQUEST_TIMEOUT)

    async def wait_for_change(self, matches: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for change in self.changes:
                if matches(change):
                    return change
            await asyncio.sleep(0.05)
        raise DemoFailed(f"no matching bbsnippets/didChange within {timeout:.0f} s (got {self.changes})")

    async def stop(self) -> None:
        server = self.client._server
        try:
            if server is not None and server.returncode is None:
                await asyncio.wait_for(self.client.shutdown_async(None), 5)
                self.client.exit(None)
                await asyncio.wait_for(server.wait(), 5)
        except Exception:
            if server is not None and server.returncode is None:
                server.kill()
        finally:
            await self.client.stop()
            if self._stderr_task is not None:
                self._stderr_task.cancel()


# --------------------------------------------------------------------------- the scripted session


async def session(daemon: Daemon, writer: SecondWriter, work: Path) -> None:
    # 1 ------------------------------------------------------------------
    step(1, f"Share a selection: lines {SELECTION[0]}-{SELECTION[1]} of {SELECTION_FILE}")
    source = ROOT / SELECTION_FILE
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    check(len(lines) >= SELECTION[1], f"{SELECTION_FILE} has fewer than {SELECTION[1]} lines")
    selection = "".join(lines[SELECTION[0] - 1 : SELECTION[1]])
    show_block(selection)
    name = source.name
    created = await daemon.command(
        "bbsnippets.create",
        title=f"{SELECTION_FILE}:{SELECTION[0]}-{SELECTION[1]}",
        files=[{"name": name, "text": selection}],
    )
    snippet_id = created["id"]
    check(created["isPrivate"] is True, "a new snippet must be private by default")
    say(f"created {created['workspace']}/{snippet_id} (private: {created['isPrivate']})")
    say(f"web page: {created['htmlUrl']}")
    say(f"uri: {created['uri']}")
    ref = {"workspace": WORKSPACE, "id": snippet_id}

    # 2 ------------------------------------------------------------------
    step(2, "Open it as virtual documents")
    opened = await daemon.command("bbsnippets.open", **ref)
    say(f"revision {short(opened['revision'])}, {len(opened['files'])} file(s):")
    for file in opened["files"]:
        say(f"  {file['uri']}  ({file['size']} bytes, binary: {file['binary']})")
    uri = opened["files"][0]["uri"]
    listing = await daemon.request("bbsnippets/readDirectory", uri=created["uri"])
    say(f"readDirectory {created['uri']} -> {[entry['name'] for entry in listing['entries']]}")
    read = await daemon.request("bbsnippets/readFile", uri=uri)
    check(read["text"] == selection, "readFile did not give back the shared lines")
    say(f"readFile {uri} -> {len(read['text'])} characters, the shared lines exactly")

    # 3 ------------------------------------------------------------------
    step(3, "Edit and save")
    edited = read["text"] + "# Edited in the demo through bbsnippets/writeFile.\n"
    saved = await daemon.request("bbsnippets/writeFile", uri=uri, text=edited)
    check(saved["revision"] and saved["revision"] != opened["revision"], "the save made no new revision")
    say(f"writeFile {uri} -> new revision {short(saved['revision'])} (was {short(opened['revision'])})")

    # 4 ------------------------------------------------------------------
    step(4, "A second writer changes the snippet; our stale save is refused")
    theirs = edited + "# A line from a second writer (an HTTP PUT straight to Bitbucket).\n"
    their_revision = await writer.replace_file(snippet_id, name, theirs)
    say(f"second writer: PUT multipart/form-data -> revision {short(their_revision)}")
    try:
        await daemon.request("bbsnippets/writeFile", uri=uri, text=edited + "# Our own next edit.\n")
    except DaemonError as error:
        check(error.kind == "conflict", f"expected a conflict, got {error.kind}: {error.message}")
        remote = error.data.get("remoteRevision")
        check(remote == their_revision, f"remoteRevision {remote} is not the second writer's {their_revision}")
        say(f"our save -> error kind {error.kind!r}, remoteRevision {short(remote)}")
        say(f"message: {error.message}")
    else:
        raise DemoFailed("a stale save went through: it should have been a conflict")
    reread = await daemon.request("bbsnippets/readFile", uri=uri)
    check(reread["text"] == theirs, "re-reading did not give the second writer's version")
    say(f"re-read -> revision {short(reread.get('revision'))}, with the second writer's line")
    merged = reread["text"] + "# Our own next edit, on top of theirs.\n"
    resaved = await daemon.request("bbsnippets/writeFile", uri=uri, text=merged)
    check(resaved["revision"] not in (None, their_revision), "the save after re-reading made no revision")
    say(f"saved again on top of it -> revision {short(resaved['revision'])} (force: true would skip the check)")

    # 5 ------------------------------------------------------------------
    step(5, "Comment on a line, and reply")
    line = 2
    comment = await daemon.command(
        "bbsnippets.comments.add", **ref, raw="Is the symlink case covered by a test?", path=name, line=line
    )
    say(f"comment {comment['id']} on {comment.get('path')} line {comment.get('line')}: {comment['raw']!r}")
    reply = await daemon.command(
        "bbsnippets.comments.add", **ref, raw="Yes: test_pull.py has one.", parentId=comment["id"]
    )
    say(f"reply {reply['id']} to {reply.get('parentId')}: {reply['raw']!r}")
    comments = (await daemon.command("bbsnippets.comments.list", **ref))["comments"]
    say("comments.list:")
    for item in comments:
        if item.get("path"):
            where = f"on {item['path']} line {item['line']}"
        elif item.get("parentId"):
            where = f"replying to #{item['parentId']}"
        else:
            where = "on the whole snippet"
        say(f"  #{item['id']} by {item.get('author')} {where}: {item['raw']!r}")
    anchored = [item for item in comments if item["id"] == comment["id"]]
    check(anchored and anchored[0].get("path") == name and anchored[0].get("line") == line, "the anchor was lost")
    check(any(item.get("parentId") == comment["id"] for item in comments), "the reply is not listed as a reply")

    # 6 ------------------------------------------------------------------
    step(6, "Watch the snippet and hear about someone else's change")
    watching = await daemon.command("bbsnippets.watch", **ref)
    check(watching["watching"] is True, "watch did not start watching")
    say(f"watch -> watching: {watching['watching']}")
    started = time.monotonic()
    again = merged + "# Another change by the second writer, while we watch.\n"
    their_second = await writer.replace_file(snippet_id, name, again)
    say(f"second writer: PUT -> revision {short(their_second)}; waiting for bbsnippets/didChange ...")
    change = await daemon.wait_for_change(
        lambda change: change.get("id") == snippet_id and change.get("revision") == their_second, CHANGE_TIMEOUT
    )
    say(
        f"bbsnippets/didChange {{kind: {change['kind']!r}, revision: {short(change.get('revision'))}}} "
        f"after {time.monotonic() - started:.1f} s"
    )
    check(change["kind"] == "commit", f"expected kind commit, got {change['kind']}")
    fresh = await daemon.request("bbsnippets/readFile", uri=uri)
    check(fresh["text"] == again, "the open document did not follow the remote change")
    say("readFile now gives the new content (the cache followed the change)")
    for message in daemon.shown:
        say(f"window/showMessage: {message}")

    # 7 ------------------------------------------------------------------
    step(7, "History and diff")
    commits = (await daemon.command("bbsnippets.history", **ref))["commits"]
    check(len(commits) >= 5, f"expected at least 5 commits, got {len(commits)}")
    check(commits[0]["hash"] == their_second, "the newest commit is not the latest change")
    for commit in commits:
        first_line = (commit["message"] or "").splitlines()[0] if commit["message"] else ""
        say(f"{short(commit['hash'])}  {commit.get('date') or ''}  {commit['author']}: {first_line}")
    diff = (await daemon.command("bbsnippets.diff", **ref, revision=commits[0]["hash"]))["diff"]
    check("+# Another change by the second writer" in diff, "the diff does not show the latest change")
    say(f"diff of {short(commits[0]['hash'])} against its parent:")
    show_block(diff)

    # 8 ------------------------------------------------------------------
    step(8, "Pull it into a folder")
    target = work / "pulled"
    pulled = await daemon.command("bbsnippets.pull", **ref, targetDir=str(target))
    check(pulled["written"], "pull wrote nothing")
    for path in pulled["written"]:
        say(f"wrote {path}")
    for path in pulled.get("skipped", []):
        say(f"skipped {path}")
    check((target / name).read_text(encoding="utf-8") == again, "the pulled file is not the latest content")
    say(f"{target / name} holds the latest content")

    # 9 ------------------------------------------------------------------
    step(9, "Search every snippet by content (the daemon's local index)")
    query = "second writer"
    deadline = time.monotonic() + CHANGE_TIMEOUT
    while True:
        found = await daemon.command("bbsnippets.search", query=query)
        if any(hit["id"] == snippet_id and hit.get("line") for hit in found["results"]) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    hits = [hit for hit in found["results"] if hit["id"] == snippet_id and hit.get("line")]
    check(hits, f"searching {query!r} did not find the snippet's changed line")
    for hit in found["results"][:5]:
        where = f"{hit['workspace']}/{hit['id']}:{hit['name']}:{hit.get('line', 1)}"
        say(f"{where}: {hit['preview']}")
    say(f"open a hit at its line: {hits[0]['uri']} (also workspace/symbol, and `snippet-daemon search`)")


async def run_demo(work: Path, base_url: str, token: str) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BITBUCKET_", "SNIPPET_DAEMON_", "SNIPPET_SANDBOX_"))
    }
    env.update(
        {
            "BITBUCKET_API_URL": base_url,
            "BITBUCKET_USERNAME": SANDBOX_EMAIL,
            "BITBUCKET_API_TOKEN": token,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",  # never touch the user's keyring
            "SNIPPET_DAEMON_LOG": "debug",
            "PYTHONUNBUFFERED": "1",
        }
    )
    options = {
        "workspace": WORKSPACE,
        "pollIntervalSeconds": 1,
        # Polling every second would spend the default budget (100 requests/hour, bursts of 8) within
        # the demo; against a local sandbox there is no rate limit to protect.
        "pollBudgetPerHour": 36000,
        "indexRefreshSeconds": 1,
    }
    daemon = Daemon()
    writer = SecondWriter(base_url, token)
    step(0, "Start the language server: python -m snippet_daemon --stdio")
    say(f"BITBUCKET_API_URL={base_url} BITBUCKET_USERNAME={SANDBOX_EMAIL} BITBUCKET_API_TOKEN=(hidden)")
    say(f"initializationOptions {options}")
    try:
        await daemon.start(env, options)
        await session(daemon, writer, work)
    except BaseException:
        if daemon.stderr:
            print("\n-- the daemon's last log lines:", file=sys.stderr)
            for line in daemon.stderr[-30:]:
                print(f"   {line}", file=sys.stderr)
        raise
    finally:
        await writer.aclose()
        await daemon.stop()


def main() -> int:
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="snippet-daemon-demo-"))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/2.0"
    token = secrets.token_urlsafe(24)
    sandbox_env = {key: value for key, value in os.environ.items() if not key.startswith("BITBUCKET_")}
    sandbox_env["SNIPPET_SANDBOX_API_TOKEN"] = token

    print(f"== Start the sandbox (a local Bitbucket) on {base_url}", flush=True)
    sandbox_log = work / "sandbox.log"
    with sandbox_log.open("wb") as log_file:
        sandbox = subprocess.Popen(
            [sys.executable, "-m", "snippet_daemon", "sandbox", "--port", str(port), "--data", str(work / "data")],
            env=sandbox_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        wait_until_up(base_url, token, sandbox, sandbox_log)
        say(f"up; logged in as {SANDBOX_EMAIL} (workspace {WORKSPACE})")
        asyncio.run(run_demo(work, base_url, token))
    except (DemoFailed, DaemonError) as error:
        kind = f" [{error.kind}]" if isinstance(error, DaemonError) else ""
        print(f"\ndemo: FAILED at {CURRENT_STEP[0]}{kind}: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        print(f"\ndemo: FAILED at {CURRENT_STEP[0]}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        sandbox.terminate()
        try:
            sandbox.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sandbox.kill()
            sandbox.wait()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nDemo finished in {time.monotonic() - started:.1f} s: every step did what it should.")
    print(WHAT_NEXT)
    return 0


WHAT_NEXT = """
What to try next (each is a section of README.md):
  The sandbox, by hand     .venv/bin/snippet-daemon sandbox
                           (a local Bitbucket; it prints the BITBUCKET_* lines to export, then try
                           .venv/bin/snippet-daemon share README.md --title "my first snippet")
  VS Code                  make vsix && code --install-extension editors/vscode/dist/bitbucket-snippets.vsix
                           (the extension brings its daemon; set bitbucketSnippets.apiUrl to the sandbox's URL)
  Neovim                   add editors/nvim to your plugins, then :BBSnippet install and :BBSnippet share
  Your real Bitbucket      .venv/bin/snippet-daemon login   (an Atlassian API token with the snippet scopes)
"""


if __name__ == "__main__":
    raise SystemExit(main())
