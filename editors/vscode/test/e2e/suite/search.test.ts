// Search (#12) in real VS Code against the daemon's real index: the "Search snippets" quick pick (through the
// prompts hook, and VS Code's own widget typed into), Go to Symbol in Workspace through the language
// client, and insert among search hits. The other tests run with indexing off (run.mjs sets
// SNIPPET_DAEMON_INDEXING=0, so their request counts are exact); these turn the bitbucketSnippets.indexing
// setting on, which wins over the environment, and the last one turns it back off.

import * as vscode from "vscode";

import { SEARCH } from "../../../src/protocol";
import {
  type Seeded,
  assert,
  choose,
  createSnippet,
  demo,
  extension,
  forgetPrompts,
  realUi,
  setSetting,
  shown,
  test,
  waitFor,
} from "./harness";

const TOOL = "import os\n\n\ndef run(value):\n    return os.path.join(value, ZorblaxHelper.name)  # the needle\n";
/** The needle is on line 5, in the middle of a word: the trigram index finds substrings. */
const NEEDLE = "orblaxhelp";

let seeded: Seeded | undefined;

/** The seeded snippet, once the index (on, for this daemon) holds its text. */
async function indexed(): Promise<Seeded> {
  const api = await extension();
  // Made before indexing starts, so the first fill reads it (refreshes are minutes apart).
  seeded ??= await createSnippet(demo, "demo", { "tool.py": TOOL, "notes.md": "# notes\n", "zz.cfg": "[x]\n" }, "quux toolkit");
  if (vscode.workspace.getConfiguration("bitbucketSnippets").inspect<boolean>("indexing")?.globalValue !== true) {
    await setSetting("indexing", true);
  }
  const snippet = seeded;
  await waitFor(
    "the index to hold the seeded snippet's text",
    async () => {
      const result = await api.daemon.command(SEARCH, { query: NEEDLE });
      return result.complete && result.results.some((hit) => hit.id === snippet.id && hit.line === 5);
    },
    60000,
  );
  return snippet;
}

function toolUri(snippet: Seeded): string {
  return vscode.Uri.parse(`bbsnippet://demo/${snippet.id}/tool.py`).toString();
}

/**
 * tool.py's cursor parked on line 1 and its editor closed: VS Code restores a reopened file's last cursor,
 * so without this a test could pass on where the previous one left it.
 */
async function park(snippet: Seeded): Promise<void> {
  const editor = await vscode.window.showTextDocument(vscode.Uri.parse(toolUri(snippet)));
  editor.selection = new vscode.Selection(0, 0, 0, 0);
  await vscode.commands.executeCommand("workbench.action.closeAllEditors");
}

/** The editor is on tool.py line 5 (0-based 4), the one document of that file, with no #L in any document. */
function assertAtNeedle(snippet: Seeded): void {
  const editor = vscode.window.activeTextEditor;
  assert.ok(editor);
  assert.equal(editor.document.uri.toString(), toolUri(snippet));
  assert.equal(editor.selection.start.line, 4);
  const documents = vscode.workspace.textDocuments.filter((doc) => doc.uri.scheme === "bbsnippet");
  assert.deepEqual(documents.filter((doc) => doc.uri.fragment !== ""), [], "no document carries a #L fragment");
  assert.equal(documents.filter((doc) => doc.uri.path.endsWith("/tool.py")).length, 1, "one document for the file");
}

test("search while indexing is off says so, and offers the setting that turns it on", async () => {
  await extension();
  forgetPrompts();
  choose(/^Search snippets: anything$/, /^Search is off/);
  assert.equal(await vscode.commands.executeCommand("bitbucketSnippets.search", { query: "anything" }), undefined);
  const listed = shown().find((prompt) => prompt.message === "Search snippets: anything");
  assert.deepEqual(listed?.choices, ["Search is off: turn on the bitbucketSnippets.indexing setting"]);
  await waitFor("the Settings editor", () => vscode.window.tabGroups.activeTabGroup.activeTab?.label === "Settings");
});

test("search: the quick pick opens a hit at its line, in the document the snippet's own open gives", async () => {
  const snippet = await indexed();
  await park(snippet);
  // The file is already open (from bbsnippets.open's URI): the hit must land in that same document.
  const opened = (await vscode.commands.executeCommand("bitbucketSnippets.open", snippet)) as { files: { name: string; uri: string }[] };
  const before = await vscode.workspace.openTextDocument(vscode.Uri.parse(opened.files.find((file) => file.name === "tool.py")!.uri));
  choose(new RegExp(`^Search snippets: ${NEEDLE}$`), /ZorblaxHelper/);
  const result = (await vscode.commands.executeCommand("bitbucketSnippets.search", { query: NEEDLE })) as { uri: string; line: number };
  assert.deepEqual(result, { uri: toolUri(snippet), line: 5 });
  assertAtNeedle(snippet);
  assert.equal(vscode.window.activeTextEditor?.document, before);
  assert.equal(vscode.window.activeTextEditor?.document.getText(vscode.window.activeTextEditor.selection).toLowerCase(), NEEDLE, "the match is selected");
});

test("search: VS Code's own quick pick, typed into: live results from the index, Enter opens the hit at its line", async () => {
  const api = await extension();
  const snippet = await indexed();
  await park(snippet);
  realUi();
  const searching = vscode.commands.executeCommand("bitbucketSnippets.search");
  const picker = await waitFor("the Search snippets quick pick", () => api.testHooks.livePicker);
  assert.equal(picker.items.length, 0, "nothing is listed before anything is typed");
  picker.value = "zorblax HELPER";
  const hit = await waitFor("the hit listed", () => !picker.busy && picker.items.find((item) => item.label.includes("ZorblaxHelper")));
  assert.equal(hit.description, "tool.py:5");
  assert.equal(hit.detail, `quux toolkit · demo/${snippet.id}`);
  assert.equal(picker.title, "Search snippets", "the index is complete: no 'still filling' note");
  await vscode.commands.executeCommand("workbench.action.acceptSelectedQuickOpenItem");
  const result = (await searching) as { uri: string; line: number };
  assert.deepEqual(result, { uri: toolUri(snippet), line: 5 });
  assertAtNeedle(snippet);
});

test("Go to Symbol in Workspace finds snippets through the language client, and opens the file at its line", async () => {
  const snippet = await indexed();
  await park(snippet);
  const symbols = await vscode.commands.executeCommand<vscode.SymbolInformation[]>("vscode.executeWorkspaceSymbolProvider", NEEDLE);
  const symbol = symbols.find((each) => each.location.uri.scheme === "bbsnippet" && each.location.uri.path.endsWith(`/${snippet.id}/tool.py`));
  assert.ok(symbol, JSON.stringify(symbols.map((each) => [each.name, each.location.uri.toString()])));
  assert.equal(symbol.location.uri.toString(), toolUri(snippet), "a file URI, no #L");
  assert.equal(symbol.location.range.start.line, 4);
  assert.equal(symbol.kind, vscode.SymbolKind.String);
  assert.match(symbol.containerName, new RegExp(`demo/${snippet.id} quux toolkit`));
  // Chosen in VS Code's own "Go to Symbol in Workspace" (#): it opens the location.
  realUi();
  await vscode.commands.executeCommand("workbench.action.quickOpen", `#${NEEDLE}`);
  await waitFor(
    "the symbol to open",
    async () => {
      await vscode.commands.executeCommand("workbench.action.acceptSelectedQuickOpenItem");
      return vscode.window.activeTextEditor?.document.uri.toString() === toolUri(snippet);
    },
    20000,
  );
  assertAtNeedle(snippet);
});

test("insert {query}: a search hit's file goes in at the cursor", async () => {
  try {
    const snippet = await indexed();
    const document = await vscode.workspace.openTextDocument({ content: "", language: "python" });
    await vscode.window.showTextDocument(document);
    choose(new RegExp(`^Insert a snippet file: ${NEEDLE}$`), /ZorblaxHelper/);
    const result = (await vscode.commands.executeCommand("bitbucketSnippets.insert", { query: NEEDLE })) as { uri: string };
    assert.equal(result.uri, `bbsnippet://demo/${snippet.id}/tool.py`);
    assert.equal(document.getText(), TOOL);
  } finally {
    await setSetting("indexing", undefined);
  }
});
