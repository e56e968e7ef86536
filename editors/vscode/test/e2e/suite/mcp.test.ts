// The MCP server offered to VS Code's agent: the provider registered with VS Code's own API answers one stdio
// definition (the daemon the extension starts, with `mcp`), whose command starts and lists the six tools.

import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import * as readline from "node:readline";

import * as vscode from "vscode";

import type { McpStdioServerDefinition } from "../../../src/mcp";
import { assert, context, extension, test, waitFor } from "./harness";

const TOOLS = ["add_comment", "create_snippet", "list_snippets", "read_snippet", "search_snippets", "update_snippet_file"];

/** A minimal MCP client over stdio (newline-delimited JSON-RPC): initialize, then one request. */
async function listTools(definition: McpStdioServerDefinition): Promise<{ name: string; description?: string; inputSchema?: unknown }[]> {
  const env = { ...process.env } as Record<string, string | undefined>;
  for (const [key, value] of Object.entries(definition.env)) {
    env[key] = value === null ? undefined : String(value);
  }
  const child: ChildProcessWithoutNullStreams = spawn(definition.command, definition.args, { env, stdio: "pipe" });
  const answers = new Map<number, unknown>();
  const lines = readline.createInterface({ input: child.stdout });
  const nonJson: string[] = [];
  lines.on("line", (line) => {
    try {
      const message = JSON.parse(line) as { id?: number; result?: unknown; error?: unknown };
      if (typeof message.id === "number") {
        answers.set(message.id, message.result ?? message.error);
      }
    } catch {
      nonJson.push(line); // stdout is the MCP channel: nothing else may be printed there
    }
  });
  const send = (message: object): void => {
    child.stdin.write(`${JSON.stringify(message)}\n`);
  };
  try {
    send({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bbsnippets-e2e", version: "1" } },
    });
    await waitFor("the MCP server's answer to initialize", () => answers.has(1));
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
    send({ jsonrpc: "2.0", id: 2, method: "tools/list", params: {} });
    await waitFor("the MCP server's answer to tools/list", () => answers.has(2));
    assert.deepEqual(nonJson, [], "nothing but MCP messages on stdout");
    return (answers.get(2) as { tools: { name: string; description?: string; inputSchema?: unknown }[] }).tools;
  } finally {
    child.kill();
  }
}

test("MCP: the provider gives a stdio definition of the extension's daemon with `mcp`; it answers tools/list with the six tools", async () => {
  const api = await extension();
  const vscodeMcp = vscode as unknown as { lm?: { registerMcpServerDefinitionProvider?: unknown }; McpStdioServerDefinition?: new (...args: never[]) => unknown };
  const hasApi = typeof vscodeMcp.lm?.registerMcpServerDefinitionProvider === "function" && vscodeMcp.McpStdioServerDefinition !== undefined;
  assert.equal(api.mcp.registered, hasApi, "registered exactly when this VS Code has the API");
  assert.ok(hasApi, `this VS Code (${vscode.version}) has vscode.lm.registerMcpServerDefinitionProvider`);

  const definitions = await api.mcp.provide();
  assert.equal(definitions.length, 1);
  const [definition] = definitions;
  assert.ok(definition instanceof (vscodeMcp.McpStdioServerDefinition as new (...args: never[]) => unknown), "VS Code's own McpStdioServerDefinition");
  assert.equal(definition.label, "Bitbucket Snippets");
  assert.deepEqual([definition.command, ...definition.args], [...api.daemon.commandLine, "mcp"], "the same daemon the extension starts");
  assert.equal(definition.env.BITBUCKET_API_URL, context.sandbox.url, "the apiUrl setting goes with it");

  const tools = await listTools(definition);
  assert.deepEqual(tools.map((tool) => tool.name).sort(), TOOLS);
  for (const tool of tools) {
    assert.ok(tool.description && tool.inputSchema, `${tool.name} has a description and an input schema`);
  }

  const config = vscode.workspace.getConfiguration("bitbucketSnippets");
  await config.update("mcp.enabled", false, vscode.ConfigurationTarget.Global);
  try {
    assert.deepEqual(await api.mcp.provide(), [], "bitbucketSnippets.mcp.enabled: false offers nothing");
  } finally {
    await config.update("mcp.enabled", undefined, vscode.ConfigurationTarget.Global);
  }
});
