// A save that meets another writer's change: Compare (the document stays dirty, a diff opens), then
// Overwrite (the user's text wins). Nothing the user typed is lost on the way.

import * as vscode from "vscode";

import { alice, answer, assert, createSnippet, demo, extension, fileOnBitbucket, forgetPrompts, shown, test, writeOnBitbucket, TEAM } from "./harness";

test("a conflict made by another writer: Compare keeps the document dirty and shows both; Overwrite saves", async () => {
  await extension();
  const seeded = await createSnippet(demo, TEAM, { "plan.txt": "base\n" }, "conflict");
  const opened = (await vscode.commands.executeCommand("bitbucketSnippets.open", seeded)) as { files: { uri: string }[] };
  const uri = vscode.Uri.parse(opened.files[0].uri);
  const document = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(document);
  assert.equal(document.getText(), "base\n");

  await writeOnBitbucket(alice, seeded, "plan.txt", "theirs\n");
  const edit = new vscode.WorkspaceEdit();
  edit.replace(uri, new vscode.Range(0, 0, 1, 0), "mine\n");
  await vscode.workspace.applyEdit(edit);

  forgetPrompts();
  answer([/changed on Bitbucket since you opened it/, "Compare"]);
  assert.equal(await document.save(), false, "the save did not happen");
  const dialog = shown().find((prompt) => prompt.kind === "modal");
  assert.ok(dialog, "a modal dialog asked");
  assert.deepEqual(dialog.choices, ["Compare", "Overwrite"]);
  assert.ok(document.isDirty, "still dirty");
  assert.equal(document.getText(), "mine\n", "the user's text is intact");
  assert.equal(await fileOnBitbucket(seeded, "plan.txt"), "theirs\n", "nothing was overwritten");
  const diff = vscode.window.tabGroups.all
    .flatMap((group) => group.tabs)
    .map((tab) => tab.input)
    .find((input): input is vscode.TabInputTextDiff => input instanceof vscode.TabInputTextDiff);
  assert.ok(diff, "a diff editor is open");
  assert.equal(diff.modified.toString(), uri.toString(), "the user's text on the right");
  assert.match(diff.original.query, /^rev=/, "their version, read-only, on the left");
  const theirs = await vscode.workspace.openTextDocument(diff.original);
  assert.equal(theirs.getText(), "theirs\n");

  forgetPrompts();
  answer([/changed on Bitbucket since you opened it/, "Overwrite"]);
  assert.equal(await document.save(), true, "the forced save landed");
  assert.equal(document.isDirty, false);
  assert.equal(await fileOnBitbucket(seeded, "plan.txt"), "mine\n");
});

test("a conflict cancelled: the save fails, the text stays, Bitbucket keeps theirs", async () => {
  await extension();
  const seeded = await createSnippet(demo, "demo", { "c.txt": "one\n" }, "cancelled conflict");
  const opened = (await vscode.commands.executeCommand("bitbucketSnippets.open", seeded)) as { files: { uri: string }[] };
  const uri = vscode.Uri.parse(opened.files[0].uri);
  const document = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(document);
  await writeOnBitbucket(demo, seeded, "c.txt", "two\n");
  const edit = new vscode.WorkspaceEdit();
  edit.insert(uri, new vscode.Position(1, 0), "mine\n");
  await vscode.workspace.applyEdit(edit);
  answer([/changed on Bitbucket/, undefined]);
  assert.equal(await document.save(), false);
  assert.ok(document.isDirty);
  assert.equal(document.getText(), "one\nmine\n");
  assert.equal(await fileOnBitbucket(seeded, "c.txt"), "two\n");
  await vscode.commands.executeCommand("workbench.action.revertAndCloseActiveEditor");
});
