// Changes on Bitbucket, as the daemon's poller reports them (features/watch.py).
//
// bbsnippets/didChange makes the file system report the snippet's files changed (files.ts), so VS Code
// reloads open documents the user has not modified; a modified one gets a warning instead (its save will
// then meet the conflict dialog). For watched snippets the daemon also sends a window/showMessage right
// after the didChange; it is shown here with an "Open" button. Other daemon messages are shown as sent.

import * as vscode from "vscode";
import { MessageType, type ShowMessageParams } from "vscode-languageclient/node";

import type { Services } from "./commands";
import * as prompts from "./prompts";
import type { DidChangeParams } from "./protocol";
import * as snippetUri from "./uri";

export const OPEN = "Open";
export const COMPARE = "Compare";

/** How long after a didChange a daemon message naming that snippet is taken to be about it. */
const MESSAGE_FOLLOWS_MS = 5000;

export class ChangeWatcher implements vscode.Disposable {
  private readonly recent: { change: DidChangeParams; at: number }[] = [];
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly services: Services) {
    this.subscriptions = [
      services.daemon.onDidChange((change) => this.changed(change)),
      services.daemon.onMessage((message) => this.message(message)),
    ];
  }

  private changed(change: DidChangeParams): void {
    const now = Date.now();
    this.recent.push({ change, at: now });
    while (this.recent.length > 0 && now - this.recent[0].at > MESSAGE_FOLLOWS_MS) {
      this.recent.shift();
    }
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
          .notify("warning", `${name} changed on Bitbucket while you have unsaved edits. Saving will ask whether to overwrite.`, COMPARE)
          .then((choice) => {
            if (choice === COMPARE) {
              void this.services.fileSystem.compareWithRemote(document.uri, change.revision);
            }
          });
      }
    }
  }

  private message(message: ShowMessageParams): void {
    const severity = message.type === MessageType.Error ? "error" : message.type === MessageType.Warning ? "warning" : "info";
    const now = Date.now();
    const about = [...this.recent]
      .reverse()
      .find(({ change, at }) => now - at <= MESSAGE_FOLLOWS_MS && message.message.includes(`${change.workspace}/${change.id}`));
    if (!about || about.change.kind === "deleted") {
      void prompts.notify(severity, message.message);
      return;
    }
    const { workspace, id } = about.change;
    void prompts.notify(severity, message.message, OPEN).then((choice) => {
      if (choice === OPEN) {
        void vscode.commands.executeCommand("bitbucketSnippets.open", { workspace, id });
      }
    });
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
  }
}
