"""The pure parts of the daemon's contract: URIs, argument checking, JSON shape, comment anchors."""

from __future__ import annotations

import pytest

from snippet_daemon import anchors, protocol, uri
from snippet_daemon.protocol import ErrorKind, ProtocolError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bbsnippet://team/", uri.SnippetUri("team")),
        ("bbsnippet://team/kypj/", uri.SnippetUri("team", "kypj")),
        ("bbsnippet://team/kypj", uri.SnippetUri("team", "kypj")),
        ("bbsnippet://team/kypj/app.py", uri.SnippetUri("team", "kypj", "app.py")),
        ("bbsnippet://team/kypj/src/app.py?rev=abc123", uri.SnippetUri("team", "kypj", "src/app.py", "abc123")),
        ("bbsnippet://team/kypj/my%20file%3F.txt", uri.SnippetUri("team", "kypj", "my file?.txt")),
        ("bbsnippet://%7Bu-u-i-d%7D/kypj/a", uri.SnippetUri("{u-u-i-d}", "kypj", "a")),
    ],
)
def test_uris_parse_and_format_back(text: str, expected: uri.SnippetUri) -> None:
    parsed = uri.parse(text)
    assert parsed == expected
    assert uri.parse(str(parsed)) == parsed


def test_file_names_with_reserved_characters_round_trip() -> None:
    name = "dir/we#ird %name?&.txt"
    text = uri.snippet_uri("ws", "id1", name, "r1")
    assert "#" not in text and " " not in text
    assert uri.parse(text) == uri.SnippetUri("ws", "id1", name, "r1")


@pytest.mark.parametrize(
    "text",
    [
        "file:///tmp/a",
        "bbsnippet:///a/b",
        "bbsnippet://ws/id/../x",
        "bbsnippet://ws/id/a//b",
        "bbsnippet://ws/id/a?x=1",
    ],
)
def test_bad_uris_are_invalid_arguments(text: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        uri.parse(text)
    assert caught.value.kind == ErrorKind.INVALID_ARGUMENT


def test_arguments_are_camel_case_and_checked_with_readable_reasons() -> None:
    params = protocol.structure(
        {"workspace": "w", "id": "i", "targetDir": "/tmp/x", "overwrite": True}, protocol.PullParams, what="pull"
    )
    assert params.target_dir == "/tmp/x" and params.overwrite is True
    with pytest.raises(ProtocolError, match="id is missing"):
        protocol.structure({"workspace": "w", "targetDir": "/tmp/x"}, protocol.PullParams, what="bbsnippets.pull")
    with pytest.raises(ProtocolError, match="isPrivate is not valid"):
        protocol.structure({"files": [], "isPrivate": "no"}, protocol.CreateParams, what="bbsnippets.create")
    with pytest.raises(ProtocolError, match=r"files\[1\]\.name is missing"):
        protocol.structure({"files": [{"name": "a"}, {"text": "x"}]}, protocol.CreateParams, what="c")
    # null means "not given" (Lua clients cannot always leave a key out)
    assert protocol.structure({"files": [], "isPrivate": None}, protocol.CreateParams, what="c").is_private is True


def test_results_are_camel_case_without_empty_fields() -> None:
    result = protocol.unstructure(protocol.CommentInfo(1, None, "A", None, None, "hi", "<p>hi</p>", "a.py", 3))
    assert result == {"id": 1, "author": "A", "raw": "hi", "html": "<p>hi</p>", "path": "a.py", "line": 3}


def test_every_command_and_request_has_an_error_code_for_every_kind() -> None:
    kinds = list(ErrorKind)
    assert sorted(protocol.ERROR_CODES) == sorted(kinds)
    assert len(set(protocol.ERROR_CODES.values())) == len(kinds)
    assert len(set(protocol.COMMANDS)) == len(protocol.COMMANDS) and all(
        name.startswith("bbsnippets.") for name in protocol.COMMANDS
    )


def test_comment_anchors_round_trip_and_tolerate_other_forms() -> None:
    body = anchors.anchored("https://bitbucket.org/snippets/team/kypj", "src/a b.py", 12, "Why?\nBecause.")
    parsed = anchors.parse(body)
    assert parsed == anchors.Anchor("src/a b.py", 12, "Why?\nBecause.")
    written_on_the_web = "[see](https://bitbucket.org/snippets/team/kypj/revisions/abc#file-app.py-7)\nlooks odd"
    assert anchors.parse(written_on_the_web) == anchors.Anchor("app.py", 7, "looks odd")
    assert anchors.parse("[a link](https://example.com/#file-app.py-L3) not a snippet") is None
    assert anchors.parse("text first [x](https://bitbucket.org/snippets/t/k#file-a-L1)") is None
    assert anchors.parse("[x](https://bitbucket.org/snippets/t/k#file-a-L0)") is None
