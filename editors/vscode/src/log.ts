// One LogOutputChannel for the extension and the daemon. The daemon's window/logMessage lines land here
// through the language client; the logLevel setting decides what both write.

import * as vscode from "vscode";

import type { LogLevel } from "./settings";

const ORDER: Record<LogLevel, number> = { error: 0, warning: 1, info: 2, debug: 3 };

export class Log implements vscode.Disposable {
  readonly channel = vscode.window.createOutputChannel("Bitbucket Snippets", { log: true });
  private level: LogLevel = "info";

  setLevel(level: LogLevel): void {
    this.level = level;
  }

  private enabled(level: LogLevel): boolean {
    return ORDER[level] <= ORDER[this.level];
  }

  error(message: string, error?: unknown): void {
    if (this.enabled("error")) {
      this.channel.error(error === undefined ? message : `${message}: ${describe(error)}`);
    }
  }

  warn(message: string): void {
    if (this.enabled("warning")) {
      this.channel.warn(message);
    }
  }

  info(message: string): void {
    if (this.enabled("info")) {
      this.channel.info(message);
    }
  }

  debug(message: string): void {
    if (this.enabled("debug")) {
      this.channel.debug(message);
    }
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
