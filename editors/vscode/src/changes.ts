// Words for what the round trip with a folder did or would do (push.ts, patch.ts, history.ts's restore), and
// which snippet file a local path is. Pure: no `vscode` import, so node --test checks it.

import * as path from "node:path";

import type { ApplyPatchResult, LinkInfo, PatchedFile, PushResult, RestoreResult, StatusResult } from "./protocol";

/** "1 file" / "3 files". */
export function count(n: number, what = "file"): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

/**
 * The snippet file a local path is under a link (its name relative to the linked folder, "/"-separated), or
 * undefined when the path is outside it (or is the folder). A linked file is the snippet file `link.file`.
 */
export function snippetName(link: Pick<LinkInfo, "folder" | "file">, localPath: string, pathModule: typeof path = path): string | undefined {
  const folder = pathModule.resolve(link.folder);
  const target = pathModule.resolve(localPath);
  if (link.file !== undefined) {
    return target === folder ? link.file : undefined;
  }
  const relative = pathModule.relative(folder, target);
  if (!relative || relative.startsWith("..") || pathModule.isAbsolute(relative)) {
    return undefined;
  }
  return relative.split(pathModule.sep).join("/");
}

/** The tracked files a push would send (modified or deleted), in the order status gives them. */
export function changedFiles(status: Pick<StatusResult, "files">): StatusResult["files"] {
  return status.files.filter((file) => file.state !== "unchanged");
}

/** After a push: "Pushed 2 files to demo/abc (1 changed, 1 deleted)." or that nothing needed sending. */
export function describePush(result: PushResult, snippet: string): string {
  if (result.files.length === 0) {
    return `Nothing to push: every tracked file is as ${snippet} has it.`;
  }
  const sent = result.files.filter((file) => file.status === "sent").length;
  const deleted = result.files.length - sent;
  const parts = [sent > 0 ? `${sent} changed` : "", deleted > 0 ? `${deleted} deleted` : ""].filter(Boolean);
  return `Pushed ${count(result.files.length)} to ${snippet} (${parts.join(", ")}).`;
}

const PATCH_VERBS: Record<PatchedFile["status"], string> = {
  applied: "change",
  created: "create",
  deleted: "delete",
  failed: "fails",
  refused: "refused",
};

function patchName(file: PatchedFile): string {
  return file.name ?? file.path;
}

/** One line per file of a patch's (dry-run) result: "change  src/a.py", "create  b.txt (renamed from a.txt)". */
export function patchLines(result: ApplyPatchResult): string[] {
  return result.files.map((file) => {
    const why = file.message ? ` (${file.message})` : "";
    return `${PATCH_VERBS[file.status]}  ${patchName(file)}${why}`;
  });
}

/** "2 changed, 1 new, 1 deleted" for what a patch does (or did). */
export function patchCounts(result: ApplyPatchResult): string {
  const of = (status: PatchedFile["status"]) => result.files.filter((file) => file.status === status).length;
  const parts = [
    of("applied") ? `${of("applied")} changed` : "",
    of("created") ? `${of("created")} new` : "",
    of("deleted") ? `${of("deleted")} deleted` : "",
  ].filter(Boolean);
  return parts.join(", ") || "no files";
}

/** Why a patch does not apply: the files that fail or are refused, each with why. Nothing was changed. */
export function patchFailure(result: ApplyPatchResult, folderName: string): string {
  const bad = result.files.filter((file) => file.status === "failed" || file.status === "refused");
  const reasons = bad.map((file) => `${patchName(file)}${file.message ? `: ${file.message}` : ""}`);
  return `The patch does not apply to ${folderName}, so nothing was changed. ${reasons.join("; ")}${reasons.length ? "." : ""}`.trim();
}

/** After a restore: which files came back, or that the snippet already held that version. */
export function describeRestore(result: RestoreResult, snippet: string, revision: string): string {
  const at = revision.slice(0, 12);
  if (result.files.length === 0) {
    return `${snippet} already holds the version of ${at}: nothing to restore.`;
  }
  const what = result.files.length === 1 ? result.files[0] : count(result.files.length);
  return `Restored ${what} of ${snippet} as at ${at}: a new version on Bitbucket${result.revision ? ` (${result.revision.slice(0, 12)})` : ""}.`;
}
