// A save that meets another writer's change gets ONE decision, VS Code's own "file is newer" (Compare /
// Overwrite), before anything is written: the stat before the save costs 1 GET when the daemon's copy is
// older than STAT_FRESH_SECONDS (3 s), and shows the change. No dialog of ours; the text is never lost.
// (ui.mjs clicks VS Code's Overwrite in the browser and checks that no Revert is offered.)

import * as vscode from "vscode";

import {
  TEAM,
  alice,
  assert,
  clearRequests,
  createSnippet,
  demo,
  describeRequests,
  extension,
  fileOnBitbucket,
  forgetPrompts,
  requests,
  shown,
  test,
  writeOnBitbucket,
} from "./harness";

/** The daemon reads a copy again before a save only when it is older than this (documents.STAT_FRESH_SECONDS). */
const STAT_FRESH_MS = 3000;

const olderThanFresh = () => new Promise((resolve) => setTimeout(resolve, STAT_FRESH_MS + 300));

async function openSeeded(files: Record<string, string>, title: string) {
  const seeded = await createSnippet(demo, TEAM, files, title);
  const opened = (await vscode.commands.executeCommand("bitbucketSnippets.open", seeded)) as { files: { uri: string }[] };
  const uri = vscode.Uri.parse(opened.files[0].uri);
  const document = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(document);
  return { seeded, uri, document };
}

async function replaceText(document: vscode.TextDocument, text: string): Promise<void> {
  const edit = new vscode.WorkspaceEdit();
  edit.replace(document.uri, new vscode.Range(0, 0, document.lineCount, 0), text);
  assert.ok(await vscode.workspace.applyEdit(edit));
}

const snippetPath = (seeded: { workspace: string; id: string }) => `/2.0/snippets/${seeded.workspace}/${seeded.id}`;

test("a conflicting save: VS Code's own check refuses it before any write (1 GET, no PUT, no dialog of ours), the text stays", async () => {
  await extension();
  const { seeded, document } = await openSeeded({ "plan.txt": "base\n" }, "conflict");
  await olderThanFresh();
  await writeOnBitbucket(alice, seeded, "plan.txt", "theirs, longer\n");
  await replaceText(document, "mine\n");

  await clearRequests();
  forgetPrompts();
  assert.equal(await document.save(), false, "the save did not happen");
  const checked = await requests();
  assert.deepEqual(checked.map((request) => `${request.method} ${request.path}`), [`GET ${snippetPath(seeded)}`], describeRequests(checked));
  assert.deepEqual(shown(), [], "no dialog or notification of ours: VS Code's Compare/Overwrite is the one decision");
  assert.ok(document.isDirty, "still dirty");
  assert.equal(document.getText(), "mine\n", "the user's text is intact");
  assert.equal(await fileOnBitbucket(seeded, "plan.txt"), "theirs, longer\n", "nothing was overwritten");

});

test("a same-size change by another writer is caught before the write too", async () => {
  await extension();
  const { seeded, document } = await openSeeded({ "same.txt": "aaaa\n" }, "same size");
  await olderThanFresh();
  await writeOnBitbucket(alice, seeded, "same.txt", "bbbb\n");
  await replaceText(document, "cccc\n");
  await clearRequests();
  assert.equal(await document.save(), false);
  assert.deepEqual((await requests()).map((request) => request.method), ["GET"], "checked, never written");
  assert.equal(document.getText(), "cccc\n");
  assert.equal(await fileOnBitbucket(seeded, "same.txt"), "bbbb\n");
});

test("a change within the last seconds: the daemon's compare-and-swap refuses the save, no dialog; saving again gets VS Code's check", async () => {
  await extension();
  const { seeded, document } = await openSeeded({ "c.txt": "one\n" }, "racing conflict");
  await writeOnBitbucket(alice, seeded, "c.txt", "two, theirs\n");
  await replaceText(document, "one\nmine\n");
  forgetPrompts();
  await clearRequests();
  assert.equal(await document.save(), false, "refused by the compare-and-swap");
  const refused = await requests();
  assert.deepEqual(refused.map((request) => `${request.method} ${request.status}`), ["PUT 405"], describeRequests(refused));
  assert.deepEqual(shown(), [], "no dialog of ours");
  assert.ok(document.isDirty);
  assert.equal(document.getText(), "one\nmine\n");

  await clearRequests();
  assert.equal(await document.save(), false, "VS Code's own check answers this time");
  assert.deepEqual((await requests()).map((request) => request.method), ["GET"], "1 GET, no PUT");
  assert.equal(await fileOnBitbucket(seeded, "c.txt"), "two, theirs\n");
  assert.equal(document.getText(), "one\nmine\n");
});
