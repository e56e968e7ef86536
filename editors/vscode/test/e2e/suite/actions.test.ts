// The tree's snippet actions, scripted with argument objects (no prompts): rename the title, make public,
// add/rename/delete a file, copy the link, duplicate, delete; and the snippet as a folder through VS Code's fs.

import * as vscode from "vscode";

import type { CreateResult, OpenResult } from "../../../src/protocol";
import { answer, assert, bitbucket, clearRequests, createSnippet, demo, extension, fileOnBitbucket, forgetPrompts, requests, shown, test, waitFor, waitForPrompt } from "./harness";

test("snippet actions: title, visibility, files, link, duplicate, delete", async () => {
  await extension();
  const seeded = await createSnippet(demo, "demo", { "a.txt": "a\n" }, "actions");
  const run = <T>(name: string, arg: object) => vscode.commands.executeCommand<T>(`bitbucketSnippets.${name}`, { ...seeded, ...arg });
  forgetPrompts();

  assert.equal((await run<OpenResult>("renameTitle", { title: "renamed" })).title, "renamed");
  assert.equal((await run<OpenResult>("toggleVisibility", { isPrivate: false })).isPrivate, false);

  assert.equal(await run<string>("addFile", { name: "docs/b.md", text: "# b\n" }), `bbsnippet://demo/${seeded.id}/docs/b.md`);
  assert.equal(await fileOnBitbucket(seeded, "docs/b.md"), "# b\n");
  const folder = vscode.Uri.parse(`bbsnippet://demo/${seeded.id}/`);
  assert.deepEqual(await vscode.workspace.fs.readDirectory(folder), [["a.txt", vscode.FileType.File], ["docs", vscode.FileType.Directory]]);
  assert.equal(await run<string>("renameFile", { path: "a.txt", newName: "c.txt" }), "c.txt");
  assert.equal(await run<boolean>("deleteFile", { path: "docs/b.md" }), true);
  const metadata = (await (await bitbucket(demo, "GET", `/snippets/demo/${seeded.id}`)).json()) as { title: string; is_private: boolean; files: Record<string, unknown> };
  assert.deepEqual(Object.keys(metadata.files), ["c.txt"]);
  assert.equal(metadata.title, "renamed");
  assert.equal(metadata.is_private, false);

  const link = await run<string>("copyLink", {});
  assert.match(link, new RegExp(`/snippets/demo/${seeded.id}`));
  assert.equal(await vscode.env.clipboard.readText(), link);

  const copy = await run<CreateResult>("duplicate", { title: "the copy" });
  assert.equal(copy.title, "the copy");
  assert.equal(copy.isPrivate, true, "copies are private by default");
  assert.equal(await fileOnBitbucket(copy, "c.txt"), "a\n");

  // From the tree (a node, not an argument object) delete asks first; No keeps it.
  answer([/Delete the snippet/, undefined]);
  assert.equal(await vscode.commands.executeCommand("bitbucketSnippets.delete", { kind: "snippet", snippet: { ...copy, updatedOn: undefined } }), false);
  assert.ok(shown().some((prompt) => prompt.kind === "modal" && /Delete the snippet "the copy"/.test(prompt.message)));
  assert.equal(await run<boolean>("delete", {}), true);
  await assert.rejects(bitbucket(demo, "GET", `/snippets/demo/${seeded.id}`), /404/);
  assert.ok(!shown().some((prompt) => prompt.kind === "input" || prompt.kind === "quickPick"), "scripted commands ask nothing");
});

test("open a snippet from its Bitbucket web address (the daemon parses it): #file- opens that file, for 1 request", async () => {
  await extension();
  const seeded = await createSnippet(demo, "demo", { "a.txt": "a\n", "b.txt": "b\n" }, "by address");
  await clearRequests();
  const opened = (await vscode.commands.executeCommand("bitbucketSnippets.open", `https://bitbucket.org/demo/workspace/snippets/${seeded.id}/by-address#file-b.txt`)) as OpenResult;
  assert.equal(opened.id, seeded.id);
  assert.equal(opened.file, "b.txt");
  await waitFor("b.txt in the editor", () => vscode.window.activeTextEditor?.document.uri.path.endsWith("/b.txt"));
  assert.equal((await requests()).length, 1, "one read of the snippet");

  const byObject = (await vscode.commands.executeCommand("bitbucketSnippets.open", { url: `https://bitbucket.org/snippets/demo/${seeded.id}` })) as OpenResult;
  assert.deepEqual(byObject.files.map((file) => file.name), ["a.txt", "b.txt"]);

  // Asked with nothing open: the address pasted into the box.
  await vscode.commands.executeCommand("workbench.action.closeAllEditors");
  forgetPrompts();
  answer([/Bitbucket address/, `https://bitbucket.org/snippets/demo/${seeded.id}#file-a.txt`]);
  const pasted = (await vscode.commands.executeCommand("bitbucketSnippets.open")) as OpenResult;
  assert.equal(pasted.file, "a.txt");

  // Not a snippet's address: said in words, with what is expected.
  forgetPrompts();
  assert.equal(await vscode.commands.executeCommand("bitbucketSnippets.open", "https://example.com/some/page"), undefined);
  const refused = await waitForPrompt(/^Opening the snippet failed/);
  assert.match(refused.message, /does not name a snippet/);
  assert.doesNotMatch(refused.message, /invalidArgument/);
});
