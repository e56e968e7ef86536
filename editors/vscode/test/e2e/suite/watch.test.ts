// A watched snippet changed by someone else: the notification offers Open, an unmodified open document
// reloads by itself, comments refresh.

import * as vscode from "vscode";

import type { SnippetComment } from "../../../src/comments";
import { TEAM, alice, assert, commentLens, commentOnBitbucket, createSnippet, demo, extension, forgetPrompts, openDocument, setSetting, shown, test, waitFor, waitForPrompt, writeOnBitbucket } from "./harness";

test("a watched snippet's change refreshes an unmodified document, and says so with Open", async () => {
  const api = await extension();
  // Poll every second, with a budget to match (the default 100 an hour would run dry within the test).
  await setSetting("pollBudgetPerHour", 3600);
  await setSetting("pollIntervalSeconds", 1);
  try {
    const seeded = await createSnippet(demo, TEAM, { "w.txt": "before\n" }, "watched");
    const watched = (await vscode.commands.executeCommand("bitbucketSnippets.watch", seeded)) as { watching: boolean };
    assert.equal(watched.watching, true);
    const opened = (await vscode.commands.executeCommand("bitbucketSnippets.open", seeded)) as { files: { uri: string }[] };
    const document = await openDocument(opened.files[0].uri);
    assert.equal(document.getText(), "before\n");
    forgetPrompts();
    await writeOnBitbucket(alice, seeded, "w.txt", "after\n");
    await waitFor("the document to reload", () => document.getText() === "after\n", 30000);
    assert.equal(document.isDirty, false);
    const notice = await waitForPrompt(new RegExp(`${seeded.workspace}/${seeded.id}.*changed on Bitbucket`));
    assert.deepEqual(notice.choices, ["Open"]);

    // Modified documents are not reloaded: a warning instead.
    const edit = new vscode.WorkspaceEdit();
    edit.insert(document.uri, new vscode.Position(0, 0), "mine ");
    await vscode.workspace.applyEdit(edit);
    forgetPrompts();
    await writeOnBitbucket(alice, seeded, "w.txt", "after again\n");
    const warning = await waitForPrompt(/changed on Bitbucket while you have unsaved edits/, 30000);
    assert.deepEqual(warning.choices, ["Compare"]);
    assert.equal(document.getText(), "mine after\n");

    // Comments are polled for watched snippets: a new one shows up without asking (none were read before).
    assert.equal(api.comments.isRead(seeded.workspace, seeded.id), false);
    const threadsBefore = api.comments.threadsFor(document.uri).length;
    await commentOnBitbucket(alice, seeded, "seen from afar");
    await waitFor(
      "the new comment in the editor",
      () => api.comments.threadsFor(document.uri).some((thread) => (thread.comments as SnippetComment[]).some((c) => c.info.raw === "seen from afar")),
      30000,
    );
    assert.equal(api.comments.threadsFor(document.uri).length, threadsBefore + 1);
    assert.equal((await commentLens(document.uri)).command?.title, "$(comment-discussion) 1 comment");
    void shown;
    const unwatched = (await vscode.commands.executeCommand("bitbucketSnippets.unwatch", seeded)) as { watching: boolean };
    assert.equal(unwatched.watching, false);
  } finally {
    await setSetting("pollIntervalSeconds", 0);
    await setSetting("pollBudgetPerHour", 100);
  }
});
