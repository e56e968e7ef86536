// Pull into the workspace: it asks before overwriting, and only about the differing file.

import * as fs from "node:fs";
import * as path from "node:path";

import * as vscode from "vscode";

import type { PullResult } from "../../../src/protocol";
import { answer, assert, context, createSnippet, demo, extension, forgetPrompts, shown, test, waitForPrompt } from "./harness";

test("pull into the workspace with one differing file: asked about that one only, kept, then overwritten", async () => {
  await extension();
  const seeded = await createSnippet(demo, "demo", { "same.txt": "same\n", "differs.txt": "remote\n", "lib/new.txt": "new\n" }, "to pull");
  const folder = path.join(context.folder, "pulled");
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, "same.txt"), "same\n");
  fs.writeFileSync(path.join(folder, "differs.txt"), "local edit\n");

  forgetPrompts();
  answer([/Overwrite/, undefined]);
  const kept = (await vscode.commands.executeCommand("bitbucketSnippets.pull", { ...seeded, folder })) as PullResult;
  const question = shown().find((prompt) => prompt.kind === "modal");
  assert.ok(question, "asked before overwriting");
  assert.match(question.message, /Overwrite 1 file in pulled that differs/);
  assert.equal(fs.readFileSync(path.join(folder, "differs.txt"), "utf8"), "local edit\n", "kept when not confirmed");
  assert.equal(fs.readFileSync(path.join(folder, "lib/new.txt"), "utf8"), "new\n");
  assert.deepEqual(
    kept.files?.map((file) => [file.name, file.status]).sort(),
    [["differs.txt", "kept"], ["lib/new.txt", "written"], ["same.txt", "unchanged"]],
  );
  await waitForPrompt(/Pulled into .*1 written; 1 already up to date; kept your differing differs\.txt/);

  forgetPrompts();
  answer([/Overwrite 1 file/, "Overwrite"]);
  await vscode.commands.executeCommand("bitbucketSnippets.pull", { ...seeded, folder });
  assert.equal(fs.readFileSync(path.join(folder, "differs.txt"), "utf8"), "remote\n");
  assert.equal(fs.readdirSync(folder).sort().join(","), "differs.txt,lib,same.txt", "nothing else written");
});

test("pull with no folder named: a new folder named after the snippet's id in the first workspace folder, nothing in its root", async () => {
  await extension();
  const seeded = await createSnippet(demo, "demo", { "README.md": "# pulled\n", "notes/a.txt": "a\n" }, "pull default");
  const rootBefore = fs.readdirSync(context.folder).sort();
  forgetPrompts();
  const result = (await vscode.commands.executeCommand("bitbucketSnippets.pull", seeded)) as PullResult;
  const folder = path.join(context.folder, seeded.id);
  assert.equal(result.targetDir, folder);
  assert.equal(fs.readFileSync(path.join(folder, "README.md"), "utf8"), "# pulled\n");
  assert.equal(fs.readFileSync(path.join(folder, "notes/a.txt"), "utf8"), "a\n");
  assert.deepEqual(fs.readdirSync(context.folder).sort(), [...rootBefore, seeded.id].sort(), "only the new folder in the root");
  await waitForPrompt(new RegExp(`Pulled into .*${seeded.id}: 2 written`));

  // Asked interactively (from the tree), the same default comes first.
  forgetPrompts();
  answer([/into which folder/, undefined]);
  await vscode.commands.executeCommand("bitbucketSnippets.pull", { kind: "snippet", snippet: { ...seeded, title: "pull default", isPrivate: true, watching: false } });
  const asked = shown().find((prompt) => /into which folder/.test(prompt.message));
  assert.ok(asked);
  assert.equal(asked.choices[0], `${path.basename(context.folder)}/${seeded.id}`);
  assert.match(asked.descriptions?.[0] ?? "", /a new folder named after the snippet/);
  assert.equal(asked.choices.at(-1), "Choose a folder…");
});
