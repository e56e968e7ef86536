// The URI codec agrees with snippet_daemon/uri.py on every accepted form, and refuses the rest.

import * as assert from "node:assert/strict";
import { test } from "node:test";

import { InvalidSnippetUri, atHead, fileAndLine, format, parse, snippetKey, snippetOf, snippetUri, withoutLine } from "../../src/uri";

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

test("#L{line} points at a line of the same file: parsed, formatted, and taken off before anything opens", () => {
  assert.deepEqual(parse("bbsnippet://ws/id/src/app.py#L12"), { workspace: "ws", id: "id", path: "src/app.py", line: 12 });
  assert.deepEqual(parse("bbsnippet://ws/id/a.txt?rev=abc#L3"), { workspace: "ws", id: "id", path: "a.txt", revision: "abc", line: 3 });
  assert.equal(format(parse("bbsnippet://my%20ws/id/my%20file.txt#L7")), "bbsnippet://my%20ws/id/my%20file.txt#L7");
  assert.equal(format({ workspace: "ws", id: "id", path: "a.txt", line: 2 }), "bbsnippet://ws/id/a.txt#L2");
  // The file a hit names is the same URI, byte for byte, as the one bbsnippets.open gives (one document).
  assert.deepEqual(fileAndLine("bbsnippet://ws/id/dir/my%20file.txt#L40"), { file: "bbsnippet://ws/id/dir/my%20file.txt", line: 40 });
  assert.deepEqual(fileAndLine("bbsnippet://ws/id/a.txt"), { file: "bbsnippet://ws/id/a.txt" });
  assert.equal(withoutLine("bbsnippet://ws/id/a.txt?rev=abc#L9"), "bbsnippet://ws/id/a.txt?rev=abc");
  assert.equal(withoutLine("bbsnippet://ws/id/a.txt#L9"), snippetUri("ws", "id", "a.txt"));
  assert.equal(atHead("bbsnippet://ws/id/a.txt?rev=1#L4"), "bbsnippet://ws/id/a.txt");
  assert.deepEqual(snippetOf("bbsnippet://ws/id/a.txt#L4"), { workspace: "ws", id: "id" });
  // A "#" inside a name is %23, not a fragment.
  assert.deepEqual(fileAndLine("bbsnippet://ws/id/issue%23L5.md#L2"), { file: "bbsnippet://ws/id/issue%23L5.md", line: 2 });
  assert.equal(parse("bbsnippet://ws/id/issue%23L5.md").path, "issue#L5.md");
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
    "bbsnippet://ws/id/a.txt#L0",
    "bbsnippet://ws/id/a.txt#L",
    "bbsnippet://ws/id/a.txt#L-3",
    "bbsnippet://ws/id/a.txt#L3-5",
    "bbsnippet://ws/id/a.txt#section",
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
