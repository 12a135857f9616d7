/**
 * `npm run test:e2e` (the last step of `npm test`): SLM Lab in a real VS Code.
 * 1. installs code-server, Node 24 and Chromium once (vscodeTools.ts), generates the fixture model;
 * 2. runs the UI tests (test/e2e/ui/*.test.ts, node:test, one file at a time: each drives its own code-server);
 * 3. runs the extension-host tests (dist/test/extensionHost.js, built from test/e2e/extensionHost/) inside
 *    code-server's real extension host, and reads their outcome from `codeAutomationExit` and a JSON report.
 * Ends with `N passed, N failed`. Screenshots and logs of failures go to test-results/.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureFixtureModel } from "../fixtures/fixtureModels";
import { startE2eSession } from "./e2eSession";
import type { ExtensionHostReport } from "./extensionHost/harness";
import { REPORT_FILE_ENV } from "./extensionHost/harness";
import { projectRoot, testResultsDir } from "./projectPaths";
import { acquireProcessLock } from "./processLock";
import { ensureVscodeTools, formatSeconds } from "./vscodeTools";

const UI_FIXTURES = ["tiny-qwen2-coder"] as const;
const extensionHostDir = path.join(projectRoot, "test", "e2e", "extensionHost");
const extensionHostBundle = path.join(projectRoot, "dist", "test", "extensionHost.js");
const EXTENSION_HOST_TIMEOUT_MS = 900_000;

interface PhaseResult {
  readonly passed: number;
  readonly failed: number;
}

async function main(): Promise<number> {
  // One real-VS Code run at a time on this machine: two would fight over the CPU and over test-results/.
  const releaseLock = await acquireProcessLock(path.join(os.tmpdir(), "slm-lab-e2e.lock"), (owner) => {
    console.log(`[e2e] waiting for another e2e run (process ${owner ?? "?"}) to finish …`);
  });
  try {
    return await runAll();
  } finally {
    releaseLock();
  }
}

async function runAll(): Promise<number> {
  const started = Date.now();
  rmSync(testResultsDir, { recursive: true, force: true });
  mkdirSync(testResultsDir, { recursive: true });
  checkBuild();
  await ensureVscodeTools();
  for (const name of UI_FIXTURES) {
    const file = await ensureFixtureModel(name);
    console.log(`[e2e] fixture ${name}: ${path.relative(projectRoot, file)}`);
  }

  console.log("\n[e2e] UI tests (code-server + Chromium)");
  const ui = await runUiTests();
  console.log("\n[e2e] extension-host tests");
  const host = await runExtensionHostTests();

  const passed = ui.passed + host.passed;
  const failed = ui.failed + host.failed;
  console.log(`\n[e2e] UI: ${ui.passed} passed, ${ui.failed} failed; extension host: ${host.passed} passed, ${host.failed} failed; ${formatSeconds(Date.now() - started)}`);
  console.log(`[e2e] screenshots and logs: ${path.relative(projectRoot, testResultsDir)}/`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

/** npm test builds first; when run alone, say what is missing instead of testing a stale or absent bundle. */
function checkBuild(): void {
  const missing = ["dist/extension.js", "dist/test/extensionHost.js"].filter((file) => !existsSync(path.join(projectRoot, file)));
  if (missing.length > 0) throw new Error(`[e2e] missing ${missing.join(", ")}: run \`npm run build\` first (npm test does).`);
  // The bundle only holds the test modules that index.ts imports: a test file left out would silently never run.
  const index = readFileSync(path.join(extensionHostDir, "index.ts"), "utf8");
  const notImported = readdirSync(extensionHostDir)
    .filter((file) => file.endsWith(".test.ts"))
    .filter((file) => !index.includes(`"./${file.replace(/\.ts$/, "")}"`));
  if (notImported.length > 0) {
    throw new Error(`[e2e] test/e2e/extensionHost/index.ts does not import ${notImported.join(", ")}: add \`import "./${notImported[0]?.replace(/\.ts$/, "") ?? ""}";\` there.`);
  }
}

/** node:test over test/e2e/ui, spec output to the console and TAP to a file to count results. */
async function runUiTests(): Promise<PhaseResult> {
  const uiDir = path.join(projectRoot, "test", "e2e", "ui");
  const files = readdirSync(uiDir).filter((file) => file.endsWith(".test.ts")).sort().map((file) => path.join(uiDir, file));
  const tapFile = path.join(testResultsDir, "ui-tests.tap");
  const args = [
    "--import", "tsx", "--test", "--test-concurrency=1",
    "--test-reporter=spec", "--test-reporter-destination=stdout",
    "--test-reporter=tap", `--test-reporter-destination=${tapFile}`,
    ...files,
  ];
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: projectRoot, stdio: "inherit" });
    child.on("error", reject);
    child.on("close", resolve);
  });
  const tap = existsSync(tapFile) ? readFileSync(tapFile, "utf8") : "";
  const count = (key: string): number => Number(new RegExp(`^# ${key} (\\d+)$`, "m").exec(tap)?.[1] ?? "0");
  const result = { passed: count("pass"), failed: count("fail") + count("cancelled") };
  // A crash before any test reported still counts as a failure.
  return exitCode !== 0 && result.failed === 0 ? { ...result, failed: 1 } : result;
}

async function runExtensionHostTests(): Promise<PhaseResult> {
  const reportFile = path.join(testResultsDir, "extension-host-report.json");
  const session = await startE2eSession({ fixtures: UI_FIXTURES, env: { [REPORT_FILE_ENV]: reportFile } });
  const consoleLines: string[] = [];
  try {
    let resolveExit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => { resolveExit = resolve; });
    const page = await session.openWindow(
      { extensionTestsPath: extensionHostBundle },
      { onAutomationExit: (code) => { resolveExit(code); }, onConsole: (line) => { consoleLines.push(line); } },
    );
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => { timer = setTimeout(() => { resolve("timeout"); }, EXTENSION_HOST_TIMEOUT_MS); });
    const outcome = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    const report = readReport(reportFile);
    if (report !== undefined) printReport(report);
    if (outcome === "timeout" || report === undefined) {
      const saved = await session.saveDiagnostics(page, "extension-host");
      console.error(outcome === "timeout"
        ? `✖ the extension-host tests did not finish within ${formatSeconds(EXTENSION_HOST_TIMEOUT_MS)}`
        : `✖ the extension-host run ended (code ${outcome}) without a report: the test bundle did not load or run()`);
      console.error(`  code-server log: ${saved.join(", ")}\n  last browser console lines:\n${consoleLines.slice(-15).map((line) => `    ${line}`).join("\n")}`);
      return { passed: report?.passed ?? 0, failed: Math.max(1, report?.failed ?? 0) };
    }
    if (outcome !== 0 && report.failed === 0) {
      console.error(`✖ codeAutomationExit(${outcome}) although every test passed`);
      return { passed: report.passed, failed: 1 };
    }
    if (report.failed > 0) await session.saveDiagnostics(page, "extension-host");
    return { passed: report.passed, failed: report.failed };
  } finally {
    await session.close();
  }
}

function readReport(file: string): ExtensionHostReport | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as ExtensionHostReport;
}

function printReport(report: ExtensionHostReport): void {
  for (const result of report.results) {
    if (result.passed) {
      console.log(`✔ ${result.name} (${result.durationMs}ms)`);
    } else {
      console.log(`✖ ${result.name} (${result.durationMs}ms)`);
      console.log((result.error ?? "").split("\n").map((line) => `    ${line}`).join("\n"));
    }
  }
  for (const measurement of report.measurements) console.log(`measured: ${measurement.name} = ${measurement.value.toFixed(1)} ${measurement.unit}`);
  console.log(`extension host: ${report.passed} passed, ${report.failed} failed`);
}

main().then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    console.log("0 passed, 1 failed");
    process.exitCode = 1;
  },
);
