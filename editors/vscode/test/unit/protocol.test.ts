// The protocol mirror against its source of truth, snippet_daemon/protocol.py: every method in the
// typed command map or as a RequestType/NotificationType, every error kind, every camelCase field.
// And the manifest: UI commands are bitbucketSnippets.*, each one registered, none a daemon name.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";

import * as protocol from "../../src/protocol";

const extensionDir = path.resolve(__dirname, "../../..");
const repo = path.resolve(extensionDir, "../..");
const python = fs.readFileSync(path.join(repo, "snippet_daemon/protocol.py"), "utf8");
const errorKinds = fs.readFileSync(path.join(repo, "snippet_daemon/error_kinds.py"), "utf8");
const mirror = fs.readFileSync(path.join(extensionDir, "src/protocol.ts"), "utf8");

function pythonNames(kind: "_C" | "_R" | "_N"): string[] {
  const constants = new Map([...python.matchAll(/^([A-Z_]+) = "([^"]+)"$/gm)].map((match) => [match[1], match[2]]));
  return [...python.matchAll(new RegExp(`Method\\(([A-Z_]+), ${kind},`, "g"))].map((match) => constants.get(match[1]) as string);
}

test("every daemon command is in the typed command map, and nothing else is", () => {
  const commands = pythonNames("_C");
  assert.ok(commands.length >= 22, `found ${commands.length} commands in protocol.py`);
  const mapped = [...mirror.matchAll(/^\s+\[([A-Z_]+)\]: \[/gm)].map((match) => (protocol as unknown as Record<string, string>)[match[1]]);
  assert.deepEqual([...mapped].sort(), [...commands].sort());
});

test("every request and notification is a typed RequestType/NotificationType with the same method name", () => {
  const declared = (Object.values(protocol) as unknown[])
    .filter((value): value is { method: string } => typeof value === "object" && value !== null && "method" in value)
    .map((value) => value.method);
  assert.deepEqual(declared.sort(), [...pythonNames("_R"), ...pythonNames("_N")].sort());
});

test("error kinds are the daemon's", () => {
  const kinds = [...errorKinds.matchAll(/^\s+[A-Z_]+ = "([a-zA-Z]+)"$/gm)].map((match) => match[1]);
  assert.ok(kinds.length >= 14);
  assert.deepEqual(Object.values(protocol.ErrorKind).sort(), kinds.sort());
});

test("every camelCase field of every attrs class is mirrored", () => {
  const camel = (name: string) => name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
  const missing: string[] = [];
  let checked = 0;
  for (const block of python.split(/^@attrs\.(?:define|frozen)\n/m).slice(1)) {
    const name = /^class (\w+)/.exec(block)?.[1];
    if (!name || name === "Method") {
      continue;
    }
    if (!new RegExp(`\\b${name}\\b`).test(mirror)) {
      missing.push(`type ${name}`);
    }
    const body = block.split(/\n(?=\S)/)[0];
    for (const field of body.matchAll(/^ {4}([a-z_]+): /gm)) {
      checked += 1;
      if (!new RegExp(`\\b${camel(field[1])}\\??:`).test(mirror)) {
        missing.push(`${name}.${camel(field[1])}`);
      }
    }
  }
  assert.ok(checked > 100, `only ${checked} fields found in protocol.py`);
  assert.deepEqual(missing, []);
});

test("the manifest: every UI command is bitbucketSnippets.* and registered; no daemon name is registered", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(extensionDir, "package.json"), "utf8"));
  const contributed: string[] = manifest.contributes.commands.map((command: { command: string }) => command.command);
  const sources = fs.readdirSync(path.join(extensionDir, "src")).map((file) => fs.readFileSync(path.join(extensionDir, "src", file), "utf8")).join("\n");
  for (const name of contributed) {
    assert.match(name, /^bitbucketSnippets\./);
    const short = name.slice("bitbucketSnippets.".length);
    assert.ok(sources.includes(`"${name}"`) || new RegExp(`(command|snippetCommand|registerCommand\\(context, services,)\\(?\\s*"${short.replace(".", "\\.")}"`).test(sources) || sources.includes(`["${short}",`), `${name} is registered`);
  }
  for (const fixed of ["share", "open", "refresh", "pull", "signIn", "signOut", "restartServer", "showLog", "duplicate", "delete", "watch", "unwatch", "history", "addFile", "renameTitle", "toggleVisibility", "copyLink", "openInBrowser"]) {
    assert.ok(contributed.includes(`bitbucketSnippets.${fixed}`), fixed);
  }
  assert.doesNotMatch(sources, /registerCommand\(\s*["'`]bbsnippets\./);
  const settings = Object.keys(manifest.contributes.configuration.properties);
  for (const fixed of ["apiUrl", "workspace", "privateByDefault", "pollIntervalSeconds", "server.command", "logLevel"]) {
    assert.ok(settings.includes(`bitbucketSnippets.${fixed}`), fixed);
  }
  assert.equal(manifest.name, "bitbucket-snippets");
  // Active once VS Code has started: the status bar's "Sign in" shows without opening the view.
  assert.deepEqual(manifest.activationEvents.sort(), ["onFileSystem:bbsnippet", "onStartupFinished", "onView:bitbucketSnippets.snippets"]);
  const typesVscode = manifest.devDependencies["@types/vscode"].replace(/^\^/, "");
  assert.ok(typesVscode <= manifest.engines.vscode.replace(/^\^/, ""), "@types/vscode is not newer than engines.vscode");
});

test("the manifest is ready for a marketplace and fits Restricted Mode, virtual workspaces and remote windows", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(extensionDir, "package.json"), "utf8"));
  const trust = manifest.capabilities.untrustedWorkspaces;
  assert.equal(trust.supported, "limited");
  // A cloned folder's settings never choose the program that runs or the server that gets the credentials.
  assert.deepEqual([...trust.restrictedConfigurations].sort(), [
    "bitbucketSnippets.apiUrl",
    "bitbucketSnippets.server.command",
    "bitbucketSnippets.server.importStrategy",
  ]);
  assert.equal(manifest.capabilities.virtualWorkspaces, true);
  assert.deepEqual(manifest.extensionKind, ["workspace"]);
  assert.ok(manifest.categories.includes("Snippets"));
  for (const keyword of ["bitbucket", "snippets", "gist"]) {
    assert.ok(manifest.keywords.includes(keyword), keyword);
  }
  const icon = fs.readFileSync(path.join(extensionDir, manifest.icon));
  assert.equal(icon.subarray(1, 4).toString("ascii"), "PNG");
  assert.deepEqual([icon.readUInt32BE(16), icon.readUInt32BE(20)], [128, 128], "a 128 px icon");
  assert.match(fs.readFileSync(path.join(extensionDir, "CHANGELOG.md"), "utf8"), /^# Changelog/);
  const shipped = fs.readFileSync(path.join(extensionDir, ".vscodeignore"), "utf8");
  for (const file of ["!media/**", "!CHANGELOG.md", "!README.md"]) {
    assert.ok(shipped.split("\n").includes(file), `${file} is packaged`);
  }
  const readme = fs.readFileSync(path.join(extensionDir, "README.md"), "utf8");
  assert.match(readme, /"extensionKind": \["workspace"\]/, "the README says why the extension runs where the workspace is");
});
