// The bundled-daemon test run: the .vsix from `make vsix`, INSTALLED in code-server (not under development),
// on a PATH with only the system Python and no snippet-daemon. run.mjs loads this folder's empty package.json as
// the extension under development (VS Code needs one to run tests) and this file as extensionTestsPath.

import { runAll } from "../suite/harness";
import "./bundled.test";

export async function run(): Promise<void> {
  const results = await runAll();
  const failed = results.filter((result) => !result.ok);
  if (failed.length > 0) {
    throw new Error(`${failed.length} of ${results.length} tests failed: ${failed.map((result) => result.name).join("; ")}`);
  }
}
