// bitbucketSnippets.search: "Search snippets", a live quick pick over the daemon's local index
// (bbsnippets.search, features/search.py: titles, file names and text, no request to Bitbucket), and
// opening a hit at its line. "Go to Symbol in Workspace" needs nothing here: the language client registers
// the daemon's workspace/symbol provider by itself (client.ts keeps those locations free of #L fragments).
//
// A hit's uri may carry #L{line}; it is taken apart by uri.ts before anything opens, so the document is the
// very one the tree or bbsnippets.open gives for that file (a fragment would make VS Code open a second one).

import * as vscode from "vscode";

import { RESTART_SERVER, SHOW_LOG, SIGN_IN, type Services, registerCommand } from "./command";
import { DAEMON_UNAVAILABLE, toDaemonError } from "./errors";
import * as prompts from "./prompts";
import { ErrorKind, SEARCH, type SearchHit } from "./protocol";
import { openSettings } from "./settings";
import * as snippetUri from "./uri";

/** How many hits the quick pick lists (the daemon answers at most 500). */
const LIMIT = 50;
/** While the index is still filling, the same query is asked again this often: more hits may come. */
const FILLING_AGAIN_MS = 2000;

/** What an item of the quick pick stands for: a hit, or something to do (sign in, turn search on, ...). */
export type Choice = { hit: SearchHit } | { action?: () => unknown };

/** A hit on a title (or a file name) rather than on a line of text. */
export function isTitleHit(hit: SearchHit): boolean {
  return hit.line === undefined && hit.preview !== hit.name;
}

function describeHit(hit: SearchHit): prompts.PickItem<Choice> {
  const title = hit.title || "(untitled)";
  const where = `${hit.workspace}/${hit.id}`;
  if (hit.line !== undefined) {
    return {
      label: prompts.literal(hit.preview.trim() || "(an empty line)"),
      description: prompts.literal(`${hit.name}:${hit.line}`),
      detail: prompts.literal(`${title} · ${where}`),
      iconPath: new vscode.ThemeIcon("symbol-string"),
      value: { hit },
    };
  }
  if (isTitleHit(hit)) {
    return {
      label: prompts.literal(title),
      description: prompts.literal(hit.name),
      detail: where,
      iconPath: new vscode.ThemeIcon("note"),
      value: { hit },
    };
  }
  return {
    label: prompts.literal(hit.name),
    description: prompts.literal(title),
    detail: where,
    iconPath: new vscode.ThemeIcon("file"),
    value: { hit },
  };
}

/** Several hits in one file (or on one snippet's title) as one item: insert wants files, not lines. */
function onePerFile(hits: SearchHit[]): SearchHit[] {
  const seen = new Set<string>();
  return hits.filter((hit) => {
    const key = isTitleHit(hit) ? `${hit.workspace}/${hit.id}` : snippetUri.fileAndLine(hit.uri).file;
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}

/** A failed search as one item that says why and, when chosen, does what helps. */
function failureItem(error: unknown): prompts.PickItem<Choice> {
  const failure = toDaemonError(error);
  const detail = prompts.literal(failure.message);
  if (failure.kind === ErrorKind.INVALID_ARGUMENT && /index/i.test(failure.message)) {
    return {
      label: "Search is off: turn on the bitbucketSnippets.indexing setting",
      detail,
      iconPath: new vscode.ThemeIcon("circle-slash"),
      value: { action: () => openSettings("indexing") },
    };
  }
  if (failure.kind === ErrorKind.NOT_AUTHENTICATED) {
    return {
      label: "Sign in to search your snippets",
      detail,
      iconPath: new vscode.ThemeIcon("sign-in"),
      value: { action: () => vscode.commands.executeCommand(SIGN_IN) },
    };
  }
  if (failure.kind === DAEMON_UNAVAILABLE) {
    return {
      label: "The snippet daemon is not running: restart it",
      detail,
      iconPath: new vscode.ThemeIcon("error"),
      value: { action: () => vscode.commands.executeCommand(RESTART_SERVER) },
    };
  }
  return { label: "Search failed: show the log", detail, iconPath: new vscode.ThemeIcon("error"), value: { action: () => vscode.commands.executeCommand(SHOW_LOG) } };
}

async function answer(services: Services, query: string, filesOnly: boolean): Promise<prompts.LiveAnswer<Choice>> {
  let result;
  try {
    result = await services.daemon.command(SEARCH, { query, limit: LIMIT });
  } catch (error) {
    services.log.debug(`search ${JSON.stringify(query)}: ${String(error)}`);
    return { items: [failureItem(error)] };
  }
  const hits = filesOnly ? onePerFile(result.results) : result.results;
  const filling = result.complete ? {} : { note: "index still filling: more hits may come", againAfterMs: FILLING_AGAIN_MS };
  if (hits.length === 0) {
    const why = result.complete
      ? "Titles, file names and the text of files are searched; every word must match."
      : "The index is still filling (contents are read a few at a time); try again in a moment.";
    return { items: [{ label: `No snippet matches "${prompts.literal(query)}"`, detail: why, value: {} }], ...filling };
  }
  return { items: hits.map(describeHit), ...filling };
}

/**
 * The live "Search snippets" quick pick; resolves to the chosen hit and the query it was found with. An
 * item that is not a hit (sign in, turn search on) does its action instead and resolves to undefined.
 */
export async function pickHit(
  services: Services,
  options: { title?: string; query?: string; filesOnly?: boolean } = {},
): Promise<{ hit: SearchHit; query: string } | undefined> {
  const picked = await prompts.livePick<Choice>({
    title: options.title ?? "Search snippets",
    placeholder: "Text, a title or a file name, from every snippet (substrings match, in the middle of words too)",
    value: options.query,
    answer: (query) => answer(services, query, options.filesOnly ?? false),
  });
  if (!picked) {
    return undefined;
  }
  const choice = picked.item;
  if ("hit" in choice) {
    return { hit: choice.hit, query: picked.value };
  }
  await choice.action?.();
  return undefined;
}

/** Where on a line the query matched: the first of its words found there (matching is case-insensitive). */
function matchOn(text: string, query: string): { column: number; length: number } | undefined {
  const lower = text.toLowerCase();
  for (const word of query.trim().split(/\s+/).filter(Boolean)) {
    const column = lower.indexOf(word.toLowerCase());
    if (column >= 0) {
      return { column, length: word.length };
    }
  }
  return undefined;
}

/** Open a hit's file (the same document as from the tree) at its line, with what matched selected there. */
export async function openHit(hit: SearchHit, query = ""): Promise<vscode.TextEditor> {
  const { file, line: fragmentLine } = snippetUri.fileAndLine(hit.uri);
  const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(file));
  const line = Math.min(Math.max((hit.line ?? fragmentLine ?? 1) - 1, 0), Math.max(document.lineCount - 1, 0));
  const match = hit.line !== undefined ? matchOn(document.lineAt(line).text, query) : undefined;
  const selection = match
    ? new vscode.Range(line, match.column, line, match.column + match.length)
    : new vscode.Range(line, 0, line, 0);
  const editor = await vscode.window.showTextDocument(document, { selection, preview: false });
  editor.revealRange(selection, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  return editor;
}

function queryOf(arg: unknown): string | undefined {
  const query = typeof arg === "object" && arg !== null ? (arg as { query?: unknown }).query : undefined;
  return typeof query === "string" && query.trim() ? query : undefined;
}

export function registerSearch(context: vscode.ExtensionContext, services: Services): void {
  // {query}: open pre-filled. Returns where it opened ({uri, line}), for scripts and tests.
  registerCommand(context, services, "search", "Searching snippets", async (arg) => {
    const picked = await pickHit(services, { query: queryOf(arg) });
    if (!picked) {
      return undefined;
    }
    const editor = await openHit(picked.hit, picked.query);
    return { uri: editor.document.uri.toString(), line: editor.selection.start.line + 1 };
  });
}
