// Watching (the daemon's features/watch.py): the Watch / Stop Watching commands, and changes on Bitbucket
// as the daemon's poller reports them.
//
// bbsnippets/didChange makes the file system report the snippet's files changed (files.ts), so VS Code
// reloads open documents the user has not modified; a modified one gets a warning instead. A didChange
// with `watched: true` is followed by the daemon's window/showMessage about it (the daemon sends the two
// in that order, nothing between them): that message is shown with an "Open" button. Other daemon
// messages are shown as sent. A watched snippet out of reach (its workspace answers 404/403: `kind:
// "unreachable"`) comes with the daemon's one question (window/showMessageRequest), shown here as a
// notification with its "Unwatch" / "Keep watching" buttons; the daemon unwatches on "Unwatch", and the
// tree then shows the snippet as not watched; it marks it out of reach (tree.ts) meanwhile. A watch the
// daemon could not remember on this computer (`saved: false`) is a warning with the daemon's message.

import * as vscode from "vscode";
import { type MessageActionItem, MessageType, type ShowMessageParams, type ShowMessageRequestParams } from "vscode-languageclient/node";

import { type NamedSnippet, OPEN_SNIPPET, type Services, namedSnippet, registerCommand } from "./command";
import * as prompts from "./prompts";
import { type DidChangeParams, UNWATCH, WATCH } from "./protocol";
import * as snippetUri from "./uri";

export const OPEN_BUTTON = "Open";
export const COMPARE_BUTTON = "Compare";
/** The daemon's answer that unwatches a snippet out of reach (watcher.py's UNWATCH). */
export const UNWATCH_BUTTON = "Unwatch";

export class ChangeWatcher implements vscode.Disposable {
  /** The watched snippet whose didChange came last: the daemon's next message is about it. */
  private announced: DidChangeParams | undefined;
  /** Watched snippets reported out of reach whose question has not come yet. */
  private readonly unreachable: DidChangeParams[] = [];
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly services: Services) {
    this.subscriptions = [
      services.daemon.onDidChange((change) => this.changed(change)),
      services.daemon.onMessage((message) => this.message(message)),
    ];
    services.daemon.answerQuestion = (question) => this.ask(question);
  }

  private changed(change: DidChangeParams): void {
    if (change.kind === "unreachable") {
      this.unreachable.push(change); // no showMessage follows: the daemon's question does
      return;
    }
    this.announced = change.watched ? change : undefined;
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

  /** The daemon's question, with its actions as buttons; the chosen one is the answer (dismissed: none). */
  private async ask(question: ShowMessageRequestParams): Promise<MessageActionItem | null> {
    const severity = question.type === MessageType.Error ? "error" : question.type === MessageType.Warning ? "warning" : "info";
    const actions = question.actions ?? [];
    const chosen = await prompts.notify(severity, question.message, ...actions.map((action) => action.title));
    const about = this.unreachable.findIndex((change) => question.message.includes(`${change.workspace}/${change.id}`));
    const snippet = about >= 0 ? this.unreachable.splice(about, 1)[0] : undefined;
    if (snippet && chosen === UNWATCH_BUTTON) {
      this.services.tree.watching.set(snippetUri.snippetKey(snippet.workspace, snippet.id), false);
      this.services.tree.refresh();
    }
    return actions.find((action) => action.title === chosen) ?? null;
  }

  dispose(): void {
    if (this.services.daemon.answerQuestion) {
      this.services.daemon.answerQuestion = undefined;
    }
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
