// The daemon's features/patch.py in VS Code: "Share Changes as Patch" (bbsnippets.shareDiff: the daemon runs
// git diff in the folder's repository and makes a private snippet of one .patch file) and "Apply Patch to
// Workspace" (bbsnippets.applyPatch: a dry run first, its result shown to the user, then, if they agree, the
// real one: all or nothing, never outside the chosen folder).
//
// bitbucketSnippets.shareDiff: from the Source Control view's title (a repository's rootUri) or the palette.
// With {folder, staged?, includeUntracked?, title?, isPrivate?, workspace?} it does not prompt.
// bitbucketSnippets.applyPatch: on a .patch/.diff snippet file (tree, editor) or the palette. With
// {workspace, id, path?, folder?} it does not ask which snippet or folder; `preview: false` skips the
// question (the dry run still decides whether anything is written).

import * as path from "node:path";

import * as vscode from "vscode";

import { OPEN_SNIPPET, type Services, booleanField, namedSnippet, registerCommand, stringField } from "./command";
import { count, patchCounts, patchFailure, patchLines } from "./changes";
import { withSecretCheck } from "./errors";
import * as prompts from "./prompts";
import { APPLY_PATCH, type ApplyPatchResult, SHARE_DIFF, type ShareDiffParams, type ShareDiffResult } from "./protocol";
import { COPY_LINK, OPEN_IN_BROWSER, OPEN_IN_EDITOR } from "./share";
import { readSettings } from "./settings";

export const APPLY = "Apply";

type Which = Pick<ShareDiffParams, "staged" | "includeUntracked">;

function fileFolders(): vscode.WorkspaceFolder[] {
  return vscode.workspace.workspaceFolders?.filter((folder) => folder.uri.scheme === "file") ?? [];
}

/** A workspace folder: the only one, else the user picks (undefined: cancelled or none). */
async function pickWorkspaceFolder(title: string): Promise<string | undefined> {
  const folders = fileFolders();
  if (folders.length <= 1) {
    return folders[0]?.uri.fsPath;
  }
  return prompts.pick(
    title,
    folders.map((folder) => ({ label: folder.name, description: folder.uri.fsPath, value: folder.uri.fsPath })),
  );
}

/** The folder whose changes to share: a SourceControl's root (scm/title), a file Uri, {folder}, the active file's, or picked. */
async function changesFolder(arg: unknown): Promise<string | undefined> {
  const given = stringField(arg, "folder");
  if (given) {
    return path.resolve(given);
  }
  // From the Source Control view's title: the repository's SourceControl (git's, an object of another
  // extension: its rootUri may arrive as plain URI components).
  const root = typeof arg === "object" && arg !== null && "rootUri" in arg ? (arg as { rootUri?: vscode.Uri | { scheme: string; path: string } }).rootUri : undefined;
  const uri = root ? (root instanceof vscode.Uri ? root : vscode.Uri.from(root)) : arg instanceof vscode.Uri ? arg : undefined;
  if (uri?.scheme === "file") {
    return uri.fsPath;
  }
  const active = vscode.window.activeTextEditor?.document.uri;
  const activeFolder = active && vscode.workspace.getWorkspaceFolder(active);
  if (activeFolder?.uri.scheme === "file") {
    return activeFolder.uri.fsPath;
  }
  return pickWorkspaceFolder("Share the changes of which folder?");
}

async function shareDiff(services: Services, arg: unknown): Promise<ShareDiffResult | undefined> {
  const folder = await changesFolder(arg);
  if (!folder) {
    void prompts.notify("info", "Open a folder that is in a git repository to share its changes as a patch.");
    return undefined;
  }
  const scripted = stringField(arg, "folder") !== undefined;
  const settings = readSettings();
  let which: Which = { staged: booleanField(arg, "staged") ?? false, includeUntracked: booleanField(arg, "includeUntracked") ?? false };
  let isPrivate = booleanField(arg, "isPrivate") ?? true;
  if (!scripted) {
    const picked = await prompts.pick<Which>(`Share which changes of ${path.basename(folder)}?`, [
      { label: "Unstaged changes", description: "git diff", value: { staged: false, includeUntracked: false } },
      { label: "Unstaged changes and new files", description: "git diff, untracked files added as new", value: { staged: false, includeUntracked: true } },
      { label: "Staged changes", description: "git diff --staged", value: { staged: true, includeUntracked: false } },
    ]);
    if (!picked) {
      return undefined;
    }
    which = picked;
    const visibility = await prompts.pick("Who can see the patch?", [
      { label: "Private", description: "visible to the workspace's members", value: true },
      { label: "Public", description: "anyone, and search engines", value: false },
    ]);
    if (visibility === undefined) {
      return undefined;
    }
    isPrivate = visibility;
  }
  const params: ShareDiffParams = {
    folder,
    ...which,
    isPrivate,
    title: stringField(arg, "title"),
    workspace: stringField(arg, "workspace") ?? (settings.workspace || undefined),
  };
  const attempt = (allowSecrets: boolean) =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Sharing the changes in ${path.basename(folder)}…` }, () =>
      services.daemon.command(SHARE_DIFF, { ...params, allowSecrets }),
    );
  const shared = await withSecretCheck("Not shared", attempt, prompts.notify, booleanField(arg, "allowSecrets"));
  if (!shared) {
    return undefined;
  }
  services.tree.refresh();
  void offerPatchLink(shared);
  return shared;
}

async function offerPatchLink(shared: ShareDiffResult): Promise<void> {
  const leftOut = shared.leftOut.length
    ? ` Left out: ${shared.leftOut.map((file) => `${file.name} (${file.reason})`).join(", ")}.`
    : "";
  const choice = await prompts.notify(
    shared.leftOut.length ? "warning" : "info",
    `Shared the changes to ${count(shared.files.length)} as a ${shared.isPrivate ? "private" : "public"} patch: ${shared.htmlUrl ?? shared.uri}.${leftOut}`,
    COPY_LINK,
    OPEN_IN_BROWSER,
    OPEN_IN_EDITOR,
  );
  if (choice === COPY_LINK && shared.htmlUrl) {
    await vscode.env.clipboard.writeText(shared.htmlUrl);
  } else if (choice === OPEN_IN_BROWSER && shared.htmlUrl) {
    await vscode.env.openExternal(vscode.Uri.parse(shared.htmlUrl));
  } else if (choice === OPEN_IN_EDITOR) {
    await vscode.commands.executeCommand(OPEN_SNIPPET, { workspace: shared.workspace, id: shared.id, path: shared.name });
  }
}

async function applyPatch(services: Services, arg: unknown): Promise<ApplyPatchResult | undefined> {
  const ref = await namedSnippet(services, arg);
  if (!ref) {
    return undefined;
  }
  const patchPath = ref.path && /\.(patch|diff)$/i.test(ref.path) ? ref.path : stringField(arg, "path");
  const folder = stringField(arg, "folder") ?? (await pickWorkspaceFolder(`Apply ${patchPath ?? "the patch"} to which folder?`));
  if (!folder) {
    void prompts.notify("info", "Open a folder to apply a patch to.");
    return undefined;
  }
  const params = { workspace: ref.workspace, id: ref.id, path: patchPath, folder: path.resolve(folder) };
  const name = path.basename(params.folder);
  const preview = await services.daemon.command(APPLY_PATCH, { ...params, dryRun: true });
  if (!preview.applied) {
    void prompts.notify("error", patchFailure(preview, name));
    return preview;
  }
  if (preview.files.length === 0) {
    void prompts.notify("info", `The patch changes no file of ${name}.`);
    return preview;
  }
  if (booleanField(arg, "preview") !== false) {
    const choice = await prompts.modal(
      `Apply the patch to ${name} (${patchCounts(preview)})?`,
      patchLines(preview).join("\n"),
      APPLY,
    );
    if (choice !== APPLY) {
      return undefined;
    }
  }
  const result = await services.daemon.command(APPLY_PATCH, { ...params, dryRun: false });
  if (!result.applied) {
    // The folder changed between the preview and now: still all or nothing.
    void prompts.notify("error", patchFailure(result, name));
    return result;
  }
  void prompts.notify("info", `Applied the patch to ${name}: ${patchCounts(result)}.`);
  return result;
}

export function registerPatch(context: vscode.ExtensionContext, services: Services): void {
  registerCommand(context, services, "shareDiff", "Sharing the changes", (arg) => shareDiff(services, arg));
  registerCommand(context, services, "applyPatch", "Applying the patch", (arg) => applyPatch(services, arg));
}
