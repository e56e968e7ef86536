// The daemon's error kinds (docs/protocol.md "Errors") mapped once: onto FileSystemError codes for the
// file system provider, and onto what a notification says and offers. Pure: no `vscode` import, so
// node --test checks the mapping.

import { type ErrorData, ErrorKind } from "./protocol";

/** A request the daemon refused (or could not be asked): `kind` from `error.data.kind`. */
export class DaemonError extends Error {
  constructor(
    message: string,
    readonly kind: ErrorKind | "daemonUnavailable" | undefined,
    readonly data: ErrorData = {},
    readonly code?: number,
  ) {
    super(message);
    this.name = "DaemonError";
  }
}

/** Not a kind the daemon sends: the daemon is not running (not installed, failed to start, stopped). */
export const DAEMON_UNAVAILABLE = "daemonUnavailable";

/** Anything thrown by a request as a DaemonError (a JSON-RPC ResponseError carries code, message, data). */
export function toDaemonError(error: unknown): DaemonError {
  if (error instanceof DaemonError) {
    return error;
  }
  if (typeof error === "object" && error !== null && "message" in error) {
    const { message, code, data } = error as { message: unknown; code?: unknown; data?: unknown };
    const payload = typeof data === "object" && data !== null ? (data as ErrorData) : {};
    const kind = typeof payload.kind === "string" ? payload.kind : undefined;
    return new DaemonError(String(message), kind, payload, typeof code === "number" ? code : undefined);
  }
  return new DaemonError(String(error), undefined);
}

/** The FileSystemError factory a kind maps onto (`undefined`: a plain FileSystemError with the message). */
export type FileSystemErrorCode =
  | "FileNotFound"
  | "FileExists"
  | "FileNotADirectory"
  | "FileIsADirectory"
  | "NoPermissions"
  | "Unavailable";

const FILE_SYSTEM_CODES: Partial<Record<string, FileSystemErrorCode>> = {
  [ErrorKind.NOT_FOUND]: "FileNotFound",
  [ErrorKind.FILE_EXISTS]: "FileExists",
  [ErrorKind.READ_ONLY]: "NoPermissions",
  [ErrorKind.FORBIDDEN]: "NoPermissions",
  [ErrorKind.NOT_AUTHENTICATED]: "NoPermissions",
  [ErrorKind.PLAN]: "NoPermissions",
  [ErrorKind.NETWORK]: "Unavailable",
  [ErrorKind.RATE_LIMITED]: "Unavailable",
  [ErrorKind.SERVER]: "Unavailable",
  // A sign-in as another account interrupted it: nothing of the old account is shown, a save was not sent.
  // A failed write keeps VS Code's document dirty, so the user's text stays in the editor.
  [ErrorKind.ACCOUNT_CHANGED]: "Unavailable",
  [DAEMON_UNAVAILABLE]: "Unavailable",
};

export function fileSystemErrorCode(kind: string | undefined): FileSystemErrorCode | undefined {
  return kind === undefined ? undefined : FILE_SYSTEM_CODES[kind];
}

/** The buttons a notification about a failure offers; command.ts knows what each does (SHARE_ANYWAY: withSecretCheck). */
export const Action = {
  SIGN_IN: "Sign in",
  RETRY: "Retry",
  SHOW_LOG: "Show log",
  SHOW_INSTALL_STEPS: "Show install steps",
  OPEN_SETTINGS: "Open settings",
  SHARE_ANYWAY: "Share anyway",
} as const;
export type Action = (typeof Action)[keyof typeof Action];

export interface UserMessage {
  severity: "error" | "warning";
  text: string;
  actions: Action[];
}

/** What to tell the user about a failed `what` ("Sharing", "Saving app.py"). The daemon's message says what to do. */
export function userMessage(what: string, error: DaemonError): UserMessage {
  const text = `${what} failed: ${error.message}`;
  switch (error.kind) {
    case ErrorKind.NOT_AUTHENTICATED:
      return { severity: "warning", text, actions: [Action.SIGN_IN] };
    case ErrorKind.FORBIDDEN: {
      const scopes = error.data.missingScopes?.length ? ` (missing scopes: ${error.data.missingScopes.join(", ")})` : "";
      return { severity: "error", text: text + scopes, actions: [Action.SIGN_IN] };
    }
    case ErrorKind.NETWORK:
    case ErrorKind.RATE_LIMITED:
    case ErrorKind.SERVER:
      return { severity: "warning", text, actions: [Action.RETRY] };
    case ErrorKind.ACCOUNT_CHANGED:
      // Nothing is wrong: the daemon's message says what was not shown or not sent, and to do it again.
      return { severity: "warning", text: error.message, actions: [] };
    case ErrorKind.SECRET_DETECTED:
      // The override belongs to withSecretCheck, which can send the same request again; here there is none.
      return { severity: "warning", text, actions: [] };
    case DAEMON_UNAVAILABLE:
      return { severity: "error", text, actions: [Action.SHOW_INSTALL_STEPS, Action.OPEN_SETTINGS] };
    case undefined:
      return { severity: "error", text, actions: [Action.SHOW_LOG] };
    default:
      return { severity: "error", text, actions: [] };
  }
}

/** Where a public snippet would leak a credential, for the secretDetected notification. */
export function describeFindings(data: ErrorData): string {
  const findings = data.findings ?? [];
  if (findings.length === 0) {
    return "";
  }
  const shown = findings.slice(0, 5).map((finding) => `${finding.path} line ${finding.line} (${finding.rule})`);
  const more = findings.length > 5 ? ` and ${findings.length - 5} more` : "";
  return `Looks like a credential at ${shown.join(", ")}${more}.`;
}

/** Shows a warning with buttons; resolves to the one chosen (prompts.notify in the extension). */
export type Ask = (severity: "warning", text: string, ...actions: string[]) => Promise<string | undefined>;

/**
 * The one answer to `secretDetected`, for every command that publishes files (share, toggleVisibility,
 * duplicate): `attempt(false)`; when the daemon refuses because the result would be public and looks like it
 * holds a credential, ask once, naming where ("{refused}: ..."), with "Share anyway"; that button sends
 * the same request again with allowSecrets. Resolves to the result, or undefined when the user declined.
 * Other failures (and a refusal despite allowSecrets) are thrown for reportFailure.
 */
export async function withSecretCheck<T>(
  refused: string,
  attempt: (allowSecrets: boolean) => PromiseLike<T>,
  ask: Ask,
  allowSecrets = false,
): Promise<T | undefined> {
  try {
    return await attempt(allowSecrets);
  } catch (error) {
    const failure = toDaemonError(error);
    if (failure.kind !== ErrorKind.SECRET_DETECTED || allowSecrets) {
      throw failure;
    }
    const text = `${refused}: this would publish what looks like a credential. ${describeFindings(failure.data)} Remove it or keep the snippet private.`;
    if ((await ask("warning", text.replace(/ {2,}/g, " "), Action.SHARE_ANYWAY)) !== Action.SHARE_ANYWAY) {
      return undefined;
    }
    return attempt(true);
  }
}
