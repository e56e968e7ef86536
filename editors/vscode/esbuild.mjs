// Bundles the extension into dist/extension.js, minified (vscode is provided by the editor; `--dev` keeps
// it readable, with a source map). `--tests` bundles only the extension-host tests instead:
// out/e2e/suite.js, out/e2e/bench.js (the benchmark's) and out/e2e/bundled.js (the installed .vsix's test).
import * as esbuild from "esbuild";

const dev = process.argv.includes("--dev");
const common = { bundle: true, platform: "node", format: "cjs", target: "node20", external: ["vscode"], logLevel: "warning" };

if (process.argv.includes("--tests")) {
  await esbuild.build({ ...common, entryPoints: ["test/e2e/suite/index.ts"], outfile: "out/e2e/suite.js", sourcemap: "inline" });
  await esbuild.build({ ...common, entryPoints: ["test/e2e/suite/bench.ts"], outfile: "out/e2e/bench.js" });
  await esbuild.build({ ...common, entryPoints: ["test/e2e/bundled/index.ts"], outfile: "out/e2e/bundled.js", sourcemap: "inline" });
} else {
  await esbuild.build({ ...common, entryPoints: ["src/extension.ts"], outfile: "dist/extension.js", minify: !dev, sourcemap: dev ? "linked" : false });
}
