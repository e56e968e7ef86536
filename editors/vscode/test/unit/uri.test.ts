// The URI codec agrees with snippet_daemon/uri.py on every accepted form, and refuses the rest.

import * as assert from "node:assert/strict";
import { test } from "node:test";

import { InvalidSnippetUri, atHead, format, parse, snippetKey, snippetOf, snippetUri } from "../../src/uri";

test("every accepted form parses", () => {
  assert.deepEqual(parse("bbsnippet://myteam/"), { workspace: "myteam" });
  assert.deepEqual(parse("bbsnippet://myteam/kypj/"), { workspace: "myteam", id: "kypj" });
  assert.deepEqual(parse("bbsnippet://myteam/kypj"), { workspace: "myteam", id: "kypj" });
  assert.deepEqual(parse("bbsnippet://myteam/kypj/src/app.py"), { workspace: "myteam", id: "kypj", path: "src/app.py" });
  assert.deepEqual(parse("bbsnippet://myteam/kypj/app.py?rev=abc123"), { workspace: "myteam", id: "kypj", path: "app.py", revision: "abc123" });
});

test("segments are percent-decoded; VS Code's encoded query (?rev%3D) is understood", () => {
  assert.deepEqual(parse("bbsnippet://my%20team/kypj/my%20file%E2%9C%93.txt"), { workspace: "my team", id: "kypj", path: "my file✓.txt" });
  assert.equal(parse("bbsnippet://ws/id/a.txt?rev%3Ddeadbeef").revision, "deadbeef");
});

test("format is the inverse of parse, with Python's quoting", () => {
  const text = snippetUri("my team", "kypj", "dir/my file+x@y.txt", "abc");
  assert.equal(text, "bbsnippet://my%20team/kypj/dir/my%20file+x@y.txt?rev=abc");
  assert.deepEqual(parse(text), { workspace: "my team", id: "kypj", path: "dir/my file+x@y.txt", revision: "abc" });
  for (const uri of ["bbsnippet://ws/", "bbsnippet://ws/id/", "bbsnippet://ws/id/a/b.c", "bbsnippet://ws/id/a.txt?rev=1"]) {
    assert.equal(format(parse(uri)), uri);
  }
});

test("anything else is refused", () => {
  for (const bad of [
    "file:///etc/passwd",
    "bbsnippet:///id/a.txt",
    "bbsnippet://ws/id/../a.txt",
    "bbsnippet://ws/id/a//b.txt",
    "bbsnippet://ws/id/./a.txt",
    "bbsnippet://ws/id/a.txt?ref=main",
    "bbsnippet://ws/id/a.txt?rev=",
    "bbsnippet://ws/id/%E0%A4%A",
  ]) {
    assert.throws(() => parse(bad), InvalidSnippetUri, bad);
  }
});

test("helpers: the snippet of a URI, HEAD of a revision, map keys", () => {
  assert.deepEqual(snippetOf("bbsnippet://ws/id/a.txt?rev=1"), { workspace: "ws", id: "id" });
  assert.equal(snippetOf("bbsnippet://ws/"), undefined);
  assert.equal(snippetOf("file:///x"), undefined);
  assert.equal(atHead("bbsnippet://ws/id/a.txt?rev=1"), "bbsnippet://ws/id/a.txt");
  assert.equal(snippetKey("MyTeam", "Ab"), snippetKey("myteam", "Ab"));
  assert.notEqual(snippetKey("ws", "Ab"), snippetKey("ws", "ab"), "ids are case-sensitive");
});
