// A watched snippet changed by someone else: the notification offers Open, an unmodified open document
// reloads by itself, comments refresh. A watch this computer could not remember is a warning; a watched
// snippet whose workspace is gone is marked out of reach in the Snippets view.

import * as fs from "node:fs";
import * as path from "node:path";

import * as vscode from "vscode";

import type { SnippetComment } from "../../../src/comments";
import type { Node } from "../../../src/tree";
import { TEAM, alice, answer, assert, clearRequests, commentLens, commentOnBitbucket, context, createSnippet, demo, extension, forgetPrompts, openDocument, requests, setSetting, shown, test, waitFor, waitForPrompt, writeOnBitbucket } from "./harness";

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

test("a watch that could not be remembered on this computer is a warning, and still watches", async () => {
  // The daemon's data folder (XDG_DATA_HOME/snippet-daemon, as run.mjs sets it) is a file: nothing can be written.
  assert.ok(process.env.XDG_DATA_HOME, "run.mjs gives VS Code its own XDG_DATA_HOME");
  const data = path.join(process.env.XDG_DATA_HOME, "snippet-daemon");
  const aside = `${data}.aside`;
  const existed = fs.existsSync(data);
  if (existed) {
    fs.renameSync(data, aside);
  }
  fs.writeFileSync(data, "");
  const seeded = await createSnippet(demo, TEAM, { "n.txt": "n\n" }, "not remembered");
  try {
    forgetPrompts();
    const watched = (await vscode.commands.executeCommand("bitbucketSnippets.watch", seeded)) as { watching: boolean; saved?: boolean };
    assert.equal(watched.watching, true);
    assert.equal(watched.saved, false);
    const warning = await waitForPrompt(/could not remember/);
    assert.equal(warning.kind, "warning");
    assert.match(warning.message, /restart/);
    const api = await extension();
    assert.equal(api.tree.watchState(seeded.workspace, seeded.id), "watched", "watched for this session");
  } finally {
    fs.rmSync(data, { force: true });
    if (existed) {
      fs.renameSync(aside, data);
    }
    await vscode.commands.executeCommand("bitbucketSnippets.unwatch", seeded);
  }
});

test("a watched snippet whose workspace is gone is told once, with Unwatch", async () => {
  const api = await extension();
  const admin = context.sandbox.url.replace(/\/2\.0$/, "");
  const gone = "vanishing-team";
  const made = await fetch(`${admin}/_sandbox/workspaces/${gone}`, { method: "PUT", body: JSON.stringify({ members: [demo.nickname, alice.nickname] }) });
  assert.ok(made.ok, `the sandbox made ${gone}: ${made.status}`);
  await setSetting("pollBudgetPerHour", 3600);
  await setSetting("pollIntervalSeconds", 1);
  try {
    const seeded = await createSnippet(alice, gone, { "g.txt": "soon gone\n" }, "doomed");
    const watched = (await vscode.commands.executeCommand("bitbucketSnippets.watch", seeded)) as { watching: boolean };
    assert.equal(watched.watching, true);
    const workspace = (await api.tree.getChildren()).find((node) => node.kind === "workspace" && node.workspace.slug === gone);
    assert.ok(workspace, `the workspace ${gone} is in the view`);
    const snippet = (await api.tree.getChildren(workspace)).find((node): node is Node & { kind: "snippet" } => node.kind === "snippet" && node.snippet.id === seeded.id);
    assert.ok(snippet, "the snippet is listed");
    assert.doesNotMatch(String(api.tree.getTreeItem(snippet).description), /out of reach/);
    forgetPrompts();
    answer([/out of reach/, "Unwatch"]);
    await clearRequests();
    await fetch(`${admin}/_sandbox/workspaces/${gone}`, { method: "DELETE" }); // its list answers 404 from now on

    const question = await waitForPrompt(new RegExp(`${gone}/${seeded.id} is out of reach`), 30000);
    assert.deepEqual(question.choices, ["Unwatch", "Keep watching"]);
    // "Unwatch": the daemon unwatches (one DELETE of the watch), and the tree no longer shows it watched.
    await waitFor("the unwatch request", async () => (await requests()).some((r) => r.method === "DELETE" && r.path.endsWith(`/snippets/${gone}/${seeded.id}/watch`)), 10000);
    assert.equal(api.tree.watching.get(`${gone}/${seeded.id}`), false);
    // The Snippets view marks it out of reach; listing its workspace again fails, and it stays there, marked.
    const item = api.tree.getTreeItem(snippet);
    assert.match(String(item.description), /out of reach/);
    assert.match(String(item.tooltip), new RegExp(`Out of reach: Bitbucket says workspace ${gone} is gone`));
    assert.equal((item.iconPath as vscode.ThemeIcon).id, "warning");
    const again = await api.tree.getChildren(workspace);
    assert.equal(again[0].kind, "message");
    assert.ok(again.includes(snippet), "the same item, still shown");
    await new Promise((resolve) => setTimeout(resolve, 3000)); // three more polls: nothing more is said
    assert.equal(shown().filter((prompt) => prompt.message.includes(`${gone}/${seeded.id}`)).length, 1, JSON.stringify(shown()));
  } finally {
    await setSetting("pollIntervalSeconds", 0);
    await setSetting("pollBudgetPerHour", 100);
  }
});
