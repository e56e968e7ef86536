// Insert a snippet file at the cursor: the exact text, as plain text (no snippet expansion), replacing the
// selection, in one undo step; chosen without prompts, or from the default workspace's snippets; binary
// files refused. (From search hits: search.test.ts, where the index is on.)

import * as vscode from "vscode";

import {
  answer,
  assert,
  clearRequests,
  createSnippet,
  demo,
  describeRequests,
  extension,
  forgetPrompts,
  requests,
  shown,
  test,
  waitForPrompt,
} from "./harness";

/** What a snippet string would expand or eat: tab stops, placeholders, variables, a backslash, a tab. */
export const TEMPLATE = 'echo "$HOME" ${1:name} $0 \\$ $TM_FILENAME\n\tindented ${HOME}\n$(pwd) end';

async function editorWith(text: string): Promise<vscode.TextEditor> {
  const document = await vscode.workspace.openTextDocument({ content: text, language: "plaintext" });
  return vscode.window.showTextDocument(document);
}

test("insert {workspace, id, path}: the file's exact text replaces the selection, one undo removes it, 1 request", async () => {
  await extension();
  const seeded = await createSnippet(demo, "demo", { "tpl.sh": TEMPLATE, "other.txt": "other\n" }, "a template");
  const editor = await editorWith("before SELECTED after\n");
  editor.selection = new vscode.Selection(0, 7, 0, 15);
  assert.equal(editor.document.getText(editor.selection), "SELECTED");
  await clearRequests();
  const result = (await vscode.commands.executeCommand("bitbucketSnippets.insert", { ...seeded, path: "tpl.sh" })) as { length: number };
  assert.equal(editor.document.getText(), `before ${TEMPLATE} after\n`);
  assert.equal(result.length, TEMPLATE.length);
  const recorded = await requests();
  assert.deepEqual(recorded.map((request) => `${request.method} ${request.path}`), [`GET /2.0/snippets/demo/${seeded.id}`], describeRequests(recorded));
  await vscode.commands.executeCommand("undo");
  assert.equal(editor.document.getText(), "before SELECTED after\n", "one undo takes the whole insert back");
});

test("insert with no argument: the default workspace's snippets, then the file; a binary file is refused", async () => {
  await extension();
  const seeded = await createSnippet(demo, "demo", { "a.txt": "first file\n", "b.txt": "second ✓ file\n", "logo.bin": "\u0000\u0001PNG\u0000" }, "insert picks");
  const editor = await editorWith("");
  answer([/^Insert from which snippet/, "insert picks"], [/^Insert which file of "insert picks"/, "b.txt"]);
  forgetPrompts();
  await vscode.commands.executeCommand("bitbucketSnippets.insert");
  assert.equal(editor.document.getText(), "second ✓ file\n");
  const filePrompt = shown().find((prompt) => prompt.message.startsWith("Insert which file"));
  assert.deepEqual(filePrompt?.choices, ["a.txt", "b.txt", "logo.bin"]);
  assert.equal(shown().find((prompt) => prompt.message.startsWith("Insert from which snippet"))?.choices[0], "$(search) Search all snippets…");

  forgetPrompts();
  await vscode.commands.executeCommand("bitbucketSnippets.insert", { ...seeded, path: "logo.bin" });
  const refusal = await waitForPrompt(/logo\.bin is a binary file/);
  assert.equal(refusal.kind, "warning");
  assert.equal(editor.document.getText(), "second ✓ file\n", "nothing inserted");
});
