// The UI commands (bitbucketSnippets.*) that act on one snippet, and what every command shares: finding
// the snippet it names, and turning a failure into one notification that says what to do.
//
// A command that names a snippet accepts an argument object {workspace, id, ...}: then it does not prompt,
// so it can be scripted and bound to keys. From the Snippets view it gets the tree node instead; from an
// editor, the document's snippet; with nothing, it asks.

import * as vscode from "vscode";

import { type Daemon, showInstallSteps } from "./client";
import { Action, DaemonError, describeFindings, toDaemonError, userMessage } from "./errors";
import type { SnippetFileSystem } from "./files";
import type { Log } from "./log";
import * as prompts from "./prompts";
import { type CreateResult, ErrorKind, type OpenResult, type SnippetRef, URI_SCHEME } from "./protocol";
import { openSettings, readSettings } from "./settings";
import type { Node, SnippetTree } from "./tree";
import * as snippetUri from "./uri";

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
        await vscode.commands.executeCommand("bitbucketSnippets.signIn");
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
  const { workspaces } = await services.daemon.command("bbsnippets.workspaces", {});
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
  const { snippets } = await services.daemon.command("bbsnippets.list", { workspace });
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

/** Title, visibility and link: from the tree when it knows them, else one read. */
async function describeSnippet(services: Services, ref: SnippetRef): Promise<{ title: string; isPrivate: boolean; htmlUrl?: string }> {
  const known = services.tree.known(ref.workspace, ref.id);
  if (known) {
    return known;
  }
  return services.daemon.command("bbsnippets.open", { workspace: ref.workspace, id: ref.id });
}

/** The snippet an argument (or a prompt) names, and its web page; an error when Bitbucket gave it none. */
async function webPage(services: Services, arg: unknown): Promise<{ ref: NamedSnippet; htmlUrl: string } | undefined> {
  const ref = await namedSnippet(services, arg);
  if (!ref) {
    return undefined;
  }
  const { htmlUrl } = await describeSnippet(services, ref);
  if (!htmlUrl) {
    throw new DaemonError("Bitbucket gave this snippet no web link.", undefined);
  }
  return { ref, htmlUrl };
}

function fileUri(ref: SnippetRef, path: string): vscode.Uri {
  return vscode.Uri.parse(snippetUri.snippetUri(ref.workspace, ref.id, path));
}

function stringField(arg: unknown, name: string): string | undefined {
  const value = isRef(arg) ? arg[name] : undefined;
  return typeof value === "string" ? value : undefined;
}

function booleanField(arg: unknown, name: string): boolean | undefined {
  const value = isRef(arg) ? arg[name] : undefined;
  return typeof value === "boolean" ? value : undefined;
}

/** Open a snippet's files in editors (text files; at most 10), the first one focused. */
export async function showSnippet(opened: OpenResult): Promise<void> {
  const files = opened.files.filter((file) => !file.binary).slice(0, 10);
  for (const [index, file] of files.entries()) {
    await vscode.window.showTextDocument(vscode.Uri.parse(file.uri), { preview: false, preserveFocus: index > 0 });
  }
  if (files.length === 0 && opened.files.length > 0) {
    await vscode.commands.executeCommand("vscode.open", vscode.Uri.parse(opened.files[0].uri));
  }
}

// --------------------------------------------------------------------------- the commands

export function registerSnippetCommands(context: vscode.ExtensionContext, services: Services): void {
  const { daemon, tree } = services;
  const command = <T>(name: string, what: string, handler: (...args: unknown[]) => Promise<T>) =>
    registerCommand(context, services, name, what, handler);
  /** A command on the snippet its argument (or a prompt) names; `none` is its answer when none was chosen. */
  const snippetCommand = <T, N = undefined>(
    name: string,
    what: string,
    run: (ref: NamedSnippet, arg: unknown) => Promise<T>,
    none?: N,
  ) =>
    command(name, what, async (arg) => {
      const ref = await namedSnippet(services, arg);
      return ref ? run(ref, arg) : none;
    });

  snippetCommand("open", "Opening the snippet", async (ref) => {
    const opened = await daemon.command("bbsnippets.open", { workspace: ref.workspace, id: ref.id });
    await showSnippet(opened);
    return opened;
  });

  snippetCommand("openAsFolder", "Opening the snippet as a folder", async (ref) => {
    const { title } = await describeSnippet(services, ref);
    const uri = vscode.Uri.parse(snippetUri.snippetUri(ref.workspace, ref.id));
    const end = vscode.workspace.workspaceFolders?.length ?? 0;
    return vscode.workspace.updateWorkspaceFolders(end, 0, { uri, name: `${title || ref.id} (snippet)` });
  }, false);

  command("refresh", "Refreshing", async () => {
    tree.refresh();
  });

  command("restartServer", "Restarting the snippet daemon", async () => {
    await daemon.restart(readSettings());
    if (daemon.state !== "running") {
      throw daemon.failure ?? new DaemonError("The snippet daemon did not start.", "daemonUnavailable");
    }
  });

  command("showLog", "Showing the log", async () => services.log.show());

  snippetCommand("duplicate", "Duplicating the snippet", async (ref, arg) => {
    let title = stringField(arg, "title");
    if (!ref.scripted) {
      const { title: current } = await describeSnippet(services, ref);
      title = await prompts.input("Title of the copy", { value: `${current || ref.id} (copy)` });
      if (title === undefined) {
        return undefined;
      }
    }
    const copy: CreateResult = await daemon.command("bbsnippets.duplicate", {
      workspace: ref.workspace,
      id: ref.id,
      toWorkspace: stringField(arg, "toWorkspace"),
      title,
      isPrivate: booleanField(arg, "isPrivate"),
    });
    tree.refresh();
    if (!ref.scripted) {
      void prompts.notify("info", `Duplicated as ${copy.workspace}/${copy.id}.`, "Open").then((choice) => {
        if (choice === "Open") {
          void vscode.commands.executeCommand("bitbucketSnippets.open", { workspace: copy.workspace, id: copy.id });
        }
      });
    }
    return copy;
  });

  snippetCommand("delete", "Deleting the snippet", async (ref) => {
    if (!ref.scripted) {
      const { title } = await describeSnippet(services, ref);
      const choice = await prompts.modal(`Delete the snippet "${title || ref.id}"?`, "It is deleted on Bitbucket with all its files, revisions and comments.", "Delete");
      if (choice !== "Delete") {
        return false;
      }
    }
    await daemon.command("bbsnippets.delete", { workspace: ref.workspace, id: ref.id });
    tree.refresh();
    return true;
  }, false);

  for (const [name, watching] of [
    ["watch", true],
    ["unwatch", false],
  ] as const) {
    snippetCommand(name, watching ? "Watching the snippet" : "Unwatching the snippet", async (ref) => {
      const result = await daemon.command(watching ? "bbsnippets.watch" : "bbsnippets.unwatch", { workspace: ref.workspace, id: ref.id });
      tree.watching.set(snippetUri.snippetKey(ref.workspace, ref.id), result.watching);
      tree.refresh();
      return result;
    });
  }

  snippetCommand("addFile", "Adding a file", async (ref, arg) => {
    const name = ref.scripted ? stringField(arg, "name") : await prompts.input("File name", { placeHolder: "notes.md" });
    if (!name) {
      return undefined;
    }
    const uri = fileUri(ref, name);
    await vscode.workspace.fs.writeFile(uri, Buffer.from(stringField(arg, "text") ?? "", "utf8"));
    tree.refresh();
    if (!ref.scripted) {
      await vscode.window.showTextDocument(uri);
    }
    return uri.toString();
  });

  command("renameFile", "Renaming the file", async (arg) => {
    const ref = await namedSnippet(services, arg);
    if (!ref?.path) {
      return undefined;
    }
    const newName = ref.scripted ? stringField(arg, "newName") : await prompts.input("New file name", { value: ref.path });
    if (!newName || newName === ref.path) {
      return undefined;
    }
    await vscode.workspace.fs.rename(fileUri(ref, ref.path), fileUri(ref, newName), { overwrite: false });
    tree.refresh();
    return newName;
  });

  command("deleteFile", "Deleting the file", async (arg) => {
    const ref = await namedSnippet(services, arg);
    if (!ref?.path) {
      return false;
    }
    if (!ref.scripted) {
      const choice = await prompts.modal(`Delete ${ref.path} from the snippet?`, "A new revision without it is made on Bitbucket.", "Delete");
      if (choice !== "Delete") {
        return false;
      }
    }
    await vscode.workspace.fs.delete(fileUri(ref, ref.path));
    tree.refresh();
    return true;
  });

  snippetCommand("renameTitle", "Renaming the snippet", async (ref, arg) => {
    let title = stringField(arg, "title");
    if (!ref.scripted) {
      const { title: current } = await describeSnippet(services, ref);
      title = await prompts.input("Snippet title", { value: current });
    }
    if (title === undefined) {
      return undefined;
    }
    const updated = await daemon.command("bbsnippets.update", { workspace: ref.workspace, id: ref.id, title });
    tree.refresh();
    return updated;
  });

  snippetCommand("toggleVisibility", "Changing the snippet's visibility", async (ref, arg) => {
    const isPrivate = booleanField(arg, "isPrivate") ?? !(await describeSnippet(services, ref)).isPrivate;
    const update = (allowSecrets: boolean) =>
      daemon.command("bbsnippets.update", { workspace: ref.workspace, id: ref.id, isPrivate, allowSecrets });
    let updated: OpenResult;
    try {
      updated = await update(booleanField(arg, "allowSecrets") ?? false);
    } catch (error) {
      const failure = toDaemonError(error);
      if (failure.kind !== ErrorKind.SECRET_DETECTED || ref.scripted) {
        throw failure;
      }
      const choice = await prompts.notify("warning", `Not made public: ${describeFindings(failure.data)}`, "Make public anyway");
      if (choice !== "Make public anyway") {
        return undefined;
      }
      updated = await update(true);
    }
    tree.refresh();
    return updated;
  });

  command("copyLink", "Copying the link", async (arg) => {
    const found = await webPage(services, arg);
    if (!found) {
      return undefined;
    }
    const link = found.ref.path ? `${found.htmlUrl}#file-${found.ref.path}` : found.htmlUrl;
    await vscode.env.clipboard.writeText(link);
    if (!found.ref.scripted) {
      void prompts.notify("info", `Copied ${link}`);
    }
    return link;
  });

  command("openInBrowser", "Opening the snippet in the browser", async (arg) => {
    const found = await webPage(services, arg);
    if (!found) {
      return undefined;
    }
    await vscode.env.openExternal(vscode.Uri.parse(found.htmlUrl));
    return found.htmlUrl;
  });
}
