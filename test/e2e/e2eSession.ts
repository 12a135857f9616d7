/**
 * One real-VS Code session for a test: a fresh models folder with fixture models, code-server with SLM Lab loaded
 * from the repository folder, and Chromium on its workbench. `close()` stops all of it and removes its temp files.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import type { FixtureModelName } from "../fixtures/fixtureModelSpecs";
import { startCodeServer, type CodeServer, type WorkbenchUrlOptions } from "./codeServer";
import { addFixtureModels } from "./fixtureModelsDir";
import { projectRoot, testResultsDir } from "./projectPaths";
import { ensureVscodeTools, type VscodeTools } from "./vscodeTools";
import { launchChromium, openWorkbench, saveScreenshot, type OpenWorkbenchOptions } from "./workbench";
import { quietWorkbenchSettings, slmLabSettings } from "./workbenchSettings";

export interface E2eSessionOptions {
  readonly fixtures: readonly FixtureModelName[];
  /** Environment for code-server and its extension host. */
  readonly env?: Readonly<Record<string, string>>;
  /** More user settings (e.g. small `slmLab.bench.*` values, a colour theme); they win over the defaults. */
  readonly settings?: Readonly<Record<string, unknown>>;
}

export interface E2eSession {
  readonly tools: VscodeTools;
  readonly server: CodeServer;
  readonly browser: Browser;
  readonly modelsDirectory: string;
  /** The fixture models as copied into the models folder, in the order asked for. */
  readonly modelFiles: readonly string[];
  /** Opens a workbench window with SLM Lab loaded from the repository folder. */
  openWindow(urlOptions?: Omit<WorkbenchUrlOptions, "extensionDevelopmentPath">, windowOptions?: OpenWorkbenchOptions): Promise<Page>;
  /** Saves a screenshot of `page` and code-server's log under test-results/; returns their paths. */
  saveDiagnostics(page: Page | undefined, name: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function startE2eSession(options: E2eSessionOptions): Promise<E2eSession> {
  const tools = await ensureVscodeTools();
  const root = mkdtempSync(path.join(os.tmpdir(), "slm-lab-e2e-"));
  const cleanups: (() => Promise<void> | void)[] = [() => { rmSync(root, { recursive: true, force: true, maxRetries: 3 }); }];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error(`e2e cleanup: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    cleanups.length = 0;
  };
  try {
    const modelsDirectory = path.join(root, "models");
    const workspaceFolder = path.join(root, "workspace");
    const modelFiles = await addFixtureModels(modelsDirectory, options.fixtures);
    mkdirSync(workspaceFolder, { recursive: true });
    const server = await startCodeServer({
      tools,
      workspaceFolder,
      stateDir: path.join(root, "code-server"),
      settings: { ...quietWorkbenchSettings, ...slmLabSettings(modelsDirectory, { scanHuggingFaceCache: false, threads: 2 }), ...options.settings },
      ...(options.env === undefined ? {} : { env: options.env }),
    });
    cleanups.push(() => server.stop());
    const browser = await launchChromium(tools.chromiumPath);
    cleanups.push(() => browser.close());
    return {
      tools,
      server,
      browser,
      modelsDirectory,
      modelFiles,
      openWindow: (urlOptions = {}, windowOptions = {}) =>
        openWorkbench(browser, server.workbenchUrl({ ...urlOptions, extensionDevelopmentPath: projectRoot }), windowOptions),
      saveDiagnostics: async (page, name) => {
        const saved: string[] = [];
        if (page !== undefined) saved.push(await saveScreenshot(page, name).catch((error: unknown) => `(no screenshot: ${String(error)})`));
        mkdirSync(testResultsDir, { recursive: true });
        const logCopy = path.join(testResultsDir, `${name.replace(/[^\w.-]+/g, "-")}.code-server.log`);
        copyFileSync(server.logFile, logCopy);
        saved.push(logCopy);
        return saved;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Runs one step of a UI test on the session's page; on failure saves a screenshot and code-server's log, names them in
 * the error output (and whatever `onFailure` adds), then rethrows.
 */
export async function runUiStep<T>(
  session: E2eSession | undefined,
  page: Page | undefined,
  stepName: string,
  fn: (page: Page) => Promise<T>,
  onFailure?: (session: E2eSession) => void,
): Promise<T> {
  if (session === undefined || page === undefined) throw new Error("the code-server session did not start");
  try {
    return await fn(page);
  } catch (error) {
    const saved = await session.saveDiagnostics(page, `ui-${stepName}`);
    console.error(`# failure artifacts:\n${saved.map((file) => `#   ${file}`).join("\n")}`);
    onFailure?.(session);
    throw error;
  }
}

/** Ends a UI test file's session: a screenshot of the final state (named in the output), then everything stopped. */
export async function closeUiSession(session: E2eSession | undefined, page: Page | undefined, screenshotName: string): Promise<void> {
  if (session !== undefined && page !== undefined) {
    const file = await saveScreenshot(page, screenshotName).catch(() => undefined);
    if (file !== undefined) console.log(`# screenshot of the final state: ${file}`);
  }
  await session?.close();
}
