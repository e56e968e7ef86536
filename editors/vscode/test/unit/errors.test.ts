// Error kinds map once: onto FileSystemError codes, and onto what a notification says and offers.

import * as assert from "node:assert/strict";
import { test } from "node:test";

import { Action, DAEMON_UNAVAILABLE, DaemonError, describeFindings, fileSystemErrorCode, toDaemonError, userMessage } from "../../src/errors";
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
});

test("secret findings say where, never what", () => {
  const text = describeFindings({ findings: [{ path: "a.env", line: 2, rule: "AWS access key" }] });
  assert.equal(text, "Looks like a credential at a.env line 2 (AWS access key).");
  const many = describeFindings({ findings: Array.from({ length: 7 }, (_, line) => ({ path: "x", line, rule: "r" })) });
  assert.match(many, /and 2 more\.$/);
  assert.equal(describeFindings({}), "");
});
