/**
 * `npm start [-- --port 8080]`: SLM Lab in a real VS Code in the browser, with a small fixture model in My Models.
 * Installs code-server once (vscodeTools.ts), generates the tiny fixture model, starts code-server with SLM Lab
 * loaded from this folder and a persistent models folder (.cache/start/models), prints the URL, and runs until Ctrl-C.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { isPortFree, startCodeServer } from "./codeServer";
import { addFixtureModels } from "./fixtureModelsDir";
import { projectRoot } from "./projectPaths";
import { ensureVscodeTools } from "./vscodeTools";
import { quietWorkbenchSettings, slmLabSettings } from "./workbenchSettings";

const DEFAULT_PORT = 8080;
const startDir = path.join(projectRoot, ".cache", "start");

/** `--port N`, `--port=N`, else $PORT, else 8080. */
function parsePort(argv: readonly string[]): number {
  let raw = process.env["PORT"];
  for (const [index, arg] of argv.entries()) {
    if (arg === "--port") raw = argv[index + 1] ?? "";
    else if (arg.startsWith("--port=")) raw = arg.slice("--port=".length);
  }
  if (raw === undefined || raw === "") return DEFAULT_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port must be a port number (1–65535), not "${raw}"`);
  return port;
}

async function main(): Promise<void> {
  const port = parsePort(process.argv.slice(2));
  if (!(await isPortFree(port))) {
    throw new Error(`port ${port} on 127.0.0.1 is in use: choose another with \`npm start -- --port ${port + 1}\``);
  }
  const tools = await ensureVscodeTools();
  const modelsDirectory = path.join(startDir, "models");
  console.log("[start] preparing the fixture model (generated once into .cache/fixtures) …");
  const [model] = await addFixtureModels(modelsDirectory, ["tiny-qwen2-coder"]);
  const workspaceFolder = path.join(startDir, "workspace");
  mkdirSync(workspaceFolder, { recursive: true });
  const server = await startCodeServer({
    tools,
    workspaceFolder,
    port,
    // Persistent: what you change in the settings UI or install stays between runs (SLM Lab's folder is reset).
    stateDir: path.join(startDir, "code-server"),
    settings: { ...quietWorkbenchSettings, ...slmLabSettings(modelsDirectory, { scanHuggingFaceCache: true }) },
    mergeWithExistingSettings: true,
    exitOnSignals: false,
  });
  const url = server.workbenchUrl({ extensionDevelopmentPath: projectRoot });
  const line = "─".repeat(72);
  console.log(`\n${line}`);
  console.log("  SLM Lab is running in VS Code (code-server). Open in your browser:\n");
  console.log(`    ${url}\n`);
  console.log(`  Models folder: ${modelsDirectory}  (fixture: ${model === undefined ? "?" : path.basename(model)})`);
  console.log(`  code-server log: ${server.logFile}`);
  if (hasDesktopCode()) {
    console.log(`  Desktop VS Code is on PATH too: code --extensionDevelopmentPath=${projectRoot} ${workspaceFolder}`);
  }
  console.log("  Press Ctrl-C to stop.");
  console.log(`${line}\n`);

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      console.log("\n[start] stopping code-server …");
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    process.once("SIGHUP", stop);
    // If whoever started us is gone (a closed terminal, a killed npm), do not leave code-server running.
    const parent = process.ppid;
    setInterval(() => { if (process.ppid !== parent) stop(); }, 2000).unref();
    void server.exitedUnexpectedly.then(() => {
      console.error(`[start] code-server exited unexpectedly. Last lines of its log:\n${server.logTail()}`);
      process.exitCode = 1;
      resolve();
    });
  });
  await server.stop();
}

function hasDesktopCode(): boolean {
  const result = spawnSync("sh", ["-c", "command -v code"], { encoding: "utf8" });
  return result.status === 0 && result.stdout.trim() !== "";
}

main().catch((error: unknown) => {
  console.error(`[start] ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
