// History: a file at an old revision opens read-only; a diff against HEAD opens.

import * as vscode from "vscode";

import type { CommitInfo } from "../../../src/protocol";
import { assert, createSnippet, demo, extension, test, writeOnBitbucket } from "./harness";

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
