// Starting, stopping and restarting the daemon, and one typed way to talk to it.
//
// The daemon runs over stdio (vscode-languageclient appends --stdio) and registers its bbsnippets.*
// commands itself from executeCommandProvider; we never register those names. When it cannot be found
// or started, the user gets ONE notification (install steps, settings) and nothing retries on its own:
// requests fail at once with `daemonUnavailable` until the user restarts it or changes a setting.

import * as fs from "node:fs";
import * as path from "node:path";

import * as vscode from "vscode";
import {
  CloseAction,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  RevealOutputChannelOn,
  type ServerOptions,
  ShowMessageNotification,
  State,
  type ShowMessageParams,
  TransportKind,
} from "vscode-languageclient/node";
import type { RequestType } from "vscode-languageserver-protocol";

import { DAEMON_UNAVAILABLE, DaemonError, toDaemonError } from "./errors";
import type { Log } from "./log";
import * as prompts from "./prompts";
import { type CommandName, type CommandParams, type CommandResult, DID_CHANGE, type DidChangeParams } from "./protocol";
import { type Settings, initializationOptions, openSettings } from "./settings";

export const INSTALL_STEPS_URL = "https://pypi.org/project/snippet-daemon/";
const INSTALL_HINT = "See the install steps (or set bitbucketSnippets.server.command).";

/** A LanguageClient that leaves every user-facing message to us (its own pop-ups would double ours). */
class QuietLanguageClient extends LanguageClient {
  override error(message: string, data?: unknown): void {
    super.error(message, data, false);
  }
}

export type DaemonState = "stopped" | "starting" | "running" | "failed";

export class Daemon implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<void> | undefined;
  private readonly changes = new vscode.EventEmitter<DidChangeParams>();
  private readonly started = new vscode.EventEmitter<void>();
  private readonly messages = new vscode.EventEmitter<ShowMessageParams>();
  /** `bbsnippets/didChange` from the daemon. */
  readonly onDidChange = this.changes.event;
  /** The daemon is (again) ready for requests. */
  readonly onDidStart = this.started.event;
  /** `window/showMessage` from the daemon; watch.ts shows them. */
  readonly onMessage = this.messages.event;
  state: DaemonState = "stopped";
  /** Why the last start failed (shown once; requests fail with it until a restart). */
  failure: DaemonError | undefined;
  /** How many times a daemon process was started (a test checks there is no retry storm). */
  startAttempts = 0;
  /** How many starts (and failures to find the program) have finished: a restart has landed when this moves. */
  generation = 0;
  /** The command line the daemon was last started with. */
  commandLine: string[] = [];

  constructor(
    private readonly log: Log,
    private settings: Settings,
  ) {}

  /** Start unless running; concurrent calls share one start. Never throws: failures set `failure`. */
  start(): Promise<void> {
    if (this.state === "running") {
      return Promise.resolve();
    }
    this.starting ??= this.doStart().finally(() => {
      this.starting = undefined;
      this.generation += 1;
    });
    return this.starting;
  }

  async restart(settings: Settings = this.settings): Promise<void> {
    await this.starting;
    await this.stop();
    this.settings = settings;
    this.failure = undefined;
    await this.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.state = "stopped";
    if (client) {
      try {
        await client.stop(5000);
      } catch (error) {
        this.log.debug(`stopping the daemon: ${String(error)}`);
      }
    }
  }

  private async doStart(): Promise<void> {
    this.state = "starting";
    const command = await resolveServerCommand(this.settings);
    if (typeof command === "string") {
      this.fail(new DaemonError(`${command} ${INSTALL_HINT}`, DAEMON_UNAVAILABLE));
      return;
    }
    this.commandLine = command;
    this.startAttempts += 1;
    this.log.info(`starting ${command.join(" ")} --stdio`);
    const serverOptions: ServerOptions = {
      command: command[0],
      args: command.slice(1),
      transport: TransportKind.stdio,
      options: { env: { ...process.env, PYTHONUNBUFFERED: "1" } },
    };
    let stoppedUnexpectedly = false;
    const stderr: string[] = [];
    const clientOptions: LanguageClientOptions = {
      // The daemon has no file types of its own: no text document is synced to it. workspace/symbol does not
      // depend on documents: the client registers the daemon's workspace symbol provider for the whole
      // window, so "Go to Symbol in Workspace" finds snippets (its locations are bbsnippet:// files, no #L).
      documentSelector: [],
      initializationOptions: initializationOptions(this.settings),
      outputChannel: withoutStderr(this.log.channel, stderr),
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue, handled: true }),
        closed: () => {
          // Told once; restarting is the user's choice (no retry storm).
          if (this.state === "running") {
            stoppedUnexpectedly = true;
          }
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
      initializationFailedHandler: () => false,
    };
    const client = new QuietLanguageClient("bitbucketSnippets", "Snippet daemon", serverOptions, clientOptions);
    client.onDidChangeState((event) => {
      if (event.newState === State.Stopped && this.client === client && stoppedUnexpectedly) {
        this.client = undefined;
        this.fail(new DaemonError("The snippet daemon stopped unexpectedly; the log may say why.", DAEMON_UNAVAILABLE));
      }
    });
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      if (this.client === client) {
        this.client = undefined;
      }
      const said = stderr.join("").trim().split("\n").slice(-3).join(" ").trim();
      const reason = (error instanceof Error ? error.message : String(error)) + (said ? ` (it said: ${said})` : "");
      this.fail(
        new DaemonError(`the snippet daemon (${command.join(" ")}) could not be started: ${reason}. ${INSTALL_HINT}`, DAEMON_UNAVAILABLE),
      );
      return;
    }
    client.onNotification(DID_CHANGE, (params) => this.changes.fire(params));
    client.onNotification(ShowMessageNotification.type, (params) => this.messages.fire(params));
    this.state = "running";
    this.log.info("the snippet daemon is ready");
    this.started.fire();
  }

  private fail(failure: DaemonError): void {
    this.state = "failed";
    this.failure = failure;
    this.log.error(failure.message);
    void prompts
      .notify("error", `Bitbucket Snippets: ${failure.message}`, "Show install steps", "Open settings")
      .then((choice) => {
        if (choice === "Show install steps") {
          void vscode.env.openExternal(vscode.Uri.parse(INSTALL_STEPS_URL));
          void prompts.notify("info", "Install the daemon as the README's Install section says, then run Bitbucket Snippets: Restart the Snippet Daemon.");
        } else if (choice === "Open settings") {
          void openSettings();
        }
      });
  }

  private async ready(): Promise<LanguageClient> {
    await this.starting;
    if (!this.client || this.state !== "running") {
      throw this.failure ?? new DaemonError("The snippet daemon is not running; restart it.", DAEMON_UNAVAILABLE);
    }
    return this.client;
  }

  /** A daemon command (`workspace/executeCommand` with one object argument), typed by protocol.ts. */
  async command<K extends CommandName>(name: K, params: CommandParams<K>): Promise<CommandResult<K>> {
    const client = await this.ready();
    try {
      return (await client.sendRequest(ExecuteCommandRequest.type, { command: name, arguments: [params] })) as CommandResult<K>;
    } catch (error) {
      throw toDaemonError(error);
    }
  }

  /** One of the bbsnippets/* requests. */
  async request<P, R>(type: RequestType<P, R, void>, params: P): Promise<R> {
    const client = await this.ready();
    try {
      return await client.sendRequest<R>(type.method, params);
    } catch (error) {
      throw toDaemonError(error);
    }
  }

  dispose(): void {
    void this.stop();
    this.changes.dispose();
    this.started.dispose();
    this.messages.dispose();
  }
}

/**
 * The log channel as the language client sees it. The daemon logs everything twice, to stderr and as
 * window/logMessage; only the latter (with its levels) goes to the log. Its stderr is kept, briefly, to
 * say why it would not start.
 */
function withoutStderr(channel: vscode.LogOutputChannel, kept: string[]): vscode.LogOutputChannel {
  return new Proxy(channel, {
    get(target, property, receiver) {
      if (property === "append" || property === "appendLine") {
        return (text: string) => {
          kept.push(property === "appendLine" ? `${text}\n` : text);
          kept.splice(0, Math.max(0, kept.length - 50));
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

// --------------------------------------------------------------------------- finding the daemon

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

interface PythonExtensionApi {
  environments?: { getActiveEnvironmentPath?: () => { path: string } };
}

/** The Python extension's selected interpreter, when that extension is installed. */
async function pythonExtensionInterpreter(): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>("ms-python.python");
  if (!extension) {
    return undefined;
  }
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    const interpreter = api.environments?.getActiveEnvironmentPath?.().path;
    return interpreter && executable(interpreter) ? interpreter : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The daemon's command line (without --stdio): the setting, else snippet-daemon on PATH, else the Python
 * extension's interpreter or python3 with -m snippet_daemon. A string says why there is none.
 */
export async function resolveServerCommand(settings: Settings): Promise<string[] | string> {
  if (settings.serverCommand.length > 0) {
    const [program, ...args] = settings.serverCommand;
    const found = which(program);
    return found
      ? [found, ...args]
      : `The snippet daemon could not be started: bitbucketSnippets.server.command names ${program}, which is not an executable program${program.includes("/") ? "" : " on PATH"}.`;
  }
  const daemon = which("snippet-daemon");
  if (daemon) {
    return [daemon];
  }
  const python = (await pythonExtensionInterpreter()) ?? which("python3");
  return python ? [python, "-m", "snippet_daemon"] : "The snippet daemon was not found: no snippet-daemon on PATH, and no python3.";
}
