// The shared command layer every feature module registers its UI commands (bitbucketSnippets.*) through:
// the services they use, one way to turn a failure into one notification that says what to do, and which
// snippet a command's argument names.
//
// A command that names a snippet accepts an argument object {workspace, id, ...}: then it does not prompt,
// so it can be scripted and bound to keys. From the Snippets view it gets the tree node instead; from an
// editor, the document's snippet; with nothing, it asks.

import * as vscode from "vscode";

import { type Daemon, showInstallSteps } from "./client";
import { Action, toDaemonError, userMessage } from "./errors";
import type { SnippetFileSystem } from "./files";
import type { Log } from "./log";
import * as prompts from "./prompts";
import { LIST, type SnippetRef, URI_SCHEME, WORKSPACES } from "./protocol";
import { openSettings } from "./settings";
import type { Node, SnippetTree } from "./tree";
import * as snippetUri from "./uri";

/** The UI commands other modules run (names fixed by the manifest). */
export const SIGN_IN = "bitbucketSnippets.signIn";
export const OPEN_SNIPPET = "bitbucketSnippets.open";
export const SHOW_LOG = "bitbucketSnippets.showLog";
export const RESTART_SERVER = "bitbucketSnippets.restartServer";

export interface Services {
  daemon: Daemon;
  tree: SnippetTree;
  fileSystem: SnippetFileSystem;
  log: Log;
}

/** Registers `bitbucketSnippets.${name}`; failures become one notification (and the command returns undefined). */
export function registerCommand<T>(
  context: vscode.ExtensionContext,
  services: Services,
  name: string,
  what: string,
  handler: (...args: unknown[]) => Promise<T>,
): void {
  const run = async (...args: unknown[]): Promise<T | undefined> => {
    try {
      return await handler(...args);
    } catch (error) {
      return reportFailure(services, what, error, () => run(...args));
    }
  };
  context.subscriptions.push(vscode.commands.registerCommand(`bitbucketSnippets.${name}`, run));
}

/**
 * Tell the user, once, what failed and what they can do, and run the action they pick. Never waits for
 * the answer: a scripted caller gets undefined at once (a notification can stay up for hours).
 */
export function reportFailure<T>(services: Services, what: string, error: unknown, retry?: () => Promise<T | undefined>): undefined {
  if (error instanceof vscode.CancellationError) {
    return undefined;
  }
  const failure = toDaemonError(error);
  services.log.warn(`${what}: ${failure.message}`);
  const message = userMessage(what, failure);
  const actions = message.actions.filter((action) => action !== Action.RETRY || retry !== undefined);
  void prompts.notify(message.severity, message.text, ...actions).then(async (choice) => {
    switch (choice) {
      case Action.SIGN_IN:
        await vscode.commands.executeCommand(SIGN_IN);
        break;
      case Action.RETRY:
        await retry?.();
        break;
      case Action.SHOW_LOG:
        services.log.show();
        break;
      case Action.OPEN_SETTINGS:
        await openSettings();
        break;
      case Action.SHOW_INSTALL_STEPS:
        await showInstallSteps();
        break;
    }
  });
  return undefined;
}

// --------------------------------------------------------------------------- which snippet

export interface NamedSnippet extends SnippetRef {
  /** Present when the command came from a file (tree file node, editor). */
  path?: string;
  /** True when the caller gave an argument object: do not prompt. */
  scripted: boolean;
}

function isRef(value: unknown): value is SnippetRef & Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as SnippetRef).workspace === "string" &&
    typeof (value as SnippetRef).id === "string" &&
    !("kind" in value)
  );
}

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && "kind" in value;
}

function fromUri(uri: vscode.Uri): NamedSnippet | undefined {
  if (uri.scheme !== URI_SCHEME) {
    return undefined;
  }
  const target = snippetUri.parse(uri.toString());
  return target.id === undefined ? undefined : { workspace: target.workspace, id: target.id, path: target.path, scripted: false };
}

/** The snippet a command's argument names; without one, the active editor's, else the user picks. */
export async function namedSnippet(services: Services, arg: unknown): Promise<NamedSnippet | undefined> {
  if (isRef(arg)) {
    return { workspace: arg.workspace, id: arg.id, path: typeof arg.path === "string" ? arg.path : undefined, scripted: true };
  }
  if (isNode(arg)) {
    if (arg.kind === "snippet") {
      return { workspace: arg.snippet.workspace, id: arg.snippet.id, scripted: false };
    }
    if (arg.kind === "file") {
      return { workspace: arg.workspace, id: arg.id, path: arg.file.name, scripted: false };
    }
  }
  if (arg instanceof vscode.Uri) {
    return fromUri(arg);
  }
  const active = vscode.window.activeTextEditor?.document.uri;
  const fromEditor = active ? fromUri(active) : undefined;
  return fromEditor ?? pickSnippet(services);
}

/** Workspace, then snippet, from quick picks. */
export async function pickSnippet(services: Services, title = "Which snippet?"): Promise<NamedSnippet | undefined> {
  const { workspaces } = await services.daemon.command(WORKSPACES, {});
  const workspace =
    workspaces.length === 1
      ? workspaces[0].slug
      : await prompts.pick(
          "Which workspace?",
          workspaces.map((item) => ({ label: item.slug, description: item.name, value: item.slug })),
        );
  if (!workspace) {
    return undefined;
  }
  const { snippets } = await services.daemon.command(LIST, { workspace });
  const id = await prompts.pick(
    title,
    snippets.map((snippet) => ({
      label: snippet.title || snippet.id,
      description: `${snippet.id}${snippet.isPrivate ? " · private" : ""}`,
      value: snippet.id,
    })),
  );
  return id ? { workspace, id, scripted: false } : undefined;
}

/** A string field of a command's argument object. */
export function stringField(arg: unknown, name: string): string | undefined {
  const value = typeof arg === "object" && arg !== null ? (arg as Record<string, unknown>)[name] : undefined;
  return typeof value === "string" ? value : undefined;
}

/** A boolean field of a command's argument object. */
export function booleanField(arg: unknown, name: string): boolean | undefined {
  const value = typeof arg === "object" && arg !== null ? (arg as Record<string, unknown>)[name] : undefined;
  return typeof value === "boolean" ? value : undefined;
}
