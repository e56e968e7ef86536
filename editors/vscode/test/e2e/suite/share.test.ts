// Share a selection: the snippet on Bitbucket holds exactly the selected bytes, and the link is offered.

import * as fs from "node:fs";
import * as path from "node:path";

import * as vscode from "vscode";

import { answer, assert, context, extension, fileOnBitbucket, forgetPrompts, shown, test, waitForPrompt } from "./harness";
import type { CreateResult } from "../../../src/protocol";

test("share a selection: private by default, byte-exact on Bitbucket, the link offered", async () => {
  await extension();
  const file = path.join(context.folder, "retry.py");
  const text = "import time\n\n\ndef retry(fn, attempts=3):\n    for attempt in range(attempts):\n        try:\n            return fn()  # ünïcode ✓\n        except OSError:\n            time.sleep(2 ** attempt)\n";
  fs.writeFileSync(file, text);
  const editor = await vscode.window.showTextDocument(vscode.Uri.file(file));
  editor.selection = new vscode.Selection(new vscode.Position(3, 0), editor.document.lineAt(8).range.end);
  const selected = editor.document.getText(editor.selection);
  assert.ok(selected.startsWith("def retry") && selected.endsWith("2 ** attempt)"));

  forgetPrompts();
  answer([/Snippet title/, "retry helper"], [/Who can see it/, "Private"]);
  const created = (await vscode.commands.executeCommand("bitbucketSnippets.share")) as CreateResult;
  assert.equal(created.title, "retry helper");
  assert.equal(created.isPrivate, true);
  assert.equal(created.workspace, "demo");
  assert.equal(await fileOnBitbucket(created, "retry.py"), selected);
  const offered = await waitForPrompt(/Shared as a private snippet/);
  assert.ok(created.htmlUrl && offered.message.includes(created.htmlUrl));
  assert.deepEqual(offered.choices, ["Copy link", "Open in browser", "Open in editor"]);
});

test("share with an argument object does not prompt; a public secret is refused with where it is", async () => {
  await extension();
  const file = path.join(context.folder, "config.env");
  fs.writeFileSync(file, "region=eu\naws_key=AKIAIOSFODNN7EXAMPLF\n");
  await vscode.window.showTextDocument(vscode.Uri.file(file));
  forgetPrompts();
  answer([/credential/, undefined]);
  const refused = await vscode.commands.executeCommand("bitbucketSnippets.share", { title: "public config", isPrivate: false });
  assert.equal(refused, undefined);
  const warning = await waitForPrompt(/Not shared/);
  assert.match(warning.message, /config\.env line 2/);
  assert.deepEqual(warning.choices, ["Share anyway"]);

  forgetPrompts();
  const created = (await vscode.commands.executeCommand("bitbucketSnippets.share", { title: "private config" })) as CreateResult;
  assert.equal(created.isPrivate, true);
  assert.equal(await fileOnBitbucket(created, "config.env"), "region=eu\naws_key=AKIAIOSFODNN7EXAMPLF\n");
  assert.ok(!shown().some((prompt) => prompt.kind === "input" || prompt.kind === "quickPick"), "scripted share asks nothing");
});
