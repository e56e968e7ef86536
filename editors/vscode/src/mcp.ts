// Registers `snippet-daemon mcp` (the daemon's MCP face) with VS Code, so agent mode sees the snippet tools with no
// configuration. Uses vscode.lm.registerMcpServerDefinitionProvider (VS Code 1.101+) when the running VS Code has
// it; an older VS Code runs the rest of the extension as before. bitbucketSnippets.mcp.enabled turns it off.

import * as vscode from "vscode";

import { resolveServerCommand } from "./client";
import type { Log } from "./log";
import { SECTION, type Settings, readSettings } from "./settings";

export const MCP_PROVIDER_ID = "bitbucketSnippets.mcp";
export const MCP_LABEL = "Bitbucket Snippets";

// The parts of VS Code's MCP API used here, declared locally: @types/vscode must not be newer than engines.vscode.

/** VS Code's `McpStdioServerDefinition`: how to start a server that speaks MCP on stdio. */
export interface McpStdioServerDefinition {
  readonly label: string;
  command: string;
  args: string[];
  env: Record<string, string | number | null>;
  version?: string;
}

type McpStdioServerDefinitionClass = new (
  label: string,
  command: string,
  args?: string[],
  env?: Record<string, string | number | null>,
  version?: string,
) => McpStdioServerDefinition;

interface McpServerDefinitionProvider {
  readonly onDidChangeMcpServerDefinitions?: vscode.Event<void>;
  provideMcpServerDefinitions(token: vscode.CancellationToken): vscode.ProviderResult<McpStdioServerDefinition[]>;
}

interface McpApi {
  lm?: { registerMcpServerDefinitionProvider?: (id: string, provider: McpServerDefinitionProvider) => vscode.Disposable };
  McpStdioServerDefinition?: McpStdioServerDefinitionClass;
}

/** What the extension's API (and its tests) can see of the registration. */
export interface McpRegistration {
  /** Whether the running VS Code has the API, so the provider was registered with it. */
  readonly registered: boolean;
  /** What the provider answers VS Code now: one stdio definition, or none (turned off, or no daemon found). */
  provide(): Promise<McpStdioServerDefinition[]>;
}

interface McpSettings {
  enabled: boolean;
  budgetPerHour: number | undefined;
}

function readMcpSettings(): McpSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  const budget = config.inspect<number>("mcpBudgetPerHour");
  const explicit = budget?.workspaceFolderValue ?? budget?.workspaceValue ?? budget?.globalValue;
  return { enabled: config.get<boolean>("mcp.enabled", true), budgetPerHour: typeof explicit === "number" ? explicit : undefined };
}

/** The environment the server gets on top of VS Code's: the same settings the daemon is started with. */
export function mcpEnvironment(settings: Settings, budgetPerHour: number | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  if (settings.apiUrl) {
    env.BITBUCKET_API_URL = settings.apiUrl;
  }
  if (settings.workspace) {
    env.BITBUCKET_WORKSPACE = settings.workspace;
  }
  if (budgetPerHour !== undefined) {
    env.SNIPPET_DAEMON_MCP_BUDGET_PER_HOUR = String(Math.max(0, budgetPerHour));
  }
  return env;
}

/**
 * The stdio definition: the daemon's own command line (as the extension starts it) with `mcp`; a string says
 * why there is none.
 */
export async function mcpServerDefinition(
  Definition: McpStdioServerDefinitionClass,
  settings: Settings,
  mcp: McpSettings,
  version: string,
): Promise<McpStdioServerDefinition | string> {
  const command = await resolveServerCommand(settings);
  if (typeof command === "string") {
    return command;
  }
  const [program, ...args] = command;
  return new Definition(MCP_LABEL, program, [...args, "mcp"], mcpEnvironment(settings, mcp.budgetPerHour), version);
}

/** Registers the provider when VS Code has the API; returns what it provides either way (for tests). */
export function registerMcp(context: vscode.ExtensionContext, log: Log): McpRegistration {
  const api = vscode as unknown as McpApi;
  const Definition = api.McpStdioServerDefinition;
  const version = String(context.extension.packageJSON.version ?? "");
  const provide = async (): Promise<McpStdioServerDefinition[]> => {
    const mcp = readMcpSettings();
    if (!mcp.enabled || !Definition) {
      return [];
    }
    const definition = await mcpServerDefinition(Definition, readSettings(), mcp, version);
    if (typeof definition === "string") {
      log.warn(`MCP server not offered: ${definition}`);
      return [];
    }
    return [definition];
  };
  const register = api.lm?.registerMcpServerDefinitionProvider;
  if (typeof register !== "function" || !Definition) {
    log.info("this VS Code has no MCP server API (1.101+): the snippet tools are not offered to agents");
    return { registered: false, provide };
  }
  const changes = new vscode.EventEmitter<void>();
  context.subscriptions.push(
    changes,
    register.call(api.lm, MCP_PROVIDER_ID, { onDidChangeMcpServerDefinitions: changes.event, provideMcpServerDefinitions: provide }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (["mcp.enabled", "mcpBudgetPerHour", "apiUrl", "workspace", "server.command"].some((name) => event.affectsConfiguration(`${SECTION}.${name}`))) {
        changes.fire();
      }
    }),
  );
  return { registered: true, provide };
}
