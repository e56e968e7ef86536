// Bundles the extension into dist/extension.js (vscode is provided by the editor) and, with --tests,
// the extension-host test suite into out/e2e/suite.js. `--production` minifies.
import * as esbuild from "esbuild";

const production = process.argv.includes("--production");
const common = { bundle: true, platform: "node", format: "cjs", target: "node20", external: ["vscode"], logLevel: "warning" };

await esbuild.build({
  ...common,
  entryPoints: ["src/extension.ts"],
  outfile: "dist/extension.js",
  minify: production,
  sourcemap: production ? false : "linked",
  metafile: false,
});

if (process.argv.includes("--tests")) {
  await esbuild.build({ ...common, entryPoints: ["test/e2e/suite/index.ts"], outfile: "out/e2e/suite.js", sourcemap: "inline" });
}
