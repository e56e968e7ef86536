// What the round trip with a folder tells the user (push, patch preview, restore), and which snippet file a
// local path is under a link.

import * as assert from "node:assert/strict";
import * as path from "node:path";
import { test } from "node:test";

import { changedFiles, describePush, describeRestore, patchCounts, patchFailure, patchLines, snippetName } from "../../src/changes";
import type { ApplyPatchResult } from "../../src/protocol";

test("snippetName: a path under a linked folder is its relative name; outside, or a linked file's neighbour, is none", () => {
  const link = { folder: "/work/proj" };
  assert.equal(snippetName(link, "/work/proj/a.txt", path.posix), "a.txt");
  assert.equal(snippetName(link, "/work/proj/lib/b.py", path.posix), "lib/b.py");
  assert.equal(snippetName(link, "/work/project/a.txt", path.posix), undefined, "a sibling folder with a longer name");
  assert.equal(snippetName(link, "/work/other.txt", path.posix), undefined);
  assert.equal(snippetName(link, "/work/proj", path.posix), undefined, "the folder itself is no file");
  const file = { folder: "/work/notes.md", file: "README.md" };
  assert.equal(snippetName(file, "/work/notes.md", path.posix), "README.md", "a linked file is the snippet file it names");
  assert.equal(snippetName(file, "/work/other.md", path.posix), undefined);
  assert.equal(snippetName({ folder: "C:\\work\\proj" }, "C:\\work\\proj\\src\\x.ts", path.win32), "src/x.ts", "Windows paths become / names");
});

test("changedFiles: modified and deleted, in order; unchanged left out", () => {
  const files = [
    { name: "a", path: "/f/a", state: "unchanged" as const },
    { name: "b", path: "/f/b", state: "deleted" as const },
    { name: "c", path: "/f/c", state: "modified" as const },
  ];
  assert.deepEqual(changedFiles({ files }).map((file) => file.name), ["b", "c"]);
});

test("describePush: what was sent, or that nothing needed sending", () => {
  assert.equal(describePush({ revision: "r", files: [] }, "demo/x"), "Nothing to push: every tracked file is as demo/x has it.");
  assert.equal(
    describePush({ revision: "r", files: [{ name: "a", status: "sent" }, { name: "b", status: "deleted" }] }, "demo/x"),
    "Pushed 2 files to demo/x (1 changed, 1 deleted).",
  );
  assert.equal(describePush({ revision: "r", files: [{ name: "a", status: "sent" }] }, "demo/x"), "Pushed 1 file to demo/x (1 changed).");
});

test("patch preview: one line a file, counts, and why it does not apply", () => {
  const preview: ApplyPatchResult = {
    applied: true,
    files: [
      { path: "/f/a.py", name: "a.py", status: "applied" },
      { path: "/f/new.txt", name: "new.txt", status: "created" },
      { path: "/f/old.txt", name: "old.txt", status: "deleted" },
      { path: "/f/b.py", name: "b.py", status: "applied", message: "renamed from c.py" },
    ],
  };
  assert.deepEqual(patchLines(preview), ["change  a.py", "create  new.txt", "delete  old.txt", "change  b.py (renamed from c.py)"]);
  assert.equal(patchCounts(preview), "2 changed, 1 new, 1 deleted");
  assert.equal(patchCounts({ applied: true, files: [] }), "no files");
  const failed: ApplyPatchResult = {
    applied: false,
    files: [
      { path: "/f/a.py", name: "a.py", status: "applied" },
      { path: "/f/b.py", name: "b.py", status: "failed", kind: "mismatch", message: "hunk 1 does not match" },
      { path: "../etc/passwd", status: "refused", kind: "unsafePath" },
    ],
  };
  assert.equal(patchFailure(failed, "repo"), "The patch does not apply to repo, so nothing was changed. b.py: hunk 1 does not match; ../etc/passwd.");
});

test("describeRestore: the restored files and the new version, or nothing to do", () => {
  assert.equal(
    describeRestore({ revision: "abcdef0123456789", files: ["h.txt"] }, "demo/x", "0123456789abcdef"),
    "Restored h.txt of demo/x as at 0123456789ab: a new version on Bitbucket (abcdef012345).",
  );
  assert.equal(describeRestore({ revision: "n", files: ["a", "b"] }, "demo/x", "0123"), "Restored 2 files of demo/x as at 0123: a new version on Bitbucket (n).");
  assert.equal(describeRestore({ files: [] }, "demo/x", "0123"), "demo/x already holds the version of 0123: nothing to restore.");
});
