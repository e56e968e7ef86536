// Comments in the editor: a snippet-level thread on each file, a reply, a line-anchored comment at its
// line; only one's own comments offer edit and delete.

import * as vscode from "vscode";

import type { SnippetComment } from "../../../src/comments";
import { snippetUri } from "../../../src/uri";
import {
  TEAM,
  alice,
  answer,
  assert,
  click,
  commentLens,
  commentOnBitbucket,
  commentsOnBitbucket,
  createSnippet,
  demo,
  extension,
  openDocument,
  test,
  waitFor,
} from "./harness";

test("a comment thread, a reply and a line-anchored comment at its line", async () => {
  const api = await extension();
  const seeded = await createSnippet(demo, TEAM, { "app.py": "a = 1\nb = 2\nc = 3\n", "b.txt": "b\n" }, "commented");
  const first = await commentOnBitbucket(alice, seeded, "Nice snippet, **Demo**!");
  const opened = (await vscode.commands.executeCommand("bitbucketSnippets.open", seeded)) as { files: { uri: string; name: string }[] };
  const appUri = opened.files.find((file) => file.name === "app.py")!.uri;
  const document = await openDocument(appUri);
  // Comments are read when asked for: the CodeLens at the top of the file.
  assert.equal(api.comments.threadsFor(document.uri).length, 0, "opening the file read no comments");
  const lens = await commentLens(document.uri);
  assert.equal(lens.command?.title, "$(comment-discussion) Comments");
  await click(lens);

  const threads = await waitFor("the snippet-level thread", () => {
    const shown = api.comments.threadsFor(document.uri);
    return shown.length === 1 ? shown : undefined;
  });
  const [thread] = threads;
  assert.equal(thread.label, "Snippet comment");
  assert.equal(thread.range?.start.line, 0);
  const [theirs] = thread.comments as SnippetComment[];
  assert.equal(theirs.author.name, "Alice Example");
  assert.equal((theirs.body as vscode.MarkdownString).value, "Nice snippet, **Demo**!");
  assert.equal(theirs.contextValue, "theirs", "someone else's comment offers no edit/delete");
  assert.equal((await commentLens(document.uri)).command?.title, "$(comment-discussion) 1 comment");
  // The same snippet-level thread shows on the snippet's other file too, as soon as it opens (no asking again).
  const other = await openDocument(opened.files.find((file) => file.name === "b.txt")!.uri);
  await waitFor("the thread on b.txt", () => api.comments.threadsFor(other.uri).length === 1);

  await vscode.commands.executeCommand("bitbucketSnippets.comments.reply", { thread, text: "Thanks!" });
  let remote = await commentsOnBitbucket(seeded);
  const reply = remote.find((comment) => comment.content.raw === "Thanks!");
  assert.ok(reply, JSON.stringify(remote));
  assert.equal(reply.parent?.id, first);
  const replied = api.comments.threadsFor(document.uri).find((each) => each.label === "Snippet comment")!;
  assert.deepEqual(
    (replied.comments as SnippetComment[]).map((comment) => [comment.author.name, comment.contextValue]),
    [["Alice Example", "theirs"], ["Demo User", "mine"]],
  );

  // A new thread on line 2 (0-based 1), as the gutter's "+" makes one.
  const fresh = api.comments.controller.createCommentThread(document.uri, new vscode.Range(1, 0, 1, 0), []);
  await vscode.commands.executeCommand("bitbucketSnippets.comments.create", { thread: fresh, text: "why 2?" });
  remote = await commentsOnBitbucket(seeded);
  const anchored = remote.find((comment) => comment.content.raw.endsWith("why 2?"));
  assert.ok(anchored, JSON.stringify(remote));
  assert.match(anchored.content.raw, /^\[app\.py, line 2\]\(.*#file-app\.py-L2\)\n\nwhy 2\?$/);
  const lineThread = await waitFor("the thread at line 2", () =>
    api.comments.threadsFor(document.uri).find((each) => each.range?.start.line === 1),
  );
  assert.equal(lineThread.label, "Line 2");
  const [mine] = lineThread.comments as SnippetComment[];
  assert.equal((mine.body as vscode.MarkdownString).value, "why 2?");
  assert.equal(mine.contextValue, "mine");
  // Not on the other file: it is anchored to app.py.
  assert.equal(api.comments.threadsFor(other.uri).length, 1);

  // Edit, then delete one's own comment.
  await vscode.commands.executeCommand("bitbucketSnippets.comments.edit", mine);
  assert.equal(mine.mode, vscode.CommentMode.Editing);
  mine.body = new vscode.MarkdownString("why 2, really?");
  await vscode.commands.executeCommand("bitbucketSnippets.comments.saveEdit", mine);
  remote = await commentsOnBitbucket(seeded);
  assert.ok(remote.some((comment) => /^\[app\.py, line 2\]\(.*\)\n\nwhy 2, really\?$/.test(comment.content.raw)), "the edit keeps the line anchor");
  const edited = api.comments.threadsFor(document.uri).find((each) => each.range?.start.line === 1)!;
  answer([/Delete this comment/, "Delete"]);
  await vscode.commands.executeCommand("bitbucketSnippets.comments.delete", edited.comments[0]);
  remote = await commentsOnBitbucket(seeded);
  assert.ok(!remote.some((comment) => comment.content.raw.includes("why 2")));
  assert.equal(api.comments.threadsFor(document.uri).filter((each) => each.range?.start.line === 1).length, 0);
});

test("adding a comment to a file whose comments were not read yet shows them all (one read, after the add)", async () => {
  const api = await extension();
  const seeded = await createSnippet(demo, TEAM, { "x.txt": "one\ntwo\n" }, "commented later");
  await commentOnBitbucket(alice, seeded, "an older remark");
  const document = await openDocument(snippetUri(seeded.workspace, seeded.id, "x.txt"));
  assert.equal(api.comments.isRead(seeded.workspace, seeded.id), false);
  // The gutter's "+" on line 2, then "Add Comment".
  const fresh = api.comments.controller.createCommentThread(document.uri, new vscode.Range(1, 0, 1, 0), []);
  await vscode.commands.executeCommand("bitbucketSnippets.comments.create", { thread: fresh, text: "and a new one" });
  const threads = api.comments.threadsFor(document.uri);
  assert.deepEqual(
    threads.map((thread) => [thread.label, (thread.comments as SnippetComment[]).map((comment) => comment.info.raw.replace(/^\[.*\)\n\n/, ""))]),
    [
      ["Snippet comment", ["an older remark"]],
      ["Line 2", ["and a new one"]],
    ],
  );
  assert.equal((await commentLens(document.uri)).command?.title, "$(comment-discussion) 2 comments");
});
