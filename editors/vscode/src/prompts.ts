// Every notification, modal, quick pick and input box the extension shows goes through here.
//
// Test hook (documented in README "VS Code" > "Tests"): extension-host tests cannot click VS Code's
// dialogs, so the extension's exported API lets a test install a `responder` that answers each prompt
// (return the button/item/text, or undefined to dismiss) and read `shown`, the prompts so far. With no
// responder installed, which is always the case outside tests, the real vscode.window UI is used.
// A live quick pick (livePick: items follow what the user types) is answered the same way: the responder
// gets the items for the given value as a "quickPick" prompt. While a real one is open, `livePicker` is it,
// so a test can also drive VS Code's own widget (type into it, wait for items, accept).

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
  /** Quick picks: each item's description, in the order of `choices`. */
  descriptions?: string[];
  /** Modal dialogs: the text under the message. */
  detail?: string;
}

export type Responder = (prompt: Prompt) => string | undefined | Promise<string | undefined>;

export const testHooks: { responder?: Responder; shown: Prompt[]; livePicker?: vscode.QuickPick<vscode.QuickPickItem> } = { shown: [] };

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
  return respond({ kind: "modal", message, choices: actions, detail }, () =>
    vscode.window.showWarningMessage(message, { modal: true, detail }, ...actions),
  );
}

export interface PickItem<T> extends vscode.QuickPickItem {
  value: T;
}

/** A quick pick; the responder answers with an item's label (items with the same label: the first). */
export async function pick<T>(title: string, items: PickItem<T>[]): Promise<T | undefined> {
  let picked: PickItem<T> | undefined;
  const shown = { kind: "quickPick" as const, message: title, choices: items.map((item) => item.label), descriptions: items.map((item) => item.description ?? "") };
  const label = await respond(shown, async () => {
    picked = await vscode.window.showQuickPick(items, { title, placeHolder: title, matchOnDescription: true });
    return picked?.label;
  });
  return (picked ?? items.find((item) => item.label === label))?.value;
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

/** `text` shown literally in a quick pick: "$(name)" would otherwise render as an icon. */
export function literal(text: string): string {
  return text.replace(/\$\(([A-Za-z0-9-]+(?:~[A-Za-z]+)?)\)/g, "\\$($1)");
}

/** What a live quick pick shows for one value: its items, and a line about them (e.g. "index still filling"). */
export interface LiveAnswer<T> {
  items: PickItem<T>[];
  note?: string;
  /** Ask again for the same value after this many milliseconds (the answer may grow). */
  againAfterMs?: number;
}

export interface LivePickOptions<T> {
  title: string;
  placeholder: string;
  /** Pre-filled value (searched at once). */
  value?: string;
  /** The answer for a value; called after the user pauses typing. Stale answers are dropped. */
  answer: (value: string) => Promise<LiveAnswer<T>>;
  debounceMs?: number;
}

/**
 * A quick pick whose items follow what the user types: asked `debounceMs` after the last keystroke,
 * busy while waiting, only the answer to the latest value shown, in the order given (not re-sorted by
 * VS Code's own label match). Resolves to the accepted item's value and what was typed, or undefined.
 */
export async function livePick<T>(options: LivePickOptions<T>): Promise<{ item: T; value: string } | undefined> {
  if (testHooks.responder) {
    const unused = async () => undefined;
    const value = options.value ?? (await respond({ kind: "input", message: options.title, choices: [] }, unused));
    if (!value) {
      return undefined;
    }
    const { items } = await options.answer(value);
    const label = await respond({ kind: "quickPick", message: `${options.title}: ${value}`, choices: items.map((item) => item.label) }, unused);
    const chosen = items.find((item) => item.label === label);
    return chosen && { item: chosen.value, value };
  }
  const picker = vscode.window.createQuickPick<PickItem<T>>();
  picker.title = options.title;
  picker.placeholder = options.placeholder;
  picker.matchOnDescription = true;
  picker.matchOnDetail = true;
  // The answer's order is the ranking (titles and names first); VS Code would re-sort by its label match.
  // A proposed property: ignored by versions that do not know it, refused by any that guard it (then
  // VS Code's order it is).
  try {
    Object.assign(picker, { sortByLabel: false });
  } catch {
    // the list is still complete, only ordered by VS Code
  }
  testHooks.livePicker = picker as unknown as vscode.QuickPick<vscode.QuickPickItem>;
  let latest = 0;
  let askedValue: string | undefined;
  let shownValue: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const ask = (value: string) => {
    clearTimeout(timer);
    askedValue = value;
    const asked = ++latest;
    if (!value.trim()) {
      picker.busy = false;
      picker.items = [];
      shownValue = undefined;
      picker.title = options.title;
      return;
    }
    picker.busy = true;
    void options.answer(value).then(
      (answer) => {
        if (asked !== latest) {
          return; // the user typed on: a newer question is on its way
        }
        picker.busy = false;
        const active = shownValue === value ? picker.activeItems[0]?.label : undefined;
        picker.items = answer.items.map((item) => ({ ...item, alwaysShow: true }));
        shownValue = value;
        // Asked again for the same value (the index filled some more): the user's choice stays where it was.
        const same = active === undefined ? undefined : picker.items.find((item) => item.label === active);
        if (same) {
          picker.activeItems = [same];
        }
        picker.title = answer.note ? `${options.title} · ${answer.note}` : options.title;
        if (answer.againAfterMs !== undefined) {
          timer = setTimeout(() => ask(value), answer.againAfterMs);
        }
      },
      () => {
        if (asked === latest) {
          picker.busy = false;
        }
      },
    );
  };
  return new Promise((resolve) => {
    let chosen: { item: T; value: string } | undefined;
    picker.onDidChangeValue((value) => {
      if (value === askedValue) {
        return; // our own pre-filled value, echoed back
      }
      askedValue = undefined;
      clearTimeout(timer);
      timer = setTimeout(() => ask(value), options.debounceMs ?? 150);
    });
    picker.onDidAccept(() => {
      const active = picker.activeItems[0];
      chosen = active && { item: active.value, value: picker.value };
      picker.hide();
    });
    picker.onDidHide(() => {
      clearTimeout(timer);
      latest += 1;
      if (testHooks.livePicker === (picker as unknown)) {
        testHooks.livePicker = undefined;
      }
      picker.dispose();
      resolve(chosen);
    });
    if (options.value) {
      picker.value = options.value;
      ask(options.value);
    }
    picker.show();
  });
}
