/**
 * `npm run package`: packs the production build into `slm-lab-linux-x64-<version>.vsix` with vsce, then checks the
 * VSIX instead of trusting `.vscodeignore`: what must be inside (bundles, manifest, linux-x64 llama.cpp and koffi
 * binaries), what must not (other platforms' binaries, sources, tests, caches, sourcemaps), that every native
 * binary is x86-64 Linux, that the bundles only require modules the VSIX ships, and that node-llama-cpp and koffi
 * load from the unpacked VSIX alone. Fails over 60 MB. Needs no network.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { inflateRawSync } from "node:zlib";

const TARGET = "linux-x64";
const MAX_MEGABYTES = 60;
const root = path.resolve(__dirname, "..");

interface PackageManifest {
  readonly name: string;
  readonly version: string;
}

/** One file in the VSIX, from the zip central directory (APPNOTE.TXT 4.3.12). */
interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

/** Lists a zip's entries from its central directory; vsce writes plain (non-ZIP64) archives. */
function readZipEntries(zip: Buffer): ZipEntry[] {
  const EOCD = 0x06054b50;
  const minimum = Math.max(0, zip.length - 22 - 0xffff);
  let end = -1;
  for (let offset = zip.length - 22; offset >= minimum; offset--) {
    if (zip.readUInt32LE(offset) === EOCD) {
      end = offset;
      break;
    }
  }
  if (end === -1) throw new Error("not a zip file: no end-of-central-directory record");
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let index = 0; index < count; index++) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error(`bad central directory entry at byte ${offset}`);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    entries.push({
      method: zip.readUInt16LE(offset + 10),
      compressedSize: zip.readUInt32LE(offset + 20),
      size: zip.readUInt32LE(offset + 24),
      localHeaderOffset: zip.readUInt32LE(offset + 42),
      name: zip.toString("utf8", offset + 46, offset + 46 + nameLength),
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The uncompressed bytes of one entry (stored or deflated, the two methods vsce uses). */
function readZipEntryData(zip: Buffer, entry: ZipEntry): Buffer {
  const local = entry.localHeaderOffset;
  if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error(`bad local header for ${entry.name}`);
  const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
  const data = zip.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) return data;
  if (entry.method === 8) return inflateRawSync(data);
  throw new Error(`unsupported zip method ${entry.method} for ${entry.name}`);
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/** The package a bare specifier names: "koffi/indirect" → "koffi", "@scope/pkg/x" → "@scope/pkg". */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return (specifier.startsWith("@") ? parts.slice(0, 2) : parts.slice(0, 1)).join("/");
}

/**
 * Bare modules each shipped bundle loads (`require("x")`, `import("x")`), from the bundle text. esbuild keeps
 * externals as literal specifiers, minified or not, so a regular expression finds them all.
 */
function scanBundleImports(bundle: string): { readonly required: Set<string>; readonly imported: Set<string> } {
  const builtins = new Set(builtinModules);
  const required = new Set<string>();
  const imported = new Set<string>();
  for (const match of bundle.matchAll(/\b(require|import)\s*\(\s*(["'`])([^"'`]+)\2\s*\)/g)) {
    const [, kind, , specifier = ""] = match;
    if (specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("node:")) continue;
    if (builtins.has(specifier) || builtins.has(packageOf(specifier))) continue;
    (kind === "require" ? required : imported).add(packageOf(specifier));
  }
  return { required, imported };
}

async function runVsce(outFile: string): Promise<void> {
  const vsce = path.join(root, "node_modules", ".bin", "vsce");
  const args = [
    "package",
    "--target",
    TARGET,
    "--out",
    outFile,
    // Dependencies on (the default), so vsce offers `npm list --production` and .vscodeignore picks from it.
    "--dependencies",
    "--no-yarn",
    // Never prompt: no repository field yet, and README links stay as written (the VSIX is installed locally).
    "--allow-missing-repository",
    "--no-rewrite-relative-links",
  ];
  console.log(`$ vsce ${args.join(" ")}`);
  await new Promise<void>((resolve, reject) => {
    // stdin closed: an unexpected "Do you want to continue? [y/N]" reads EOF and aborts instead of hanging.
    // stdout piped, not a TTY: vsce then skips its online "new version available" check.
    const child = spawn(vsce, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => process.stdout.write(chunk));
    child.stderr.on("data", (chunk: Buffer) => process.stderr.write(chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`vsce exited with code ${code ?? "null"}`));
    });
  });
}

/** Unpacks the VSIX's node_modules into a temporary folder and loads node-llama-cpp and koffi from there only. */
function smokeTestNativeModules(zip: Buffer, entries: readonly ZipEntry[]): string | undefined {
  const folder = mkdtempSync(path.join(os.tmpdir(), "slm-lab-vsix-"));
  try {
    for (const entry of entries) {
      if (!entry.name.startsWith("extension/node_modules/") && entry.name !== "extension/package.json") continue;
      const target = path.join(folder, entry.name);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, readZipEntryData(zip, entry), { mode: 0o755 });
    }
    const probe = path.join(folder, "extension", "probe.mjs");
    // Outside the repository, so nothing resolves from the project's own node_modules.
    writeFileSync(
      probe,
      `import { createRequire } from "node:module";
import { readdirSync } from "node:fs";
import path from "node:path";
const require = createRequire(import.meta.url);
const koffi = require("koffi");
const { getLlama } = await import("node-llama-cpp");
const llama = await getLlama({ build: "never", gpu: false, maxThreads: 1, usePrebuiltBinaries: true, logLevel: "error" });
const bins = path.join(path.dirname(new URL(import.meta.url).pathname), "node_modules", "@node-llama-cpp", "${TARGET}", "bins", "${TARGET}");
const libllama = readdirSync(bins).find((name) => /^libllama\\.v.*\\.so$/.test(name));
if (libllama === undefined) throw new Error("no libllama in " + bins);
const lib = koffi.load(path.join(bins, libllama));
const maxDevices = lib.func("size_t llama_max_devices(void)")();
console.log(JSON.stringify({ gpu: llama.gpu, cpu: llama.cpuMathCores, libllama, maxDevices: Number(maxDevices) }));
await llama.dispose();
`,
    );
    const result = spawnSync(process.execPath, [probe], { cwd: path.dirname(probe), encoding: "utf8", timeout: 120_000 });
    if (result.status !== 0) return `node-llama-cpp/koffi do not load from the VSIX alone: ${(result.stderr || result.stdout || String(result.error)).trim()}`;
    console.log(`native modules load from the unpacked VSIX: ${result.stdout.trim()}`);
    return undefined;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Everything wrong with the VSIX, as lines; empty when it is good. */
function checkVsix(zip: Buffer, entries: readonly ZipEntry[]): string[] {
  const problems: string[] = [];
  const names = new Set(entries.map((entry) => entry.name));
  const has = (pattern: RegExp): boolean => entries.some((entry) => pattern.test(entry.name));

  const required: readonly (readonly [string, RegExp])[] = [
    ["the manifest", /^extension\/package\.json$/],
    ["the extension bundle", /^extension\/dist\/extension\.js$/],
    ["the CLI bundle", /^extension\/dist\/cli\.js$/],
    // vsce stores them as LICENSE.txt and readme.md.
    ["the license", /^extension\/LICENSE(\.txt|\.md)?$/i],
    ["the README", /^extension\/readme\.md$/i],
    ["node-llama-cpp", /^extension\/node_modules\/node-llama-cpp\/dist\/index\.js$/],
    ["the llama.cpp addon for linux-x64", /^extension\/node_modules\/@node-llama-cpp\/linux-x64\/bins\/linux-x64\/llama-addon\.node$/],
    ["libllama for linux-x64", /^extension\/node_modules\/@node-llama-cpp\/linux-x64\/bins\/linux-x64\/libllama\.[^/]*so$/],
    ["libggml for linux-x64", /^extension\/node_modules\/@node-llama-cpp\/linux-x64\/bins\/linux-x64\/libggml-base\.so$/],
    ["koffi", /^extension\/node_modules\/koffi\/index\.js$/],
    ["koffi's linux x64 binary", /^extension\/node_modules\/(@koromix\/koffi-linux-x64\/linux_x64|koffi\/build\/koffi\/linux_x64)\/koffi\.node$/],
  ];
  for (const [what, pattern] of required) if (!has(pattern)) problems.push(`missing ${what} (${pattern.source})`);

  const forbidden: readonly (readonly [string, RegExp])[] = [
    ["another platform's llama.cpp", /^extension\/node_modules\/@node-llama-cpp\/(?!linux-x64\/)/],
    ["another platform's koffi", /^extension\/node_modules\/@koromix\/(?!koffi-linux-x64\/)|\/(musl|darwin|win32|freebsd|openbsd|android)_[^/]+\/koffi\.node$|koffi\/build\/koffi\/(?!linux_x64\/)/],
    ["TypeScript sources or declarations", /\.(ts|mts|cts|tsx)$/],
    ["sourcemaps", /\.map$/],
    ["tests", /^extension\/(test|dist\/test)\//],
    ["sources", /^extension\/(src|webview|scripts|bench)\//],
    ["caches", /(^|\/)\.cache\//],
    ["the llama.cpp source bundle", /gitRelease\.bundle$/],
    ["TypeScript", /^extension\/node_modules\/typescript\//],
    ["development dependencies", /^extension\/node_modules\/(esbuild|@esbuild|eslint|typescript-eslint|@typescript-eslint|tsx|playwright-core|@vscode\/vsce|@types)\//],
  ];
  for (const [what, pattern] of forbidden) {
    const offending = entries.filter((entry) => pattern.test(entry.name)).map((entry) => entry.name);
    if (offending.length > 0) problems.push(`contains ${what}: ${offending.slice(0, 5).join(", ")}${offending.length > 5 ? ` and ${offending.length - 5} more` : ""}`);
  }

  // Every native binary must be ELF64 for x86-64 (e_machine 62): catches a wrong-platform prebuilt whatever its path.
  for (const entry of entries.filter((item) => /\.(node|so)(\.\d+)*$/.test(item.name))) {
    const header = readZipEntryData(zip, entry).subarray(0, 20);
    const isElf = header.length >= 20 && header.readUInt32BE(0) === 0x7f454c46;
    if (!isElf || header[4] !== 2 || header.readUInt16LE(18) !== 62) problems.push(`${entry.name} is not an x86-64 Linux binary`);
  }

  const manifest = entries.find((entry) => entry.name === "extension.vsixmanifest");
  if (manifest === undefined || !readZipEntryData(zip, manifest).toString("utf8").includes(`TargetPlatform="${TARGET}"`)) {
    problems.push(`extension.vsixmanifest does not declare TargetPlatform="${TARGET}"`);
  }

  // The bundles may only load Node built-ins, `vscode` (extension host only) and the packages the VSIX ships.
  const shipped = (name: string): boolean => names.has(`extension/node_modules/${name}/package.json`);
  const bundles = entries.filter((entry) => /^extension\/dist\/(extension|cli|workers\/[^/]+)\.js$/.test(entry.name));
  for (const bundle of bundles) {
    const text = readZipEntryData(zip, bundle).toString("utf8");
    if (text.includes("sourceMappingURL=")) problems.push(`${bundle.name} is a development build (has a sourcemap link): run \`npm run package\`, which builds with --production`);
    const { required: requiredModules, imported } = scanBundleImports(text);
    if (requiredModules.has("node-llama-cpp")) problems.push(`${bundle.name} require()s node-llama-cpp, which is ESM-only: load it with import()`);
    for (const name of [...requiredModules, ...imported]) {
      if (name === "vscode" && bundle.name === "extension/dist/extension.js") continue;
      if (!shipped(name)) problems.push(`${bundle.name} loads '${name}', which the VSIX does not ship`);
    }
  }
  return problems;
}

/** Entry count and size per top folder inside `extension/`, node_modules by package. */
function describeContents(entries: readonly ZipEntry[]): string {
  const groups = new Map<string, { files: number; bytes: number; compressed: number }>();
  for (const entry of entries) {
    const parts = entry.name.replace(/^extension\//, "").split("/");
    let key = parts.length === 1 ? "(top-level files)" : `${parts[0] ?? ""}/`;
    if (parts[0] === "node_modules" && parts.length > 2) {
      const scoped = parts[1]?.startsWith("@") === true;
      const name = (scoped ? parts.slice(1, 3) : parts.slice(1, 2)).join("/");
      key = ["node-llama-cpp", "@node-llama-cpp/linux-x64", "koffi", "@koromix/koffi-linux-x64"].includes(name) ? `node_modules/${name}/` : "node_modules/(other runtime deps of node-llama-cpp)/";
    }
    const group = groups.get(key) ?? { files: 0, bytes: 0, compressed: 0 };
    group.files++;
    group.bytes += entry.size;
    group.compressed += entry.compressedSize;
    groups.set(key, group);
  }
  const rows = [...groups].sort((a, b) => b[1].compressed - a[1].compressed);
  const width = Math.max(...rows.map(([key]) => key.length));
  return rows
    .map(([key, group]) => `  ${key.padEnd(width)}  ${String(group.files).padStart(5)} files  ${megabytes(group.bytes).padStart(6)} MB  (${megabytes(group.compressed)} MB packed)`)
    .join("\n");
}

async function main(): Promise<void> {
  const started = performance.now();
  const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as PackageManifest;
  for (const built of ["dist/extension.js", "dist/cli.js"]) {
    if (!existsSync(path.join(root, built))) throw new Error(`${built} is missing: run \`npm run package\` (it builds first)`);
  }
  const outFile = path.join(root, `${manifest.name}-${TARGET}-${manifest.version}.vsix`);
  rmSync(outFile, { force: true });
  await runVsce(outFile);
  const vsceSeconds = (performance.now() - started) / 1000;

  const zip = readFileSync(outFile);
  const entries = readZipEntries(zip);
  console.log(`\n${path.basename(outFile)}: ${entries.length} entries, ${megabytes(zip.length)} MB (${megabytes(entries.reduce((sum, entry) => sum + entry.size, 0))} MB unpacked)`);
  console.log(describeContents(entries));

  const problems = checkVsix(zip, entries);
  if (zip.length > MAX_MEGABYTES * 1e6) problems.push(`the VSIX is ${megabytes(zip.length)} MB, over the ${MAX_MEGABYTES} MB budget`);
  const smokeProblem = smokeTestNativeModules(zip, entries);
  if (smokeProblem !== undefined) problems.push(smokeProblem);

  const seconds = (performance.now() - started) / 1000;
  if (problems.length > 0) {
    console.error(`\nThe VSIX failed ${problems.length} check(s):\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    process.exitCode = 1;
    return;
  }
  console.log(`\nOK: ${path.relative(root, outFile)} — ${megabytes(zip.length)} MB = ${(zip.length / 2 ** 20).toFixed(1)} MiB (budget ${MAX_MEGABYTES} MB), ${entries.length} entries; vsce ${vsceSeconds.toFixed(1)} s, checks included ${seconds.toFixed(1)} s.`);
}

main().catch((error: unknown) => {
  console.error(`package: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
