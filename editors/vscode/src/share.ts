// bitbucketSnippets.share: the selection (or the whole file, or files picked in the explorer) as a new
// snippet, private by default. With an argument object {title?, isPrivate?, workspace?} it does not
// prompt; it returns the daemon's create result either way.

import * as path from "node:path";

import * as vscode from "vscode";

import { OPEN_SNIPPET, type Services, registerCommand } from "./command";
import { withSecretCheck } from "./errors";
import * as prompts from "./prompts";
import { CREATE, type CreateParams, type CreateResult, type FileInput } from "./protocol";
import { readSettings } from "./settings";

export const OPEN_IN_EDITOR = "Open in editor";
export const COPY_LINK = "Copy link";
export const OPEN_IN_BROWSER = "Open in browser";

interface ShareOptions {
  title?: string;
  isPrivate?: boolean;
  workspace?: string;
  allowSecrets?: boolean;
}

function isOptions(value: unknown): value is ShareOptions {
  return typeof value === "object" && value !== null && !(value instanceof vscode.Uri) && !Array.isArray(value);
}

function fileName(uri: vscode.Uri): string {
  const base = path.posix.basename(uri.path);
  return base && uri.scheme !== "untitled" ? base : "snippet.txt";
}

/** What to share: explorer files when invoked on them, else the active editor's selection or whole text. */
async function gather(arg: unknown, selected: unknown): Promise<FileInput[] | undefined> {
  const uris = Array.isArray(selected) && selected.every((item) => item instanceof vscode.Uri) ? (selected as vscode.Uri[]) : arg instanceof vscode.Uri ? [arg] : [];
  const editor = vscode.window.activeTextEditor;
  // The editor's context menu passes its document: that is a selection to share, not a file.
  const fromEditor = uris.length === 1 && editor?.document.uri.toString() === uris[0].toString();
  if (uris.length > 0 && !fromEditor) {
    const files: FileInput[] = [];
    for (const uri of uris) {
      const open = vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === uri.toString());
      // An open document's text is what the user sees (unsaved edits included); else the bytes on disk.
      files.push(
        open
          ? { name: fileName(uri), text: open.getText() }
          : { name: fileName(uri), base64: Buffer.from(await vscode.workspace.fs.readFile(uri)).toString("base64") },
      );
    }
    return files;
  }
  if (!editor) {
    return undefined;
  }
  const selections = editor.selections.filter((selection) => !selection.isEmpty);
  const text =
    selections.length > 0
      ? selections.map((selection) => editor.document.getText(selection)).join(editor.document.eol === vscode.EndOfLine.CRLF ? "\r\n" : "\n")
      : editor.document.getText();
  return [{ name: fileName(editor.document.uri), text }];
}

export async function share(services: Services, arg: unknown, selected: unknown): Promise<CreateResult | undefined> {
  const files = await gather(arg, selected);
  if (!files) {
    void prompts.notify("info", "Open a file (or select some text) to share it as a snippet.");
    return undefined;
  }
  const settings = readSettings();
  const scripted = isOptions(arg);
  const options: ShareOptions = scripted ? arg : {};
  let title = options.title;
  let isPrivate = options.isPrivate ?? settings.privateByDefault;
  if (!scripted) {
    title = await prompts.input("Snippet title", { value: files.map((file) => file.name).join(", ") });
    if (title === undefined) {
      return undefined;
    }
    const visibility = await prompts.pick("Who can see it?", [
      { label: "Private", description: "only you and people you share the link with", value: true },
      { label: "Public", description: "anyone, and search engines", value: false },
    ].sort((a, b) => Number(b.value === isPrivate) - Number(a.value === isPrivate)));
    if (visibility === undefined) {
      return undefined;
    }
    isPrivate = visibility;
  }
  const params: CreateParams = {
    files,
    title,
    isPrivate,
    workspace: options.workspace ?? (settings.workspace || undefined),
  };
  const create = (allowSecrets: boolean) =>
    vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Sharing ${files.map((file) => file.name).join(", ")}…` },
      () => services.daemon.command(CREATE, { ...params, allowSecrets }),
    );
  const created = await withSecretCheck("Not shared", create, prompts.notify, options.allowSecrets);
  if (!created) {
    return undefined;
  }
  services.tree.refresh();
  void offerLink(created);
  return created;
}

async function offerLink(created: CreateResult): Promise<void> {
  const visibility = created.isPrivate ? "private" : "public";
  const choice = await prompts.notify(
    "info",
    `Shared as a ${visibility} snippet: ${created.htmlUrl ?? created.uri}`,
    COPY_LINK,
    OPEN_IN_BROWSER,
    OPEN_IN_EDITOR,
  );
  if (choice === COPY_LINK && created.htmlUrl) {
    await vscode.env.clipboard.writeText(created.htmlUrl);
  } else if (choice === OPEN_IN_BROWSER && created.htmlUrl) {
    await vscode.env.openExternal(vscode.Uri.parse(created.htmlUrl));
  } else if (choice === OPEN_IN_EDITOR) {
    await vscode.commands.executeCommand(OPEN_SNIPPET, { workspace: created.workspace, id: created.id });
  }
}

export function registerShare(context: vscode.ExtensionContext, services: Services): void {
  registerCommand(context, services, "share", "Sharing", (arg, selected) => share(services, arg, selected));
}
