// bitbucketSnippets.insert: a snippet file's text at the cursor, replacing the selection (each one, with
// several cursors), as plain text (not a snippet string: "$1" and "${" stay as they are), in one undo step.
//
// Which file: {workspace, id, path} inserts without asking; {query} offers the search hits (one per file);
// otherwise the default workspace's snippets, then the file. The text is read through the daemon
// (bbsnippets/readFile: from its cache when the snippet was read before, else one request for all its
// files). Binary files are refused with a message (Pull into Workspace writes their bytes to disk).

import * as vscode from "vscode";

import { type Services, registerCommand } from "./command";
import * as prompts from "./prompts";
import { type FileInfo, LIST, OPEN, READ_FILE } from "./protocol";
import { isTitleHit, pickHit } from "./search";
import * as snippetUri from "./uri";

interface FileRef {
  workspace: string;
  id: string;
  path: string;
}

export interface InsertResult {
  /** The inserted file's bbsnippet:// URI. */
  uri: string;
  /** How many characters went in at each selection. */
  length: number;
}

function field(arg: unknown, name: string): string | undefined {
  const value = typeof arg === "object" && arg !== null ? (arg as Record<string, unknown>)[name] : undefined;
  return typeof value === "string" && value !== "" ? value : undefined;
}

function describeFile(file: FileInfo): prompts.PickItem<FileInfo> {
  return {
    label: file.name,
    description: file.binary ? `binary · ${file.size} bytes · cannot be inserted` : `${file.size} bytes`,
    value: file,
  };
}

/** Which file of a snippet: the only one, or the user's pick. */
async function fileOf(services: Services, workspace: string, id: string, title?: string): Promise<FileRef | undefined> {
  const opened = await services.daemon.command(OPEN, { workspace, id });
  if (opened.files.length === 0) {
    void prompts.notify("warning", `The snippet ${workspace}/${id} has no files to insert.`);
    return undefined;
  }
  const file =
    opened.files.length === 1
      ? opened.files[0]
      : await prompts.pick(`Insert which file of "${title || opened.title || id}"?`, opened.files.map(describeFile));
  return file && { workspace: opened.workspace, id: opened.id, path: file.name };
}

/** From search hits: a file hit is that file; a title hit is the snippet (its file is asked next). */
async function fromSearch(services: Services, query?: string): Promise<FileRef | undefined> {
  const picked = await pickHit(services, { title: "Insert a snippet file", query, filesOnly: true });
  if (!picked) {
    return undefined;
  }
  const { hit } = picked;
  if (isTitleHit(hit)) {
    return fileOf(services, hit.workspace, hit.id, hit.title);
  }
  const target = snippetUri.parse(snippetUri.fileAndLine(hit.uri).file);
  return snippetUri.isFile(target) ? { workspace: target.workspace, id: target.id, path: target.path } : undefined;
}

const SEARCH_ALL = Symbol("search all snippets");

/** The default workspace's snippets (or a search of all of them), then the file. */
async function fromList(services: Services): Promise<FileRef | undefined> {
  const { snippets } = await services.daemon.command(LIST, {});
  const items: prompts.PickItem<typeof SEARCH_ALL | { workspace: string; id: string; title: string }>[] = [
    { label: "$(search) Search all snippets…", description: "by text, title or file name", value: SEARCH_ALL },
    ...snippets.map((snippet) => ({
      label: prompts.literal(snippet.title || snippet.id),
      description: `${snippet.workspace}/${snippet.id}${snippet.isPrivate ? " · private" : ""}`,
      value: { workspace: snippet.workspace, id: snippet.id, title: snippet.title },
    })),
  ];
  const chosen = await prompts.pick("Insert from which snippet?", items);
  if (chosen === undefined) {
    return undefined;
  }
  return chosen === SEARCH_ALL ? fromSearch(services) : fileOf(services, chosen.workspace, chosen.id, chosen.title);
}

async function chooseFile(services: Services, arg: unknown): Promise<FileRef | undefined> {
  const workspace = field(arg, "workspace");
  const id = field(arg, "id");
  if (workspace && id) {
    const path = field(arg, "path");
    return path ? { workspace, id, path } : fileOf(services, workspace, id);
  }
  const query = field(arg, "query");
  return query ? fromSearch(services, query) : fromList(services);
}

/** Put `file`'s text at every selection of `editor`, as one edit (one undo step). */
async function insertFile(services: Services, editor: vscode.TextEditor, file: FileRef): Promise<InsertResult | undefined> {
  const uri = snippetUri.snippetUri(file.workspace, file.id, file.path);
  const where = `${file.workspace}/${file.id}/${file.path}`;
  const { text } = await services.daemon.request(READ_FILE, { uri });
  if (text === undefined || text === null) {
    void prompts.notify("warning", `${where} is a binary file: Insert puts text only (Pull into Workspace writes its bytes to disk).`);
    return undefined;
  }
  if (text === "") {
    void prompts.notify("info", `${where} is empty: nothing inserted.`);
    return undefined;
  }
  let inserted = false;
  try {
    inserted = await editor.edit(
      (builder) => {
        for (const selection of editor.selections) {
          builder.replace(selection, text);
        }
      },
      { undoStopBefore: true, undoStopAfter: true },
    );
  } catch (error) {
    services.log.debug(`insert: ${String(error)}`);
  }
  if (!inserted) {
    void prompts.notify("warning", `${where} was not inserted: the editor was closed or cannot be edited.`);
    return undefined;
  }
  return { uri, length: text.length };
}

export function registerInsert(context: vscode.ExtensionContext, services: Services): void {
  registerCommand(context, services, "insert", "Inserting a snippet file", async (arg) => {
    // The editor the command was run in: the pickers that follow do not change it.
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void prompts.notify("info", "Open the file to insert into first: Insert puts a snippet file's text at its cursor.");
      return undefined;
    }
    const file = await chooseFile(services, arg);
    return file ? insertFile(services, editor, file) : undefined;
  });
}
