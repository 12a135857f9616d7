/**
 * The extension-host test entry: esbuild bundles this file and the test modules it imports into
 * dist/test/extensionHost.js, which test/e2e/run.ts hands to code-server as `extensionTestsPath`.
 * VS Code calls `run()` in the real extension host and reports its outcome through `codeAutomationExit`.
 * Every `*.test.ts` in this folder must be imported below (run.ts refuses to run if one is missing).
 */
import { runExtensionHostTests } from "./harness";
import "./activation.test";
import "./bench.test";
import "./compare.test";
import "./completion.test";
import "./convert.test";
import "./download.test";
import "./hubSearch.test";
import "./myModels.test";
import "./quantize.test";

export async function run(): Promise<void> {
  const report = await runExtensionHostTests((line) => { console.log(line); });
  if (report.failed > 0 || report.passed === 0) {
    throw new Error(`${report.failed} of ${report.passed + report.failed} extension-host tests failed`);
  }
}
