// activate(): wiring only. Each feature lives in its own module, named as in the daemon's features/.

import * as vscode from "vscode";

import { Status, registerAccount } from "./account";
import { Daemon } from "./client";
import type { Services } from "./command";
import { SnippetComments, registerComments } from "./comments";
import { SnippetFileSystem, registerFileSystem } from "./files";
import { registerHistory } from "./history";
import { registerInsert } from "./insert";
import { Log } from "./log";
import { type McpRegistration, registerMcp } from "./mcp";
import { testHooks } from "./prompts";
import { registerPatch } from "./patch";
import { registerPull } from "./pull";
import { type LinkedFolders, registerPush } from "./push";
import { registerSearch } from "./search";
import { affectsDaemon, readSettings } from "./settings";
import { registerShare } from "./share";
import { SnippetTree } from "./tree";
import { registerSnippets } from "./snippets";
import { ChangeWatcher, registerWatch } from "./watch";

const RESTART_DEBOUNCE_MS = 500;

/** What activate() returns: for other extensions and for this extension's tests (prompts hook). */
export interface Api {
  daemon: Daemon;
  tree: SnippetTree;
  comments: SnippetComments;
  status: Status;
  fileSystem: SnippetFileSystem;
  testHooks: typeof testHooks;
  /** The MCP server offered to VS Code's agent (`snippet-daemon mcp`). */
  mcp: McpRegistration;
  /** The linked folders of the workspace, each a SourceControl (push.ts). */
  linked: LinkedFolders;
  /** Resolves once the daemon has been started (or failed to start) at activation. */
  ready: Promise<void>;
  /** activate() to the daemon ready, in milliseconds (the benchmark prints it). */
  activationMs?: number;
  /** How long activate() itself ran before returning (everything else is asynchronous). */
  activateReturnedMs: number;
}

export function activate(context: vscode.ExtensionContext): Api {
  const activatedAt = Date.now();
  const settings = readSettings();
  const log = new Log();
  log.setLevel(settings.logLevel);
  const daemon = new Daemon(log, settings);
  const fileSystem = new SnippetFileSystem(daemon, log);
  const tree = new SnippetTree(daemon, log);
  const services: Services = { daemon, tree, fileSystem, log };
  const status = new Status(daemon);
  const comments = new SnippetComments(services, () => status.account?.account?.displayName);

  registerFileSystem(context, fileSystem);
  context.subscriptions.push(
    log,
    daemon,
    tree,
    status,
    new ChangeWatcher(services),
    vscode.window.createTreeView("bitbucketSnippets.snippets", { treeDataProvider: tree, showCollapseAll: true }),
  );
  registerSnippets(context, services);
  registerWatch(context, services);
  registerShare(context, services);
  registerPull(context, services);
  registerHistory(context, services);
  const linked = registerPush(context, services);
  registerPatch(context, services);
  registerAccount(context, services, status);
  registerComments(context, services, comments);
  registerSearch(context, services);
  registerInsert(context, services);
  const mcp = registerMcp(context, log);

  let restartTimer: NodeJS.Timeout | undefined;
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (!affectsDaemon(event)) {
        return;
      }
      clearTimeout(restartTimer);
      restartTimer = setTimeout(() => {
        const changed = readSettings();
        log.setLevel(changed.logLevel);
        log.info("settings changed: restarting the daemon");
        void daemon.restart(changed);
      }, RESTART_DEBOUNCE_MS);
    }),
    { dispose: () => clearTimeout(restartTimer) },
  );

  const api: Api = { daemon, tree, comments, status, fileSystem, testHooks, mcp, linked, ready: Promise.resolve(), activateReturnedMs: 0 };
  api.ready = daemon.start().then(() => {
    api.activationMs = Date.now() - activatedAt;
    log.info(`activated in ${api.activationMs} ms`);
    if (daemon.state !== "running") {
      status.show(undefined);
    }
  });
  api.activateReturnedMs = Date.now() - activatedAt;
  return api;
}

export function deactivate(): void {
  // Disposing the context's subscriptions stops the daemon.
}
