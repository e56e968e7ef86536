// The bbsnippet: file system: a pass-through to the daemon's bbsnippets/* requests (features/files.py).
//
// The daemon serves reads from a cache one request fills for a whole snippet, so VS Code's many stat and
// readFile calls cost Bitbucket nothing more. Saves are compare-and-swap in the daemon; on `conflict` the
// user chooses Compare (a diff of the remote version against their text; the save fails, the document
// stays dirty), Overwrite (a forced save) or Cancel. Their text is never lost.

import * as vscode from "vscode";

import type { Daemon } from "./client";
import { DaemonError, fileSystemErrorCode, toDaemonError } from "./errors";
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

export const CONFLICT_COMPARE = "Compare";
export const CONFLICT_OVERWRITE = "Overwrite";

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
  /** mtime a file had when last read: reported for dirty documents, see stat(). */
  private readonly readMtime = new Map<string, number>();
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly daemon: Daemon,
    private readonly log: Log,
  ) {
    this.subscriptions = [daemon.onDidChange((change) => this.changed(change))];
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
    if (change.kind === "comment") {
      return;
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
    let result;
    try {
      result = await this.daemon.request(STAT, { uri: this.remember(uri) });
    } catch (error) {
      throw asFileSystemError(error, uri);
    }
    let mtime = result.mtime;
    // Conflicts are the daemon's compare-and-swap to find, and ours to resolve: while the user has unsaved
    // edits, the file keeps the time it was read at, so VS Code's own "file is newer" check does not
    // answer first with a second, different dialog. Unmodified documents see the real time (and reload).
    const document = vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === uri.toString());
    const readAt = this.readMtime.get(uri.toString());
    if (document?.isDirty && readAt !== undefined) {
      mtime = readAt;
    }
    return {
      type: result.type === "directory" ? vscode.FileType.Directory : vscode.FileType.File,
      size: result.size,
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
      this.readMtime.set(uri.toString(), stat.mtime);
      return Buffer.from(result.base64, "base64");
    } catch (error) {
      throw asFileSystemError(error, uri);
    }
  }

  async writeFile(
    uri: vscode.Uri,
    content: Uint8Array,
    options: { readonly create: boolean; readonly overwrite: boolean },
  ): Promise<void> {
    const text = this.remember(uri);
    const base64 = Buffer.from(content).toString("base64");
    const write = (force: boolean) =>
      this.daemon.request(WRITE_FILE, { uri: text, base64, create: options.create, overwrite: options.overwrite, force });
    try {
      await write(false);
    } catch (error) {
      const failure = toDaemonError(error);
      if (failure.kind !== ErrorKind.CONFLICT) {
        throw asFileSystemError(failure, uri);
      }
      await this.resolveConflict(uri, failure, () => write(true));
    }
    await this.refreshReadMtime(uri, text);
    this.emitter.fire([{ type: vscode.FileChangeType.Changed, uri }]);
  }

  private async refreshReadMtime(uri: vscode.Uri, text: string): Promise<void> {
    try {
      this.readMtime.set(uri.toString(), (await this.daemon.request(STAT, { uri: text })).mtime);
    } catch {
      this.readMtime.delete(uri.toString());
    }
  }

  /** Compare / Overwrite / Cancel. Returns only when the forced save landed; otherwise the save fails. */
  private async resolveConflict(uri: vscode.Uri, conflict: DaemonError, force: () => Promise<unknown>): Promise<void> {
    const name = snippetUri.baseName(snippetUri.parse(uri.toString()).path ?? uri.path);
    const choice = await prompts.modal(
      `${name} was changed on Bitbucket since you opened it.`,
      "Compare shows their version beside yours (your text stays as it is); Overwrite replaces theirs with yours.",
      CONFLICT_COMPARE,
      CONFLICT_OVERWRITE,
    );
    if (choice === CONFLICT_OVERWRITE) {
      try {
        await force();
        return;
      } catch (error) {
        throw asFileSystemError(error, uri);
      }
    }
    if (choice === CONFLICT_COMPARE) {
      await this.compareWithRemote(uri, conflict.data.remoteRevision);
    }
    throw vscode.FileSystemError.Unavailable(
      `${name} was not saved: it changed on Bitbucket. Your text is still in the editor; save again to choose Overwrite.`,
    );
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
