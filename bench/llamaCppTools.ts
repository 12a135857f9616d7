/**
 * Builds llama.cpp's command-line tools (llama-quantize, llama-server) from the source node-llama-cpp ships with
 * (the same commit as the bundled binaries), once, into .cache/llama.cpp-tools/<commit>/build. Shared by the
 * benchmarks that compare SLM Lab with llama.cpp's own tools. One configuration per flavor (server on, tests/examples
 * off), so building one tool never reconfigures the others away:
 * - "baseline" (build/): GGML_NATIVE=OFF, the x86-64 baseline the quantizers of the bundled ggml-base are compiled for
 *   (bench/quantize.ts's byte identity relies on it); ggml-cpu then gets AVX2/FMA/F16C, no AVX-512.
 * - "native" (build-native/): GGML_NATIVE=ON, the CPU features of this machine, close to the ggml-cpu variant that
 *   node-llama-cpp's prebuilt binaries pick at run time (e.g. AVX-512): the fair speed reference for inference.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { locateLibllama } from "../src/core/quantize/libllamaLocation";
import { llamaCppBundleCommit, llamaCppSourceTree, repositoryRoot } from "../test/fixtures/llamaCppSource";

/** The llama.cpp tools the benchmarks build. */
export type LlamaCppTool = "llama-quantize" | "llama-server" | "llama-bench" | "llama-perplexity";

/**
 * Which CPU code the tools get: "baseline" (GGML_NATIVE=OFF: plain x86-64, like the bundled ggml-base, so quantizer
 * output is comparable byte for byte) or "native" (GGML_NATIVE=ON: the SIMD this machine has, like the CPU-variant
 * backend the bundled binaries load at run time; what speed comparisons need). Each has its own build folder.
 */
export type LlamaCppBuildVariant = "baseline" | "native";

/** The build folder of the bundled commit's tools. */
export async function llamaCppToolsBuildDir(variant: LlamaCppBuildVariant = "baseline"): Promise<string> {
  const commit = await llamaCppBundleCommit();
  return path.join(repositoryRoot(), ".cache", "llama.cpp-tools", commit, variant === "native" ? "build-native" : "build");
}

/** Path a tool's binary has once built (it may not exist yet). */
export async function llamaCppToolPath(tool: LlamaCppTool, variant: LlamaCppBuildVariant = "baseline"): Promise<string> {
  return path.join(await llamaCppToolsBuildDir(variant), "bin", tool);
}

/** Builds a tool from the bundled source unless it is built already; returns its path. */
export async function buildLlamaCppTool(tool: LlamaCppTool, variant: LlamaCppBuildVariant = "baseline"): Promise<string> {
  const buildDir = await llamaCppToolsBuildDir(variant);
  const binary = path.join(buildDir, "bin", tool);
  if (existsSync(binary)) return binary;
  const source = await llamaCppSourceTree();
  console.error(`building ${tool} from ${source} into ${buildDir} (several minutes on 2 cores)…`);
  const generator = spawnSync("ninja", ["--version"]).status === 0 ? ["-G", "Ninja"] : [];
  const configure = [
    "-S", source, "-B", buildDir, ...generator, "-DCMAKE_BUILD_TYPE=Release", "-DLLAMA_CURL=OFF", `-DGGML_NATIVE=${variant === "native" ? "ON" : "OFF"}`,
    "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_SERVER=ON", "-DLLAMA_OPENSSL=OFF",
  ];
  for (const args of [configure, ["--build", buildDir, "-j", String(os.availableParallelism()), "--target", tool]]) {
    const result = spawnSync("nice", ["-n", "10", "cmake", ...args], { stdio: ["ignore", "ignore", "inherit"] });
    if (result.status !== 0) throw new Error(`cmake ${args.join(" ")} failed (exit ${String(result.status)})`);
  }
  if (!existsSync(binary)) throw new Error(`the build finished but ${binary} is missing`);
  return binary;
}

// `npx tsx bench/llamaCppTools.ts llama-server` builds one tool.
if (require.main === module) {
  const tool = process.argv[2] ?? "llama-server";
  if (tool !== "llama-quantize" && tool !== "llama-server" && tool !== "llama-bench" && tool !== "llama-perplexity") throw new Error(`unknown tool ${tool}`);
  buildLlamaCppTool(tool).then((binary) => { console.log(binary); }, (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

/** How a built tool runs on the bundled libraries: a library path, and the folder whose CPU backends ggml loads. */
export interface BundledLibraries {
  readonly libraryPath: string;
  readonly binariesDir: string;
}

/** Process options that run a built tool on the bundled libraries (none: on its own build). */
export function bundledToolOptions(libraries: BundledLibraries | undefined): { cwd?: string; env?: NodeJS.ProcessEnv } {
  return libraries === undefined ? {} : { cwd: libraries.binariesDir, env: { ...process.env, LD_LIBRARY_PATH: libraries.libraryPath } };
}

/**
 * A folder (`dir`) of symlinks that gives the libllama/libggml/libggml-base bundled with node-llama-cpp the sonames a
 * built tool was linked against (libllama.so.0, …), plus copies of the build's own `implLibraries` and
 * libllama-common / libmtmd when present (same commit, same headers). LD_LIBRARY_PATH wins over the build's RUNPATH;
 * running in the bundled bins folder (cwd) makes ggml_backend_load_all() pick the same CPU-variant backend SLM Lab
 * loads, so the tool computes with exactly SLM Lab's kernels.
 */
export async function bundledLibraries(tool: string, dir: string, implLibraries: readonly string[]): Promise<BundledLibraries> {
  const location = locateLibllama();
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const built = path.dirname(tool);
  const ggml = location.libraryPath.replace(/libllama(\.v[\d.]+)?\.so$/, "libggml$1.so");
  await symlink(location.libraryPath, path.join(dir, "libllama.so.0"));
  await symlink(ggml, path.join(dir, "libggml.so.0"));
  await symlink(path.join(location.binariesDir, "libggml-base.so"), path.join(dir, "libggml-base.so.0"));
  for (const library of ["libllama-common.so.0", "libmtmd.so.0", ...implLibraries]) {
    if (existsSync(path.join(built, library))) await copyFile(path.join(built, library), path.join(dir, library));
  }
  return { libraryPath: dir, binariesDir: location.binariesDir };
}
