/**
 * A tiny test runner for the extension host, where node:test cannot run (it reports at process exit, and the
 * extension host does not exit). Test files call `extensionHostTest()` at load; `runExtensionHostTests()` runs
 * them one after another and reports like node:test, ending with `N passed, N failed`.
 */
import { writeFileSync } from "node:fs";

export type ExtensionHostTestFn = () => Promise<void> | void;

interface RegisteredTest {
  readonly name: string;
  readonly fn: ExtensionHostTestFn;
  readonly timeoutMs: number;
}

export interface ExtensionHostTestResult {
  readonly name: string;
  readonly passed: boolean;
  readonly durationMs: number;
  readonly error?: string;
}

/** A number a test measured in the real extension host (reported, never asserted against a target). */
export interface ExtensionHostMeasurement {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
}

export interface ExtensionHostReport {
  readonly passed: number;
  readonly failed: number;
  readonly results: readonly ExtensionHostTestResult[];
  readonly measurements: readonly ExtensionHostMeasurement[];
}

/** Environment variable naming the file where the report is written as JSON (set by test/e2e/run.ts on code-server). */
export const REPORT_FILE_ENV = "SLM_LAB_EXTENSION_HOST_REPORT";

const registered: RegisteredTest[] = [];
const measurements: ExtensionHostMeasurement[] = [];

/** Records a measurement for the run's report (test/e2e/run.ts prints it after the results). */
export function recordMeasurement(name: string, value: number, unit: string): void {
  measurements.push({ name, value, unit });
}

/** Registers a test that runs inside the real extension host, with the real `vscode` API. */
export function extensionHostTest(name: string, fn: ExtensionHostTestFn, options: { timeoutMs?: number } = {}): void {
  registered.push({ name, fn, timeoutMs: options.timeoutMs ?? 20_000 });
}

/** Runs every registered test in order; writes the report to $SLM_LAB_EXTENSION_HOST_REPORT when set. */
export async function runExtensionHostTests(log: (line: string) => void): Promise<ExtensionHostReport> {
  const results: ExtensionHostTestResult[] = [];
  for (const test of registered) {
    const started = Date.now();
    try {
      await withTimeout(Promise.resolve().then(test.fn), test.timeoutMs, test.name);
      const durationMs = Date.now() - started;
      results.push({ name: test.name, passed: true, durationMs });
      log(`✔ ${test.name} (${durationMs}ms)`);
    } catch (error) {
      const durationMs = Date.now() - started;
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      results.push({ name: test.name, passed: false, durationMs, error: message });
      log(`✖ ${test.name} (${durationMs}ms)\n${indent(message)}`);
    }
  }
  const passed = results.filter((result) => result.passed).length;
  const report: ExtensionHostReport = { passed, failed: results.length - passed, results, measurements };
  log(`${report.passed} passed, ${report.failed} failed`);
  const reportFile = process.env[REPORT_FILE_ENV];
  if (reportFile !== undefined && reportFile !== "") writeFileSync(reportFile, JSON.stringify(report, null, 2));
  return report;
}

async function withTimeout(promise: Promise<void>, timeoutMs: number, name: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`"${name}" did not finish within ${timeoutMs} ms`)); }, timeoutMs);
  });
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function indent(text: string): string {
  return text.split("\n").map((line) => `    ${line}`).join("\n");
}
