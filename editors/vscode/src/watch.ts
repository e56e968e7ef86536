// Watching (the daemon's features/watch.py): the Watch / Stop Watching commands, and changes on Bitbucket
// as the daemon's poller reports them.
//
// bbsnippets/didChange makes the file system report the snippet's files changed (files.ts), so VS Code
// reloads open documents the user has not modified; a modified one gets a warning instead. A didChange
// with `watched: true` is followed by the daemon's window/showMessage about it (the daemon sends the two
// in that order, nothing between them): that message is shown with an "Open" button. Other daemon
// messages are shown as sent. A watched snippet out of reach (`unreachable`) is marked in the tree
// (tree.ts); the daemon itself asks whether to unwatch it. A watch the daemon could not remember on this
// computer (`saved: false`) is shown as a warning with the daemon's message.

import * as vscode from "vscode";
import { MessageType, type ShowMessageParams } from "vscode-languageclient/node";

import { type NamedSnippet, OPEN_SNIPPET, type Services, namedSnippet, registerCommand } from "./command";
import * as prompts from "./prompts";
import { type DidChangeParams, UNWATCH, WATCH } from "./protocol";
import * as snippetUri from "./uri";

export const OPEN_BUTTON = "Open";
export const COMPARE_BUTTON = "Compare";

export class ChangeWatcher implements vscode.Disposable {
  /** The watched snippet whose didChange came last: the daemon's next message is about it. */
  private announced: DidChangeParams | undefined;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly services: Services) {
    this.subscriptions = [
      services.daemon.onDidChange((change) => this.changed(change)),
      services.daemon.onMessage((message) => this.message(message)),
    ];
  }

  private changed(change: DidChangeParams): void {
    // "unreachable" is followed by the daemon's own question (window/showMessageRequest), not a message.
    this.announced = change.watched && change.kind !== "unreachable" ? change : undefined;
    if (change.kind !== "commit") {
      return;
    }
    for (const document of vscode.workspace.textDocuments) {
      const owner = snippetUri.snippetOf(document.uri.toString());
      const sameSnippet =
        owner && snippetUri.snippetKey(owner.workspace, owner.id) === snippetUri.snippetKey(change.workspace, change.id);
      if (sameSnippet && document.isDirty && !document.uri.query) {
        const name = snippetUri.baseName(snippetUri.parse(document.uri.toString()).path ?? "");
        void prompts
          .notify("warning", `${name} changed on Bitbucket while you have unsaved edits. Saving will ask whether to overwrite.`, COMPARE_BUTTON)
          .then((choice) => {
            if (choice === COMPARE_BUTTON) {
              void this.services.fileSystem.compareWithRemote(document.uri, change.revision);
            }
          });
      }
    }
  }

  private message(message: ShowMessageParams): void {
    const severity = message.type === MessageType.Error ? "error" : message.type === MessageType.Warning ? "warning" : "info";
    const about = this.announced;
    this.announced = undefined;
    if (!about || about.kind === "deleted") {
      void prompts.notify(severity, message.message);
      return;
    }
    const { workspace, id } = about;
    void prompts.notify(severity, message.message, OPEN_BUTTON).then((choice) => {
      if (choice === OPEN_BUTTON) {
        void vscode.commands.executeCommand(OPEN_SNIPPET, { workspace, id });
      }
    });
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
  }
}

export function registerWatch(context: vscode.ExtensionContext, services: Services): void {
  for (const [name, watching] of [
    ["watch", true],
    ["unwatch", false],
  ] as const) {
    registerCommand(context, services, name, watching ? "Watching the snippet" : "Unwatching the snippet", async (arg) => {
      const ref: NamedSnippet | undefined = await namedSnippet(services, arg);
      if (!ref) {
        return undefined;
      }
      const result = await services.daemon.command(watching ? WATCH : UNWATCH, { workspace: ref.workspace, id: ref.id });
      services.tree.watching.set(snippetUri.snippetKey(ref.workspace, ref.id), result.watching);
      services.tree.refresh();
      if (result.saved === false && result.message) {
        // Bitbucket has it and it holds for this session; the daemon says what is lost at the next start.
        void prompts.notify("warning", result.message);
      }
      return result;
    });
  }
}
