// Sign-in errors with no credentials, then signing in for real (the token goes to the Secret Service).

import * as fs from "node:fs";
import * as path from "node:path";

import * as vscode from "vscode";

import { answer, assert, clearRequests, context, demo, extension, forgetPrompts, requests, setSetting, shown, test, waitFor, waitForPrompt } from "./harness";

test("no credentials: active once VS Code has started, the status bar says Sign in, the view welcomes with Sign in, a command offers it", async () => {
  const ours = vscode.extensions.getExtension("snippet-daemon.bitbucket-snippets");
  assert.ok(ours);
  // Nobody opened the Snippets view or a snippet: the extension activates by itself (onStartupFinished).
  await waitFor("the extension to activate on its own", () => ours.isActive, 30000);
  const api = await extension();
  assert.equal(api.daemon.state, "running");
  await waitFor("the status bar item", () => api.status.item.text.includes("Sign in"));
  assert.equal(api.status.item.command, "bitbucketSnippets.signIn");
  // An empty view shows the welcome content: how to sign in, with the button.
  assert.deepEqual(await api.tree.getChildren(), []);
  const welcome = (ours.packageJSON as { contributes: { viewsWelcome: { view: string; contents: string; when: string }[] } }).contributes.viewsWelcome;
  assert.ok(welcome.some((entry) => entry.view === "bitbucketSnippets.snippets" && entry.when === "!bitbucketSnippets.signedIn" && entry.contents.includes("[Sign in](command:bitbucketSnippets.signIn)")));

  const file = path.join(context.folder, "hello.txt");
  fs.writeFileSync(file, "hello\n");
  await vscode.window.showTextDocument(vscode.Uri.file(file));
  forgetPrompts();
  const result = await vscode.commands.executeCommand("bitbucketSnippets.share", { title: "nope" });
  assert.equal(result, undefined, "nothing was shared");
  const prompt = await waitForPrompt(/Sharing failed: Not logged in/);
  assert.deepEqual(prompt.choices, ["Sign in"]);
});

test("no OS keyring: sign-in says so before asking anything, and what to do instead; nothing is sent", async () => {
  await extension();
  // The daemon as on a machine without a Secret Service (keyring's own "fail" backend).
  await setSetting("server.command", ["/usr/bin/env", "PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring", context.python, "-m", "snippet_daemon"]);
  try {
    forgetPrompts();
    await clearRequests();
    answer([/Atlassian account email/, demo.email], [/^An API token/, demo.apiToken]);
    assert.equal(await vscode.commands.executeCommand("bitbucketSnippets.signIn"), undefined);
    const told = await waitForPrompt(/keyring/);
    assert.equal(told.kind, "error");
    assert.match(told.message, /BITBUCKET_USERNAME.*BITBUCKET_API_TOKEN/);
    assert.match(told.message, /Bitbucket Snippets: Restart the Snippet Daemon/, "names VS Code's own command");
    assert.doesNotMatch(told.message, /\[[a-z]+[A-Z][a-zA-Z]*\]/, "no error kind names");
    assert.ok(!shown().some((prompt) => prompt.kind === "input"), "nothing was asked");
    assert.deepEqual(await requests(), [], "nothing was sent to Bitbucket");
  } finally {
    await setSetting("server.command", [context.python, "-m", "snippet_daemon"]);
  }
});

test("sign in: a wrong token is refused and nothing is kept; the right one signs in", async () => {
  const api = await extension();
  forgetPrompts();
  answer([/Atlassian account email/, demo.email], [/^An API token/, "ATATT-not-the-token"]);
  assert.equal(await vscode.commands.executeCommand("bitbucketSnippets.signIn"), undefined);
  const refused = await waitForPrompt(/Signing in failed/);
  assert.match(refused.message, /rejected the email and API token/);
  assert.ok(!refused.message.includes("ATATT-not-the-token"), "the secret is never shown");
  assert.ok(api.status.item.text.includes("Sign in"));
  const tokenPrompt = shown().find((prompt) => /^An API token/.test(prompt.message));
  assert.equal(tokenPrompt?.password, true, "the token is typed into a password box");

  answer([/Atlassian account email/, demo.email], [/^An API token/, demo.apiToken]);
  const account = (await vscode.commands.executeCommand("bitbucketSnippets.signIn")) as { displayName: string } | undefined;
  assert.equal(account?.displayName, "Demo User");
  assert.equal(api.status.item.text, "$(account) signed in as Demo User · workspace demo");
  assert.equal(api.status.item.command, "bitbucketSnippets.signOut");
});
