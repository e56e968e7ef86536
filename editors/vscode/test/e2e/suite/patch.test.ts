// Share Changes as Patch from a real git repository, then Apply Patch to Workspace into a clean copy: a
// preview (the dry run) first, nothing written when declined, and identical trees after.

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import * as vscode from "vscode";

import type { ApplyPatchResult, ShareDiffResult } from "../../../src/protocol";
import { answer, assert, clearRequests, context, describeRequests, extension, fileOnBitbucket, forgetPrompts, requests, shown, test, waitForPrompt } from "./harness";

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "init.defaultBranch=main", ...args], { cwd, encoding: "utf8" });
}

/** Every file under `root` but .git, name → content. */
function tree(root: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.name === ".git") {
        continue;
      }
      if (entry.isDirectory()) {
        walk(full);
      } else {
        files[path.relative(root, full)] = fs.readFileSync(full, "utf8");
      }
    }
  };
  walk(root);
  return files;
}

test("share a repository's changes as a patch, then apply it to a clean copy: previewed, then identical", async () => {
  await extension();
  const repo = path.join(context.folder, "repo");
  const copy = path.join(context.folder, "copy");
  fs.mkdirSync(path.join(repo, "src"), { recursive: true });
  fs.writeFileSync(path.join(repo, "src/app.py"), "def main():\n    print('hello')\n");
  fs.writeFileSync(path.join(repo, "README.md"), "# repo\n");
  fs.writeFileSync(path.join(repo, "old.txt"), "remove me\n");
  git(repo, "init", "-q");
  git(repo, "add", ".");
  git(repo, "commit", "-q", "-m", "base");
  git(context.folder, "clone", "-q", repo, copy);
  fs.writeFileSync(path.join(repo, "src/app.py"), "def main():\n    print('hello, world')\n");
  fs.rmSync(path.join(repo, "old.txt"));
  fs.writeFileSync(path.join(repo, "NEW.md"), "brand new\n");

  await clearRequests();
  forgetPrompts();
  answer([/Share which changes of repo/, "Unstaged changes and new files"], [/Who can see the patch/, "Private"]);
  const shared = (await vscode.commands.executeCommand("bitbucketSnippets.shareDiff", vscode.Uri.file(repo))) as ShareDiffResult;
  assert.ok(shared, "shared");
  const sharing = await requests();
  assert.deepEqual(sharing.map((request) => request.method), ["POST"], `one POST:\n${describeRequests(sharing)}`);
  assert.equal(shared.isPrivate, true);
  assert.deepEqual(shown().find((prompt) => /Who can see/.test(prompt.message))?.choices, ["Private", "Public"], "private first");
  assert.deepEqual([...shared.files].sort(), ["NEW.md", "old.txt", "src/app.py"]);
  const patch = await fileOnBitbucket(shared, shared.name);
  assert.match(patch, /^diff --git a\/src\/app\.py b\/src\/app\.py$/m);
  assert.match(patch, /^new file mode/m);
  await waitForPrompt(/Shared the changes to 3 files as a private patch/);

  await clearRequests();
  forgetPrompts();
  answer([/Apply the patch to copy/, undefined]);
  const target = { workspace: shared.workspace, id: shared.id, path: shared.name, folder: copy };
  assert.equal(await vscode.commands.executeCommand("bitbucketSnippets.applyPatch", target), undefined, "declined");
  const preview = shown().find((prompt) => prompt.kind === "modal");
  assert.ok(preview, "a preview before anything is written");
  assert.match(preview.message, /Apply the patch to copy \(1 changed, 1 new, 1 deleted\)\?/);
  assert.deepEqual(preview.detail?.split("\n").sort(), ["change  src/app.py", "create  NEW.md", "delete  old.txt"]);
  assert.ok(fs.existsSync(path.join(copy, "old.txt")) && !fs.existsSync(path.join(copy, "NEW.md")), "declined: nothing written");

  answer([/Apply the patch to copy/, "Apply"]);
  const applied = (await vscode.commands.executeCommand("bitbucketSnippets.applyPatch", target)) as ApplyPatchResult;
  assert.equal(applied.applied, true);
  assert.deepEqual(tree(copy), tree(repo), "the copy now holds exactly the repository's changed tree");
  const recorded = await requests();
  assert.deepEqual(recorded, [], `the patch just shared is in the cache: no request for the preview nor the apply:\n${describeRequests(recorded)}`);
  await waitForPrompt(/Applied the patch to copy: 1 changed, 1 new, 1 deleted/);
});
