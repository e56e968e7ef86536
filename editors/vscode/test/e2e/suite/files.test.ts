// Open a snippet from the tree, edit and save; what each costs, counted on the sandbox's request log.

import * as vscode from "vscode";

import { LIST, WATCH } from "../../../src/protocol";
import type { Node } from "../../../src/tree";
import {
  TEAM,
  assert,
  clearRequests,
  click,
  commentLens,
  createSnippet,
  demo,
  describeRequests,
  extension,
  fileOnBitbucket,
  requests,
  test,
  waitFor,
} from "./harness";

async function workspaceNode(slug: string): Promise<Node> {
  const api = await extension();
  const roots = await api.tree.getChildren();
  const node = roots.find((root) => root.kind === "workspace" && root.workspace.slug === slug);
  assert.ok(node, `the tree shows the workspace ${slug}: ${JSON.stringify(roots)}`);
  return node;
}

test("the tree: workspaces, then snippets with a lock when private, then files", async () => {
  const api = await extension();
  const roots = await api.tree.getChildren();
  const slugs = roots.flatMap((root) => (root.kind === "workspace" ? [root.workspace.slug] : []));
  assert.ok(slugs.includes("demo") && slugs.includes(TEAM), `workspaces: ${slugs}`);
  const seeded = await createSnippet(demo, "demo", { "a.txt": "a\n" }, "tree shape", false);
  const snippets = await api.tree.getChildren(await workspaceNode("demo"));
  const node = snippets.find((item) => item.kind === "snippet" && item.snippet.id === seeded.id);
  assert.ok(node && node.kind === "snippet");
  const item = api.tree.getTreeItem(node);
  assert.equal(item.label, "tree shape");
  assert.equal((item.iconPath as vscode.ThemeIcon).id, "globe");
  assert.match(String(item.contextValue), /^snippet;public;unwatched$/);
  assert.equal(item.description, "just now");
  const files = await api.tree.getChildren(node);
  assert.deepEqual(files.map((file) => file.kind === "file" && api.tree.getTreeItem(file).contextValue), ["file;text"]);
});

/** The tree item menu entries whose `when` holds for this item (the view/item/context regexes of the manifest). */
function menuFor(item: vscode.TreeItem): string[] {
  const manifest = vscode.extensions.getExtension("snippet-daemon.bitbucket-snippets")!.packageJSON as {
    contributes: { menus: { "view/item/context": { command: string; when: string }[] } };
  };
  return manifest.contributes.menus["view/item/context"]
    .filter((entry) => {
      const match = /viewItem =~ \/(.+)\/$/.exec(entry.when);
      return match !== null && new RegExp(match[1]).test(String(item.contextValue));
    })
    .map((entry) => entry.command);
}

test("the tree says which snippets are watched, from the daemon's watch list (1 list request); the menu offers Watch xor Stop Watching", async () => {
  const api = await extension();
  const watched = await createSnippet(demo, "demo", { "w.txt": "w\n" }, "tree watched");
  const plain = await createSnippet(demo, "demo", { "p.txt": "p\n" }, "tree not watched");
  // Watched behind the tree's back (as another window, or the CLI, would): the list still says so.
  await api.daemon.command(WATCH, watched);
  await clearRequests();
  const snippets = await api.tree.getChildren(await workspaceNode("demo"));
  const listRequests = await requests();
  assert.deepEqual(listRequests.map((request) => `${request.method} ${request.path}`), ["GET /2.0/snippets/demo"], describeRequests(listRequests));
  const item = (seeded: { id: string }) => {
    const node = snippets.find((candidate) => candidate.kind === "snippet" && candidate.snippet.id === seeded.id);
    assert.ok(node);
    return api.tree.getTreeItem(node);
  };
  assert.match(String(item(watched).contextValue), /;watched$/);
  assert.match(String(item(watched).description), /watching/);
  assert.ok(menuFor(item(watched)).includes("bitbucketSnippets.unwatch") && !menuFor(item(watched)).includes("bitbucketSnippets.watch"));
  assert.match(String(item(plain).contextValue), /;unwatched$/);
  assert.ok(menuFor(item(plain)).includes("bitbucketSnippets.watch") && !menuFor(item(plain)).includes("bitbucketSnippets.unwatch"));

  // Stop Watching from the tree: the item turns into one that offers Watch.
  await vscode.commands.executeCommand("bitbucketSnippets.unwatch", { kind: "snippet", snippet: { ...watched, title: "tree watched", isPrivate: true, watching: true } });
  assert.ok(menuFor(item(watched)).includes("bitbucketSnippets.watch") && !menuFor(item(watched)).includes("bitbucketSnippets.unwatch"));
});

test("opening a 3-file snippet from the tree and showing its files: 1 request (its comments: 1 more, when asked)", async () => {
  const api = await extension();
  const seeded = await createSnippet(demo, "demo", { "app.py": "print('app')\n", "lib/util.py": "X = 1\n", "README.md": "# three\n" }, "three files");
  const listed = await api.tree.getChildren(await workspaceNode("demo"));
  const node = listed.find((item) => item.kind === "snippet" && item.snippet.id === seeded.id);
  assert.ok(node);
  await clearRequests();
  const files = await api.tree.getChildren(node);
  assert.equal(files.length, 3);
  for (const file of files) {
    assert.ok(file.kind === "file");
    // What clicking the file in the tree runs.
    const item = api.tree.getTreeItem(file);
    await vscode.commands.executeCommand(item.command!.command, ...(item.command!.arguments ?? []));
    await waitFor(`${file.file.name} in an editor`, () => vscode.window.activeTextEditor?.document.uri.toString() === vscode.Uri.parse(file.file.uri).toString());
  }
  const texts = vscode.window.visibleTextEditors.map((editor) => editor.document.getText());
  assert.ok(texts.includes("X = 1\n"));
  const documents = vscode.workspace.textDocuments.filter((doc) => doc.uri.scheme === "bbsnippet");
  assert.deepEqual(documents.map((doc) => doc.getText()).sort(), ["# three\n", "X = 1\n", "print('app')\n"]);
  // Ask again, as VS Code does all the time: still from the daemon's cache.
  for (const doc of documents) {
    await vscode.workspace.fs.stat(doc.uri);
    await vscode.workspace.fs.readFile(doc.uri);
  }
  // Each file offers its comments at the top; none were read.
  for (const doc of documents) {
    assert.equal((await commentLens(doc.uri)).command?.title, "$(comment-discussion) Comments");
    assert.equal(api.comments.threadsFor(doc.uri).length, 0);
  }
  assert.equal(api.comments.isRead("demo", seeded.id), false);
  let recorded = await requests();
  assert.deepEqual(
    recorded.map((request) => `${request.method} ${request.path}`),
    [`GET /2.0/snippets/demo/${seeded.id}`],
    describeRequests(recorded),
  );
  // Clicking "Comments" reads them: one request, for every file of the snippet.
  await clearRequests();
  await click(await commentLens(documents[0].uri));
  recorded = await requests();
  assert.deepEqual(
    recorded.map((request) => `${request.method} ${request.path}`),
    [`GET /2.0/snippets/demo/${seeded.id}/comments`],
    describeRequests(recorded),
  );
  for (const doc of documents) {
    assert.equal((await commentLens(doc.uri)).command?.title, "$(comment-discussion) No comments");
  }
});

test("edit and save a snippet file: Bitbucket has the new text, for 1 PUT, plus 1 GET (the check for another writer's change)", async () => {
  const api = await extension();
  const seeded = await createSnippet(demo, "demo", { "notes.md": "first\n", "other.txt": "untouched\n" }, "to edit");
  const opened = (await vscode.commands.executeCommand("bitbucketSnippets.open", seeded)) as { files: { uri: string }[] };
  assert.equal(opened.files.length, 2);
  const uri = vscode.Uri.parse(opened.files.find((file) => file.uri.endsWith("notes.md"))!.uri);
  const document = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(document);
  await clearRequests();
  const edit = new vscode.WorkspaceEdit();
  edit.insert(uri, new vscode.Position(1, 0), "second ✓\n");
  assert.ok(await vscode.workspace.applyEdit(edit));
  assert.ok(document.isDirty);
  assert.ok(await document.save(), "saved");
  assert.equal(document.isDirty, false);
  const recorded = await requests();
  // 1 PUT, plus 1 GET when the daemon's copy is older than N s (documents.STAT_FRESH_SECONDS = 0: always),
  // so that VS Code sees another writer's change before it writes.
  assert.deepEqual(`${recorded[0].method} ${recorded[0].path}`, `GET /2.0/snippets/demo/${seeded.id}`, describeRequests(recorded));
  assert.equal(recorded.length, 2, describeRequests(recorded));
  const put = recorded[1];
  // A compare-and-swap PUT names the revision it was read at: /snippets/ws/id/{revision}.
  assert.match(`${put.method} ${put.path}`, new RegExp(`^PUT /2\\.0/snippets/demo/${seeded.id}/[0-9a-f]{40}$`), describeRequests(recorded));
  assert.equal(await fileOnBitbucket(seeded, "notes.md"), "first\nsecond ✓\n");
  assert.equal(await fileOnBitbucket(seeded, "other.txt"), "untouched\n");
  // Text edited back to what Bitbucket has: the save makes no request and no revision.
  await clearRequests();
  const add = new vscode.WorkspaceEdit();
  add.insert(uri, new vscode.Position(0, 0), "x");
  await vscode.workspace.applyEdit(add);
  const remove = new vscode.WorkspaceEdit();
  remove.delete(uri, new vscode.Range(0, 0, 0, 1));
  await vscode.workspace.applyEdit(remove);
  assert.ok(document.isDirty);
  assert.ok(await document.save());
  assert.deepEqual((await requests()).map((request) => request.method), ["GET"], "a no-op save writes nothing (the check before it is its only request)");
  void api;
});

test("expanding a workspace of 150 snippets in the tree: 2 requests", async () => {
  const api = await extension();
  const existing = (await api.daemon.command(LIST, { workspace: TEAM })).snippets.length;
  const wanted = 150 - existing;
  for (let start = 0; start < wanted; start += 5) {
    await Promise.all(
      Array.from({ length: Math.min(5, wanted - start) }, (_, index) =>
        createSnippet(demo, TEAM, { "n.txt": `${start + index}\n` }, `bulk ${start + index}`),
      ),
    );
  }
  const team = await workspaceNode(TEAM);
  await clearRequests();
  const children = await api.tree.getChildren(team);
  assert.equal(children.length, 150);
  const recorded = await requests();
  assert.equal(recorded.length, 2, describeRequests(recorded));
  assert.ok(recorded.every((request) => request.method === "GET" && request.path === `/2.0/snippets/${TEAM}`), describeRequests(recorded));
});
