// The UI-driven tests: the packaged extension, clicked and typed into in the browser like a person would.
// 1. Opens the Snippets view from the activity bar, expands a workspace and a snippet, clicks a file, sees
//    its text in the editor, and clicks the "Comments" CodeLens at its top (then "No comments").
// 2. Runs "Search Snippets" from the command palette, types a query, sees the live hit, presses Enter and
//    lands on the hit's line (the index is on for this window: run.mjs sets bitbucketSnippets.indexing).
// 3. A conflicting save of that file (another writer changed it), saved from the command palette: VS Code's own
//    "file is newer" notification with Compare and Overwrite (no Revert, no dialog of ours), nothing written
//    until Overwrite is clicked, then exactly 1 PUT and Bitbucket has the typed text. (The headless window has
//    no focus, so VS Code keeps the toast back: the notification is looked for in the notification center.)
// Each saves a screenshot (the CI artifacts). They run after the extension-host tests, so the sandbox holds
// their snippets (share.test.ts made "retry helper") and the keyring their sign-in.

import { Blob } from "node:buffer";
import * as path from "node:path";

async function snippetsView(page, artifacts) {
  const container = page.locator('.activitybar a[aria-label^="Bitbucket Snippets"], .activitybar li[aria-label^="Bitbucket Snippets"]').first();
  await container.click({ timeout: 60000 });
  const workspace = page.getByRole("treeitem", { name: /^Demo User/ });
  await workspace.click({ timeout: 60000 });
  const snippet = page.getByRole("treeitem", { name: /^retry helper/ });
  await snippet.click({ timeout: 30000 });
  const file = page.getByRole("treeitem", { name: /^retry\.py/ });
  await file.click({ timeout: 30000 });
  await page.waitForFunction(
    () => [...document.querySelectorAll(".editor-instance .view-lines")].some((lines) => (lines.textContent ?? "").replace(/\u00a0/g, " ").includes("def retry(fn, attempts=3):")),
    undefined,
    { timeout: 30000 },
  );
  const tab = page.locator(".tabs-container .tab", { hasText: "retry.py" });
  await tab.first().waitFor({ timeout: 10000 });
  // Comments are read on demand: the CodeLens at the top offers them; clicking it reads them.
  const lens = page.locator(".codelens-decoration a", { hasText: /\bComments$/ });
  await lens.first().waitFor({ timeout: 15000 });
  await lens.first().click();
  await page.locator(".codelens-decoration a", { hasText: /\bNo comments$/ }).first().waitFor({ timeout: 15000 });
  const screenshot = path.join(artifacts, "vscode-snippets-view.png");
  await page.screenshot({ path: screenshot });
  return screenshot;
}

async function searchFromPalette(page, artifacts) {
  await page.locator(".tabs-container .tab", { hasText: "retry.py" }).first().click();
  await page.keyboard.press("Control+W");
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input.input");
  await input.waitFor({ timeout: 10000 });
  await page.keyboard.type("Bitbucket Snippets: Search Snippets");
  await page.locator(".quick-input-list .monaco-list-row", { hasText: "Search Snippets" }).first().waitFor({ timeout: 10000 });
  await page.keyboard.press("Enter");
  await page.locator(".quick-input-widget .quick-input-title", { hasText: "Search snippets" }).waitFor({ timeout: 10000 });
  await page.keyboard.type("time.sleep", { delay: 30 });
  // The live hit (the index may still be filling: the pick asks again until it is there).
  const hit = page.locator(".quick-input-list .monaco-list-row", { hasText: "time.sleep(2 ** attempt)" }).first();
  await hit.waitFor({ timeout: 30000 });
  await page.locator(".quick-input-list .monaco-list-row", { hasText: "retry.py:6" }).first().waitFor({ timeout: 5000 });
  const screenshot = path.join(artifacts, "vscode-search.png");
  await page.screenshot({ path: screenshot });
  await page.keyboard.press("Enter");
  await page.locator(".tabs-container .tab.active", { hasText: "retry.py" }).waitFor({ timeout: 15000 });
  // The cursor on the hit's line, "time.sleep" selected: the status bar says so.
  await page.locator(".statusbar-item", { hasText: /Ln 6, Col \d+ \(10 selected\)/ }).first().waitFor({ timeout: 15000 });
  return screenshot;
}

async function sandboxApi(sandbox, method, apiPath, body) {
  const user = sandbox.users[0];
  const headers = { Authorization: `Basic ${Buffer.from(`${user.email}:${user.apiToken}`).toString("base64")}` };
  const response = await fetch(`${sandbox.url}${apiPath}`, { method, headers, body });
  if (!response.ok) {
    throw new Error(`${method} ${apiPath}: ${response.status}`);
  }
  return response;
}

async function sandboxRequests(sandbox, method = "GET") {
  const response = await fetch(`${sandbox.url.replace(/\/2\.0$/, "")}/_sandbox/requests`, { method });
  return method === "GET" ? response.json() : undefined;
}

async function conflictingSave(page, artifacts, sandbox) {
  // The snippet the tree test opened: its id from the open tab's file, through the sandbox's list.
  const listed = await (await sandboxApi(sandbox, "GET", "/snippets/demo?pagelen=100")).json();
  const snippet = listed.values.find((value) => value.title === "retry helper");
  const snippetPath = `/snippets/demo/${snippet.id}`;
  await page.locator(".tabs-container .tab", { hasText: "retry.py" }).first().click();
  const theirs = new globalThis.FormData();
  theirs.append("file", new Blob(["# their rewrite\n"]), "retry.py");
  await sandboxApi(sandbox, "PUT", snippetPath, theirs);
  await page.locator(".editor-instance .view-lines").first().click();
  await page.keyboard.press("Control+End");
  await page.keyboard.type("# mine\n");
  await sandboxRequests(sandbox, "DELETE");
  // File: Save from the command palette (the row whose label is exactly that).
  await page.keyboard.press("F1");
  await page.locator(".quick-input-widget input.input").waitFor({ timeout: 10000 });
  await page.keyboard.type("File: Save");
  const rows = page.locator(".quick-input-list .monaco-list-row");
  await rows.first().waitFor({ timeout: 10000 });
  const labels = await rows.evaluateAll((elements) => elements.map((element) => element.getAttribute("aria-label") ?? element.textContent ?? ""));
  const index = labels.findIndex((label) => /^File: Save(,|$|Ctrl|\s*$)/.test(label.trim()) && !/All|As|without|Compare|Toggle/.test(label));
  if (index < 0) {
    throw new Error(`no File: Save in the palette: ${JSON.stringify(labels)}`);
  }
  await rows.nth(index).click();
  // A toast, or (when the headless window has no focus, VS Code keeps toasts back) the notification center.
  let notification = page.locator(".notification-toast", { hasText: /newer/ }).first();
  try {
    await notification.waitFor({ timeout: 10000 });
  } catch {
    await page.keyboard.press("F1");
    await page.locator(".quick-input-widget input.input").waitFor({ timeout: 10000 });
    await page.keyboard.type("Notifications: Show Notifications");
    await page.locator(".quick-input-list .monaco-list-row", { hasText: "Show Notifications" }).first().click({ timeout: 10000 });
    notification = page.locator(".notifications-center .notification-list-item", { hasText: /newer/ }).first();
  }
  try {
    await notification.waitFor({ timeout: 20000 });
  } catch (error) {
    await page.screenshot({ path: path.join(artifacts, "vscode-conflict-center.png") });
    const center = await page.locator(".notifications-center .notification-list-item").allTextContents();
    const dirty = await page.locator(".tabs-container .tab.active.dirty").count();
    const toasts = await page.locator(".notification-toast").allTextContents();
    const seen = (await sandboxRequests(sandbox)).map((request) => `${request.method} ${request.path} ${request.status}`);
    throw new Error(`no "file is newer" notification (tab dirty: ${dirty > 0}; notifications: ${JSON.stringify(toasts)}; center: ${JSON.stringify(center)}; requests: ${JSON.stringify(seen)}): ${error}`);
  }
  const buttons = await notification.locator(".monaco-button").allTextContents();
  if (!buttons.includes("Compare") || !buttons.includes("Overwrite") || buttons.some((label) => /Revert|Discard/.test(label))) {
    throw new Error(`VS Code's conflict notification offers: ${JSON.stringify(buttons)}`);
  }
  if ((await page.locator(".monaco-dialog-box").count()) > 0) {
    throw new Error("a dialog appeared beside VS Code's notification");
  }
  const beforeOverwrite = (await sandboxRequests(sandbox)).filter((request) => request.method === "PUT");
  if (beforeOverwrite.length !== 0) {
    throw new Error(`written before the user chose: ${JSON.stringify(beforeOverwrite)}`);
  }
  const screenshot = path.join(artifacts, "vscode-conflict.png");
  await page.screenshot({ path: screenshot });
  await notification.locator(".monaco-button", { hasText: "Overwrite" }).click();
  await page.locator(".tabs-container .tab.active.dirty").waitFor({ state: "detached", timeout: 20000 });
  const text = await (await sandboxApi(sandbox, "GET", `${snippetPath}/files/retry.py`)).text();
  if (!text.includes("# mine") || !text.includes("def retry") || text.includes("their rewrite")) {
    throw new Error(`Bitbucket has: ${JSON.stringify(text)}`);
  }
  const puts = (await sandboxRequests(sandbox)).filter((request) => request.method === "PUT");
  if (puts.length !== 1) {
    throw new Error(`expected exactly 1 PUT, saw ${JSON.stringify(puts)}`);
  }
  return screenshot;
}

/** Runs each UI test in one browser page; `report(name, run)` records it (run.mjs prints the results). */
export async function runUiTests(browser, server, folder, artifacts, sandbox, report) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const failure = (name) => page.screenshot({ path: path.join(artifacts, `vscode-ui-failure-${name}.png`) }).catch(() => undefined);
  try {
    await page.goto(`http://127.0.0.1:${server.port}/?folder=${encodeURIComponent(folder)}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
    await report("UI: the Snippets view clicked in the browser opens a snippet file", () => snippetsView(page, artifacts), () => failure("tree"));
    await report("UI: Search Snippets from the command palette, typed into, opens the hit at its line", () => searchFromPalette(page, artifacts), () => failure("search"));
    await report("UI: a conflicting save shows VS Code's own Compare/Overwrite (no Revert, no dialog of ours); Overwrite is 1 PUT", () => conflictingSave(page, artifacts, sandbox), () => failure("conflict"));
  } finally {
    await page.close().catch(() => undefined);
  }
}
