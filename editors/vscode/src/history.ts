// bitbucketSnippets.history: a quick pick of the snippet's commits, then a file at that revision
// (read-only: ?rev= URIs), its diff against HEAD, or "Restore this version" of the file or of the whole
// snippet (bbsnippets.restore: one new commit). With {workspace, id, revision, path?, action?} it does not
// prompt ("open", "diff" or "restore"; open/diff take the first file when no path is given, restore without
// a path restores every file).

import * as vscode from "vscode";

import { describeRestore } from "./changes";
import { type Services, namedSnippet, registerCommand } from "./command";
import * as prompts from "./prompts";
import { type CommitInfo, HISTORY, OPEN, RESTORE, type RestoreResult } from "./protocol";
import * as snippetUri from "./uri";

type HistoryAction = "open" | "diff" | "restore" | "restoreAll";

function field(arg: unknown, name: string): string | undefined {
  const value = typeof arg === "object" && arg !== null ? (arg as Record<string, unknown>)[name] : undefined;
  return typeof value === "string" ? value : undefined;
}

function describeCommit(commit: CommitInfo): prompts.PickItem<string> {
  const date = commit.date ? new Date(commit.date).toLocaleString() : "";
  return {
    label: `${commit.hash.slice(0, 12)} ${commit.message.split("\n")[0] || "(no message)"}`,
    description: `${commit.author}${date ? ` · ${date}` : ""}`,
    value: commit.hash,
  };
}

export function registerHistory(context: vscode.ExtensionContext, services: Services): void {
  registerCommand(context, services, "history", "Showing the history", async (arg) => {
    const ref = await namedSnippet(services, arg);
    if (!ref) {
      return undefined;
    }
    let revision = field(arg, "revision");
    if (!revision) {
      const { commits } = await services.daemon.command(HISTORY, { workspace: ref.workspace, id: ref.id });
      if (ref.scripted && !revision) {
        return commits;
      }
      revision = await prompts.pick(`History of ${ref.workspace}/${ref.id}`, commits.map(describeCommit));
      if (!revision) {
        return undefined;
      }
    }
    if (ref.scripted && field(arg, "action") === "restore") {
      return restore(services, ref, revision, ref.path ?? field(arg, "path"));
    }
    const atRevision = await services.daemon.command(OPEN, { workspace: ref.workspace, id: ref.id, revision });
    let path = ref.path ?? field(arg, "path");
    if (!path) {
      path =
        ref.scripted || atRevision.files.length === 1
          ? atRevision.files[0]?.name
          : await prompts.pick("Which file?", atRevision.files.map((file) => ({ label: file.name, value: file.name })));
    }
    if (!path) {
      return undefined;
    }
    let action = (field(arg, "action") ?? "open") as HistoryAction | undefined;
    if (!ref.scripted) {
      action = await prompts.pick<HistoryAction>(`${path} at ${revision.slice(0, 12)}`, [
        { label: "Open this revision", description: "read-only", value: "open" },
        { label: "Compare with the current version", value: "diff" },
        { label: "Restore this file to this version", description: "as a new version", value: "restore" },
        { label: "Restore the whole snippet to this version", description: "every file, as a new version", value: "restoreAll" },
      ]);
    }
    if (action === "restore" || action === "restoreAll") {
      return restore(services, ref, revision, action === "restore" ? path : undefined);
    }
    const old = vscode.Uri.parse(snippetUri.snippetUri(ref.workspace, ref.id, path, revision));
    const name = snippetUri.baseName(path);
    if (action === "diff") {
      const head = vscode.Uri.parse(snippetUri.snippetUri(ref.workspace, ref.id, path));
      await vscode.commands.executeCommand("vscode.diff", old, head, `${name} (${revision.slice(0, 8)}) ↔ ${name} (current)`);
      return old.toString();
    }
    if (action === "open") {
      await vscode.window.showTextDocument(old, { preview: true });
      return old.toString();
    }
    return undefined;
  });
}

/** bbsnippets.restore: the file (or every file) as it was at `revision`, as one new commit on Bitbucket. */
async function restore(services: Services, ref: { workspace: string; id: string }, revision: string, path: string | undefined): Promise<RestoreResult> {
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Restoring ${path ?? `${ref.workspace}/${ref.id}`}…` },
    () => services.daemon.command(RESTORE, { workspace: ref.workspace, id: ref.id, revision, path }),
  );
  if (result.files.length > 0) {
    // restore sends no didChange (docs/protocol.md): the open documents of the snippet are ours to refresh.
    services.fileSystem.changedHere(ref.workspace, ref.id);
    services.tree.refresh();
  }
  void prompts.notify("info", describeRestore(result, `${ref.workspace}/${ref.id}`, revision));
  return result;
}
