// bitbucketSnippets.share: the selection (or the whole file, or files picked in the explorer) as a new
// snippet, private by default. With an argument object {title?, isPrivate?, workspace?, keepLinked?} it does
// not prompt; it returns the daemon's create result either way. A whole file shared is offered "Keep linked"
// (push.ts: its later edits can be pushed to the snippet).

import * as path from "node:path";

import * as vscode from "vscode";

import { OPEN_SNIPPET, type Services, registerCommand, reportFailure } from "./command";
import { withSecretCheck } from "./errors";
import * as prompts from "./prompts";
import { CREATE, type CreateParams, type CreateResult, type FileInput, LINK } from "./protocol";
import { linksChanged } from "./push";
import { readSettings } from "./settings";

export const OPEN_IN_EDITOR = "Open in editor";
/** What each visibility means on Bitbucket, wherever it is chosen. */
export const PRIVATE_MEANS = "visible to the members of its workspace";
export const PUBLIC_MEANS = "anyone, and search engines";
export const COPY_LINK = "Copy link";
export const OPEN_IN_BROWSER = "Open in browser";
/** Offered after sharing a whole file: push.ts's link, so the file's later edits can be pushed. */
export const KEEP_LINKED = "Keep linked";

interface ShareOptions {
  title?: string;
  isPrivate?: boolean;
  workspace?: string;
  allowSecrets?: boolean;
  /** A whole file shared: link it to the new snippet without asking. */
  keepLinked?: boolean;
}

interface Gathered {
  files: FileInput[];
  /** The local file, when one whole file (saved on disk) is what was shared: it can stay linked. */
  wholeFile?: string;
}

function isOptions(value: unknown): value is ShareOptions {
  return typeof value === "object" && value !== null && !(value instanceof vscode.Uri) && !Array.isArray(value);
}

function fileName(uri: vscode.Uri): string {
  const base = path.posix.basename(uri.path);
  return base && uri.scheme !== "untitled" ? base : "snippet.txt";
}

/** What to share: explorer files when invoked on them, else the active editor's selection or whole text. */
async function gather(arg: unknown, selected: unknown): Promise<Gathered | undefined> {
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
    return { files, wholeFile: uris.length === 1 && uris[0].scheme === "file" ? uris[0].fsPath : undefined };
  }
  if (!editor) {
    return undefined;
  }
  const selections = editor.selections.filter((selection) => !selection.isEmpty);
  const text =
    selections.length > 0
      ? selections.map((selection) => editor.document.getText(selection)).join(editor.document.eol === vscode.EndOfLine.CRLF ? "\r\n" : "\n")
      : editor.document.getText();
  const whole = selections.length === 0 && editor.document.uri.scheme === "file" && !editor.document.isDirty;
  return { files: [{ name: fileName(editor.document.uri), text }], wholeFile: whole ? editor.document.uri.fsPath : undefined };
}

export async function share(services: Services, arg: unknown, selected: unknown): Promise<CreateResult | undefined> {
  const gathered = await gather(arg, selected);
  if (!gathered) {
    void prompts.notify("info", "Open a file (or select some text) to share it as a snippet.");
    return undefined;
  }
  const { files, wholeFile } = gathered;
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
      { label: "Private", description: PRIVATE_MEANS, value: true },
      { label: "Public", description: PUBLIC_MEANS, value: false },
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
  if (wholeFile && options.keepLinked) {
    await keepLinked(services, created, wholeFile);
  }
  void offerLink(services, created, wholeFile && options.keepLinked === undefined ? wholeFile : undefined);
  return created;
}

/** Link the shared file to its new snippet (bbsnippets.link with the file's path): its Source Control shows up. */
async function keepLinked(services: Services, created: CreateResult, file: string): Promise<void> {
  await services.daemon.command(LINK, { folder: file, workspace: created.workspace, id: created.id });
  linksChanged();
}

async function offerLink(services: Services, created: CreateResult, linkable: string | undefined): Promise<void> {
  const visibility = created.isPrivate ? `private snippet (${PRIVATE_MEANS})` : "public snippet";
  const choice = await prompts.notify(
    "info",
    `Shared as a ${visibility}: ${created.htmlUrl ?? created.uri}`,
    COPY_LINK,
    OPEN_IN_BROWSER,
    OPEN_IN_EDITOR,
    ...(linkable ? [KEEP_LINKED] : []),
  );
  if (choice === COPY_LINK && created.htmlUrl) {
    await vscode.env.clipboard.writeText(created.htmlUrl);
  } else if (choice === OPEN_IN_BROWSER && created.htmlUrl) {
    await vscode.env.openExternal(vscode.Uri.parse(created.htmlUrl));
  } else if (choice === OPEN_IN_EDITOR) {
    await vscode.commands.executeCommand(OPEN_SNIPPET, { workspace: created.workspace, id: created.id });
  } else if (choice === KEEP_LINKED && linkable) {
    try {
      await keepLinked(services, created, linkable);
      void prompts.notify("info", `${path.basename(linkable)} stays linked to ${created.workspace}/${created.id}: push its changes from Source Control.`);
    } catch (error) {
      reportFailure(services, `Linking ${path.basename(linkable)}`, error);
    }
  }
}

export function registerShare(context: vscode.ExtensionContext, services: Services): void {
  registerCommand(context, services, "share", "Sharing", (arg, selected) => share(services, arg, selected));
}
