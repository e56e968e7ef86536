"""The snippet cache's memory cap, in-process: the least recently used snippets are forgotten first."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from snippet_daemon import documents
from snippet_daemon.bitbucket import Snippet
from snippet_daemon.documents import SnippetDocuments
from snippet_daemon.protocol import InitializationOptions


def _snippet(snippet_id: str) -> Snippet:
    return Snippet(snippet_id, "ws", "", True, None, None, "rev-" + snippet_id, (), None, None, None, raw={})


def test_the_least_recently_used_snippets_go_once_the_cache_is_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_CACHED_BYTES", 3000)
    no_index = SimpleNamespace(saw_content=lambda snippet, files: None)
    cache = SnippetDocuments(SimpleNamespace(options=InitializationOptions(), search_index=no_index))  # type: ignore[arg-type]
    for snippet_id in ("a", "b", "c"):
        cache.refreshed("ws", snippet_id, _snippet(snippet_id), {"f.txt": b"x" * 1000})
    cache.remember_read("ws", "a", "f.txt", "rev-a")
    cache._heads.move_to_end(("ws", "a"))  # "a" was just read again
    cache.refreshed("ws", "d", _snippet("d"), {"f.txt": b"x" * 1000})
    assert [key[1] for key in cache._heads] == ["c", "a", "d"]  # "b" was the least recently used
    # A forgotten snippet is read again when needed; what the client read stays known, so saves stay safe.
    assert cache.read_revision("ws", "a", "f.txt") == "rev-a"
    # One snippet bigger than the cap is still kept (it is the one in use).
    cache.refreshed("ws", "huge", _snippet("huge"), {"f.txt": b"x" * 5000})
    assert [key[1] for key in cache._heads] == ["huge"]
