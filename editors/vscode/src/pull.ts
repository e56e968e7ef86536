// bitbucketSnippets.pull: a snippet's files into a folder the user chose (features/pull.py does the
// writing, path-safe and byte-exact). It asks before overwriting, and only about the files the daemon
// reports as `exists` (a differing local file); it says which names were refused as unsafe.
// With {workspace, id, folder?, overwrite?} it does not ask which snippet or folder; `overwrite` true or
// false answers the overwrite question in advance.

import * as path from "node:path";

import * as vscode from "vscode";

import { type Services, namedSnippet, registerCommand } from "./command";
import * as prompts from "./prompts";
import { PULL, type PullFile, type PullResult } from "./protocol";
import { linksChanged } from "./push";

export const OVERWRITE = "Overwrite";

function field<T>(arg: unknown, name: string, type: "string" | "boolean"): T | undefined {
  const value = typeof arg === "object" && arg !== null ? (arg as Record<string, unknown>)[name] : undefined;
  return typeof value === type ? (value as T) : undefined;
}

async function chooseFolder(snippetId: string): Promise<string | undefined> {
  const folders = vscode.workspace.workspaceFolders?.filter((folder) => folder.uri.scheme === "file") ?? [];
  const choose = "Choose a folder…";
  const picked = await prompts.pick(`Pull ${snippetId} into which folder?`, [
    ...folders.map((folder) => ({ label: folder.name, description: folder.uri.fsPath, value: folder.uri.fsPath })),
    { label: choose, value: "" },
  ]);
  if (picked === undefined) {
    return undefined;
  }
  if (picked) {
    return picked;
  }
  const chosen = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    defaultUri: folders[0]?.uri,
    openLabel: "Pull here",
  });
  return chosen?.[0]?.fsPath;
}

function names(files: PullFile[], predicate: (file: PullFile) => boolean): string[] {
  return files.filter(predicate).map((file) => file.name);
}

/** One line for the user: what was written, kept, refused. */
export function summarize(result: PullResult, folder: string): string {
  const files = result.files ?? [];
  const parts = [`${result.written.length} written`, `${result.unchanged.length} already up to date`];
  const kept = names(files, (file) => file.status === "kept");
  const refused = names(files, (file) => file.status === "refused");
  const failed = files.filter((file) => file.status === "failed");
  if (kept.length > 0) {
    parts.push(`kept your differing ${kept.join(", ")}`);
  }
  if (refused.length > 0) {
    parts.push(`refused as unsafe names: ${refused.join(", ")}`);
  }
  if (failed.length > 0) {
    parts.push(`failed: ${failed.map((file) => `${file.name} (${file.message ?? "error"})`).join(", ")}`);
  }
  return `Pulled into ${folder}: ${parts.join("; ")}.`;
}

export function registerPull(context: vscode.ExtensionContext, services: Services): void {
  registerCommand(context, services, "pull", "Pulling the snippet", async (arg) => {
    const ref = await namedSnippet(services, arg);
    if (!ref) {
      return undefined;
    }
    let folder = field<string>(arg, "folder", "string");
    if (!folder) {
      folder = ref.scripted ? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath : await chooseFolder(ref.id);
    }
    if (!folder) {
      return undefined;
    }
    folder = path.resolve(folder);
    const answer = field<boolean>(arg, "overwrite", "boolean");
    const params = { workspace: ref.workspace, id: ref.id, targetDir: folder };
    let result = await services.daemon.command(PULL, { ...params, overwrite: answer === true });
    const differing = names(result.files ?? [], (file) => file.status === "kept" && file.kind === "exists");
    if (differing.length > 0 && answer === undefined) {
      const choice = await prompts.modal(
        `Overwrite ${differing.length === 1 ? "1 file" : `${differing.length} files`} in ${path.basename(folder)} that ${differing.length === 1 ? "differs" : "differ"} from the snippet?`,
        differing.join("\n"),
        OVERWRITE,
      );
      if (choice === OVERWRITE) {
        const again = await services.daemon.command(PULL, { ...params, overwrite: true });
        // The first pull already wrote the others; the report covers both.
        result = { ...again, written: [...new Set([...result.written, ...again.written])] };
      }
    }
    linksChanged(); // the daemon linked the folder to the snippet: its Source Control shows up
    const refused = names(result.files ?? [], (file) => file.status === "refused");
    void prompts.notify(refused.length > 0 ? "warning" : "info", summarize(result, folder));
    return result;
  });
}
