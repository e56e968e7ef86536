// No daemon: one notification with install steps and settings, no retry storm; fixing the setting recovers.

import * as vscode from "vscode";

import { WHOAMI } from "../../../src/protocol";
import { assert, context, extension, forgetPrompts, setSetting, shown, test, waitForPrompt } from "./harness";

test("no daemon: one notification (install steps, settings), no retries; restoring the setting recovers", async () => {
  const api = await extension();
  forgetPrompts();
  const attempts = api.daemon.startAttempts;
  await setSetting("server.command", ["/nonexistent/snippet-daemon"]);
  assert.equal(api.daemon.state, "failed");
  const notice = await waitForPrompt(/snippet daemon|snippet-daemon/);
  assert.match(notice.message, /bitbucketSnippets\.server\.command/);
  assert.deepEqual(notice.choices, ["Show install steps", "Open settings"]);
  // VS Code keeps asking the file system; commands keep being run: nothing starts a daemon again.
  await Promise.allSettled([
    vscode.workspace.fs.stat(vscode.Uri.parse("bbsnippet://demo/")),
    vscode.workspace.fs.readDirectory(vscode.Uri.parse("bbsnippet://demo/")),
  ]);
  await assert.rejects(Promise.resolve(vscode.workspace.fs.stat(vscode.Uri.parse("bbsnippet://demo/"))), (error: unknown) => {
    assert.ok(error instanceof vscode.FileSystemError);
    assert.equal(error.code, "Unavailable");
    return true;
  });
  await vscode.commands.executeCommand("bitbucketSnippets.share", { title: "x" });
  assert.equal(api.daemon.startAttempts, attempts, "no process was started for a missing program");
  const daemonNotices = shown().filter((prompt) => /could not|was not found/.test(prompt.message) && prompt.choices.includes("Show install steps"));
  assert.equal(daemonNotices.filter((prompt) => prompt.message.startsWith("Bitbucket Snippets:")).length, 1, "one start-up notification");

  await setSetting("server.command", [context.python, "-m", "snippet_daemon"]);
  assert.equal(api.daemon.state, "running");
  const account = await api.daemon.command(WHOAMI, {});
  assert.equal(account.account?.displayName, "Demo User", "signed in again from the keyring");
});

test("a daemon that dies at start: the notification quotes its own last error lines, not the transport's", async () => {
  const api = await extension();
  forgetPrompts();
  const dies = "import sys; sys.stderr.write('Traceback (most recent call last):\\nModuleNotFoundError: No module named snippet_daemon\\n'); sys.exit(1)";
  await setSetting("server.command", [context.python, "-c", dies]);
  assert.equal(api.daemon.state, "failed");
  const notice = await waitForPrompt(/could not be started/);
  assert.match(notice.message, /No module named snippet_daemon/, "the daemon's own words");
  assert.doesNotMatch(notice.message, /connection got disposed|Pending response/i, "no transport message");
  assert.deepEqual(notice.choices, ["Show install steps", "Open settings"]);

  await setSetting("server.command", [context.python, "-m", "snippet_daemon"]);
  assert.equal(api.daemon.state, "running");
});
