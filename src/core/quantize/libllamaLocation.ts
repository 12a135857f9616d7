/**
 * Where node-llama-cpp's prebuilt libllama is and which llama.cpp it was built from. Reads files only: loading the
 * library is libllamaQuantizeBinding.ts's job, in the quantize child process.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync } from "node:fs";
import path from "node:path";
import { UserError } from "../errors";

/** Where the library is and which llama.cpp it is. */
export interface LibllamaLocation {
  readonly libraryPath: string;
  readonly binariesDir: string;
  /** The llama.cpp release node-llama-cpp built the binaries from (`_nlcBuildMetadata.json`), e.g. "v0.5.0". */
  readonly llamaCppRelease: string | undefined;
  /** `@node-llama-cpp/<platform>`'s version, e.g. "3.22.1". */
  readonly binariesPackageVersion: string | undefined;
}

/** The library cannot be used: wrong platform, missing package, or a layout that does not match. */
export class LibllamaBindingError extends UserError {
  constructor(message: string, action: string, inner?: unknown) {
    super(message, { action, inner });
    this.name = "LibllamaBindingError";
  }
}

const PLATFORM_PACKAGES: Readonly<Record<string, string>> = { "linux-x64": "@node-llama-cpp/linux-x64" };

/** Finds `libllama*.so` in node-llama-cpp's prebuilt binaries for this platform (resolved, never a fixed path). */
export function locateLibllama(): LibllamaLocation {
  const platform = `${process.platform}-${process.arch}`;
  const packageName = PLATFORM_PACKAGES[platform];
  if (packageName === undefined) {
    throw new LibllamaBindingError(
      `Quantizing is not available on ${platform} yet: SLM Lab only knows where llama.cpp's library is on linux-x64.`,
      "Quantize on Linux x64, or use llama.cpp's llama-quantize tool directly.",
    );
  }
  let entry: string;
  try {
    entry = require.resolve(packageName);
  } catch (error: unknown) {
    throw new LibllamaBindingError(`${packageName} is not installed, so llama.cpp's library cannot be found.`, "Reinstall SLM Lab.", error);
  }
  // The package's entry is dist/index.js; its binaries are in bins/<platform>/.
  const packageDir = path.dirname(path.dirname(entry));
  const binariesDir = path.join(packageDir, "bins", platform);
  let names: string[];
  try {
    names = readdirSync(binariesDir);
  } catch (error: unknown) {
    throw new LibllamaBindingError(`llama.cpp's binaries are missing from ${binariesDir}.`, "Reinstall SLM Lab.", error);
  }
  const library = names.find((name) => /^libllama(\.v[\d.]+)?\.so$/.test(name));
  if (library === undefined) throw new LibllamaBindingError(`No libllama*.so in ${binariesDir}.`, "Reinstall SLM Lab.");
  return {
    libraryPath: path.join(binariesDir, library),
    binariesDir,
    llamaCppRelease: readJsonString(path.join(binariesDir, "_nlcBuildMetadata.json"), ["buildOptions", "llamaCpp", "release"]),
    binariesPackageVersion: readJsonString(path.join(packageDir, "package.json"), ["version"]),
  };
}

function readJsonString(file: string, keys: readonly string[]): string | undefined {
  try {
    let value: unknown = JSON.parse(readFileSync(file, "utf8"));
    for (const key of keys) value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The llama.cpp commit of the source node-llama-cpp ships next to the binaries (`node-llama-cpp/llama/
 * gitRelease.bundle`, whose text header names HEAD), or undefined when the bundle is not installed. The binaries'
 * own LLAMA_COMMIT is node-llama-cpp's build commit, not llama.cpp's, so it is not used.
 */
export function llamaCppSourceCommit(location: LibllamaLocation): string | undefined {
  // bins/<platform> → @node-llama-cpp/<platform> → @node-llama-cpp → node_modules
  const nodeModules = path.resolve(location.binariesDir, "..", "..", "..", "..");
  const bundle = path.join(nodeModules, "node-llama-cpp", "llama", "gitRelease.bundle");
  let fd: number | undefined;
  try {
    fd = openSync(bundle, "r");
    const head = Buffer.alloc(512);
    const length = readSync(fd, head, 0, head.length, 0);
    const match = /^([0-9a-f]{40}) HEAD$/m.exec(head.subarray(0, length).toString("latin1"));
    return match?.[1];
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
