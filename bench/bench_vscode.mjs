// VS Code client benchmark (printed figures, no assertions): the bundle's size, and activation time in
// real VS Code (code-server + Chromium, as the e2e tests run it) from activate() to the daemon answering.
//
//   node bench/bench_vscode.mjs [windows=5]      (after scripts/install.sh; builds nothing itself)

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const extension = path.join(repo, "editors/vscode");
const runs = Number(process.argv[2] ?? 5);
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

for (const file of ["dist/extension.js", "dist/bitbucket-snippets.vsix"]) {
  const where = path.join(extension, file);
  if (!fs.existsSync(where)) {
    console.error(`missing ${where}: run scripts/install.sh first`);
    process.exit(1);
  }
}
const bundle = fs.statSync(path.join(extension, "dist/extension.js")).size;
const vsix = fs.statSync(path.join(extension, "dist/bitbucket-snippets.vsix")).size;
console.log(`bundle dist/extension.js: ${kb(bundle)} (goal <= 1024 KB: ${bundle <= 1024 * 1024 ? "met" : "NOT met"})`);
console.log(`package bitbucket-snippets.vsix (with its daemon): ${kb(vsix)} (goal <= 25 MB: ${vsix <= 25e6 ? "met" : "NOT met"})`);

/** Activation in `runs` windows; `bundled`: the installed .vsix's own daemon, run by the system Python. */
function activation(bundled) {
  const result = spawnSync(process.execPath, [path.join(extension, "test/e2e/run.mjs")], {
    env: { ...process.env, E2E_BENCH_RUNS: String(runs), E2E_BENCH_BUNDLED: bundled ? "1" : "0" },
    encoding: "utf8",
    timeout: 10 * 60 * 1000,
  });
  const line = (result.stdout ?? "").split("\n").find((text) => text.startsWith("BENCH "));
  if (result.status !== 0 || !line) {
    console.error(`the activation benchmark failed:\n${result.stdout}\n${result.stderr}`);
    process.exit(1);
  }
  return JSON.parse(line.slice("BENCH ".length));
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const figure = (measured, key) => {
  const values = measured.map((run) => run[key]);
  return `median ${median(values)} ms, min ${Math.min(...values)} ms, max ${Math.max(...values)} ms`;
};
const development = activation(false);
console.log(`activation, activate() to the daemon ready (${development.length} windows, the venv's daemon): ${figure(development, "activationMs")}`);
console.log(`activate() itself returns in: ${figure(development, "activateReturnedMs")}`);
const bundled = activation(true);
const goal = median(bundled.map((run) => run.activationMs)) <= 1500 ? "met" : "NOT met";
console.log(
  `activation with the .vsix's bundled daemon (installed, system Python; ${bundled.length} windows): ${figure(bundled, "activationMs")} (goal <= 1500 ms: ${goal})`,
);
