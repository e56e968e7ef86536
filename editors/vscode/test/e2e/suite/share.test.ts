// Share a selection: the snippet on Bitbucket holds exactly the selected bytes, and the link is offered.

import * as fs from "node:fs";
import * as path from "node:path";

import * as vscode from "vscode";

import { answer, assert, bitbucket, context, createSnippet, demo, extension, fileOnBitbucket, forgetPrompts, shown, test, waitForPrompt } from "./harness";
import type { CreateResult, OpenResult } from "../../../src/protocol";

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
  const visibility = shown().find((prompt) => /Who can see it/.test(prompt.message));
  assert.deepEqual(visibility?.choices, ["Private", "Public"]);
  assert.equal(visibility?.descriptions?.[0], "visible to the members of its workspace", "Private means what it means on Bitbucket");
  const offered = await waitForPrompt(/Shared as a private snippet \(visible to the members of its workspace\)/);
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

test("Share anyway works wherever a credential would go public: share, make public, duplicate as public", async () => {
  await extension();
  const file = path.join(context.folder, "deploy.env");
  const text = "aws_key=AKIAIOSFODNN7EXAMPLF\n";
  fs.writeFileSync(file, text);
  await vscode.window.showTextDocument(vscode.Uri.file(file));
  forgetPrompts();
  answer([/credential/, "Share anyway"]);
  const shared = (await vscode.commands.executeCommand("bitbucketSnippets.share", { title: "public anyway", isPrivate: false })) as CreateResult;
  assert.equal(shared.isPrivate, false, "shared in public after Share anyway");
  assert.match((await waitForPrompt(/^Not shared/)).message, /deploy\.env line 1/);

  const secret = await createSnippet(demo, "demo", { "key.env": text }, "made public anyway");
  forgetPrompts();
  answer([/credential/, undefined]);
  assert.equal(await vscode.commands.executeCommand("bitbucketSnippets.toggleVisibility", { ...secret, isPrivate: false }), undefined, "declined: nothing changes");
  assert.deepEqual((await waitForPrompt(/^Not made public/)).choices, ["Share anyway"]);
  assert.equal(((await (await bitbucket(demo, "GET", `/snippets/demo/${secret.id}`)).json()) as { is_private: boolean }).is_private, true);
  answer([/credential/, "Share anyway"]);
  const madePublic = (await vscode.commands.executeCommand("bitbucketSnippets.toggleVisibility", { ...secret, isPrivate: false })) as OpenResult;
  assert.equal(madePublic.isPrivate, false);

  forgetPrompts();
  const copy = (await vscode.commands.executeCommand("bitbucketSnippets.duplicate", { ...secret, title: "public copy", isPrivate: false })) as CreateResult;
  assert.equal(copy.isPrivate, false, "duplicated in public after Share anyway");
  assert.deepEqual((await waitForPrompt(/^Not duplicated/)).choices, ["Share anyway"]);
  assert.equal(await fileOnBitbucket(copy, "key.env"), text);
  assert.equal(shown().filter((prompt) => /credential/.test(prompt.message)).length, 1, "one question per refusal, no second notification");
});
