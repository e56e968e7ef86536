// Snippet comments in the editor, with a CommentController (features/comments.py does the work).
//
// Each open snippet file shows the snippet-level threads at its top and the threads anchored to its lines
// at those lines. A Bitbucket comment with replies is one thread (replies hang off the first comment).
// Only one's own comments offer edit and delete (contextValue "mine").
//
// Comments load on demand, so opening a snippet costs one request whatever VS Code does: a CodeLens at the
// top of each file ("Comments", then "N comments") and bitbucketSnippets.showComments read them; so does
// adding, replying, editing or deleting (our commands, from the editor or the Comments panel), and a
// change of kind "comment" the daemon reports for a watched snippet. Once read, they show on every file of
// the snippet that opens, from memory.

import * as vscode from "vscode";

import { type Services, registerCommand, reportFailure } from "./command";
import * as prompts from "./prompts";
import { COMMENTS_ADD, COMMENTS_DELETE, COMMENTS_EDIT, COMMENTS_LIST, type CommentInfo, URI_SCHEME } from "./protocol";
import * as snippetUri from "./uri";

export const CONTROLLER_ID = "bitbucketSnippets.comments";
export const SHOW_COMMENTS = "bitbucketSnippets.showComments";

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

type FileTarget = { workspace: string; id: string; path: string };

export class SnippetComments implements vscode.Disposable, vscode.CodeLensProvider {
  readonly controller = vscode.comments.createCommentController(CONTROLLER_ID, "Bitbucket snippet comments");
  /** Comments per snippet key, being read or as last read. */
  private readonly loaded = new Map<string, Promise<CommentInfo[]>>();
  /** The same, once read (what the CodeLens and newly opened files use, with no request). */
  private readonly listed = new Map<string, CommentInfo[]>();
  /** Threads per open document URI. */
  private readonly threads = new Map<string, vscode.CommentThread[]>();
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensesChanged.event;
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
      vscode.languages.registerCodeLensProvider({ scheme: URI_SCHEME }, this),
      vscode.workspace.onDidOpenTextDocument((document) => this.drawIfRead(document.uri)),
      vscode.workspace.onDidCloseTextDocument((document) => this.clear(document.uri.toString())),
      services.daemon.onDidChange((change) => {
        if (change.kind === "comment") {
          void this.refresh(change.workspace, change.id);
        }
      }),
      services.daemon.onDidStart(() => {
        // A new daemon (perhaps another account or server): what was read is read again, for files open in
        // editors whose comments the user had asked for. Nothing is read for the others.
        const asked = new Set(this.listed.keys());
        this.loaded.clear();
        this.listed.clear();
        const again = new Map<string, { workspace: string; id: string }>();
        for (const uri of openInTabs()) {
          const owner = snippetUri.snippetOf(uri.toString());
          const key = owner && snippetUri.snippetKey(owner.workspace, owner.id);
          if (owner && key && asked.has(key)) {
            again.set(key, owner);
          }
        }
        again.forEach(({ workspace, id }) => void this.refresh(workspace, id));
        this.lensesChanged.fire();
      }),
    );
  }

  private target(uri: vscode.Uri): FileTarget | undefined {
    if (uri.scheme !== URI_SCHEME) {
      return undefined;
    }
    try {
      const target = snippetUri.parse(uri.toString());
      return snippetUri.isFile(target) && !snippetUri.isReadonly(target) ? { workspace: target.workspace, id: target.id, path: target.path } : undefined;
    } catch {
      return undefined;
    }
  }

  private isCommentable(uri: vscode.Uri): boolean {
    return this.target(uri) !== undefined;
  }

  /** The threads shown on a document (tests read them). */
  threadsFor(uri: vscode.Uri): readonly vscode.CommentThread[] {
    return this.threads.get(uri.toString()) ?? [];
  }

  /** Whether a snippet's comments have been read (tests check that opening reads none). */
  isRead(workspace: string, id: string): boolean {
    return this.listed.has(snippetUri.snippetKey(workspace, id));
  }

  private clear(uri: string): void {
    this.threads.get(uri)?.forEach((thread) => thread.dispose());
    this.threads.delete(uri);
  }

  /** One line at the top of each file: "Comments" until they are read, then how many this file shows. */
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const target = this.target(document.uri);
    if (!target) {
      return [];
    }
    const key = snippetUri.snippetKey(target.workspace, target.id);
    const listed = this.listed.get(key);
    let title: string;
    let tooltip: string;
    if (listed === undefined) {
      title = this.loaded.has(key) ? "$(sync~spin) Reading comments…" : "$(comment-discussion) Comments";
      tooltip = "Show this snippet's comments (read from Bitbucket when asked, so opening a snippet costs one request)";
    } else {
      const count = this.threadsFor(document.uri).reduce((sum, thread) => sum + thread.comments.length, 0);
      title = `$(comment-discussion) ${count === 0 ? "No comments" : count === 1 ? "1 comment" : `${count} comments`}`;
      tooltip = "Read this snippet's comments again from Bitbucket (add one from the gutter's +)";
    }
    const range = new vscode.Range(0, 0, 0, 0);
    return [new vscode.CodeLens(range, { title, tooltip, command: SHOW_COMMENTS, arguments: [document.uri] })];
  }

  /** A snippet's comments: as read before, or read now (`fresh`: read again in any case). */
  private comments(workspace: string, id: string, fresh: boolean): Promise<CommentInfo[]> {
    const key = snippetUri.snippetKey(workspace, id);
    let comments = fresh ? undefined : this.loaded.get(key);
    if (!comments) {
      const reading = this.services.daemon.command(COMMENTS_LIST, { workspace, id }).then((result) => result.comments);
      comments = reading;
      this.loaded.set(key, reading);
      this.lensesChanged.fire();
      reading.then(
        (listed) => {
          if (this.loaded.get(key) === reading) {
            this.listed.set(key, listed);
          }
        },
        () => {
          if (this.loaded.get(key) === reading) {
            this.loaded.delete(key);
          }
          this.lensesChanged.fire();
        },
      );
    }
    return comments;
  }

  /** Draw a document's threads from what was read (nothing is asked for). */
  private drawIfRead(uri: vscode.Uri): void {
    const target = this.target(uri);
    const listed = target && this.listed.get(snippetUri.snippetKey(target.workspace, target.id));
    if (target && listed) {
      this.draw(uri, target, listed);
    }
  }

  private draw(uri: vscode.Uri, target: FileTarget, listed: CommentInfo[]): vscode.CommentThread[] {
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
    this.lensesChanged.fire();
    return threads;
  }

  /** Read a snippet's comments (again) and redraw every open document of it. Throws when they cannot be read. */
  async reload(workspace: string, id: string): Promise<CommentInfo[]> {
    const key = snippetUri.snippetKey(workspace, id);
    const listed = await this.comments(workspace, id, true);
    for (const document of vscode.workspace.textDocuments) {
      const target = this.target(document.uri);
      if (target && snippetUri.snippetKey(target.workspace, target.id) === key) {
        this.draw(document.uri, target, listed);
      }
    }
    return listed;
  }

  /** reload() when nobody waits for it: a failure is logged (the CodeLens offers to try again). */
  private async refresh(workspace: string, id: string): Promise<void> {
    try {
      await this.reload(workspace, id);
    } catch (error) {
      this.services.log.warn(`comments of ${workspace}/${id}: ${String(error)}`);
    }
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
    await this.services.daemon.command(COMMENTS_ADD, { workspace: data.workspace, id: data.id, raw: reply.text, path: data.path, line });
    reply.thread.dispose();
    await this.refresh(data.workspace, data.id);
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
    await this.services.daemon.command(COMMENTS_ADD, { workspace: data.workspace, id: data.id, raw: reply.text, parentId: data.rootId });
    await this.refresh(data.workspace, data.id);
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
    await this.services.daemon.command(COMMENTS_EDIT, { workspace: data.workspace, id: data.id, commentId: comment.info.id, raw });
    await this.refresh(data.workspace, data.id);
  }

  async delete(comment: SnippetComment, confirmed = false): Promise<boolean> {
    const data = this.dataOf(comment.thread);
    if (!data) {
      return false;
    }
    if (!confirmed && (await prompts.modal("Delete this comment?", "It is deleted on Bitbucket.", "Delete")) !== "Delete") {
      return false;
    }
    await this.services.daemon.command(COMMENTS_DELETE, { workspace: data.workspace, id: data.id, commentId: comment.info.id });
    await this.refresh(data.workspace, data.id);
    return true;
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
    this.lensesChanged.dispose();
    this.controller.dispose();
  }
}

/** The snippet showComments is about. */
function commentedSnippet(arg: unknown): { workspace: string; id: string } | undefined {
  if (arg instanceof vscode.Uri) {
    return snippetUri.snippetOf(arg.toString());
  }
  if (typeof arg === "object" && arg !== null) {
    const { workspace, id } = arg as { workspace?: unknown; id?: unknown };
    if (typeof workspace === "string" && typeof id === "string") {
      return { workspace, id };
    }
    const node = arg as { kind?: string; snippet?: { workspace: string; id: string }; workspace?: string; id?: string };
    if (node.kind === "snippet" && node.snippet) {
      return { workspace: node.snippet.workspace, id: node.snippet.id };
    }
  }
  const active = vscode.window.activeTextEditor?.document.uri;
  return active ? snippetUri.snippetOf(active.toString()) : undefined;
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
  // {workspace, id}, a file's URI (the CodeLens), a tree node or nothing (the active editor's snippet):
  // read its comments and show them on its open files. Returns the comments.
  registerCommand(context, services, "showComments", "Reading the comments", async (arg) => {
    const ref = commentedSnippet(arg);
    if (!ref) {
      void prompts.notify("info", "Open a snippet file (bbsnippet://) to see its comments.");
      return undefined;
    }
    return comments.reload(ref.workspace, ref.id);
  });
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
