// One compact flow with the daemon the .vsix brings: it starts from the bundle with the system Python, signs in
// (the bundled keyring libraries talk to the Secret Service), shares, opens, saves, pulls, and meets a conflict
// that keeps the user's text. run.mjs then checks the window shows no "Revert" for that conflict.

import * as fs from "node:fs";
import * as path from "node:path";

import * as vscode from "vscode";

import type { CreateResult, PullResult } from "../../../src/protocol";
import { answer, assert, context, demo, extension, fileOnBitbucket, forgetPrompts, shown, test, writeOnBitbucket } from "../suite/harness";

test("the installed .vsix runs its bundled daemon with the system Python: sign in, share, open, save, pull, conflict", async () => {
  const installed = vscode.extensions.getExtension("snippet-daemon.bitbucket-snippets");
  assert.ok(installed, "the .vsix is installed");
  assert.ok(!installed.extensionPath.startsWith(context.repo), `installed, not the repository's folder: ${installed.extensionPath}`);
  const api = await extension();
  assert.equal(api.daemon.state, "running", api.daemon.failure?.message);
  const [python, isolated, launcher] = api.daemon.commandLine;
  assert.equal(python, "/usr/bin/python3", "the system Python on PATH");
  assert.equal(isolated, "-I");
  assert.equal(launcher, path.join(installed.extensionPath, "bundled", "launch.py"));

  forgetPrompts();
  answer([/Atlassian account email/, demo.email], [/^An API token/, demo.apiToken]);
  const account = (await vscode.commands.executeCommand("bitbucketSnippets.signIn")) as { displayName: string } | undefined;
  assert.equal(account?.displayName, "Demo User", "signed in: the token went to the Secret Service through the bundled keyring");

  const file = path.join(context.folder, "bundled.py");
  fs.writeFileSync(file, "print('from the bundle')\n");
  await vscode.window.showTextDocument(vscode.Uri.file(file));
  const created = (await vscode.commands.executeCommand("bitbucketSnippets.share", { title: "bundled" })) as CreateResult;
  assert.ok(created?.id, "shared");
  assert.equal(await fileOnBitbucket(created, "bundled.py"), "print('from the bundle')\n");

  const opened = (await vscode.commands.executeCommand("bitbucketSnippets.open", created)) as { files: { uri: string }[] };
  const uri = vscode.Uri.parse(opened.files[0].uri);
  const document = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(document);
  assert.equal(document.getText(), "print('from the bundle')\n");
  const edit = new vscode.WorkspaceEdit();
  edit.insert(uri, new vscode.Position(1, 0), "print('saved')\n");
  await vscode.workspace.applyEdit(edit);
  assert.equal(await document.save(), true, "saved");
  assert.equal(await fileOnBitbucket(created, "bundled.py"), "print('from the bundle')\nprint('saved')\n");

  const folder = path.join(context.folder, "pulled-bundled");
  const pulled = (await vscode.commands.executeCommand("bitbucketSnippets.pull", { ...created, folder })) as PullResult;
  assert.ok(pulled, "pulled");
  assert.equal(fs.readFileSync(path.join(folder, "bundled.py"), "utf8"), "print('from the bundle')\nprint('saved')\n");

  // Last, so that run.mjs looks at the window right after: a conflict keeps the text (no Revert offered).
  await writeOnBitbucket(demo, created, "bundled.py", "theirs\n");
  const mine = new vscode.WorkspaceEdit();
  mine.insert(uri, new vscode.Position(0, 0), "# mine\n");
  await vscode.workspace.applyEdit(mine);
  answer(); // every question dismissed: the save must not happen, the text must stay
  assert.equal(await document.save(), false, "the conflicting save did not happen");
  assert.ok(document.isDirty, "still dirty");
  assert.ok(document.getText().startsWith("# mine\n"), "the user's text is intact");
  assert.equal(await fileOnBitbucket(created, "bundled.py"), "theirs\n", "nothing was overwritten");
});

test("no suitable Python: one notification saying what to install; a Python found again recovers", async () => {
  const api = await extension();
  const folder = fs.mkdtempSync(path.join(context.folder, "..", "old-python-"));
  // A python3 that is too old (it answers the version probe with 3.9) and nothing else on PATH.
  fs.writeFileSync(path.join(folder, "python3"), "#!/bin/sh\necho 3 9\n", { mode: 0o755 });
  const savedPath = process.env.PATH;
  forgetPrompts();
  process.env.PATH = folder;
  try {
    await api.daemon.restart();
    assert.equal(api.daemon.state, "failed");
  } finally {
    process.env.PATH = savedPath;
  }
  const notices = shown().filter((prompt) => /needs Python 3\.11 to 3\.14/.test(prompt.message));
  assert.equal(notices.length, 1, "one notification");
  assert.match(notices[0].message, new RegExp(`found: ${folder}/python3 is 3\\.9`), "says what it found");
  assert.match(notices[0].message, /sudo apt install python3/, "says what to install");
  assert.deepEqual(notices[0].choices, ["Show install steps", "Open settings"]);

  await api.daemon.restart();
  assert.equal(api.daemon.state, "running", api.daemon.failure?.message);
});
