// The UI-driven tests: the packaged extension, clicked and typed into in the browser like a person would.
// 1. Opens the Snippets view from the activity bar, expands a workspace and a snippet, clicks a file, sees
//    its text in the editor, and clicks the "Comments" CodeLens at its top (then "No comments").
// 2. Runs "Search Snippets" from the command palette, types a query, sees the live hit, presses Enter and
//    lands on the hit's line (the index is on for this window: run.mjs sets bitbucketSnippets.indexing).
// Each saves a screenshot (the CI artifacts). They run after the extension-host tests, so the sandbox holds
// their snippets (share.test.ts made "retry helper") and the keyring their sign-in.

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

/** Runs each UI test in one browser page; `report(name, run)` records it (run.mjs prints the results). */
export async function runUiTests(browser, server, folder, artifacts, report) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const failure = (name) => page.screenshot({ path: path.join(artifacts, `vscode-ui-failure-${name}.png`) }).catch(() => undefined);
  try {
    await page.goto(`http://127.0.0.1:${server.port}/?folder=${encodeURIComponent(folder)}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
    await report("UI: the Snippets view clicked in the browser opens a snippet file", () => snippetsView(page, artifacts), () => failure("tree"));
    await report("UI: Search Snippets from the command palette, typed into, opens the hit at its line", () => searchFromPalette(page, artifacts), () => failure("search"));
  } finally {
    await page.close().catch(() => undefined);
  }
}
