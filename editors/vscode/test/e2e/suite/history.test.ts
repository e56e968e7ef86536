// History: a file at an old revision opens read-only; a diff against HEAD opens; a version restored.

import * as vscode from "vscode";

import type { CommitInfo, RestoreResult } from "../../../src/protocol";
import { assert, clearRequests, createSnippet, demo, describeRequests, extension, fileOnBitbucket, requests, test, waitFor, writeOnBitbucket } from "./harness";

test("history: an old revision opens read-only, and diffs against the current version", async () => {
  await extension();
  const seeded = await createSnippet(demo, "demo", { "h.txt": "v1\n" }, "with history");
  await writeOnBitbucket(demo, seeded, "h.txt", "v2\n");
  const commits = (await vscode.commands.executeCommand("bitbucketSnippets.history", seeded)) as CommitInfo[];
  assert.equal(commits.length, 2);
  const oldest = commits[commits.length - 1].hash;
  const opened = (await vscode.commands.executeCommand("bitbucketSnippets.history", { ...seeded, revision: oldest, path: "h.txt" })) as string;
  const openedUri = vscode.Uri.parse(opened);
  const document = vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === openedUri.toString());
  assert.ok(document);
  assert.equal(document.getText(), "v1\n");
  const stat = await vscode.workspace.fs.stat(document.uri);
  assert.equal(stat.permissions, vscode.FilePermission.Readonly);
  await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(document.uri, Buffer.from("no"))), (error: unknown) => {
    assert.ok(error instanceof vscode.FileSystemError);
    assert.equal(error.code, "NoPermissions");
    return true;
  });
  await vscode.commands.executeCommand("bitbucketSnippets.history", { ...seeded, revision: oldest, path: "h.txt", action: "diff" });
  const diff = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  assert.ok(diff instanceof vscode.TabInputTextDiff);
  assert.equal(diff.original.toString(), openedUri.toString());
  assert.equal(diff.modified.query, "");
});

test("restore this version of a file from history: one PUT, a new commit, the open document follows", async () => {
  const api = await extension();
  const seeded = await createSnippet(demo, "demo", { "r.txt": "v1\n", "s.txt": "s1\n" }, "to restore");
  await writeOnBitbucket(demo, seeded, "r.txt", "v2\n");
  await writeOnBitbucket(demo, seeded, "s.txt", "s2\n");
  const commits = (await vscode.commands.executeCommand("bitbucketSnippets.history", seeded)) as CommitInfo[];
  const oldest = commits[commits.length - 1];
  const opened = (await vscode.commands.executeCommand("bitbucketSnippets.open", seeded)) as { files: { name: string; uri: string }[] };
  const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(opened.files.find((file) => file.name === "r.txt")!.uri));
  assert.equal(document.getText(), "v2\n");

  await clearRequests();
  api.testHooks.responder = (prompt) =>
    prompt.message.startsWith("History of")
      ? prompt.choices.find((choice) => choice.startsWith(oldest.hash.slice(0, 12)))
      : prompt.message === "Which file?"
        ? "r.txt"
        : /^r\.txt at /.test(prompt.message)
          ? "Restore this file to this version"
          : undefined;
  const restored = (await vscode.commands.executeCommand("bitbucketSnippets.history", { kind: "snippet", snippet: { ...seeded } })) as RestoreResult;
  const recorded = await requests();
  assert.deepEqual(restored.files, ["r.txt"]);
  // The history list and the old revision's files (to pick one) are read once each; the restore is the PUT alone.
  assert.deepEqual(recorded.map((request) => request.method), ["GET", "GET", "PUT"], describeRequests(recorded));
  assert.equal(await fileOnBitbucket(seeded, "r.txt"), "v1\n");
  assert.equal(await fileOnBitbucket(seeded, "s.txt"), "s2\n", "the other file is left as it is");
  const after = (await vscode.commands.executeCommand("bitbucketSnippets.history", seeded)) as CommitInfo[];
  assert.equal(after.length, commits.length + 1, "the restore is a new commit");
  assert.equal(after[0].hash, restored.revision);
  await waitFor("the open document to show the restored text", () => document.getText() === "v1\n");
});
