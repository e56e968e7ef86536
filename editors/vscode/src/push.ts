// The daemon's features/push.py in VS Code: a Source Control provider for each folder (or file) of the
// workspace that is linked to a snippet (bbsnippets.links {under}), showing the tracked files that differ from
// the linked revision (bbsnippets.status: at most one request), a quick-diff gutter against that revision
// (its files read through the bbsnippet: file system, ?rev= URIs, read-only), and Push (bbsnippets.push: one
// compare-and-swap PUT). A snippet that moved meanwhile is the same decision as a save's conflict: Compare
// (their version beside yours, nothing written) or Overwrite (a forced push).
//
// UI commands: bitbucketSnippets.push, .link ("Link Folder to Snippet…"), .unlink. With an argument object
// ({folder}, {folder, workspace, id}, {folder, force}) they do not prompt.

import * as path from "node:path";

import * as vscode from "vscode";

import { type Services, pickSnippet, registerCommand, stringField, booleanField } from "./command";
import { changedFiles, count, describePush, snippetName } from "./changes";
import { toDaemonError, withSecretCheck } from "./errors";
import * as prompts from "./prompts";
import { ErrorKind, LINK, LINKS, type LinkInfo, PUSH, type PushResult, STATUS, type StatusResult, UNLINK } from "./protocol";
import * as snippetUri from "./uri";

/** A push that meets another writer's change asks (a push is no save: VS Code's own "file is newer" is not there). */
export const CONFLICT_COMPARE = "Compare";
export const CONFLICT_OVERWRITE = "Overwrite";

/** The id of our SourceControl providers (`scmProvider == bitbucketSnippets` in the manifest's menus). */
export const SCM_ID = "bitbucketSnippets";
const STATUS_DEBOUNCE_MS = 400;
/** True while a folder of the workspace is linked (the palette offers Push and Unlink). */
const LINKED_CONTEXT = "bitbucketSnippets.linked";

const links = new vscode.EventEmitter<void>();
/** Call after anything that may have made or changed a link (pull, share with "Keep linked"). */
export function linksChanged(): void {
  links.fire();
}

/** One linked folder (or file) as a SourceControl. */
export class LinkedFolder implements vscode.Disposable {
  readonly sourceControl: vscode.SourceControl;
  readonly changes: vscode.SourceControlResourceGroup;
  status: StatusResult | undefined;
  /** The last refresh's failure, if it failed (shown in the provider's status bar tooltip). */
  problem: string | undefined;
  private readonly watcher: vscode.FileSystemWatcher;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private again = false;
  private readonly updated = new vscode.EventEmitter<void>();
  /** Fires after each status refresh (tests await it). */
  readonly onDidUpdate = this.updated.event;

  constructor(
    public link: LinkInfo,
    private readonly services: Services,
  ) {
    const root = vscode.Uri.file(link.folder);
    this.sourceControl = vscode.scm.createSourceControl(SCM_ID, `Snippet ${link.workspace}/${link.id}`, root);
    this.sourceControl.inputBox.visible = false;
    this.sourceControl.quickDiffProvider = { provideOriginalResource: (uri) => this.original(uri) };
    this.changes = this.sourceControl.createResourceGroup("changes", "Changes to push");
    this.changes.hideWhenEmpty = false;
    const pattern = link.file === undefined ? new vscode.RelativePattern(root, "**/*") : new vscode.RelativePattern(vscode.Uri.file(path.dirname(link.folder)), path.basename(link.folder));
    this.watcher = vscode.workspace.createFileSystemWatcher(pattern);
    const later = () => this.refreshSoon();
    this.watcher.onDidChange(later);
    this.watcher.onDidCreate(later);
    this.watcher.onDidDelete(later);
    this.showCommands();
  }

  get folder(): string {
    return this.link.folder;
  }

  get snippet(): string {
    return `${this.link.workspace}/${this.link.id}`;
  }

  /** The snippet's version of a local file at the linked revision (undefined: not a file of the snippet). */
  original(uri: vscode.Uri): vscode.Uri | undefined {
    if (uri.scheme !== "file") {
      return undefined;
    }
    const tracked = this.status?.files.find((file) => path.resolve(file.path) === path.resolve(uri.fsPath));
    const name = tracked?.name ?? snippetName(this.link, uri.fsPath);
    if (name === undefined || (this.status && !tracked)) {
      return undefined; // a file the snippet never had: nothing to compare with
    }
    return vscode.Uri.parse(snippetUri.snippetUri(this.link.workspace, this.link.id, name, this.status?.revision ?? this.link.revision));
  }

  refreshSoon(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), STATUS_DEBOUNCE_MS);
  }

  /** Ask the daemon for the folder's status (at most one request); one at a time, the latest wins. */
  refresh(): Promise<void> {
    clearTimeout(this.timer);
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        try {
          this.show(await this.services.daemon.command(STATUS, { folder: this.link.folder }));
          this.problem = undefined;
        } catch (error) {
          this.problem = toDaemonError(error).message;
          this.services.log.warn(`status of ${this.link.folder}: ${this.problem}`);
          this.showCommands();
        }
      } while (this.again);
    })().finally(() => {
      this.refreshing = undefined;
      this.updated.fire();
    });
    return this.refreshing;
  }

  private show(status: StatusResult): void {
    this.status = status;
    this.link = { ...this.link, revision: status.revision };
    this.changes.resourceStates = changedFiles(status).map((file) => {
      const local = vscode.Uri.file(file.path);
      const original = vscode.Uri.parse(snippetUri.snippetUri(status.workspace, status.id, file.name, status.revision));
      const deleted = file.state === "deleted";
      const name = snippetUri.baseName(file.name);
      return {
        resourceUri: local,
        contextValue: file.state,
        decorations: {
          strikeThrough: deleted,
          tooltip: deleted ? `${file.name}: deleted here (a push deletes it from the snippet)` : `${file.name}: changed here`,
          iconPath: new vscode.ThemeIcon(deleted ? "diff-removed" : "diff-modified"),
        },
        command: deleted
          ? { title: "Open the snippet's version", command: "vscode.open", arguments: [original] }
          : { title: "Compare with the snippet", command: "vscode.diff", arguments: [original, local, `${name} (snippet) ↔ ${name} (here)`] },
      };
    });
    this.sourceControl.count = this.changes.resourceStates.length;
    this.showCommands();
  }

  private showCommands(): void {
    const moved = this.status?.remoteRevision !== undefined;
    const pending = this.changes.resourceStates.length;
    this.sourceControl.statusBarCommands = [
      {
        command: PUSH_COMMAND,
        title: `$(cloud-upload) Push${pending ? ` ${pending}` : ""}${moved ? " (snippet moved)" : ""}`,
        tooltip: this.problem
          ? `Status of ${this.snippet} unknown: ${this.problem}`
          : moved
            ? `${this.snippet} changed on Bitbucket since this folder was linked: a push will ask before overwriting.`
            : `Push ${count(pending, "changed file")} to ${this.snippet}`,
        arguments: [{ folder: this.link.folder }],
      },
    ];
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.watcher.dispose();
    this.updated.dispose();
    this.changes.dispose();
    this.sourceControl.dispose();
  }
}

/** Every linked folder (or file) inside the workspace's folders, each with its SourceControl. */
export class LinkedFolders implements vscode.Disposable {
  readonly folders = new Map<string, LinkedFolder>();
  private readonly subscriptions: vscode.Disposable[];
  private loading: Promise<void> | undefined;
  private again = false;

  constructor(private readonly services: Services) {
    this.subscriptions = [
      services.daemon.onDidStart(() => void this.reload()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.reload()),
      links.event(() => void this.reload()),
      // A snippet changed on Bitbucket: its linked folders may now be behind (remoteRevision).
      services.daemon.onDidChange((change) => {
        for (const linked of this.folders.values()) {
          if (linked.link.workspace === change.workspace && linked.link.id === change.id) {
            linked.refreshSoon();
          }
        }
      }),
    ];
  }

  /** Read the links under the workspace's folders (no request) and refresh each one's status. */
  reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        await this.load();
      } while (this.again);
    })().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    const roots = vscode.workspace.workspaceFolders?.filter((folder) => folder.uri.scheme === "file") ?? [];
    const found = new Map<string, LinkInfo>();
    try {
      for (const root of roots) {
        for (const link of (await this.services.daemon.command(LINKS, { under: root.uri.fsPath })).links) {
          found.set(link.folder, link);
        }
      }
    } catch (error) {
      // Not signed in, no daemon: no providers (reloaded when the daemon starts again).
      this.services.log.debug(`links: ${toDaemonError(error).message}`);
      return;
    }
    for (const [folder, linked] of this.folders) {
      const link = found.get(folder);
      if (!link || link.workspace !== linked.link.workspace || link.id !== linked.link.id || link.file !== linked.link.file) {
        linked.dispose();
        this.folders.delete(folder);
      }
    }
    void vscode.commands.executeCommand("setContext", LINKED_CONTEXT, found.size > 0);
    await Promise.all(
      [...found.values()].map((link) => {
        let linked = this.folders.get(link.folder);
        if (!linked) {
          linked = new LinkedFolder(link, this.services);
          this.folders.set(link.folder, linked);
        }
        return linked.refresh();
      }),
    );
  }

  /** The linked folder a command's argument names: our SourceControl, {folder}, a file Uri inside one. */
  find(arg: unknown): LinkedFolder | undefined {
    const all = [...this.folders.values()];
    const bySourceControl = all.find((linked) => linked.sourceControl === arg);
    if (bySourceControl) {
      return bySourceControl;
    }
    const folder = stringField(arg, "folder") ?? (arg instanceof vscode.Uri && arg.scheme === "file" ? arg.fsPath : undefined);
    if (folder === undefined) {
      return undefined;
    }
    const target = path.resolve(folder);
    return all.find((linked) => path.resolve(linked.folder) === target) ?? all.find((linked) => snippetName(linked.link, target) !== undefined);
  }

  async choose(arg: unknown, title: string): Promise<LinkedFolder | undefined> {
    const named = this.find(arg);
    if (named || this.folders.size === 0 || stringField(arg, "folder") !== undefined) {
      return named;
    }
    if (this.folders.size === 1) {
      return [...this.folders.values()][0];
    }
    return prompts.pick(
      title,
      [...this.folders.values()].map((linked) => ({
        label: vscode.workspace.asRelativePath(linked.folder),
        description: `${linked.snippet}${linked.changes.resourceStates.length ? ` · ${count(linked.changes.resourceStates.length, "change")}` : ""}`,
        value: linked,
      })),
    );
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
    this.folders.forEach((linked) => linked.dispose());
    this.folders.clear();
  }
}

export const PUSH_COMMAND = "bitbucketSnippets.push";

/** Their version (at the revision that won) beside each of the user's changed files; nothing is written. */
async function compare(linked: LinkedFolder, remoteRevision: string | undefined): Promise<void> {
  const status = linked.status;
  for (const file of changedFiles(status ?? { files: [] }).slice(0, 5)) {
    const theirs = vscode.Uri.parse(snippetUri.snippetUri(linked.link.workspace, linked.link.id, file.name, remoteRevision ?? "HEAD"));
    const name = snippetUri.baseName(file.name);
    if (file.state === "deleted") {
      await vscode.commands.executeCommand("vscode.open", theirs, { preview: false });
    } else {
      await vscode.commands.executeCommand("vscode.diff", theirs, vscode.Uri.file(file.path), `${name} (on Bitbucket) ↔ ${name} (yours)`, { preview: false });
    }
  }
}

async function push(services: Services, linked: LinkedFolder, force: boolean, allowSecrets: boolean | undefined): Promise<PushResult | undefined> {
  const attempt = (forced: boolean) => (secretsAllowed: boolean) =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.SourceControl }, () =>
      services.daemon.command(PUSH, { folder: linked.folder, force: forced, allowSecrets: secretsAllowed }),
    );
  let result: PushResult | undefined;
  try {
    result = await withSecretCheck("Not pushed", attempt(force), prompts.notify, allowSecrets);
  } catch (error) {
    const failure = toDaemonError(error);
    if (failure.kind !== ErrorKind.CONFLICT) {
      throw failure;
    }
    const choice = await prompts.modal(
      `${linked.snippet} was changed on Bitbucket since ${path.basename(linked.folder)} was linked to it.`,
      "Compare shows their version beside yours (your files stay as they are); Overwrite replaces theirs with yours.",
      CONFLICT_COMPARE,
      CONFLICT_OVERWRITE,
    );
    if (choice === CONFLICT_OVERWRITE) {
      result = await withSecretCheck("Not pushed", attempt(true), prompts.notify, allowSecrets);
    } else {
      if (choice === CONFLICT_COMPARE) {
        await linked.refresh(); // which of the user's files differ, as of now
        await compare(linked, failure.data.remoteRevision);
      }
      void prompts.notify("warning", `Not pushed: ${linked.snippet} changed on Bitbucket. Your files are untouched; push again to choose Overwrite.`);
      return undefined;
    }
  }
  if (!result) {
    return undefined;
  }
  if (result.files.length > 0) {
    // push sends no didChange (docs/protocol.md): open snippet documents of these files are ours to refresh.
    services.fileSystem.changedHere(linked.link.workspace, linked.link.id);
    services.tree.refresh();
  }
  await linked.refresh();
  void prompts.notify("info", describePush(result, linked.snippet));
  return result;
}

/** The folder (or file) a Link command names: an explorer Uri, {folder}, else one the user picks. */
async function chooseTarget(arg: unknown): Promise<string | undefined> {
  const given = stringField(arg, "folder") ?? (arg instanceof vscode.Uri && arg.scheme === "file" ? arg.fsPath : undefined);
  if (given) {
    return path.resolve(given);
  }
  const folders = vscode.workspace.workspaceFolders?.filter((folder) => folder.uri.scheme === "file") ?? [];
  const other = "Choose a folder…";
  const picked = await prompts.pick("Link which folder to a snippet?", [
    ...folders.map((folder) => ({ label: folder.name, description: folder.uri.fsPath, value: folder.uri.fsPath })),
    { label: other, value: "" },
  ]);
  if (picked) {
    return picked;
  }
  if (picked === undefined) {
    return undefined;
  }
  const chosen = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: true, canSelectMany: false, openLabel: "Link" });
  return chosen?.[0]?.fsPath;
}

export function registerPush(context: vscode.ExtensionContext, services: Services): LinkedFolders {
  const linkedFolders = new LinkedFolders(services);
  context.subscriptions.push(linkedFolders, links);

  registerCommand(context, services, "push", "Pushing to the snippet", async (arg) => {
    const linked = await linkedFolders.choose(arg, "Push which linked folder?");
    if (!linked) {
      const folder = stringField(arg, "folder");
      void prompts.notify(
        "info",
        folder
          ? `${folder} is not linked to a snippet in this workspace. Link it first (Bitbucket Snippets: Link Folder to Snippet…).`
          : "No folder of this workspace is linked to a snippet: pull one into it, or use Link Folder to Snippet….",
      );
      return undefined;
    }
    return push(services, linked, booleanField(arg, "force") ?? false, booleanField(arg, "allowSecrets"));
  });

  registerCommand(context, services, "link", "Linking to the snippet", async (arg) => {
    const folder = await chooseTarget(arg);
    if (!folder) {
      return undefined;
    }
    const workspace = stringField(arg, "workspace");
    const id = stringField(arg, "id");
    const ref = workspace && id ? { workspace, id } : await pickSnippet(services, `Link ${path.basename(folder)} to which snippet?`);
    if (!ref) {
      return undefined;
    }
    const status = await services.daemon.command(LINK, { folder, workspace: ref.workspace, id: ref.id });
    await linkedFolders.reload();
    const changed = changedFiles(status).length;
    void prompts.notify(
      "info",
      `Linked ${path.basename(folder)} to ${ref.workspace}/${ref.id}: ${count(status.files.length, "file")} tracked${changed ? `, ${changed} ${changed === 1 ? "differs" : "differ"} from the snippet` : ""}.`,
    );
    return status;
  });

  registerCommand(context, services, "unlink", "Unlinking", async (arg) => {
    const linked = await linkedFolders.choose(arg, "Unlink which folder?");
    const folder = linked?.folder ?? stringField(arg, "folder");
    if (!folder) {
      return undefined;
    }
    const result = await services.daemon.command(UNLINK, { folder });
    await linkedFolders.reload();
    void prompts.notify(
      "info",
      result.unlinked
        ? `${path.basename(folder)} is no longer linked${linked ? ` to ${linked.snippet}` : ""}; its files stay as they are.`
        : `${path.basename(folder)} was not linked to a snippet.`,
    );
    return result;
  });

  return linkedFolders;
}
