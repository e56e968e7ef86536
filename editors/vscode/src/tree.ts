// The Snippets view: workspaces (bbsnippets.workspaces) -> snippets (bbsnippets.list) -> files (bbsnippets.open).
//
// Request economy: the workspaces are asked for once a session (the daemon caches them); expanding a
// workspace is one list of ⌈N/100⌉ pages; expanding a snippet is one read that also fills the daemon's
// cache, so opening its files afterwards costs nothing more. Which snippets are watched comes with the list
// (the daemon's own watch list: no request per snippet). Menus key on contextValue ("workspace",
// "snippet;private;watched", "snippet;public;unwatched", "file;text", ...), so only the action that applies
// shows (Watch xor Stop Watching). A watched snippet whose workspace Bitbucket no longer shows (didChange
// "unreachable") is marked "out of reach" until it is listed again.

import * as vscode from "vscode";

import type { Daemon } from "./client";
import { SHOW_LOG, SIGN_IN } from "./command";
import { toDaemonError } from "./errors";
import type { Log } from "./log";
import { ErrorKind, type FileInfo, LIST, OPEN, type OpenResult, type SnippetSummary, WORKSPACES, type WorkspaceInfo } from "./protocol";
import * as snippetUri from "./uri";

export type WatchState = "watched" | "unwatched";

export type Node =
  | { kind: "workspace"; workspace: WorkspaceInfo }
  | { kind: "snippet"; snippet: SnippetSummary }
  | { kind: "file"; workspace: string; id: string; file: FileInfo; htmlUrl?: string }
  | { kind: "message"; text: string; command?: vscode.Command };

export class SnippetTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  /** Which snippets are watched: from the last list, then from our own watch/unwatch. */
  readonly watching = new Map<string, boolean>();
  /** The last snippet lists, by workspace: commands that name a snippet find its title and link here. */
  private readonly snippets = new Map<string, SnippetSummary[]>();
  private readonly opened = new Map<string, OpenResult>();
  /** Watched snippets whose workspace Bitbucket no longer shows us (didChange "unreachable"), until listed again. */
  readonly unreachable = new Set<string>();
  /** The snippet items last shown, by key: one can be refreshed alone. */
  private readonly snippetNodes = new Map<string, Node>();
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly daemon: Daemon,
    private readonly log: Log,
  ) {
    this.subscriptions = [
      daemon.onDidChange((change) => {
        const key = snippetUri.snippetKey(change.workspace, change.id);
        if (change.kind === "unreachable") {
          this.unreachable.add(key);
          // Only its own item: listing its workspace again would fail and hide it.
          const node = this.snippetNodes.get(key);
          if (node) {
            this.emitter.fire(node);
          }
        } else if (change.kind !== "comment") {
          this.opened.delete(key);
          this.refresh();
        }
      }),
      daemon.onDidStart(() => {
        this.unreachable.clear();
        this.refresh();
      }),
    ];
  }

  refresh(): void {
    this.emitter.fire(undefined);
  }

  /** A snippet as last listed or opened (title, visibility, link), without asking the daemon. */
  known(workspace: string, id: string): Pick<SnippetSummary, "title" | "isPrivate" | "htmlUrl"> | undefined {
    const opened = this.opened.get(snippetUri.snippetKey(workspace, id));
    if (opened) {
      return { ...opened };
    }
    return this.snippets.get(workspace.toLowerCase())?.find((snippet) => snippet.id === id);
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case "workspace": {
        const item = new vscode.TreeItem(node.workspace.name || node.workspace.slug, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `workspace:${node.workspace.slug}`;
        item.description = node.workspace.isDefault ? `${node.workspace.slug} · default` : node.workspace.slug;
        item.iconPath = new vscode.ThemeIcon("organization");
        item.contextValue = "workspace";
        return item;
      }
      case "snippet": {
        const snippet = node.snippet;
        const item = new vscode.TreeItem(snippet.title || snippet.id, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `snippet:${snippet.workspace}/${snippet.id}`;
        const watch = this.watchState(snippet.workspace, snippet.id);
        const outOfReach = this.unreachable.has(snippetUri.snippetKey(snippet.workspace, snippet.id));
        const updated = describeTime(snippet.updatedOn);
        item.description = [updated, watch === "watched" ? "watching" : "", outOfReach ? "out of reach" : ""].filter(Boolean).join(" · ");
        item.tooltip =
          `${snippet.workspace}/${snippet.id}${snippet.isPrivate ? " (private)" : " (public)"}\n${snippet.htmlUrl ?? ""}` +
          (outOfReach ? `\nOut of reach: Bitbucket says workspace ${snippet.workspace} is gone or no longer yours.` : "");
        item.iconPath = outOfReach
          ? new vscode.ThemeIcon("warning", new vscode.ThemeColor("list.warningForeground"))
          : new vscode.ThemeIcon(snippet.isPrivate ? "lock" : "globe");
        item.accessibilityInformation = {
          label: `${snippet.title || snippet.id}, ${snippet.isPrivate ? "private" : "public"} snippet${updated ? `, updated ${updated}` : ""}${watch === "watched" ? ", watched" : ""}${outOfReach ? ", out of reach" : ""}`,
        };
        item.contextValue = `snippet;${snippet.isPrivate ? "private" : "public"};${watch}`;
        item.resourceUri = vscode.Uri.parse(snippetUri.snippetUri(snippet.workspace, snippet.id));
        return item;
      }
      case "file": {
        const uri = vscode.Uri.parse(node.file.uri);
        const item = new vscode.TreeItem(uri, vscode.TreeItemCollapsibleState.None);
        item.id = `file:${node.workspace}/${node.id}/${node.file.name}`;
        item.label = node.file.name;
        item.description = node.file.binary ? `binary · ${node.file.size} bytes` : undefined;
        // ";patch": a .patch/.diff file offers Apply Patch to Workspace (patch.ts).
        item.contextValue = `file;${node.file.binary ? "binary" : "text"}${/\.(patch|diff)$/i.test(node.file.name) ? ";patch" : ""}`;
        item.accessibilityInformation = { label: node.file.name };
        item.command = { command: "vscode.open", title: "Open", arguments: [uri] };
        return item;
      }
      case "message": {
        const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon("info");
        item.command = node.command;
        item.contextValue = "message";
        return item;
      }
    }
  }

  watchState(workspace: string, id: string): WatchState {
    return this.watching.get(snippetUri.snippetKey(workspace, id)) ? "watched" : "unwatched";
  }

  async getChildren(node?: Node): Promise<Node[]> {
    try {
      if (!node) {
        const result = await this.daemon.command(WORKSPACES, {});
        const nodes: Node[] = result.workspaces.map((workspace) => ({ kind: "workspace", workspace }));
        if (result.hint) {
          nodes.push({ kind: "message", text: result.hint });
        }
        return nodes;
      }
      if (node.kind === "workspace") {
        const { snippets } = await this.daemon.command(LIST, { workspace: node.workspace.slug });
        this.snippets.set(node.workspace.slug.toLowerCase(), snippets);
        for (const snippet of snippets) {
          this.watching.set(snippetUri.snippetKey(snippet.workspace, snippet.id), snippet.watching);
          this.unreachable.delete(snippetUri.snippetKey(snippet.workspace, snippet.id)); // listed: in reach again
        }
        return snippets.length > 0
          ? snippets.map((snippet) => this.snippetNode(snippet))
          : [{ kind: "message", text: "No snippets yet: share a selection to make one." }];
      }
      if (node.kind === "snippet") {
        const opened = await this.daemon.command(OPEN, { workspace: node.snippet.workspace, id: node.snippet.id });
        this.opened.set(snippetUri.snippetKey(opened.workspace, opened.id), opened);
        return opened.files.map((file) => ({
          kind: "file",
          workspace: opened.workspace,
          id: opened.id,
          file,
          htmlUrl: opened.htmlUrl,
        }));
      }
      return [];
    } catch (error) {
      const failure = toDaemonError(error);
      this.log.warn(`the Snippets view: ${failure.message}`);
      if (failure.kind === ErrorKind.NOT_AUTHENTICATED) {
        // Signed out: an empty view shows the manifest's viewsWelcome (how to sign in, with a button).
        return node ? [{ kind: "message", text: "Sign in to see your snippets", command: { command: SIGN_IN, title: "Sign in" } }] : [];
      }
      const problem: Node = { kind: "message", text: failure.message, command: { command: SHOW_LOG, title: "Show log" } };
      if (node?.kind === "workspace") {
        // A workspace out of reach: its watched snippets stay, marked, so they can still be unwatched.
        const kept = (this.snippets.get(node.workspace.slug.toLowerCase()) ?? []).filter((snippet) =>
          this.unreachable.has(snippetUri.snippetKey(snippet.workspace, snippet.id)),
        );
        return [problem, ...kept.map((snippet) => this.snippetNode(snippet))];
      }
      return [problem];
    }
  }

  /** The item for a listed snippet (the same object as last time, so it can be refreshed alone). */
  private snippetNode(snippet: SnippetSummary): Node {
    const key = snippetUri.snippetKey(snippet.workspace, snippet.id);
    const known = this.snippetNodes.get(key);
    if (known?.kind === "snippet") {
      known.snippet = snippet;
      return known;
    }
    const node: Node = { kind: "snippet", snippet };
    this.snippetNodes.set(key, node);
    return node;
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
    this.emitter.dispose();
  }
}

/** "3 min ago", "yesterday", or the date: the snippet's updated time as a description. */
export function describeTime(iso: string | undefined, now: number = Date.now()): string {
  if (!iso) {
    return "";
  }
  const then = Date.parse(iso);
  if (Number.isNaN(then)) {
    return "";
  }
  const minutes = Math.round((now - then) / 60000);
  if (minutes < 1) {
    return "just now";
  }
  if (minutes < 60) {
    return `${minutes} min ago`;
  }
  const hours = Math.round(minutes / 60);
  if (hours < 24) {
    return `${hours} h ago`;
  }
  const days = Math.round(hours / 24);
  if (days < 2) {
    return "yesterday";
  }
  return days < 30 ? `${days} days ago` : new Date(then).toISOString().slice(0, 10);
}
