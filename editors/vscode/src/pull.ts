// bitbucketSnippets.pull: a snippet's files into a folder (features/pull.py does the writing, path-safe and
// byte-exact): the folder the user names, exactly; else a new folder named after the snippet's id inside the
// first workspace folder (offered first when asking), as every tool does. It asks before overwriting, and only about the files the daemon
// reports as `exists` (a differing local file); it says which names were refused as unsafe.
// With {workspace, id, folder?, overwrite?} it does not ask which snippet or folder (no folder: {first}/{id}); `overwrite` true or
// false answers the overwrite question in advance.

import * as path from "node:path";

import * as vscode from "vscode";

import { type Services, namedSnippet, registerCommand } from "./command";
import { DaemonError } from "./errors";
import * as prompts from "./prompts";
import { ErrorKind, PULL, type PullFile, type PullResult } from "./protocol";
import { linksChanged } from "./push";

export const OVERWRITE = "Overwrite";

function field<T>(arg: unknown, name: string, type: "string" | "boolean"): T | undefined {
  const value = typeof arg === "object" && arg !== null ? (arg as Record<string, unknown>)[name] : undefined;
  return typeof value === type ? (value as T) : undefined;
}

/** Where the files go: `{targetDir}` exactly (a folder the user chose), or `{baseDir}`: a new folder {id} inside it. */
type Destination = { targetDir: string } | { baseDir: string };

/** The workspace folders on disk (a virtual workspace has none). */
function diskFolders(): readonly vscode.WorkspaceFolder[] {
  return vscode.workspace.workspaceFolders?.filter((folder) => folder.uri.scheme === "file") ?? [];
}

async function chooseFolder(snippetId: string): Promise<Destination | undefined> {
  const folders = diskFolders();
  const picked = await prompts.pick<Destination | "choose">(`Pull ${snippetId} into which folder?`, [
    ...folders.map((folder) => ({
      label: `${folder.name}/${snippetId}`,
      description: `a new folder named after the snippet, in ${folder.uri.fsPath}`,
      value: { baseDir: folder.uri.fsPath },
    })),
    { label: "Choose a folder…", description: "the files go straight into the folder you choose", value: "choose" as const },
  ]);
  if (picked !== "choose") {
    return picked;
  }
  const chosen = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    defaultUri: folders[0]?.uri,
    openLabel: "Pull here",
  });
  return chosen?.[0] ? { targetDir: chosen[0].fsPath } : undefined;
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
    // A folder the user names is exact; with none, a new folder named after the snippet's id inside the first
    // workspace folder (the daemon's baseDir: the one default every tool shares), never the project's root.
    const named = field<string>(arg, "folder", "string");
    const base = diskFolders()[0]?.uri.fsPath;
    const destination: Destination | undefined = named
      ? { targetDir: path.resolve(named) }
      : ref.scripted
        ? base === undefined
          ? undefined
          : { baseDir: base }
        : await chooseFolder(ref.id);
    if (!destination) {
      if (ref.scripted && !named) {
        throw new DaemonError("Pulling needs a folder on disk: open one, or name it ({folder}).", ErrorKind.INVALID_ARGUMENT);
      }
      return undefined;
    }
    const answer = field<boolean>(arg, "overwrite", "boolean");
    const snippet = { workspace: ref.workspace, id: ref.id };
    let result = await services.daemon.command(PULL, { ...snippet, ...destination, overwrite: answer === true });
    const folder = result.targetDir ?? ("targetDir" in destination ? destination.targetDir : path.join(destination.baseDir, ref.id));
    const differing = names(result.files ?? [], (file) => file.status === "kept" && file.kind === "exists");
    if (differing.length > 0 && answer === undefined) {
      const choice = await prompts.modal(
        `Overwrite ${differing.length === 1 ? "1 file" : `${differing.length} files`} in ${path.basename(folder)} that ${differing.length === 1 ? "differs" : "differ"} from the snippet?`,
        differing.join("\n"),
        OVERWRITE,
      );
      if (choice === OVERWRITE) {
        // Asked again to overwrite: the same folder, exactly.
        const again = await services.daemon.command(PULL, { ...snippet, targetDir: folder, overwrite: true });
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
