// The snippet commands (the daemon's features/snippets.py: open, update, delete, duplicate; list and
// workspaces are the Snippets view's, tree.ts; create is share.ts): open (also as a workspace folder),
// rename the title, make private/public, add/rename/delete a file, duplicate, delete, copy the link,
// open in the browser. Each accepts an argument object {workspace, id, ...} and then never prompts.

import * as vscode from "vscode";

import { type NamedSnippet, OPEN_SNIPPET, type Services, booleanField, namedSnippet, registerCommand, stringField } from "./command";
import { DaemonError, withSecretCheck } from "./errors";
import * as prompts from "./prompts";
import { PRIVATE_MEANS, PUBLIC_MEANS } from "./share";
import { DELETE, DUPLICATE, OPEN, type OpenResult, type SnippetRef, UPDATE, URI_SCHEME } from "./protocol";
import * as snippetUri from "./uri";

/** Title, visibility and link: from the tree when it knows them, else one read. */
export async function describeSnippet(services: Services, ref: SnippetRef): Promise<{ title: string; isPrivate: boolean; htmlUrl?: string }> {
  const known = services.tree.known(ref.workspace, ref.id);
  if (known) {
    return known;
  }
  return services.daemon.command(OPEN, { workspace: ref.workspace, id: ref.id });
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

/** Open a snippet's files in editors (text files; at most 10), the first one focused. */
export async function showSnippet(opened: OpenResult): Promise<void> {
  // An address that pointed at one file (#file-NAME) opens that file; otherwise every text file.
  const pointed = opened.files.find((file) => file.name === opened.file);
  if (pointed) {
    await (pointed.binary
      ? vscode.commands.executeCommand("vscode.open", vscode.Uri.parse(pointed.uri))
      : vscode.window.showTextDocument(vscode.Uri.parse(pointed.uri), { preview: false }));
    return;
  }
  const files = opened.files.filter((file) => !file.binary).slice(0, 10);
  for (const [index, file] of files.entries()) {
    await vscode.window.showTextDocument(vscode.Uri.parse(file.uri), { preview: false, preserveFocus: index > 0 });
  }
  if (files.length === 0 && opened.files.length > 0) {
    await vscode.commands.executeCommand("vscode.open", vscode.Uri.parse(opened.files[0].uri));
  }
}

export function registerSnippets(context: vscode.ExtensionContext, services: Services): void {
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

  // A snippet's web address ("https://bitbucket.org/ws/workspace/snippets/id#file-x") or "ws/id", as a string or
  // {url}: the daemon parses it (the one parser every tool shares) and says which file it pointed at.
  command("open", "Opening the snippet", async (arg) => {
    let url = typeof arg === "string" ? arg : stringField(arg, "url");
    const pasted = url === undefined && arg === undefined && vscode.window.activeTextEditor?.document.uri.scheme !== URI_SCHEME;
    if (pasted) {
      url = await prompts.input("A snippet's Bitbucket address, or WORKSPACE/ID (leave empty to choose from a list)", {
        placeHolder: "https://bitbucket.org/myteam/workspace/snippets/kypj9",
      });
      if (url === undefined) {
        return undefined;
      }
    }
    let opened: OpenResult;
    if (url?.trim()) {
      opened = await daemon.command(OPEN, { url: url.trim() });
    } else {
      const ref = await namedSnippet(services, pasted ? undefined : arg);
      if (!ref) {
        return undefined;
      }
      opened = await daemon.command(OPEN, { workspace: ref.workspace, id: ref.id });
    }
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

  snippetCommand("duplicate", "Duplicating the snippet", async (ref, arg) => {
    let title = stringField(arg, "title");
    if (!ref.scripted) {
      const { title: current } = await describeSnippet(services, ref);
      title = await prompts.input("Title of the copy", { value: `${current || ref.id} (copy)` });
      if (title === undefined) {
        return undefined;
      }
    }
    const copy = await withSecretCheck(
      "Not duplicated",
      (allowSecrets) =>
        daemon.command(DUPLICATE, {
          workspace: ref.workspace,
          id: ref.id,
          toWorkspace: stringField(arg, "toWorkspace"),
          title,
          isPrivate: booleanField(arg, "isPrivate"),
          allowSecrets,
        }),
      prompts.notify,
      booleanField(arg, "allowSecrets"),
    );
    if (!copy) {
      return undefined;
    }
    tree.refresh();
    if (!ref.scripted) {
      void prompts.notify("info", `Duplicated as ${copy.workspace}/${copy.id}.`, "Open").then((choice) => {
        if (choice === "Open") {
          void vscode.commands.executeCommand(OPEN_SNIPPET, { workspace: copy.workspace, id: copy.id });
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
    await daemon.command(DELETE, { workspace: ref.workspace, id: ref.id });
    tree.refresh();
    return true;
  }, false);

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
    const updated = await daemon.command(UPDATE, { workspace: ref.workspace, id: ref.id, title });
    tree.refresh();
    return updated;
  });

  snippetCommand("toggleVisibility", "Changing the snippet's visibility", async (ref, arg) => {
    const isPrivate = booleanField(arg, "isPrivate") ?? !(await describeSnippet(services, ref)).isPrivate;
    const updated = await withSecretCheck(
      "Not made public",
      (allowSecrets) => daemon.command(UPDATE, { workspace: ref.workspace, id: ref.id, isPrivate, allowSecrets }),
      prompts.notify,
      booleanField(arg, "allowSecrets"),
    );
    tree.refresh();
    if (updated && !ref.scripted) {
      const now = updated.isPrivate ? `private: ${PRIVATE_MEANS}` : `public: ${PUBLIC_MEANS}`;
      void prompts.notify("info", `"${updated.title || updated.id}" is now ${now}.`);
    }
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
