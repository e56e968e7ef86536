// Which program runs the daemon: the user's command, the daemon bundled with the extension (run by the first
// Python 3.11-3.14 found), or `snippet-daemon` on PATH. No pip, no network: only what is on the machine.
// `serverCommand()` is the one answer; the MCP registration (mcp.ts) starts the same program.

import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import * as vscode from "vscode";

import type { Settings } from "./settings";

export const EXTENSION_ID = "snippet-daemon.bitbucket-snippets";
/** The CPython versions the bundle carries compiled parts for (scripts/bundle_daemon.py). */
export const PYTHON_VERSIONS = { min: [3, 11], max: [3, 14] } as const;
const SUPPORTED = "Python 3.11 to 3.14";
const PROBE_TIMEOUT_MS = 5000;
/** The Python extension may still be activating: past this, python3/python on PATH are asked instead. */
const PYTHON_EXTENSION_TIMEOUT_MS = 3000;

/** A command line to start the daemon with (`--stdio` is appended), or why there is none. */
export type ServerCommand = { command: string[]; source: "setting" | "bundled" | "environment" } | { problem: string; needsPython?: boolean };

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `name` as an absolute path: itself when it has a slash, else the first match on PATH. */
export function which(name: string): string | undefined {
  if (name.includes("/") || name.includes("\\")) {
    return executable(name) ? name : undefined;
  }
  const suffixes = process.platform === "win32" ? ["", ".exe", ".cmd"] : [""];
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    for (const suffix of suffixes) {
      const candidate = path.join(dir, name + suffix);
      if (dir && executable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/** This extension's folder (installed or under development). */
export function extensionRoot(): string {
  return vscode.extensions.getExtension(EXTENSION_ID)?.extensionPath ?? path.resolve(__dirname, "..");
}

/** The bundled daemon's launcher, when this build carries a bundle (`make vsix`); a development build has none. */
export function bundledLauncher(root = extensionRoot()): string | undefined {
  const launcher = path.join(root, "bundled", "launch.py");
  return fs.existsSync(path.join(root, "bundled", "libs", "snippet_daemon")) && fs.existsSync(launcher) ? launcher : undefined;
}

interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath?: () => { path: string };
    resolveEnvironment?: (path: string) => Promise<{ executable?: { uri?: { fsPath?: string } } } | undefined>;
  };
}

/** The Python extension's selected interpreter, when that extension is installed; never throws, never waits long. */
function pythonExtensionInterpreter(): Promise<string | undefined> {
  const patience = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), PYTHON_EXTENSION_TIMEOUT_MS));
  return Promise.race([askPythonExtension(), patience]);
}

async function askPythonExtension(): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>("ms-python.python");
  if (!extension) {
    return undefined;
  }
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    const active = api?.environments?.getActiveEnvironmentPath?.().path;
    if (!active) {
      return undefined;
    }
    // The active "path" may be an environment's folder: resolved, it names the interpreter itself.
    const resolved = await api.environments?.resolveEnvironment?.(active);
    const interpreter = resolved?.executable?.uri?.fsPath ?? active;
    return executable(interpreter) ? interpreter : undefined;
  } catch {
    return undefined;
  }
}

/** `python`'s version as [major, minor], or undefined when it does not run. */
export function pythonVersion(python: string): Promise<[number, number] | undefined> {
  return new Promise((resolve) => {
    execFile(python, ["-I", "-c", "import sys; print(*sys.version_info[:2])"], { timeout: PROBE_TIMEOUT_MS }, (error, stdout) => {
      const match = /^(\d+) (\d+)\s*$/.exec(String(stdout));
      resolve(error || !match ? undefined : [Number(match[1]), Number(match[2])]);
    });
  });
}

export function supported([major, minor]: [number, number]): boolean {
  const at = major * 100 + minor;
  return at >= PYTHON_VERSIONS.min[0] * 100 + PYTHON_VERSIONS.min[1] && at <= PYTHON_VERSIONS.max[0] * 100 + PYTHON_VERSIONS.max[1];
}

/** What to install when no suitable Python exists, for this platform, in one sentence. */
export function pythonInstallAdvice(platform: NodeJS.Platform = process.platform): string {
  switch (platform) {
    case "darwin":
      return "Install it with `brew install python@3.13` (or from python.org)";
    case "win32":
      return "Install Python 3.13 from python.org (tick “Add python.exe to PATH”) or the Microsoft Store";
    default:
      return "Install it with your package manager, e.g. `sudo apt install python3` (Debian 12, Ubuntu 24.04) or `sudo dnf install python3`";
  }
}

/** The first Python 3.11-3.14: the Python extension's interpreter, else python3, else python on PATH. */
export async function findPython(): Promise<{ python?: string; rejected: string[] }> {
  const rejected: string[] = [];
  const candidates = [await pythonExtensionInterpreter(), which("python3"), which("python")];
  const seen = new Set<string>();
  for (const candidate of candidates) {
    if (!candidate || seen.has(candidate)) {
      continue;
    }
    seen.add(candidate);
    const version = await pythonVersion(candidate);
    if (version && supported(version)) {
      return { python: candidate, rejected };
    }
    rejected.push(version ? `${candidate} is ${version.join(".")}` : `${candidate} does not run`);
  }
  return { rejected };
}

/**
 * How to start the daemon: `bitbucketSnippets.server.command` when set; else, with importStrategy `bundled` (the
 * default) and a bundle in this build, the first suitable Python running the bundled launcher in isolated mode;
 * else `snippet-daemon` on PATH.
 */
export async function serverCommand(settings: Pick<Settings, "serverCommand" | "importStrategy">, root = extensionRoot()): Promise<ServerCommand> {
  if (settings.serverCommand.length > 0) {
    const [program, ...args] = settings.serverCommand;
    const found = which(program);
    return found
      ? { command: [found, ...args], source: "setting" }
      : {
          problem: `bitbucketSnippets.server.command names ${program}, which is not an executable program${program.includes("/") ? "" : " on PATH"}.`,
        };
  }
  const launcher = settings.importStrategy === "bundled" ? bundledLauncher(root) : undefined;
  if (launcher) {
    const { python, rejected } = await findPython();
    if (python) {
      return { command: [python, "-I", launcher], source: "bundled" };
    }
    const found = rejected.length > 0 ? ` (found: ${rejected.join("; ")})` : " (none on PATH)";
    return { problem: `Bitbucket Snippets needs ${SUPPORTED} to run its daemon${found}. ${pythonInstallAdvice()}, then restart VS Code.`, needsPython: true };
  }
  const daemon = which("snippet-daemon");
  if (daemon) {
    return { command: [daemon], source: "environment" };
  }
  return {
    problem:
      settings.importStrategy === "bundled"
        ? "This build of the extension has no bundled daemon (build it with `make vsix`) and no snippet-daemon is on PATH."
        : "bitbucketSnippets.server.importStrategy is fromEnvironment, but no snippet-daemon is on PATH: install it (the README's Install section) or set importStrategy to bundled.",
  };
}
