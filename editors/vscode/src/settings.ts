// The bitbucketSnippets.* settings, typed, and what the daemon gets of them (initializationOptions).

import * as vscode from "vscode";

import type { InitializationOptions } from "./protocol";

export const SECTION = "bitbucketSnippets";
export const CLIENT_NAME = "vscode";

export type LogLevel = "error" | "warning" | "info" | "debug";

export interface Settings {
  apiUrl: string;
  workspace: string;
  privateByDefault: boolean;
  pollIntervalSeconds: number;
  pollBudgetPerHour: number;
  serverCommand: string[];
  /** The daemon bundled with the extension (default), or `snippet-daemon` on PATH. */
  importStrategy: "bundled" | "fromEnvironment";
  logLevel: LogLevel;
  /** The daemon's local search index; undefined when the user never set it (SNIPPET_DAEMON_INDEXING decides, else on). */
  indexing: boolean | undefined;
  indexWorkspaces: string[];
}

/** A setting's value only when the user set it somewhere (not its default). */
function explicit<T>(config: vscode.WorkspaceConfiguration, name: string): T | undefined {
  const inspected = config.inspect<T>(name);
  return inspected?.workspaceFolderValue ?? inspected?.workspaceValue ?? inspected?.globalValue;
}

export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration(SECTION);
  const level = config.get<string>("logLevel", "info");
  return {
    apiUrl: config.get<string>("apiUrl", "").trim(),
    workspace: config.get<string>("workspace", "").trim(),
    privateByDefault: config.get<boolean>("privateByDefault", true),
    pollIntervalSeconds: Math.max(0, config.get<number>("pollIntervalSeconds", 60)),
    pollBudgetPerHour: Math.max(1, config.get<number>("pollBudgetPerHour", 100)),
    serverCommand: config.get<string[]>("server.command", []).filter((part) => typeof part === "string"),
    importStrategy: config.get<string>("server.importStrategy", "bundled") === "fromEnvironment" ? "fromEnvironment" : "bundled",
    logLevel: (["error", "warning", "info", "debug"].includes(level) ? level : "info") as LogLevel,
    indexing: explicit<boolean>(config, "indexing"),
    indexWorkspaces: config.get<string[]>("indexWorkspaces", []).filter((slug) => typeof slug === "string" && slug.trim() !== ""),
  };
}

/** What the daemon is started with; empty settings are left out so its environment fallbacks apply. */
export function initializationOptions(settings: Settings): InitializationOptions {
  const options: InitializationOptions = {
    clientName: CLIENT_NAME,
    pollIntervalSeconds: settings.pollIntervalSeconds,
    pollBudgetPerHour: settings.pollBudgetPerHour,
    logLevel: settings.logLevel,
  };
  if (settings.apiUrl) {
    options.apiUrl = settings.apiUrl;
  }
  if (settings.workspace) {
    options.workspace = settings.workspace;
  }
  if (typeof settings.indexing === "boolean") {
    options.indexing = settings.indexing;
  }
  if (settings.indexWorkspaces.length > 0) {
    options.indexWorkspaces = settings.indexWorkspaces;
  }
  return options;
}

/** The settings the daemon is started from: a change to any of these restarts it. */
export function affectsDaemon(event: vscode.ConfigurationChangeEvent): boolean {
  return ["apiUrl", "workspace", "pollIntervalSeconds", "pollBudgetPerHour", "server.command", "server.importStrategy", "logLevel", "indexing", "indexWorkspaces"].some((name) =>
    event.affectsConfiguration(`${SECTION}.${name}`),
  );
}

/** The Settings editor at our settings, or at one of them (`indexing` -> bitbucketSnippets.indexing). */
export function openSettings(name?: string): Thenable<unknown> {
  return vscode.commands.executeCommand("workbench.action.openSettings", name ? `${SECTION}.${name}` : `@ext:snippet-daemon.bitbucket-snippets`);
}
