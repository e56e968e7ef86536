// Starting, stopping and restarting the daemon, and one typed way to talk to it.
//
// The daemon runs over stdio and registers its bbsnippets.* commands itself from executeCommandProvider; we
// never register those names. Which program runs is python.ts's answer (the bundled daemon by default). When it
// cannot be found or started, the user gets ONE notification (with the daemon's own last error lines, not a
// transport message) and nothing retries on its own: requests fail at once with `daemonUnavailable` until the
// user restarts it or changes a setting.

import { type ChildProcess, spawn } from "node:child_process";
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
  type MessageActionItem,
  ShowMessageRequest,
  type ShowMessageRequestParams,
  State,
  type ShowMessageParams,
} from "vscode-languageclient/node";
import type { RequestType } from "vscode-languageserver-protocol";

import { DAEMON_UNAVAILABLE, DaemonError, toDaemonError } from "./errors";
import type { Log } from "./log";
import * as prompts from "./prompts";
import { type CommandName, type CommandParams, type CommandResult, DID_CHANGE, type DidChangeParams } from "./protocol";
import { extensionRoot, serverCommand } from "./python";
import { type Settings, initializationOptions, openSettings } from "./settings";

const INSTALL_HINT = "See the install steps (or set bitbucketSnippets.server.command).";
/** How long a daemon that failed to start gets to finish writing its stderr before we quote it. */
const STDERR_GRACE_MS = 2000;
const STDERR_LINES = 4;

/** The README bundled with the extension (its Install section), as a preview; the one place "install steps" go. */
export async function showInstallSteps(): Promise<void> {
  // vsce stores it as readme.md; a development build has README.md.
  const root = extensionRoot();
  const readme = vscode.Uri.file(["README.md", "readme.md"].map((name) => path.join(root, name)).find((file) => fs.existsSync(file)) ?? path.join(root, "README.md"));
  try {
    await vscode.commands.executeCommand("markdown.showPreview", readme);
  } catch {
    await vscode.window.showTextDocument(readme);
  }
}

/** The last few lines a process wrote to stderr, kept while it runs. */
class StderrTail {
  private text = "";
  readonly closed: Promise<void>;

  constructor(child: ChildProcess) {
    child.stderr?.on("data", (chunk: Buffer) => {
      this.text = (this.text + chunk.toString("utf8")).slice(-8000);
    });
    this.closed = new Promise((resolve) => {
      child.once("close", () => resolve());
      child.once("error", () => resolve());
    });
  }

  /** Its last lines, once it has exited (or after a short grace when it has not). */
  async lastLines(): Promise<string> {
    await Promise.race([this.closed, new Promise((resolve) => setTimeout(resolve, STDERR_GRACE_MS))]);
    const lines = this.text
      .split(/\r?\n/)
      .map((line) => line.trimEnd())
      .filter((line) => line.trim() !== "");
    return lines.slice(-STDERR_LINES).join("\n");
  }
}

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
  /** Answers the daemon's `window/showMessageRequest` (whether to unwatch a snippet out of reach): watch.ts. */
  answerQuestion: ((question: ShowMessageRequestParams) => Promise<MessageActionItem | null>) | undefined;
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
    const resolved = await serverCommand(this.settings);
    if ("problem" in resolved) {
      this.fail(new DaemonError(resolved.needsPython ? resolved.problem : `The snippet daemon could not be started: ${resolved.problem} ${INSTALL_HINT}`, DAEMON_UNAVAILABLE));
      return;
    }
    const command = resolved.command;
    this.commandLine = command;
    this.startAttempts += 1;
    this.log.info(`starting ${command.join(" ")} --stdio (${resolved.source})`);
    let stderr: StderrTail | undefined;
    // We spawn it ourselves to keep its stderr: when it dies at start, its own words say why.
    const serverOptions: ServerOptions = () => {
      const child = spawn(command[0], [...command.slice(1), "--stdio"], {
        env: { ...process.env, PYTHONUNBUFFERED: "1" },
        stdio: "pipe",
        windowsHide: true,
      });
      stderr = new StderrTail(child);
      return Promise.resolve(child);
    };
    let stoppedUnexpectedly = false;
    const clientOptions: LanguageClientOptions = {
      // The daemon has no file types of its own: no text document is synced to it. workspace/symbol does not
      // depend on documents: the client registers the daemon's workspace symbol provider for the whole
      // window, so "Go to Symbol in Workspace" finds snippets (its locations are bbsnippet:// files, no #L).
      documentSelector: [],
      initializationOptions: initializationOptions(this.settings),
      outputChannel: this.log.channel,
      // The daemon logs everything twice, to stderr and as window/logMessage; only the latter (with its levels)
      // goes to the log. StderrTail keeps stderr's last lines, to say why a start failed.
      stdioOptions: { stdout: () => undefined, stderr: () => undefined },
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
        void (stderr?.lastLines() ?? Promise.resolve("")).then((said) =>
          this.fail(new DaemonError(`The snippet daemon stopped unexpectedly${said ? `: ${said}` : "; the log may say why."}`, DAEMON_UNAVAILABLE)),
        );
      }
    });
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      if (this.client === client) {
        this.client = undefined;
      }
      const said = stderr ? await stderr.lastLines() : "";
      // Its own last words say why; the transport's ("connection got disposed") only when it said nothing.
      const reason = said || (error instanceof Error ? error.message : String(error));
      this.fail(new DaemonError(`The snippet daemon (${command.join(" ")}) could not be started: ${reason}\n${INSTALL_HINT}`, DAEMON_UNAVAILABLE));
      return;
    }
    client.onNotification(DID_CHANGE, (params) => this.changes.fire(params));
    client.onNotification(ShowMessageNotification.type, (params) => this.messages.fire(params));
    client.onRequest(ShowMessageRequest.type, (params) => this.answerQuestion?.(params) ?? null);
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
          void showInstallSteps();
        } else if (choice === "Open settings") {
          void openSettings("server");
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

/** The daemon's command line (without --stdio), or why there is none: python.ts's serverCommand() flattened. The MCP
 * registration (mcp.ts) starts the same program with `mcp`. */
export async function resolveServerCommand(settings: Settings): Promise<string[] | string> {
  const resolved = await serverCommand(settings);
  return "problem" in resolved ? resolved.problem : resolved.command;
}
