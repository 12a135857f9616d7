// Bundles every entry point of SLM Lab. Usage: node esbuild.mjs [--watch] [--production]
// Modelled on vscode-extension-samples/esbuild-sample: one context per target, problem-matcher friendly logs.
import * as esbuild from "esbuild";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";

const watch = process.argv.includes("--watch");
const production = process.argv.includes("--production");

/** Native or ESM-only packages resolve their own files at run time: never bundle them. */
const nodeExternals = ["vscode", "node-llama-cpp", "@node-llama-cpp/*", "koffi"];

/** Worker entry points: every `src/core/**\/*Worker.ts` becomes `dist/workers/<name>.js`. */
function findWorkers(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return findWorkers(full);
    return entry.name.endsWith("Worker.ts") ? [full] : [];
  });
}

/** Logs build start/end in the format of the `$esbuild-watch` problem matcher. */
const problemMatcherPlugin = {
  name: "problem-matcher",
  setup(build) {
    build.onStart(() => {
      if (watch) console.log("[watch] build started");
    });
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      if (watch) console.log("[watch] build finished");
    });
  },
};

const common = {
  bundle: true,
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: "warning",
  plugins: [problemMatcherPlugin],
  define: { "process.env.SLM_LAB_PRODUCTION": JSON.stringify(production ? "1" : "") },
};

const nodeTarget = { ...common, platform: "node", target: "node20", format: "cjs", external: nodeExternals };

const workerEntries = Object.fromEntries(
  findWorkers("src/core").map((file) => [`workers/${path.basename(file, ".ts")}`, file]),
);

const targets = [
  // The extension: CommonJS for the VS Code extension host.
  // Banner and footer stamp the start and end of the bundle's evaluation: the logged activation cost includes loading it.
  {
    ...nodeTarget,
    entryPoints: { extension: "src/extension.ts" },
    outdir: "dist",
    banner: { js: "\"use strict\";\nvar __slmLabBundleStart = performance.now(), __slmLabBundleEnd;" },
    footer: { js: "__slmLabBundleEnd = performance.now();" },
  },
  // The `slm-lab` command line on the same core.
  { ...nodeTarget, entryPoints: { cli: "src/cli/main.ts" }, outdir: "dist" },
  // Workers that run heavy core work off the extension host's thread.
  ...(Object.keys(workerEntries).length > 0 ? [{ ...nodeTarget, entryPoints: workerEntries, outdir: "dist" }] : []),
  // Webview pages: ESM for the browser.
  ...(existsSync("webview/main.ts")
    ? [{ ...common, platform: "browser", format: "esm", target: "es2022", entryPoints: { "webview/main": "webview/main.ts" }, outdir: "dist" }]
    : []),
  // Extension-host tests (run inside the real VS Code by test/e2e): not shipped in the VSIX.
  ...(!production && existsSync("test/e2e/extensionHost/index.ts")
    ? [{ ...nodeTarget, entryPoints: { "test/extensionHost": "test/e2e/extensionHost/index.ts" }, outdir: "dist" }]
    : []),
];

const contexts = await Promise.all(targets.map((options) => esbuild.context(options)));
if (watch) {
  await Promise.all(contexts.map((context) => context.watch()));
} else {
  try {
    await Promise.all(contexts.map((context) => context.rebuild()));
  } finally {
    await Promise.all(contexts.map((context) => context.dispose()));
  }
}
