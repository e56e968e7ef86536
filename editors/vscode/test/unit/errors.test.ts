// Error kinds map once: onto FileSystemError codes, and onto what a notification says and offers.

import * as assert from "node:assert/strict";
import { test } from "node:test";

import { Action, DAEMON_UNAVAILABLE, DaemonError, describeFindings, fileSystemErrorCode, toDaemonError, userMessage, withSecretCheck } from "../../src/errors";
import { ErrorKind } from "../../src/protocol";

test("file system codes: notFound, readOnly, fileExists, network...", () => {
  assert.equal(fileSystemErrorCode(ErrorKind.NOT_FOUND), "FileNotFound");
  assert.equal(fileSystemErrorCode(ErrorKind.READ_ONLY), "NoPermissions");
  assert.equal(fileSystemErrorCode(ErrorKind.FORBIDDEN), "NoPermissions");
  assert.equal(fileSystemErrorCode(ErrorKind.NOT_AUTHENTICATED), "NoPermissions");
  assert.equal(fileSystemErrorCode(ErrorKind.FILE_EXISTS), "FileExists");
  assert.equal(fileSystemErrorCode(ErrorKind.NETWORK), "Unavailable");
  assert.equal(fileSystemErrorCode(ErrorKind.RATE_LIMITED), "Unavailable");
  assert.equal(fileSystemErrorCode(ErrorKind.SERVER), "Unavailable");
  assert.equal(fileSystemErrorCode(DAEMON_UNAVAILABLE), "Unavailable");
  assert.equal(fileSystemErrorCode(ErrorKind.ACCOUNT_CHANGED), "Unavailable"); // a failed save: VS Code keeps the text
  // These keep their own message in a plain FileSystemError.
  for (const kind of [ErrorKind.CONFLICT, ErrorKind.INVALID_ARGUMENT, ErrorKind.UNSAFE_PATH, ErrorKind.SECRET_DETECTED, undefined]) {
    assert.equal(fileSystemErrorCode(kind), undefined, String(kind));
  }
});

test("a JSON-RPC ResponseError becomes a DaemonError carrying data.kind and its data", () => {
  const error = toDaemonError({ code: -32004, message: "changed", data: { kind: "conflict", remoteRevision: "abc" } });
  assert.ok(error instanceof DaemonError);
  assert.equal(error.kind, "conflict");
  assert.equal(error.data.remoteRevision, "abc");
  assert.equal(error.code, -32004);
  assert.equal(toDaemonError({ code: -32603, message: "bug" }).kind, undefined);
  assert.equal(toDaemonError("boom").message, "boom");
  const same = new DaemonError("x", "network");
  assert.equal(toDaemonError(same), same);
});

test("notifications say what failed and offer what helps", () => {
  const signIn = userMessage("Sharing", new DaemonError("Not logged in.", ErrorKind.NOT_AUTHENTICATED));
  assert.deepEqual(signIn, { severity: "warning", text: "Sharing failed: Not logged in.", actions: [Action.SIGN_IN] });
  const scopes = userMessage("Saving", new DaemonError("Forbidden.", ErrorKind.FORBIDDEN, { missingScopes: ["write:snippet:bitbucket"] }));
  assert.match(scopes.text, /missing scopes: write:snippet:bitbucket/);
  assert.deepEqual(userMessage("Listing", new DaemonError("down", ErrorKind.NETWORK)).actions, [Action.RETRY]);
  assert.deepEqual(userMessage("Listing", new DaemonError("gone", DAEMON_UNAVAILABLE)).actions, [Action.SHOW_INSTALL_STEPS, Action.OPEN_SETTINGS]);
  assert.deepEqual(userMessage("Listing", new DaemonError("bug", undefined)).actions, [Action.SHOW_LOG]);
  const switched = "You signed in as another account while this was loading, so what the previous account read is not shown. Open it again.";
  assert.deepEqual(userMessage("Opening", new DaemonError(switched, ErrorKind.ACCOUNT_CHANGED)), { severity: "warning", text: switched, actions: [] });
});

test("secret findings say where, never what", () => {
  const text = describeFindings({ findings: [{ path: "a.env", line: 2, rule: "AWS access key" }] });
  assert.equal(text, "Looks like a credential at a.env line 2 (AWS access key).");
  const many = describeFindings({ findings: Array.from({ length: 7 }, (_, line) => ({ path: "x", line, rule: "r" })) });
  assert.match(many, /and 2 more\.$/);
  assert.equal(describeFindings({}), "");
});

// --------------------------------------------------------------------------- the one secret check

const secretRefusal = () =>
  new DaemonError("Refused: looks like a credential.", ErrorKind.SECRET_DETECTED, { kind: ErrorKind.SECRET_DETECTED, findings: [{ path: "a.env", line: 2, rule: "AWS access key" }] });

/** A request the daemon refuses while allowSecrets is false; the calls it got. */
function refusingUnlessAllowed() {
  const calls: boolean[] = [];
  const attempt = async (allowSecrets: boolean) => {
    calls.push(allowSecrets);
    if (!allowSecrets) {
      throw secretRefusal();
    }
    return "created";
  };
  return { calls, attempt };
}

test("secretDetected: one warning that says where, with Share anyway; the button sends the same request with allowSecrets", async () => {
  const { calls, attempt } = refusingUnlessAllowed();
  const asked: { text: string; actions: string[] }[] = [];
  const result = await withSecretCheck("Not made public", attempt, async (_severity, text, ...actions) => {
    asked.push({ text, actions });
    return Action.SHARE_ANYWAY;
  });
  assert.equal(result, "created");
  assert.deepEqual(calls, [false, true]);
  assert.equal(asked.length, 1);
  assert.match(asked[0].text, /^Not made public: .*a\.env line 2 \(AWS access key\)/);
  assert.deepEqual(asked[0].actions, [Action.SHARE_ANYWAY]);
});

test("secretDetected declined: nothing is sent again and the command answers undefined", async () => {
  const { calls, attempt } = refusingUnlessAllowed();
  assert.equal(await withSecretCheck("Not shared", attempt, async () => undefined), undefined);
  assert.deepEqual(calls, [false]);
});

test("allowSecrets given up front asks nothing; other failures go to reportFailure untouched", async () => {
  const { calls, attempt } = refusingUnlessAllowed();
  let asked = 0;
  const ask = async () => {
    asked += 1;
    return Action.SHARE_ANYWAY;
  };
  assert.equal(await withSecretCheck("Not shared", attempt, ask, true), "created");
  assert.deepEqual(calls, [true]);
  await assert.rejects(
    withSecretCheck("Not shared", async () => Promise.reject(new DaemonError("offline", ErrorKind.NETWORK)), ask),
    (error: DaemonError) => error.kind === ErrorKind.NETWORK,
  );
  assert.equal(asked, 0);
});

test("a secretDetected that reaches reportFailure offers no button that could not act", () => {
  const message = userMessage("Saving", secretRefusal());
  assert.deepEqual(message.actions, []);
  assert.ok(!Object.values(message).flat().includes(Action.SHARE_ANYWAY));
});
