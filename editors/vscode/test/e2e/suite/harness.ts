// What the extension-host tests share: a tiny sequential runner, the run's context (written by run.mjs),
// the sandbox's HTTP API (seeding as "another writer", and its request log), and the prompts hook.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";

import * as vscode from "vscode";

import type { Api } from "../../../src/extension";
import type { Prompt } from "../../../src/prompts";

export { assert };

export interface SandboxUser {
  nickname: string;
  email: string;
  apiToken: string;
}

export interface Context {
  sandbox: { url: string; users: SandboxUser[] };
  folder: string;
  resultsFile: string;
  artifacts: string;
  python: string;
  repo: string;
}

export const context: Context = JSON.parse(fs.readFileSync(process.env.BBSNIPPETS_E2E_CONTEXT ?? "", "utf8"));
export const [demo, alice] = context.sandbox.users;
export const TEAM = "sandbox-team";

// --------------------------------------------------------------------------- the runner

type TestFn = () => Promise<void>;
const TEST_TIMEOUT_MS = 90000;
/** Between answer() calls every prompt is dismissed: a test never hangs on a dialog. */
const dismissEverything = (): undefined => undefined;
const tests: { name: string; fn: TestFn }[] = [];

/** E2E_GREP (a regular expression) runs only the tests whose names match it (keep the sign-in test in it). */
const grep = process.env.E2E_GREP ? new RegExp(process.env.E2E_GREP) : undefined;

export function test(name: string, fn: TestFn): void {
  if (!grep || grep.test(name)) {
    tests.push({ name, fn });
  }
}

export interface Result {
  name: string;
  ok: boolean;
  ms: number;
  error: string;
}

export async function runAll(): Promise<Result[]> {
  const results: Result[] = [];
  for (const { name, fn } of tests) {
    const began = Date.now();
    if (activated) {
      activated.testHooks.responder = dismissEverything;
    }
    try {
      await Promise.race([
        fn(),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`gave up after ${TEST_TIMEOUT_MS} ms`)), TEST_TIMEOUT_MS)),
      ]);
      results.push({ name, ok: true, ms: Date.now() - began, error: "" });
    } catch (error) {
      results.push({ name, ok: false, ms: Date.now() - began, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
    fs.writeFileSync(context.resultsFile, JSON.stringify(results, null, 2));
    await closeEverything();
  }
  return results;
}

/** Revert what a test left unsaved (closing a dirty editor would ask), then close every editor. */
async function closeEverything(): Promise<void> {
  for (const document of vscode.workspace.textDocuments.filter((doc) => doc.isDirty)) {
    await vscode.window.showTextDocument(document);
    await vscode.commands.executeCommand("workbench.action.files.revert");
  }
  await vscode.commands.executeCommand("workbench.action.closeAllEditors");
}

// --------------------------------------------------------------------------- the extension

let activated: Api | undefined;

export async function extension(): Promise<Api> {
  if (!activated) {
    const ext = vscode.extensions.getExtension<Api>("snippet-daemon.bitbucket-snippets");
    assert.ok(ext, "the extension under test is loaded");
    activated = await ext.activate();
    activated.testHooks.responder = dismissEverything;
    await activated.ready;
  }
  return activated;
}

function hooks(): Api["testHooks"] {
  assert.ok(activated, "activate the extension first");
  return activated.testHooks;
}

/** Answer prompts: the first rule whose pattern matches the prompt's message gives the answer. */
export function answer(...rules: [RegExp, string | undefined][]): void {
  hooks().responder = (prompt: Prompt) => rules.find(([pattern]) => pattern.test(prompt.message))?.[1];
}

/** Answer a quick pick matching `prompt` with its first item whose label matches `item` (other prompts: dismissed). */
export function choose(prompt: RegExp, item: RegExp): void {
  hooks().responder = (shownPrompt: Prompt) =>
    prompt.test(shownPrompt.message) ? shownPrompt.choices.find((choice) => item.test(choice)) : undefined;
}

/** No responder: VS Code's own quick picks and dialogs show (a test drives them; the runner restores the hook). */
export function realUi(): void {
  hooks().responder = undefined;
}

export function shown(): Prompt[] {
  return hooks().shown;
}

export function forgetPrompts(): void {
  hooks().shown.length = 0;
}

export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function waitForPrompt(pattern: RegExp, timeoutMs = 20000): Promise<Prompt> {
  return waitFor(`a prompt matching ${pattern}`, () => shown().find((prompt) => pattern.test(prompt.message)), timeoutMs);
}

/** Change a user setting and wait for the daemon's (debounced) restart to finish. */
export async function setSetting(name: string, value: unknown): Promise<void> {
  const api = await extension();
  const before = api.daemon.generation;
  await vscode.workspace.getConfiguration("bitbucketSnippets").update(name, value, vscode.ConfigurationTarget.Global);
  await waitFor(`the daemon's restart after ${name} changed`, () => api.daemon.generation > before);
}

// --------------------------------------------------------------------------- the sandbox

function authorization(user: SandboxUser): string {
  return `Basic ${Buffer.from(`${user.email}:${user.apiToken}`).toString("base64")}`;
}

export async function bitbucket(user: SandboxUser, method: string, path: string, body?: FormData | string): Promise<Response> {
  const headers: Record<string, string> = { Authorization: authorization(user) };
  if (typeof body === "string") {
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(`${context.sandbox.url}${path}`, { method, headers, body });
  if (!response.ok) {
    throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  }
  return response;
}

export interface Seeded {
  workspace: string;
  id: string;
}

/** A snippet made by `user` straight on Bitbucket (not through the daemon). */
export async function createSnippet(
  user: SandboxUser,
  workspace: string,
  files: Record<string, string>,
  title = "seeded",
  isPrivate = true,
): Promise<Seeded> {
  const form = new FormData();
  form.append("title", title);
  form.append("is_private", String(isPrivate));
  for (const [name, text] of Object.entries(files)) {
    form.append("file", new Blob([text]), name);
  }
  const created = (await (await bitbucket(user, "POST", `/snippets/${workspace}`, form)).json()) as { id: string };
  return { workspace, id: created.id };
}

/** Another writer changes a file (an unconditional PUT, as bitbucket.org's editor does). */
export async function writeOnBitbucket(user: SandboxUser, snippet: Seeded, name: string, text: string): Promise<void> {
  const form = new FormData();
  form.append("file", new Blob([text]), name);
  await bitbucket(user, "PUT", `/snippets/${snippet.workspace}/${snippet.id}`, form);
}

/** A file's bytes at HEAD, as Bitbucket has them. */
export async function fileOnBitbucket(snippet: Seeded, name: string, user: SandboxUser = demo): Promise<string> {
  const response = await bitbucket(user, "GET", `/snippets/${snippet.workspace}/${snippet.id}/files/${name.split("/").map(encodeURIComponent).join("/")}`);
  return response.text();
}

export async function commentOnBitbucket(user: SandboxUser, snippet: Seeded, raw: string, parentId?: number): Promise<number> {
  const body: Record<string, unknown> = { content: { raw } };
  if (parentId !== undefined) {
    body.parent = { id: parentId };
  }
  const response = await bitbucket(user, "POST", `/snippets/${snippet.workspace}/${snippet.id}/comments`, JSON.stringify(body));
  return ((await response.json()) as { id: number }).id;
}

export interface CommentOnBitbucket {
  id: number;
  content: { raw: string };
  parent?: { id: number };
  user?: { display_name: string };
}

export async function commentsOnBitbucket(snippet: Seeded): Promise<CommentOnBitbucket[]> {
  const response = await bitbucket(demo, "GET", `/snippets/${snippet.workspace}/${snippet.id}/comments?pagelen=100`);
  return ((await response.json()) as { values: CommentOnBitbucket[] }).values;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  status: number;
}

const adminUrl = () => context.sandbox.url.replace(/\/2\.0$/, "");

export async function clearRequests(): Promise<void> {
  await fetch(`${adminUrl()}/_sandbox/requests`, { method: "DELETE" });
}

export async function requests(): Promise<RecordedRequest[]> {
  return (await (await fetch(`${adminUrl()}/_sandbox/requests`)).json()) as RecordedRequest[];
}

export function describeRequests(recorded: RecordedRequest[]): string {
  return recorded.map((request) => `${request.method} ${request.path}${request.query ? `?${request.query}` : ""} -> ${request.status}`).join("\n");
}

/** The CodeLens our comments put at the top of a snippet file (as VS Code asks for it). */
export async function commentLens(uri: vscode.Uri): Promise<vscode.CodeLens> {
  const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", uri);
  const ours = lenses.filter((lens) => lens.command?.command === "bitbucketSnippets.showComments");
  assert.equal(ours.length, 1, `one comments lens on ${uri.toString()}: ${JSON.stringify(lenses.map((lens) => lens.command?.title))}`);
  assert.equal(ours[0].range.start.line, 0, "at the top of the file");
  return ours[0];
}

/** Click a CodeLens: run its command as VS Code does. */
export async function click(lens: vscode.CodeLens): Promise<unknown> {
  return vscode.commands.executeCommand(lens.command!.command, ...(lens.command!.arguments ?? []));
}

/** The text of a bbsnippet document once VS Code has it. */
export async function openDocument(uri: string): Promise<vscode.TextDocument> {
  const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(uri));
  await vscode.window.showTextDocument(document, { preview: false });
  return document;
}
