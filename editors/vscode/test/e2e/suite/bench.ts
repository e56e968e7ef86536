// The activation benchmark's extension-host side (bench/bench_vscode.mjs): activate, wait until the
// daemon answers, record the times. One window is one measurement.

import * as fs from "node:fs";

import * as vscode from "vscode";

import type { Api } from "../../../src/extension";

export async function run(): Promise<void> {
  const contextFile = process.env.BBSNIPPETS_E2E_CONTEXT ?? "";
  const { resultsFile } = JSON.parse(fs.readFileSync(contextFile, "utf8")) as { resultsFile: string };
  const ext = vscode.extensions.getExtension<Api>("snippet-daemon.bitbucket-snippets");
  if (!ext) {
    throw new Error("the extension is not loaded");
  }
  const began = Date.now();
  const api = await ext.activate();
  await api.ready;
  const readyMs = Date.now() - began;
  if (api.daemon.state !== "running") {
    throw new Error(`the daemon did not start: ${api.daemon.failure?.message}`);
  }
  const runs = fs.existsSync(resultsFile) ? (JSON.parse(fs.readFileSync(resultsFile, "utf8")) as unknown[]) : [];
  runs.push({ activationMs: api.activationMs, activateReturnedMs: api.activateReturnedMs, readyMs });
  fs.writeFileSync(resultsFile, JSON.stringify(runs));
}
