// The bbsnippet: file system: a pass-through to the daemon's bbsnippets/* requests (features/files.py).
//
// The daemon serves reads from a cache one request fills for a whole snippet, so VS Code's many stat and
// readFile calls cost Bitbucket nothing more. Saves are compare-and-swap in the daemon.
//
// A save that would overwrite someone else's change gets ONE decision, VS Code's own: before it writes,
// VS Code stats the file and, when that shows a newer file than the one it holds, asks "Compare" or
// "Overwrite" itself and keeps the text. So the stat before a save (onWillSaveTextDocument marks it) asks the
// daemon with `fresh` (1 GET when its copy is older than a few seconds); when the daemon says `stale`, the
// stat reports a later mtime and a size different from what the editor holds (VS Code looks at both; a
// same-size change would slip past it otherwise). A write that still follows is the user's Overwrite: it is
// forced. A conflict nobody could see coming (a change within the last seconds) fails the save with a
// message, no dialog of ours; saving again then gets VS Code's own choice.

import * as vscode from "vscode";

import type { Daemon } from "./client";
import { fileSystemErrorCode, toDaemonError } from "./errors";
import type { Log } from "./log";
import * as prompts from "./prompts";
import {
  DELETE_FILE,
  ErrorKind,
  READ_DIRECTORY,
  READ_FILE,
  RENAME,
  STAT,
  URI_SCHEME,
  WRITE_FILE,
  type DidChangeParams,
} from "./protocol";
import * as snippetUri from "./uri";

/** A DaemonError as the FileSystemError VS Code expects (FileNotFound, NoPermissions, ...). */
export function asFileSystemError(error: unknown, uri: vscode.Uri): Error {
  const daemonError = toDaemonError(error);
  const code = fileSystemErrorCode(daemonError.kind);
  const message = `${uri.toString(true)}: ${daemonError.message}`;
  switch (code) {
    case "FileNotFound":
      return vscode.FileSystemError.FileNotFound(message);
    case "FileExists":
      return vscode.FileSystemError.FileExists(message);
    case "NoPermissions":
      return vscode.FileSystemError.NoPermissions(message);
    case "Unavailable":
      return vscode.FileSystemError.Unavailable(message);
    case "FileIsADirectory":
      return vscode.FileSystemError.FileIsADirectory(message);
    case "FileNotADirectory":
      return vscode.FileSystemError.FileNotADirectory(message);
    default:
      return new vscode.FileSystemError(message);
  }
}

export class SnippetFileSystem implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.emitter.event;
  /** Files read through us, per snippet: what a didChange must tell VS Code about. */
  private readonly known = new Map<string, Set<string>>();
  /** What the editor holds of each file: mtime and size as of its last read or save. */
  private readonly held = new Map<string, { mtime: number; size: number }>();
  /** Documents being saved: their next stat is the one VS Code checks before it writes. */
  private readonly saving = new Set<string>();
  /** Files whose stat before a save said stale: VS Code has asked, so a write that follows is Overwrite. */
  private readonly toldStale = new Set<string>();
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly daemon: Daemon,
    private readonly log: Log,
  ) {
    this.subscriptions = [
      daemon.onDidChange((change) => this.changed(change)),
      vscode.workspace.onWillSaveTextDocument((event) => {
        if (event.document.uri.scheme === URI_SCHEME) {
          this.saving.add(event.document.uri.toString());
        }
      }),
    ];
  }

  private remember(uri: vscode.Uri): string {
    const text = snippetUri.withoutLine(uri.toString());
    const owner = snippetUri.snippetOf(text);
    if (owner) {
      const key = snippetUri.snippetKey(owner.workspace, owner.id);
      let files = this.known.get(key);
      if (!files) {
        files = new Set();
        this.known.set(key, files);
      }
      files.add(uri.toString());
    }
    return text;
  }

  /** A snippet changed on Bitbucket (or went away): every file of it we served is stale. */
  private changed(change: DidChangeParams): void {
    if (change.kind === "comment" || change.kind === "unreachable") {
      return; // out of reach is not a change of its files: reading them again would only fail
    }
    const key = snippetUri.snippetKey(change.workspace, change.id);
    const type = change.kind === "deleted" ? vscode.FileChangeType.Deleted : vscode.FileChangeType.Changed;
    // A file at a revision (?rev=) never changes: announcing it would only make VS Code read it again.
    const stale = [...(this.known.get(key) ?? [])].filter((uri) => type === vscode.FileChangeType.Deleted || snippetUri.parse(uri).revision === undefined);
    const events: vscode.FileChangeEvent[] = stale.map((uri) => ({ type, uri: vscode.Uri.parse(uri) }));
    events.push({ type, uri: vscode.Uri.parse(snippetUri.snippetUri(change.workspace, change.id)) });
    this.log.debug(`${change.workspace}/${change.id} changed (${change.kind}): ${events.length} file events`);
    this.emitter.fire(events);
  }

  /** This window changed the snippet itself (push, restore: no didChange comes): its open files re-read. */
  changedHere(workspace: string, id: string): void {
    this.changed({ workspace, id, kind: "commit", watched: false });
  }

  watch(): vscode.Disposable {
    // The daemon watches what we read (its poller); didChange arrives whatever VS Code asks to watch.
    return new vscode.Disposable(() => undefined);
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const key = uri.toString();
    const beforeSave = this.saving.delete(key);
    let result;
    try {
      result = await this.daemon.request(STAT, { uri: this.remember(uri), fresh: beforeSave });
    } catch (error) {
      throw asFileSystemError(error, uri);
    }
    if (beforeSave && result.stale) {
      this.toldStale.add(key);
    } else {
      this.toldStale.delete(key);
    }
    let { mtime, size } = result;
    const held = this.held.get(key);
    if (result.stale && held) {
      // Someone else changed it: VS Code's "file is newer" check needs a later mtime AND another size.
      mtime = Math.max(mtime, held.mtime + 1);
      size = size === held.size ? size + 1 : size;
    }
    return {
      type: result.type === "directory" ? vscode.FileType.Directory : vscode.FileType.File,
      size,
      ctime: 0,
      mtime,
      permissions: result.readonly ? vscode.FilePermission.Readonly : undefined,
    };
  }

  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    try {
      const result = await this.daemon.request(READ_DIRECTORY, { uri: this.remember(uri) });
      return result.entries.map((entry) => [
        entry.name,
        entry.type === "directory" ? vscode.FileType.Directory : vscode.FileType.File,
      ]);
    } catch (error) {
      throw asFileSystemError(error, uri);
    }
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const text = this.remember(uri);
    try {
      const [result, stat] = await Promise.all([
        this.daemon.request(READ_FILE, { uri: text }),
        this.daemon.request(STAT, { uri: text }),
      ]);
      this.held.set(uri.toString(), { mtime: stat.mtime, size: stat.size });
      return Buffer.from(result.base64, "base64");
    } catch (error) {
      const failure = toDaemonError(error);
      if (failure.kind === ErrorKind.ACCOUNT_CHANGED) {
        // VS Code shows a failed read only inside the editor: say why, in the daemon's words.
        void prompts.notify("warning", failure.message);
      }
      throw asFileSystemError(failure, uri);
    }
  }

  async writeFile(
    uri: vscode.Uri,
    content: Uint8Array,
    options: { readonly create: boolean; readonly overwrite: boolean },
  ): Promise<void> {
    const text = this.remember(uri);
    const key = uri.toString();
    // VS Code wrote although the stat before this save said "newer": the user chose its Overwrite.
    const overwrite = this.toldStale.delete(key);
    const base64 = Buffer.from(content).toString("base64");
    try {
      await this.daemon.request(WRITE_FILE, { uri: text, base64, create: options.create, overwrite: options.overwrite, force: overwrite });
    } catch (error) {
      const failure = toDaemonError(error);
      if (failure.kind !== ErrorKind.CONFLICT) {
        throw asFileSystemError(failure, uri);
      }
      const name = snippetUri.baseName(snippetUri.parse(key).path ?? uri.path);
      throw vscode.FileSystemError.Unavailable(
        `${name} changed on Bitbucket just now, so it was not saved. Your text is still in the editor: save again to compare it with theirs or overwrite theirs.`,
      );
    }
    await this.refreshHeld(uri, text);
    this.emitter.fire([{ type: vscode.FileChangeType.Changed, uri }]);
  }

  private async refreshHeld(uri: vscode.Uri, text: string): Promise<void> {
    try {
      const stat = await this.daemon.request(STAT, { uri: text });
      this.held.set(uri.toString(), { mtime: stat.mtime, size: stat.size });
    } catch {
      this.held.delete(uri.toString());
    }
  }

  /** A diff editor: the remote version (read-only, at its revision) on the left, the user's text on the right. */
  async compareWithRemote(uri: vscode.Uri, remoteRevision: string | undefined): Promise<void> {
    const target = snippetUri.parse(uri.toString());
    const remote = vscode.Uri.parse(
      snippetUri.format({ workspace: target.workspace, id: target.id, path: target.path, revision: remoteRevision ?? "HEAD" }),
    );
    const name = snippetUri.baseName(target.path ?? "");
    await vscode.commands.executeCommand("vscode.diff", remote, uri, `${name} (on Bitbucket) ↔ ${name} (yours)`);
  }

  async delete(uri: vscode.Uri, options: { readonly recursive: boolean }): Promise<void> {
    try {
      await this.daemon.request(DELETE_FILE, { uri: this.remember(uri), recursive: options.recursive });
    } catch (error) {
      throw asFileSystemError(error, uri);
    }
    this.emitter.fire([{ type: vscode.FileChangeType.Deleted, uri }]);
  }

  async rename(oldUri: vscode.Uri, newUri: vscode.Uri, options: { readonly overwrite: boolean }): Promise<void> {
    try {
      await this.daemon.request(RENAME, {
        oldUri: this.remember(oldUri),
        newUri: this.remember(newUri),
        overwrite: options.overwrite,
      });
    } catch (error) {
      throw asFileSystemError(error, oldUri);
    }
    this.emitter.fire([
      { type: vscode.FileChangeType.Deleted, uri: oldUri },
      { type: vscode.FileChangeType.Created, uri: newUri },
    ]);
  }

  createDirectory(uri: vscode.Uri): void {
    // A snippet's folders exist only through the files in them; a new one appears with its first file.
    const target = snippetUri.parse(uri.toString());
    if (target.id === undefined) {
      throw vscode.FileSystemError.NoPermissions("New snippets are made with Bitbucket Snippets: Share as Snippet.");
    }
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
    this.emitter.dispose();
  }
}

export function registerFileSystem(context: vscode.ExtensionContext, fileSystem: SnippetFileSystem): void {
  context.subscriptions.push(
    vscode.workspace.registerFileSystemProvider(URI_SCHEME, fileSystem, { isCaseSensitive: true }),
    fileSystem,
  );
}
