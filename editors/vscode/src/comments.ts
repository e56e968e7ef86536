// Snippet comments in the editor, with a CommentController (features/comments.py does the work).
//
// Each open snippet file shows the snippet-level threads at its top and the threads anchored to its lines
// at those lines. A Bitbucket comment with replies is one thread (replies hang off the first comment).
// Only one's own comments offer edit and delete (contextValue "mine"). Comments are read once per snippet
// and again when the daemon reports a change of kind "comment", or after we changed one.

import * as vscode from "vscode";

import { type Services, reportFailure } from "./commands";
import * as prompts from "./prompts";
import { type CommentInfo, URI_SCHEME } from "./protocol";
import * as snippetUri from "./uri";

export const CONTROLLER_ID = "bitbucketSnippets.comments";

export class SnippetComment implements vscode.Comment {
  mode = vscode.CommentMode.Preview;
  body: vscode.MarkdownString;
  readonly author: vscode.CommentAuthorInformation;
  readonly contextValue: "mine" | "theirs";
  readonly label: string | undefined;
  readonly timestamp: Date | undefined;

  constructor(
    readonly info: CommentInfo,
    readonly thread: vscode.CommentThread,
    mine: boolean,
  ) {
    this.body = new vscode.MarkdownString(info.deleted ? "*(deleted)*" : info.raw);
    this.author = { name: info.author ?? "someone" };
    this.contextValue = mine && !info.deleted ? "mine" : "theirs";
    this.label = info.updatedOn && info.updatedOn !== info.createdOn ? "edited" : undefined;
    this.timestamp = info.createdOn ? new Date(info.createdOn) : undefined;
  }
}

interface ThreadData {
  workspace: string;
  id: string;
  path: string;
  /** The first comment's id: replies are made to it. Absent for a thread the user is just starting. */
  rootId?: number;
}

const threadData = new WeakMap<vscode.CommentThread, ThreadData>();

/** Which comments form which thread: each comment under its earliest ancestor. Pure (unit-tested). */
export function groupThreads(comments: CommentInfo[]): { root: CommentInfo; comments: CommentInfo[] }[] {
  const byId = new Map(comments.map((comment) => [comment.id, comment]));
  const rootOf = (comment: CommentInfo): CommentInfo => {
    let current = comment;
    const seen = new Set<number>();
    while (current.parentId !== undefined && byId.has(current.parentId) && !seen.has(current.id)) {
      seen.add(current.id);
      current = byId.get(current.parentId) as CommentInfo;
    }
    return current;
  };
  const threads = new Map<number, { root: CommentInfo; comments: CommentInfo[] }>();
  for (const comment of comments) {
    const root = rootOf(comment);
    const thread = threads.get(root.id) ?? { root, comments: [] };
    thread.comments.push(comment);
    threads.set(root.id, thread);
  }
  return [...threads.values()];
}

function openInTabs(): vscode.Uri[] {
  return vscode.window.tabGroups.all
    .flatMap((group) => group.tabs)
    .flatMap((tab) => (tab.input instanceof vscode.TabInputText ? [tab.input.uri] : []));
}

export class SnippetComments implements vscode.Disposable {
  readonly controller = vscode.comments.createCommentController(CONTROLLER_ID, "Bitbucket snippet comments");
  /** Comments per snippet key, as last read. */
  private readonly loaded = new Map<string, Promise<CommentInfo[]>>();
  /** Threads per open document URI. */
  private readonly threads = new Map<string, vscode.CommentThread[]>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly services: Services,
    private readonly me: () => string | undefined,
  ) {
    this.controller.options = { prompt: "Comment on this line", placeHolder: "Markdown is fine" };
    this.controller.commentingRangeProvider = {
      provideCommentingRanges: (document) =>
        this.isCommentable(document.uri) ? [new vscode.Range(0, 0, Math.max(0, document.lineCount - 1), 0)] : [],
    };
    this.subscriptions.push(
      vscode.workspace.onDidOpenTextDocument((document) => void this.show(document.uri)),
      vscode.workspace.onDidCloseTextDocument((document) => this.clear(document.uri.toString())),
      services.daemon.onDidChange((change) => {
        if (change.kind === "comment") {
          void this.reload(change.workspace, change.id);
        }
      }),
      services.daemon.onDidStart(() => {
        // A new daemon: read again the comments of files open in editors (not of every document VS Code remembers).
        this.loaded.clear();
        openInTabs().forEach((uri) => void this.show(uri));
      }),
    );
  }

  private isCommentable(uri: vscode.Uri): boolean {
    if (uri.scheme !== URI_SCHEME) {
      return false;
    }
    try {
      const target = snippetUri.parse(uri.toString());
      return snippetUri.isFile(target) && !snippetUri.isReadonly(target);
    } catch {
      return false;
    }
  }

  /** The threads shown on a document (tests read them). */
  threadsFor(uri: vscode.Uri): readonly vscode.CommentThread[] {
    return this.threads.get(uri.toString()) ?? [];
  }

  private clear(uri: string): void {
    this.threads.get(uri)?.forEach((thread) => thread.dispose());
    this.threads.delete(uri);
  }

  /** Show a document's threads (reading the snippet's comments once). */
  async show(uri: vscode.Uri): Promise<readonly vscode.CommentThread[]> {
    if (!this.isCommentable(uri)) {
      return [];
    }
    const target = snippetUri.parse(uri.toString()) as { workspace: string; id: string; path: string };
    const key = snippetUri.snippetKey(target.workspace, target.id);
    let comments = this.loaded.get(key);
    if (!comments) {
      comments = this.services.daemon
        .command("bbsnippets.comments.list", { workspace: target.workspace, id: target.id })
        .then((result) => result.comments);
      this.loaded.set(key, comments);
    }
    let listed: CommentInfo[];
    try {
      listed = await comments;
    } catch (error) {
      this.loaded.delete(key);
      this.services.log.warn(`comments of ${target.workspace}/${target.id}: ${String(error)}`);
      return [];
    }
    this.clear(uri.toString());
    const mine = this.me();
    const threads: vscode.CommentThread[] = [];
    for (const group of groupThreads(listed)) {
      const root = group.root;
      let range: vscode.Range;
      if (root.path === undefined) {
        range = new vscode.Range(0, 0, 0, 0);
      } else if (root.path === target.path && root.line !== undefined) {
        range = new vscode.Range(root.line - 1, 0, root.line - 1, 0);
      } else {
        continue;
      }
      const thread = this.controller.createCommentThread(uri, range, []);
      thread.label = root.path === undefined ? "Snippet comment" : `Line ${root.line}`;
      thread.canReply = true;
      thread.collapsibleState = vscode.CommentThreadCollapsibleState.Expanded;
      thread.comments = group.comments.map((info) => new SnippetComment(info, thread, mine !== undefined && info.author === mine));
      threadData.set(thread, { ...target, rootId: root.id });
      threads.push(thread);
    }
    this.threads.set(uri.toString(), threads);
    return threads;
  }

  /** Read a snippet's comments again and redraw every open document of it. */
  async reload(workspace: string, id: string): Promise<void> {
    const key = snippetUri.snippetKey(workspace, id);
    this.loaded.delete(key);
    const open = vscode.workspace.textDocuments.filter((document) => {
      const owner = snippetUri.snippetOf(document.uri.toString());
      return owner && snippetUri.snippetKey(owner.workspace, owner.id) === key;
    });
    await Promise.all(open.map((document) => this.show(document.uri)));
  }

  private dataOf(thread: vscode.CommentThread): ThreadData | undefined {
    const known = threadData.get(thread);
    if (known) {
      return known;
    }
    const target = snippetUri.parse(thread.uri.toString());
    return snippetUri.isFile(target) ? { workspace: target.workspace, id: target.id, path: target.path } : undefined;
  }

  /** A new thread at the reply's line (1-based for the daemon). */
  async create(reply: vscode.CommentReply): Promise<void> {
    const data = this.dataOf(reply.thread);
    if (!data) {
      return;
    }
    const line = (reply.thread.range?.start.line ?? 0) + 1;
    await this.services.daemon.command("bbsnippets.comments.add", { workspace: data.workspace, id: data.id, raw: reply.text, path: data.path, line });
    reply.thread.dispose();
    await this.reload(data.workspace, data.id);
  }

  async reply(reply: vscode.CommentReply): Promise<void> {
    const data = this.dataOf(reply.thread);
    if (!data) {
      return;
    }
    if (data.rootId === undefined) {
      await this.create(reply);
      return;
    }
    await this.services.daemon.command("bbsnippets.comments.add", { workspace: data.workspace, id: data.id, raw: reply.text, parentId: data.rootId });
    await this.reload(data.workspace, data.id);
  }

  startEdit(comment: SnippetComment): void {
    this.setMode(comment, vscode.CommentMode.Editing);
  }

  cancelEdit(comment: SnippetComment): void {
    comment.body = new vscode.MarkdownString(comment.info.raw);
    this.setMode(comment, vscode.CommentMode.Preview);
  }

  private setMode(comment: SnippetComment, mode: vscode.CommentMode): void {
    comment.mode = mode;
    comment.thread.comments = comment.thread.comments.map((each) => each);
  }

  async saveEdit(comment: SnippetComment, text?: string): Promise<void> {
    const data = this.dataOf(comment.thread);
    if (!data) {
      return;
    }
    const raw = text ?? (typeof comment.body === "string" ? comment.body : comment.body.value);
    await this.services.daemon.command("bbsnippets.comments.edit", { workspace: data.workspace, id: data.id, commentId: comment.info.id, raw });
    await this.reload(data.workspace, data.id);
  }

  async delete(comment: SnippetComment, confirmed = false): Promise<boolean> {
    const data = this.dataOf(comment.thread);
    if (!data) {
      return false;
    }
    if (!confirmed && (await prompts.modal("Delete this comment?", "It is deleted on Bitbucket.", "Delete")) !== "Delete") {
      return false;
    }
    await this.services.daemon.command("bbsnippets.comments.delete", { workspace: data.workspace, id: data.id, commentId: comment.info.id });
    await this.reload(data.workspace, data.id);
    return true;
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
    this.controller.dispose();
  }
}

export function registerComments(context: vscode.ExtensionContext, services: Services, comments: SnippetComments): void {
  const guard =
    <A extends unknown[]>(what: string, action: (...args: A) => unknown) =>
    async (...args: A): Promise<void> => {
      try {
        await action(...args);
      } catch (error) {
        reportFailure(services, what, error);
      }
    };
  context.subscriptions.push(
    comments,
    vscode.commands.registerCommand("bitbucketSnippets.comments.create", guard("Commenting", (reply: vscode.CommentReply) => comments.create(reply))),
    vscode.commands.registerCommand("bitbucketSnippets.comments.reply", guard("Replying", (reply: vscode.CommentReply) => comments.reply(reply))),
    vscode.commands.registerCommand("bitbucketSnippets.comments.edit", guard("Editing the comment", (comment: SnippetComment) => comments.startEdit(comment))),
    vscode.commands.registerCommand("bitbucketSnippets.comments.cancelEdit", guard("Editing the comment", (comment: SnippetComment) => comments.cancelEdit(comment))),
    vscode.commands.registerCommand("bitbucketSnippets.comments.saveEdit", guard("Editing the comment", (comment: SnippetComment) => comments.saveEdit(comment))),
    vscode.commands.registerCommand("bitbucketSnippets.comments.delete", guard("Deleting the comment", (comment: SnippetComment) => comments.delete(comment))),
  );
}
