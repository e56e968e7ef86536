// The extension-host test run (VS Code loads this as extensionTestsPath): each flow a file, in order.

import { runAll } from "./harness";
import "./signin.test";
import "./share.test";
import "./files.test";
import "./conflict.test";
import "./comments.test";
import "./pull.test";
import "./history.test";
import "./push.test";
import "./patch.test";
import "./actions.test";
import "./insert.test";
import "./watch.test";
import "./search.test";
import "./daemon.test";
import "./mcp.test";

export async function run(): Promise<void> {
  const results = await runAll();
  const failed = results.filter((result) => !result.ok);
  if (failed.length > 0) {
    throw new Error(`${failed.length} of ${results.length} tests failed: ${failed.map((result) => result.name).join("; ")}`);
  }
}
