// A save that meets another writer's change gets ONE decision, VS Code's own "file is newer" (Compare /
// Overwrite), before anything is written: the stat before the save costs 1 GET (the daemon's copy is read
// again when older than STAT_FRESH_SECONDS, which is 0) and shows the change. No dialog of ours; the text is
// never lost. (ui.mjs saves in the browser and clicks VS Code's own Overwrite: no Revert, 1 PUT.)

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
  await writeOnBitbucket(alice, seeded, "same.txt", "bbbb\n");
  await replaceText(document, "cccc\n");
  await clearRequests();
  assert.equal(await document.save(), false);
  assert.deepEqual((await requests()).map((request) => request.method), ["GET"], "checked, never written");
  assert.equal(document.getText(), "cccc\n");
  assert.equal(await fileOnBitbucket(seeded, "same.txt"), "bbbb\n");
});

test("a change right after our own save is caught too; Overwrite (VS Code writes after its check said newer) is one unconditional PUT", async () => {
  const api = await extension();
  const { seeded, uri, document } = await openSeeded({ "o.txt": "one\n" }, "overwrite");
  await replaceText(document, "one\ntwo\n");
  assert.equal(await document.save(), true);
  await writeOnBitbucket(alice, seeded, "o.txt", "theirs\n");
  await replaceText(document, "mine\n");
  forgetPrompts();
  await clearRequests();
  assert.equal(await document.save(), false, "VS Code's own check: the file is newer");
  assert.deepEqual((await requests()).map((request) => request.method), ["GET"], "checked, never written");
  assert.deepEqual(shown(), []);

  // The user chooses VS Code's Overwrite: VS Code writes the text although its check said "newer" (what the
  // notification's button does, which an extension cannot click). The write is forced, once.
  await clearRequests();
  await api.fileSystem.writeFile(uri, Buffer.from("mine\n"), { create: false, overwrite: true });
  const written = await requests();
  assert.equal(written.filter((request) => request.method === "PUT").length, 1, describeRequests(written));
  assert.match(`${written[0].method} ${written[0].path}`, new RegExp(`^PUT ${snippetPath(seeded)}$`), "an unconditional PUT");
  assert.equal(await fileOnBitbucket(seeded, "o.txt"), "mine\n");
  assert.deepEqual(shown(), [], "no dialog of ours on the way");
});
