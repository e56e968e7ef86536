// A folder linked to a snippet (by a pull, or by sharing a whole file and keeping it linked) is a Source
// Control: its changes listed, a quick diff against the snippet, Push as one compare-and-swap PUT, and a
// snippet that moved meanwhile is the same Compare / Overwrite decision as a save's.

import * as fs from "node:fs";
import * as path from "node:path";

import * as vscode from "vscode";

import type { CreateResult, PushResult, StatusResult } from "../../../src/protocol";
import type { LinkedFolder } from "../../../src/push";
import {
  answer,
  assert,
  bitbucket,
  clearRequests,
  context,
  createSnippet,
  demo,
  describeRequests,
  extension,
  fileOnBitbucket,
  forgetPrompts,
  requests,
  shown,
  test,
  waitFor,
  waitForPrompt,
  writeOnBitbucket,
} from "./harness";

function changes(linked: LinkedFolder): string {
  return linked.changes.resourceStates.map((state) => `${path.basename(state.resourceUri.fsPath)}:${state.contextValue}`).sort().join(" ");
}

async function snippetFiles(snippet: { workspace: string; id: string }): Promise<string[]> {
  const body = (await (await bitbucket(demo, "GET", `/snippets/${snippet.workspace}/${snippet.id}`)).json()) as { files: Record<string, unknown> };
  return Object.keys(body.files).sort();
}

test("push a pulled folder from Source Control: its changes listed and quick-diffed, one PUT, then a conflict compared and overwritten", async () => {
  const api = await extension();
  const seeded = await createSnippet(demo, "demo", { "keep.txt": "keep\n", "edit.txt": "old\n", "gone.txt": "bye\n" }, "to push");
  const folder = path.join(context.folder, "linked");
  fs.mkdirSync(folder, { recursive: true });
  await vscode.commands.executeCommand("bitbucketSnippets.pull", { ...seeded, folder });
  const linked = await waitFor("the pulled folder's Source Control", () => api.linked.find({ folder }));
  assert.equal(linked.sourceControl.label, `Snippet demo/${seeded.id}`);

  fs.writeFileSync(path.join(folder, "edit.txt"), "new\n");
  fs.rmSync(path.join(folder, "gone.txt"));
  fs.writeFileSync(path.join(folder, "local-only.txt"), "not the snippet's\n");
  await waitFor("the edit and the deletion listed", () => changes(linked) === "edit.txt:modified gone.txt:deleted");
  assert.equal(linked.sourceControl.count, 2);
  const original = linked.sourceControl.quickDiffProvider?.provideOriginalResource?.(vscode.Uri.file(path.join(folder, "edit.txt")), new vscode.CancellationTokenSource().token);
  assert.ok(original instanceof vscode.Uri, "the quick diff compares with the snippet's version");
  assert.equal((await vscode.workspace.openTextDocument(original)).getText(), "old\n");
  assert.equal(linked.original(vscode.Uri.file(path.join(folder, "local-only.txt"))), undefined, "a file the snippet never had: no quick diff");

  await clearRequests();
  const pushed = (await vscode.commands.executeCommand("bitbucketSnippets.push", linked.sourceControl)) as PushResult;
  const recorded = await requests();
  assert.deepEqual(pushed.files.map((file) => `${file.name}:${file.status}`).sort(), ["edit.txt:sent", "gone.txt:deleted"]);
  assert.equal(recorded.filter((request) => request.method === "PUT").length, 1, `one PUT:\n${describeRequests(recorded)}`);
  assert.ok(recorded.every((request) => request.method === "PUT" || request.method === "GET"), describeRequests(recorded));
  assert.ok(recorded.length <= 2, `the PUT, then at most the view's status read:\n${describeRequests(recorded)}`);
  assert.deepEqual(await snippetFiles(seeded), ["edit.txt", "keep.txt"], "the deletion sent, the local-only file not swept in");
  assert.equal(await fileOnBitbucket(seeded, "edit.txt"), "new\n");
  assert.equal(changes(linked), "", "nothing left to push");
  await waitForPrompt(/Pushed 2 files to demo\/\w+ \(1 changed, 1 deleted\)/);

  // Someone else changes the snippet; our push must not overwrite theirs without asking.
  await writeOnBitbucket(demo, seeded, "keep.txt", "theirs\n");
  fs.writeFileSync(path.join(folder, "edit.txt"), "newer\n");
  forgetPrompts();
  answer([/was changed on Bitbucket since linked was linked/, "Compare"]);
  assert.equal(await vscode.commands.executeCommand("bitbucketSnippets.push", { folder }), undefined, "not pushed");
  assert.deepEqual(shown().find((prompt) => prompt.kind === "modal")?.choices, ["Compare", "Overwrite"]);
  const diff = await waitFor("a diff of their version and yours", () =>
    vscode.window.tabGroups.all.flatMap((group) => group.tabs).map((tab) => tab.input).find((input): input is vscode.TabInputTextDiff => input instanceof vscode.TabInputTextDiff),
  );
  assert.equal(diff.modified.fsPath, path.join(folder, "edit.txt"), "yours on the right");
  assert.match(diff.original.query, /rev/, "theirs, read-only, on the left");
  assert.equal(await fileOnBitbucket(seeded, "edit.txt"), "new\n", "nothing written on Bitbucket");
  assert.equal(fs.readFileSync(path.join(folder, "edit.txt"), "utf8"), "newer\n", "nothing written here");

  answer([/was changed on Bitbucket since/, "Overwrite"]);
  const forced = (await vscode.commands.executeCommand("bitbucketSnippets.push", { folder })) as PushResult;
  assert.deepEqual(forced.files, [{ name: "edit.txt", status: "sent" }]);
  assert.equal(await fileOnBitbucket(seeded, "edit.txt"), "newer\n");
  assert.equal(await fileOnBitbucket(seeded, "keep.txt"), "theirs\n", "their change to another file stays");
});

test("share a whole file and keep it linked: its next edit is pushed with one PUT", async () => {
  const api = await extension();
  const file = path.join(context.folder, "linked-note.md");
  fs.writeFileSync(file, "# note\n");
  await vscode.window.showTextDocument(vscode.Uri.file(file));
  forgetPrompts();
  const created = (await vscode.commands.executeCommand("bitbucketSnippets.share", { title: "kept linked", keepLinked: true })) as CreateResult;
  const linked = await waitFor("the shared file's Source Control", () => api.linked.find({ folder: file }));
  assert.equal(linked.link.file, "linked-note.md");
  assert.equal(linked.snippet, `${created.workspace}/${created.id}`);
  fs.writeFileSync(file, "# note\nmore\n");
  await waitFor("the edit listed", () => changes(linked) === "linked-note.md:modified");
  await clearRequests();
  await vscode.commands.executeCommand("bitbucketSnippets.push", { folder: file });
  const recorded = await requests();
  assert.equal(recorded.filter((request) => request.method === "PUT").length, 1, describeRequests(recorded));
  assert.ok(recorded.length <= 2, `the PUT, then at most the view's status read:\n${describeRequests(recorded)}`);
  assert.equal(await fileOnBitbucket(created, "linked-note.md"), "# note\nmore\n");
});

test("Link Folder to Snippet, then Unlink: its Source Control comes and goes, the files stay", async () => {
  const api = await extension();
  const seeded = await createSnippet(demo, "demo", { "conf.ini": "a=1\n" }, "to link");
  const folder = path.join(context.folder, "to-link");
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, "conf.ini"), "a=2\n");
  fs.writeFileSync(path.join(folder, "other.txt"), "not tracked\n");
  const status = (await vscode.commands.executeCommand("bitbucketSnippets.link", { folder, ...seeded })) as StatusResult;
  assert.deepEqual(status.files.map((file) => `${file.name}:${file.state}`), ["conf.ini:modified"], "only the snippet's files are tracked");
  const linked = await waitFor("the linked folder's Source Control", () => api.linked.find({ folder }));
  await waitFor("the differing file listed", () => changes(linked) === "conf.ini:modified");
  await waitForPrompt(/Linked to-link to demo\/\w+: 1 file tracked, 1 differs from the snippet/);
  await vscode.commands.executeCommand("bitbucketSnippets.unlink", { folder });
  assert.equal(api.linked.find({ folder }), undefined, "no Source Control once unlinked");
  assert.equal(fs.readFileSync(path.join(folder, "conf.ini"), "utf8"), "a=2\n");
});
