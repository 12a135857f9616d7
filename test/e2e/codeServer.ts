/**
 * Starts code-server (VS Code's real workbench and extension host, served to a browser) for the e2e tests and
 * `npm start`, following shared/recipes/real-vscode-tests.md: its own user-data and extensions dirs, user settings
 * written before start, SLM Lab loaded from its folder through the workbench `payload`, killed with its whole
 * process group on stop or when this process exits.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { CODE_SERVER_VERSION, type VscodeTools } from "./vscodeTools";

export interface CodeServerOptions {
  readonly tools: VscodeTools;
  /** The folder the workbench opens. */
  readonly workspaceFolder: string;
  /** Written to `User/settings.json` (and `Machine/settings.json`, where machine-scoped settings live in a remote window). */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Default: a free port. */
  readonly port?: number;
  /** Where code-server keeps user data, extensions and its log. Default: a fresh temp dir, removed by `stop()`. */
  readonly stateDir?: string;
  /** Keep settings already in a persistent state dir, overriding only the keys in `settings`. */
  readonly mergeWithExistingSettings?: boolean;
  /**
   * Kill code-server and exit when this process gets SIGINT/SIGTERM/SIGHUP (default true). code-server runs in its
   * own process group, so a Ctrl-C in the terminal does not reach it; without this it would outlive a cancelled test.
   * `npm start` handles the signals itself, to stop code-server gracefully.
   */
  readonly exitOnSignals?: boolean;
  /** Extra environment for code-server and, through it, the extension host. */
  readonly env?: Readonly<Record<string, string>>;
  /** How long to wait for the server to answer. */
  readonly startTimeoutMs?: number;
}

export interface WorkbenchUrlOptions {
  /** Load the extension in this folder (the recipe's `extensionDevelopmentPath`). */
  readonly extensionDevelopmentPath?: string;
  /** Run this built test module's `run()` in the extension host (the recipe's `extensionTestsPath`). */
  readonly extensionTestsPath?: string;
}

export interface CodeServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  readonly stateDir: string;
  readonly logFile: string;
  /** The URL of a workbench window on the workspace folder, with the payload that loads the extension. */
  workbenchUrl(options?: WorkbenchUrlOptions): string;
  /** Resolves if code-server exits without `stop()` having been called (a crash); never rejects. */
  readonly exitedUnexpectedly: Promise<void>;
  /** The last lines of code-server's own output. */
  logTail(lines?: number): string;
  /** Kills code-server and everything it started (extension host, …); removes a temp state dir. */
  stop(): Promise<void>;
}

/** Starts code-server and resolves once it answers HTTP; rejects (with the log's tail) if it exits or times out. */
export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  const port = options.port ?? (await findFreePort());
  const ownsStateDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? mkdtempSync(path.join(os.tmpdir(), "slm-lab-code-server-"));
  const dirs = {
    userData: path.join(stateDir, "user-data"),
    extensions: path.join(stateDir, "extensions"),
    xdgConfig: path.join(stateDir, "xdg-config"),
    xdgData: path.join(stateDir, "xdg-data"),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  writeSettings(dirs.userData, options.settings, options.mergeWithExistingSettings ?? false);
  const configFile = path.join(stateDir, "config.yaml");
  writeFileSync(configFile, "auth: none\ncert: false\n");
  const logFile = path.join(stateDir, "code-server.log");

  const args = [
    options.tools.codeServerEntry,
    "--bind-addr", `127.0.0.1:${port}`,
    "--auth", "none",
    "--config", configFile,
    "--user-data-dir", dirs.userData,
    "--extensions-dir", dirs.extensions,
    "--disable-telemetry",
    "--disable-update-check",
    "--disable-workspace-trust",
    "--disable-getting-started-override",
    "--ignore-last-opened",
    // Needed for extensionTestsPath runs (else "An unknown error occurred") and for loading the extension from its folder.
    "--vscode-option", "enable-smoke-test-driver",
    options.workspaceFolder,
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // code-server's own config and state, away from the user's ~/.config/code-server.
    XDG_CONFIG_HOME: dirs.xdgConfig,
    XDG_DATA_HOME: dirs.xdgData,
    ...options.env,
  };
  // detached: its own process group, so stop() reaches the extension host and every helper it spawned.
  const child = spawn(options.tools.nodeBinary, args, { cwd: options.workspaceFolder, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const logStream = createWriteStream(logFile);
  child.stdout.pipe(logStream, { end: false });
  child.stderr.pipe(logStream, { end: false });

  const killOnExit = (): void => { killGroup(child, "SIGKILL"); };
  process.on("exit", killOnExit);
  if (options.exitOnSignals ?? true) exitOnSignals();

  let stopped = false;
  const exitedUnexpectedly = new Promise<void>((resolve) => {
    child.once("exit", () => { if (!stopped) resolve(); });
  });
  const server: CodeServer = {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    stateDir,
    logFile,
    exitedUnexpectedly,
    workbenchUrl: (urlOptions = {}) => workbenchUrl(port, options.workspaceFolder, urlOptions),
    logTail: (lines = 40) => readLogTail(logFile, lines),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await stopProcessGroup(child);
      process.off("exit", killOnExit);
      await new Promise<void>((resolve) => logStream.end(resolve));
      if (ownsStateDir) rmSync(stateDir, { recursive: true, force: true, maxRetries: 3 });
    },
  };

  try {
    await waitUntilReady(server, child, options.startTimeoutMs ?? 60_000);
  } catch (error) {
    const tail = server.logTail();
    await server.stop();
    throw new Error(`code-server ${CODE_SERVER_VERSION} did not start: ${error instanceof Error ? error.message : String(error)}\n--- code-server log ---\n${tail}`);
  }
  return server;
}

function writeSettings(userDataDir: string, settings: Readonly<Record<string, unknown>>, merge: boolean): void {
  for (const scope of ["User", "Machine"]) {
    const file = path.join(userDataDir, scope, "settings.json");
    mkdirSync(path.dirname(file), { recursive: true });
    const existing = merge ? readJsonObject(file) : {};
    writeFileSync(file, `${JSON.stringify({ ...existing, ...settings }, null, 2)}\n`);
  }
}

/** A settings file's object, or `{}` when it is missing or not plain JSON (VS Code allows comments; then we start afresh). */
function readJsonObject(file: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function workbenchUrl(port: number, folder: string, options: WorkbenchUrlOptions): string {
  const remote = (absolutePath: string): string => `vscode-remote://127.0.0.1:${port}${path.resolve(absolutePath)}`;
  const payload: [string, string][] = [];
  if (options.extensionDevelopmentPath !== undefined) payload.push(["extensionDevelopmentPath", remote(options.extensionDevelopmentPath)]);
  if (options.extensionTestsPath !== undefined) payload.push(["extensionTestsPath", remote(options.extensionTestsPath)]);
  const query = new URLSearchParams({ folder });
  if (payload.length > 0) query.set("payload", JSON.stringify(payload));
  return `http://127.0.0.1:${port}/?${query.toString()}`;
}

async function waitUntilReady(server: CodeServer, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | undefined;
  child.once("exit", (code, signal) => { exited = `exited early (code ${String(code)}, signal ${String(signal)})`; });
  child.once("error", (error) => { exited = `could not be spawned: ${error.message}`; });
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(exited);
    try {
      const response = await fetch(`${server.baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no answer on ${server.baseUrl} within ${timeoutMs} ms`);
}

let signalHandlersInstalled = false;

/** On a termination signal, exit: the "exit" handlers then kill every code-server (and Playwright its browsers). */
function exitOnSignals(): void {
  if (signalHandlersInstalled) return;
  signalHandlersInstalled = true;
  const codes: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
  for (const [signal, code] of Object.entries(codes)) {
    process.once(signal, () => { process.exit(code); });
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

async function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  const exited = child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once("exit", () => { resolve(); }));
  killGroup(child, "SIGTERM");
  const timer = setTimeout(() => { killGroup(child, "SIGKILL"); }, 5000);
  await exited;
  clearTimeout(timer);
  // The extension host and its helpers share the group; make sure none outlives the server.
  killGroup(child, "SIGKILL");
}

function readLogTail(logFile: string, lines: number): string {
  try {
    return readFileSync(logFile, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => { resolve(port); });
    });
  });
}

/** Whether a port is free on 127.0.0.1 (for `npm start --port`). */
export async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.unref();
    probe.once("error", () => { resolve(false); });
    probe.listen(port, "127.0.0.1", () => { probe.close(() => { resolve(true); }); });
  });
}
