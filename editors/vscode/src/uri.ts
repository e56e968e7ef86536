// The one module that builds or takes apart bbsnippet:// URIs (snippet_daemon/uri.py is its twin).
// Everything else treats them as opaque strings or vscode.Uri values. Pure: no `vscode` import.
//
// Accepted forms ({path} may contain "/"; every segment is percent-encoded):
//   bbsnippet://{workspace}/                        the workspace's snippets, as directories
//   bbsnippet://{workspace}/{id}/                   a snippet, as a directory of its files
//   bbsnippet://{workspace}/{id}                    the same (no trailing slash)
//   bbsnippet://{workspace}/{id}/{path}             a file at HEAD (read/write)
//   bbsnippet://{workspace}/{id}/{path}?rev={hash}  a file at a revision (read-only)
//   bbsnippet://{workspace}/{id}/{path}#L{line}     the same file, pointing at a line (search hits)
//
// The #L{line} fragment never changes which file a URI names, so it must never reach a document: VS Code
// would open a second document for the same file. fileAndLine() takes it off before anything is opened.

import { URI_SCHEME } from "./protocol";

export interface SnippetUri {
  workspace: string;
  /** Absent: the workspace itself. */
  id?: string;
  /** Absent: the snippet as a directory. */
  path?: string;
  /** Present: a read-only revision. */
  revision?: string;
  /** Where to look (1-based, from #L{line}); not part of which file it is. */
  line?: number;
}

export class InvalidSnippetUri extends Error {}

// The characters Python's quote(segment, safe="-._~!$&'()*+,;=:@") leaves alone, so both codecs agree.
function quote(segment: string): string {
  return encodeURIComponent(segment).replace(/%(21|24|26|27|28|29|2A|2B|2C|3B|3D|3A|40)/gi, (match) =>
    decodeURIComponent(match),
  );
}

function unquote(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InvalidSnippetUri(`${segment} is not valid percent-encoding`);
  }
}

/** The canonical text of a snippet URI (the daemon accepts any encoding; this one matches its own). */
export function format(target: SnippetUri): string {
  let text = `${URI_SCHEME}://${quote(target.workspace)}/`;
  if (target.id !== undefined) {
    text += `${quote(target.id)}/`;
    if (target.path !== undefined) {
      text += target.path.split("/").map(quote).join("/");
    }
  }
  if (target.revision !== undefined) {
    text += `?rev=${quote(target.revision)}`;
  }
  if (target.line !== undefined) {
    text += `#L${target.line}`;
  }
  return text;
}

export function snippetUri(workspace: string, id: string, path?: string, revision?: string): string {
  return format({ workspace, id, path, revision });
}

/** `text` as a SnippetUri; InvalidSnippetUri when it is not one. */
export function parse(text: string): SnippetUri {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(text);
  if (!match || match[1].toLowerCase() !== URI_SCHEME || !match[2]) {
    throw new InvalidSnippetUri(`${text} is not a snippet URI; expected ${URI_SCHEME}://WORKSPACE/ID/PATH`);
  }
  const workspace = unquote(match[2]);
  let revision: string | undefined;
  if (match[4] !== undefined && match[4] !== "") {
    // VS Code's Uri.toString() writes "?rev%3DHASH": decode before splitting.
    const rev = unquote(match[4])
      .split("&")
      .map((pair) => [pair.slice(0, pair.indexOf("=") < 0 ? pair.length : pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)])
      .find(([key]) => key === "rev");
    if (!rev || !rev[1]) {
      throw new InvalidSnippetUri(`${text}: a snippet URI's only query is ?rev=HASH`);
    }
    revision = rev[1];
  }
  let line: number | undefined;
  if (match[5] !== undefined && match[5] !== "") {
    const found = /^L([1-9][0-9]*)$/.exec(match[5]);
    if (!found) {
      throw new InvalidSnippetUri(`${text}: a snippet URI's only fragment is #L{line}`);
    }
    line = Number(found[1]);
  }
  const segments = match[3].split("/").slice(1);
  if (segments.length > 0 && segments[segments.length - 1] === "") {
    segments.pop();
  }
  if (segments.length === 0) {
    return withOptional({ workspace }, revision, line);
  }
  const id = unquote(segments[0]);
  const fileSegments = segments.slice(1).map(unquote);
  if (!id || fileSegments.some((segment) => segment === "" || segment === "." || segment === "..")) {
    throw new InvalidSnippetUri(`${text} has an empty, '.' or '..' path segment`);
  }
  const result: SnippetUri = { workspace, id };
  if (fileSegments.length > 0) {
    result.path = fileSegments.join("/");
  }
  return withOptional(result, revision, line);
}

function withOptional(target: SnippetUri, revision: string | undefined, line: number | undefined): SnippetUri {
  if (revision !== undefined) {
    target.revision = revision;
  }
  if (line !== undefined) {
    target.line = line;
  }
  return target;
}

/** A search hit's URI taken apart: the file to open (no fragment) and the line to show (1-based, if any). */
export function fileAndLine(text: string): { file: string; line?: number } {
  const target = parse(text);
  const line = target.line;
  delete target.line;
  return line === undefined ? { file: format(target) } : { file: format(target), line };
}

/** The URI without its #L{line}: the one name of the file (what documents, caches and the daemon are given). */
export function withoutLine(text: string): string {
  return fileAndLine(text).file;
}

/** The snippet a URI belongs to, or undefined for a workspace URI or a foreign one. */
export function snippetOf(text: string): { workspace: string; id: string } | undefined {
  try {
    const target = parse(text);
    return target.id === undefined ? undefined : { workspace: target.workspace, id: target.id };
  } catch {
    return undefined;
  }
}

export function isFile(target: SnippetUri): target is SnippetUri & { id: string; path: string } {
  return target.id !== undefined && target.path !== undefined;
}

export function isReadonly(target: SnippetUri): boolean {
  return target.revision !== undefined;
}

/** The same file at HEAD (no ?rev=, no #L). */
export function atHead(text: string): string {
  const target = parse(text);
  return format({ workspace: target.workspace, id: target.id, path: target.path });
}

/** A stable key of a snippet, for maps. */
export function snippetKey(workspace: string, id: string): string {
  return `${workspace.toLowerCase()}/${id}`;
}

/** The last segment of a file path, for labels. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
