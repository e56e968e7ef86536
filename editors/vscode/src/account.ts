// The account (the daemon's features/account.py): sign in and out (bbsnippets.login keeps the secret in
// the OS keyring, never here), the status bar item ("signed in as X · workspace Y" from bbsnippets.whoami,
// or "Sign in"), and the daemon itself: restart it, show its log.

import * as vscode from "vscode";

import type { Daemon } from "./client";
import { SIGN_IN, type Services, registerCommand } from "./command";
import { DAEMON_UNAVAILABLE, DaemonError, toDaemonError } from "./errors";
import * as prompts from "./prompts";
import { type AccountResult, ErrorKind, HEALTH, LOGIN, LOGOUT, WHOAMI } from "./protocol";
import { linksChanged } from "./push";
import { readSettings } from "./settings";

export const SIGN_OUT = "bitbucketSnippets.signOut";

export const TOKEN_URL = "https://id.atlassian.com/manage-profile/security/api-tokens";

export class Status implements vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem("bitbucketSnippets.status", vscode.StatusBarAlignment.Left, 10);
  /** Who we are signed in as, when known. */
  account: AccountResult | undefined;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly daemon: Daemon) {
    this.item.name = "Bitbucket Snippets";
    this.subscriptions = [daemon.onDidStart(() => void this.update())];
  }

  /** Ask the daemon who we are (one request) and show it. */
  async update(): Promise<void> {
    try {
      this.show(await this.daemon.command(WHOAMI, {}));
    } catch (error) {
      const failure = toDaemonError(error);
      if (failure.kind === ErrorKind.NOT_AUTHENTICATED || failure.kind === DAEMON_UNAVAILABLE) {
        this.show(undefined);
      } else {
        // Network trouble and the like: keep what we showed, say why in the tooltip.
        this.item.tooltip = `Bitbucket Snippets: ${failure.message}`;
      }
    }
  }

  show(result: AccountResult | undefined): void {
    this.account = result?.account ? result : undefined;
    if (this.account?.account) {
      const workspace = this.account.workspace ?? (readSettings().workspace || this.account.account.nickname);
      this.item.text = `$(account) signed in as ${this.account.account.displayName}${workspace ? ` · workspace ${workspace}` : ""}`;
      this.item.tooltip = "Bitbucket Snippets: click to sign out or switch account";
      this.item.command = SIGN_OUT;
    } else {
      this.item.text = "$(sign-in) Sign in";
      this.item.tooltip = "Bitbucket Snippets: sign in with your Atlassian email and an API token";
      this.item.command = SIGN_IN;
    }
    void vscode.commands.executeCommand("setContext", "bitbucketSnippets.signedIn", this.account !== undefined);
    this.item.show();
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
    this.item.dispose();
  }
}

export function registerAccount(context: vscode.ExtensionContext, services: Services, status: Status): void {
  registerCommand(context, services, "signIn", "Signing in", async () => {
    // Without an OS keyring the token could not be kept: say so before asking anything (no request is sent).
    const { keyring } = await services.daemon.command(HEALTH, { checkApi: false });
    if (!keyring.usable) {
      const why = keyring.message ?? "No OS keyring is available on this machine, so the API token cannot be kept.";
      void prompts.notify(
        "error",
        `Signing in is not possible here: ${why} The environment is the one VS Code starts from; then run Bitbucket Snippets: Restart the Snippet Daemon.`,
      );
      return undefined;
    }
    const email = await prompts.input("Your Atlassian account email (Bitbucket signs API tokens in with it)", {
      placeHolder: "you@example.com",
      validate: (value) => (value.includes("@") ? undefined : "An email address, e.g. you@example.com"),
    });
    if (!email) {
      return undefined;
    }
    const secret = await prompts.input(
      `An API token with the scopes read:snippet:bitbucket, write:snippet:bitbucket, delete:snippet:bitbucket (create one at ${TOKEN_URL})`,
      { password: true },
    );
    if (!secret) {
      return undefined;
    }
    const result = await services.daemon.command(LOGIN, { kind: "apiToken", username: email.trim(), secret });
    await status.update();
    linksChanged(); // links belong to an account: this one's folders get their Source Control
    services.tree.refresh();
    void prompts.notify("info", `Signed in to Bitbucket as ${result.account?.displayName ?? email}.`);
    return result.account;
  });

  registerCommand(context, services, "signOut", "Signing out", async () => {
    const name = status.account?.account?.displayName;
    const choice = await prompts.modal(
      name ? `Sign out ${name}?` : "Sign out of Bitbucket?",
      "The API token is removed from the OS keyring. Credentials in the environment (BITBUCKET_*) still apply.",
      "Sign out",
    );
    if (choice !== "Sign out") {
      return false;
    }
    await services.daemon.command(LOGOUT, {});
    await status.update();
    linksChanged();
    services.tree.refresh();
    return true;
  });

  registerCommand(context, services, "restartServer", "Restarting the snippet daemon", async () => {
    await services.daemon.restart(readSettings());
    if (services.daemon.state !== "running") {
      throw services.daemon.failure ?? new DaemonError("The snippet daemon did not start.", DAEMON_UNAVAILABLE);
    }
  });

  registerCommand(context, services, "showLog", "Showing the log", async () => services.log.show());
}
