"""Revisions in the sandbox: what makes a commit and what does not, compare-and-swap, diffs and patches."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from snippet_daemon.bitbucket.multipart import encode_related
from snippet_daemon.sandbox import Sandbox


@pytest.fixture
def demo(sandbox: Sandbox) -> Iterator[httpx.Client]:
    user = sandbox.users[0]
    with httpx.Client(base_url=sandbox.base_url, auth=(user.email, user.api_token), timeout=10) as client:
        yield client


def create(client: httpx.Client, files: dict[str, bytes], **metadata: Any) -> dict[str, Any]:
    body, content_type = encode_related(metadata, files)
    response = client.post("/snippets/demo", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 201, response.text
    document: dict[str, Any] = response.json()
    return document


def put_files(client: httpx.Client, path: str, metadata: dict[str, Any], files: dict[str, bytes]) -> httpx.Response:
    body, content_type = encode_related(metadata, files)
    return client.put(path, content=body, headers={"Content-Type": content_type})


def head_of(snippet: dict[str, Any]) -> str:
    return str(snippet["links"]["diff"]["href"].split("/")[-2])


def hashes(client: httpx.Client, snippet_id: str) -> list[str]:
    return [commit["hash"] for commit in client.get(f"/snippets/demo/{snippet_id}/commits").json()["values"]]


def test_metadata_changes_make_no_commit(demo: httpx.Client) -> None:
    snippet = create(demo, {"a.txt": b"a\n"}, title="Before")

    response = demo.put(f"/snippets/demo/{snippet['id']}", json={"title": "After", "is_private": True})

    assert response.status_code == 200
    updated = response.json()
    assert updated["title"] == "After" and updated["is_private"] is True
    assert updated["updated_on"] > snippet["updated_on"]
    assert head_of(updated) == head_of(snippet)
    assert len(hashes(demo, snippet["id"])) == 1


def test_identical_contents_make_no_commit(demo: httpx.Client) -> None:
    snippet = create(demo, {"a.txt": b"a\n", "b.txt": b"b\n"})

    response = put_files(demo, f"/snippets/demo/{snippet['id']}", {}, {"a.txt": b"a\n", "b.txt": b"b\n"})

    assert response.status_code == 200
    assert head_of(response.json()) == head_of(snippet)
    assert response.json()["updated_on"] == snippet["updated_on"]  # nothing changed at all
    assert len(hashes(demo, snippet["id"])) == 1


def test_a_rename_is_one_commit(demo: httpx.Client) -> None:
    snippet = create(demo, {"old.txt": b"same\n", "keep.txt": b"k\n"})

    response = put_files(
        demo, f"/snippets/demo/{snippet['id']}", {"files": {"old.txt": None, "new.txt": {}}}, {"new.txt": b"same\n"}
    )

    assert sorted(response.json()["files"]) == ["keep.txt", "new.txt"]
    history = hashes(demo, snippet["id"])
    assert len(history) == 2
    diff = demo.get(f"/snippets/demo/{snippet['id']}/{history[0]}/diff").text
    assert "rename from old.txt" in diff and "rename to new.txt" in diff  # rename detection is git's


def test_commits_chain_newest_first_with_authors(sandbox: Sandbox, demo: httpx.Client) -> None:
    snippet = create(demo, {"a.txt": b"1\n"})
    put_files(demo, f"/snippets/demo/{snippet['id']}", {}, {"a.txt": b"2\n"})
    put_files(demo, f"/snippets/demo/{snippet['id']}", {}, {"a.txt": b"3\n"})

    commits = demo.get(f"/snippets/demo/{snippet['id']}/commits").json()["values"]

    assert len(commits) == 3
    assert [commit["parents"][0]["hash"] for commit in commits[:2]] == [commits[1]["hash"], commits[2]["hash"]]
    assert commits[2]["parents"] == []
    assert commits[0]["author"]["raw"] == f"Demo User <{sandbox.users[0].email}>"
    assert commits[0]["author"]["user"]["nickname"] == "demo"
    assert commits[0]["snippet"]["id"] == snippet["id"]
    single = demo.get(f"/snippets/demo/{snippet['id']}/commits/{commits[1]['hash'][:7]}").json()
    assert single["hash"] == commits[1]["hash"]


def test_an_older_revision_has_its_files_and_current_metadata(demo: httpx.Client) -> None:
    snippet = create(demo, {"a.txt": b"old\n"}, title="v1")
    first = head_of(snippet)
    put_files(demo, f"/snippets/demo/{snippet['id']}", {"title": "v2"}, {"b.txt": b"new\n"})

    old = demo.get(f"/snippets/demo/{snippet['id']}/{first}").json()

    assert sorted(old["files"]) == ["a.txt"]
    assert old["title"] == "v2"
    assert f"/{first}/files/a.txt" in old["files"]["a.txt"]["links"]["self"]["href"]
    assert demo.get(old["files"]["a.txt"]["links"]["self"]["href"]).content == b"old\n"
    assert demo.get(f"/snippets/demo/{snippet['id']}/{'0' * 40}").status_code == 404


def test_put_against_a_stale_revision_is_405_and_against_head_succeeds(demo: httpx.Client) -> None:
    snippet = create(demo, {"a.txt": b"1\n"})
    stale = head_of(snippet)
    head = head_of(put_files(demo, f"/snippets/demo/{snippet['id']}", {}, {"a.txt": b"2\n"}).json())

    rejected = put_files(demo, f"/snippets/demo/{snippet['id']}/{stale}", {}, {"a.txt": b"lost\n"})
    accepted = put_files(demo, f"/snippets/demo/{snippet['id']}/{head[:7]}", {}, {"a.txt": b"3\n"})

    assert rejected.status_code == 405
    assert rejected.json()["type"] == "error"
    assert rejected.json()["error"]["data"]["head"] == head
    assert accepted.status_code == 200
    assert demo.get(accepted.json()["files"]["a.txt"]["links"]["self"]["href"]).content == b"3\n"


def test_delete_against_a_stale_revision_is_405_and_against_head_succeeds(demo: httpx.Client) -> None:
    snippet = create(demo, {"a.txt": b"1\n"})
    stale = head_of(snippet)
    head = head_of(put_files(demo, f"/snippets/demo/{snippet['id']}", {}, {"a.txt": b"2\n"}).json())

    assert demo.delete(f"/snippets/demo/{snippet['id']}/{stale}").status_code == 405
    assert demo.delete(f"/snippets/demo/{snippet['id']}/{'f' * 40}").status_code == 404
    assert demo.delete(f"/snippets/demo/{snippet['id']}/{head}").status_code == 204
    assert demo.get(f"/snippets/demo/{snippet['id']}").status_code == 404


def test_diff_and_patch_show_the_change(demo: httpx.Client) -> None:
    snippet = create(demo, {"a.txt": b"old line\n", "b.txt": b"b\n"}, title="Diffs")
    first = head_of(snippet)
    second = head_of(
        put_files(demo, f"/snippets/demo/{snippet['id']}", {}, {"a.txt": b"new line\n", "b.txt": b"b2\n"}).json()
    )
    base = f"/snippets/demo/{snippet['id']}"

    diff = demo.get(f"{base}/{second}/diff")
    only_b = demo.get(f"{base}/{second}/diff", params={"path": "b.txt"}).text
    root = demo.get(f"{base}/{first}/diff").text
    ranged = demo.get(f"{base}/{first}..{second}/diff").text
    patch = demo.get(f"{base}/{second}/patch").text

    assert diff.status_code == 200 and diff.headers["Content-Type"] == "text/plain"
    assert "-old line\n+new line\n" in diff.text and "+b2\n" in diff.text
    assert "a.txt" not in only_b and "+b2\n" in only_b
    assert "new file mode" in root and "+old line\n" in root
    assert ranged == diff.text
    assert patch.startswith(f"From {second} ") and "Subject: [PATCH]" in patch and "+new line\n" in patch


def test_every_revision_is_a_real_git_commit(sandbox: Sandbox, demo: httpx.Client) -> None:
    snippet = create(demo, {"dir/sub/deep.txt": b"deep\n", "top.txt": b"top\n"})
    put_files(demo, f"/snippets/demo/{snippet['id']}", {}, {"top.txt": b"changed\n"})

    listing = subprocess.run(
        [
            "git",
            "--git-dir",
            str(sandbox.data_dir / "snippets.git"),
            "ls-tree",
            "-r",
            "--name-only",
            f"refs/snippets/demo/{snippet['id']}",
        ],
        capture_output=True,
        check=True,
        text=True,
        env={"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "PATH": os.environ["PATH"]},
    ).stdout.split()
    assert listing == ["dir/sub/deep.txt", "top.txt"]


def test_concurrent_updates_all_land_and_compare_and_swap_lets_one_win(sandbox: Sandbox) -> None:
    user = sandbox.users[0]
    with httpx.Client(base_url=sandbox.base_url, auth=(user.email, user.api_token), timeout=10) as client:
        snippet = create(client, {"base.txt": b"0\n"})
        path = f"/snippets/demo/{snippet['id']}"
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda n: put_files(client, path, {}, {f"f{n}.txt": b"x"}).status_code, range(8)))
        assert statuses == [200] * 8
        assert len(client.get(path).json()["files"]) == 9
        assert len(hashes(client, snippet["id"])) == 9

        head = hashes(client, snippet["id"])[0]
        with ThreadPoolExecutor(max_workers=8) as pool:
            raced = list(pool.map(lambda n: put_files(client, f"{path}/{head}", {}, {"race.txt": b"%d" % n}), range(8)))
        assert sorted(response.status_code for response in raced) == [200] + [405] * 7
