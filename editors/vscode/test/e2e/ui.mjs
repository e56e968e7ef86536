// The UI-driven test: the packaged extension, clicked in the browser like a person would. Opens the
// Snippets view from the activity bar, expands a workspace and a snippet, clicks a file, sees its text in
// the editor, and saves a screenshot (the CI artifact). Runs after the extension-host tests, so the
// sandbox holds their snippets and the keyring their sign-in.

import * as path from "node:path";

export async function runUiTest(browser, server, folder, artifacts) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  try {
    await page.goto(`http://127.0.0.1:${server.port}/?folder=${encodeURIComponent(folder)}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
    const container = page.locator('.activitybar a[aria-label^="Bitbucket Snippets"], .activitybar li[aria-label^="Bitbucket Snippets"]').first();
    await container.click({ timeout: 60000 });
    const workspace = page.getByRole("treeitem", { name: /^Demo User/ });
    await workspace.click({ timeout: 60000 });
    const snippet = page.getByRole("treeitem", { name: /^retry helper/ });
    await snippet.click({ timeout: 30000 });
    const file = page.getByRole("treeitem", { name: /^retry\.py/ });
    await file.click({ timeout: 30000 });
    const editor = page.locator(".editor-instance .view-lines");
    await page.waitForFunction(
      () => [...document.querySelectorAll(".editor-instance .view-lines")].some((lines) => (lines.textContent ?? "").replace(/\u00a0/g, " ").includes("def retry(fn, attempts=3):")),
      undefined,
      { timeout: 30000 },
    );
    await editor.first().waitFor();
    const tab = page.locator(".tabs-container .tab", { hasText: "retry.py" });
    await tab.first().waitFor({ timeout: 10000 });
    const screenshot = path.join(artifacts, "vscode-snippets-view.png");
    await page.screenshot({ path: screenshot });
    return screenshot;
  } catch (error) {
    await page.screenshot({ path: path.join(artifacts, "vscode-ui-failure.png") }).catch(() => undefined);
    throw error;
  } finally {
    await page.close().catch(() => undefined);
  }
}
