// Every notification, modal, quick pick and input box the extension shows goes through here.
//
// Test hook (documented in README "VS Code" > "Tests"): extension-host tests cannot click VS Code's
// dialogs, so the extension's exported API lets a test install a `responder` that answers each prompt
// (return the button/item/text, or undefined to dismiss) and read `shown`, the prompts so far. With no
// responder installed, which is always the case outside tests, the real vscode.window UI is used.

import * as vscode from "vscode";

export type PromptKind = "info" | "warning" | "error" | "modal" | "quickPick" | "input";

export interface Prompt {
  kind: PromptKind;
  /** The message, the quick pick's title/placeholder, or the input box's prompt. */
  message: string;
  /** Buttons, or quick pick item labels. */
  choices: string[];
  /** Input boxes: is it a password field. */
  password?: boolean;
}

export type Responder = (prompt: Prompt) => string | undefined | Promise<string | undefined>;

export const testHooks: { responder?: Responder; shown: Prompt[] } = { shown: [] };

async function respond(prompt: Prompt, real: () => Thenable<string | undefined>): Promise<string | undefined> {
  testHooks.shown.push(prompt);
  return testHooks.responder ? testHooks.responder(prompt) : real();
}

/** A notification; resolves to the button chosen (undefined when dismissed). Fire-and-forget is fine. */
export function notify(
  severity: "info" | "warning" | "error",
  message: string,
  ...actions: string[]
): Promise<string | undefined> {
  const show =
    severity === "error"
      ? vscode.window.showErrorMessage
      : severity === "warning"
        ? vscode.window.showWarningMessage
        : vscode.window.showInformationMessage;
  return respond({ kind: severity, message, choices: actions }, () => show(message, ...actions));
}

/** A modal dialog (VS Code adds Cancel itself, which answers undefined). */
export function modal(message: string, detail: string, ...actions: string[]): Promise<string | undefined> {
  return respond({ kind: "modal", message, choices: actions }, () =>
    vscode.window.showWarningMessage(message, { modal: true, detail }, ...actions),
  );
}

export interface PickItem<T> extends vscode.QuickPickItem {
  value: T;
}

/** A quick pick; the responder answers with an item's label. */
export async function pick<T>(title: string, items: PickItem<T>[]): Promise<T | undefined> {
  const label = await respond(
    { kind: "quickPick", message: title, choices: items.map((item) => item.label) },
    async () => (await vscode.window.showQuickPick(items, { title, placeHolder: title, matchOnDescription: true }))?.label,
  );
  return items.find((item) => item.label === label)?.value;
}

export function input(
  prompt: string,
  options: { value?: string; password?: boolean; placeHolder?: string; validate?: (value: string) => string | undefined } = {},
): Promise<string | undefined> {
  return respond({ kind: "input", message: prompt, choices: [], password: options.password ?? false }, () =>
    vscode.window.showInputBox({
      prompt,
      value: options.value,
      password: options.password,
      placeHolder: options.placeHolder,
      ignoreFocusOut: true,
      validateInput: options.validate,
    }),
  );
}
