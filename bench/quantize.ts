/**
 * Benchmark and conformance check: SLM Lab's quantizer (the bundled libllama's llama_model_quantize through koffi)
 * against llama.cpp's own `llama-quantize` built from the same source (node-llama-cpp's git bundle).
 *
 * 1. Builds `llama-quantize` once into .cache/llama.cpp-tools/<commit>/build (cmake + ninja, GGML_NATIVE=OFF like the
 *    bundled binaries: the quantizers live in ggml-base, which is then compiled for baseline x86-64 in both, so no
 *    FMA contraction or other -march=native codegen can change the rounding).
 * 2. For every offered type, quantizes each identity model with both and compares sha256 of the outputs (byte
 *    identity). Types that need an importance matrix, and a few that merely use one, are run with a generated one
 *    (test/fixtures/importanceMatrixFixture.ts, GGUF and legacy formats) passed to both as --imatrix.
 * 3. For the timing types, quantizes the timing model with both, alternating, `--reps` times each, with the same
 *    threads, and prints wall time ours ÷ theirs. Both are timed as a user runs them: a whole process
 *    (`node bin/slm-lab.cjs quantize …`, which quantizes in its own process with all its checks — a dry run only
 *    when the disk might be too small for the output — vs `llama-quantize …`). Each run follows `sync`; medians.
 *    By default (`--reference-libs bundled`) the timed llama-quantize runs on the libllama/libggml bundled with
 *    node-llama-cpp (LD_LIBRARY_PATH, bench/llamaCppTools.ts), the very library SLM Lab calls: the ratio then measures
 *    SLM Lab's own cost, not two compilers' codegen of the same quantizers (`built` times its own build).
 *
 *   npx tsx bench/quantize.ts [--threads 2] [--reps 3] [--identity-models tiny-llama-spm,tiny-qwen2-coder]
 *       [--timing-model qwen2.5-coder-0.5b-shape] [--timing-types Q8_0,Q4_0,Q4_K_M] [--types Q4_0,…] [--dir DIR]
 *       [--reference-libs bundled|built]
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { findQuantizationType, quantizationTypes } from "../src/core/quantize/quantizationTypes";
import { writeImportanceMatrixFixture } from "../test/fixtures/importanceMatrixFixture";
import { type FixtureModelName } from "../test/fixtures/fixtureModelSpecs";
import { ensureFixtureModel } from "../test/fixtures/fixtureModels";
import { repositoryRoot } from "../test/fixtures/llamaCppSource";
import { buildLlamaCppTool, bundledLibraries, type BundledLibraries, bundledToolOptions } from "./llamaCppTools";
import { median } from "./benchNumbers";
import { fileSha256 } from "../src/core/bench/fileSha256";

const execFileAsync = promisify(execFile);

/** Types that need no importance matrix but use one when given: run both ways. */
const ALSO_WITH_IMATRIX: ReadonlySet<string> = new Set(["Q4_0", "Q4_K_M", "Q3_K_M", "IQ4_XS"]);

interface Args {
  readonly threads: number;
  readonly reps: number;
  readonly identityModels: readonly string[];
  readonly timingModel: string;
  readonly timingTypes: readonly string[];
  readonly types: readonly string[] | undefined;
  readonly dir: string;
  /** Time llama-quantize on node-llama-cpp's bundled libllama/libggml (the library SLM Lab calls) or on its own build. */
  readonly referenceLibraries: "bundled" | "built";
}

function parseArgs(argv: readonly string[]): Args {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--") || argv[i + 1] === undefined) throw new Error(`bad argument ${arg}; see the usage at the top of bench/quantize.ts`);
    values.set(arg.slice(2), argv[++i] ?? "");
  }
  const list = (key: string, fallback: string): string[] => (values.get(key) ?? fallback).split(",").filter((item) => item !== "");
  const threads = Number(values.get("threads") ?? "2");
  const reps = Number(values.get("reps") ?? "3");
  if (!Number.isInteger(threads) || threads < 1 || !Number.isInteger(reps) || reps < 1) throw new Error("--threads and --reps must be positive integers");
  const types = values.get("types");
  return {
    threads,
    reps,
    identityModels: list("identity-models", "tiny-llama-spm,tiny-qwen2-coder"),
    timingModel: values.get("timing-model") ?? "qwen2.5-coder-0.5b-shape",
    timingTypes: list("timing-types", "Q8_0,Q4_0,Q4_K_M"),
    types: types === undefined ? undefined : types.split(","),
    dir: values.get("dir") ?? path.join(os.tmpdir(), "slm-lab-bench-quantize"),
    referenceLibraries: referenceLibraries(values.get("reference-libs") ?? "bundled"),
  };
}

function referenceLibraries(value: string): "bundled" | "built" {
  if (value !== "bundled" && value !== "built") throw new Error("--reference-libs must be bundled or built");
  return value;
}

/** Builds llama-quantize from the bundled source once (bench/llamaCppTools.ts); returns its path. */
function buildLlamaQuantize(): Promise<string> {
  return buildLlamaCppTool("llama-quantize");
}

async function modelPath(nameOrPath: string): Promise<string> {
  return nameOrPath.endsWith(".gguf") ? path.resolve(nameOrPath) : await ensureFixtureModel(nameOrPath as FixtureModelName);
}

const cli = path.join(repositoryRoot(), "bin", "slm-lab.cjs");

async function runOurs(input: string, output: string, type: string, threads: number, imatrix?: string): Promise<number> {
  const started = process.hrtime.bigint();
  await execFileAsync(process.execPath, [cli, "quantize", input, output, type, "--threads", String(threads), ...(imatrix === undefined ? [] : ["--imatrix", imatrix])]);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function runTheirs(binary: string, input: string, output: string, type: string, threads: number, imatrix?: string, libraries?: BundledLibraries): Promise<number> {
  const started = process.hrtime.bigint();
  await execFileAsync(binary, [...(imatrix === undefined ? [] : ["--imatrix", imatrix]), input, output, type, String(threads)], {
    maxBuffer: 64 * 1024 * 1024,
    ...bundledToolOptions(libraries),
  });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  console.error("building SLM Lab (node esbuild.mjs)…");
  const build = spawnSync(process.execPath, [path.join(repositoryRoot(), "esbuild.mjs")], { cwd: repositoryRoot(), stdio: "inherit" });
  if (build.status !== 0) throw new Error("the SLM Lab build failed");
  const binary = await buildLlamaQuantize();
  await rm(args.dir, { recursive: true, force: true });
  await mkdir(args.dir, { recursive: true });

  const types = args.types ?? quantizationTypes.map((type) => type.name);
  console.log(`# byte identity: SLM Lab vs llama-quantize (${binary}), ${args.threads} threads`);
  console.log("| model | type | imatrix | size (bytes) | identical |");
  console.log("|---|---|---|---:|---|");
  let mismatches = 0;
  for (const name of args.identityModels) {
    const input = await modelPath(name);
    const imatrixGguf = path.join(args.dir, `${name}.imatrix.gguf`);
    const imatrixLegacy = path.join(args.dir, `${name}.imatrix.dat`);
    await writeImportanceMatrixFixture(input, imatrixGguf, { format: "gguf", seed: 11 });
    await writeImportanceMatrixFixture(input, imatrixLegacy, { format: "legacy", seed: 12 });
    const runs = types.flatMap((type): (readonly [string, string | undefined])[] => {
      const needs = findQuantizationType(type)?.requiresImatrix === true;
      if (needs) return [[type, type.startsWith("IQ1") ? imatrixLegacy : imatrixGguf]];
      return ALSO_WITH_IMATRIX.has(type) ? [[type, undefined], [type, imatrixGguf]] : [[type, undefined]];
    });
    for (const [type, imatrix] of runs) {
      const ours = path.join(args.dir, `ours-${type}.gguf`);
      const theirs = path.join(args.dir, `theirs-${type}.gguf`);
      const imatrixLabel = imatrix === undefined ? "—" : path.extname(imatrix);
      try {
        await runOurs(input, ours, type, args.threads, imatrix);
      } catch (error: unknown) {
        // Refused before any work (e.g. a mix that needs an importance matrix): llama-quantize must refuse it too.
        const refusal = /slm-lab: (.*)/.exec(String((error as { stderr?: unknown }).stderr))?.[1] ?? String(error);
        const theirsFailed = await runTheirs(binary, input, theirs, type, args.threads, imatrix).then(() => false, () => true);
        if (!theirsFailed) mismatches++;
        console.log(`| ${name} | ${type} | ${imatrixLabel} | — | ${theirsFailed ? "both refuse" : "NO: only ours refuses"}: ${refusal.slice(0, 60)} |`);
        await rm(theirs, { force: true });
        continue;
      }
      await runTheirs(binary, input, theirs, type, args.threads, imatrix);
      const [a, b] = await Promise.all([fileSha256(ours), fileSha256(theirs)]);
      const { size } = await stat(ours);
      if (a !== b) mismatches++;
      console.log(`| ${name} | ${type} | ${imatrixLabel} | ${size} | ${a === b ? "yes" : `NO (${a.slice(0, 12)} vs ${b.slice(0, 12)})`} |`);
      await rm(ours, { force: true });
      await rm(`${ours}.slm-lab.json`, { force: true });
      await rm(theirs, { force: true });
    }
  }

  const input = await modelPath(args.timingModel);
  const libraries = args.referenceLibraries === "bundled" ? await bundledLibraries(binary, path.join(args.dir, "bundled-libs"), ["libllama-quantize-impl.so"]) : undefined;
  console.log(
    `\n# wall time: ${args.timingModel}, ${args.threads} threads, ${args.reps} runs each (alternating, each after \`sync\`), whole processes; ` +
      `llama-quantize on ${libraries === undefined ? "its own build of the libraries" : "the libllama/libggml bundled with node-llama-cpp (the ones SLM Lab calls)"}; medians`,
  );
  console.log("| type | ours (s) | llama-quantize (s) | ours ÷ theirs | runs: ours / theirs (s) |");
  console.log("|---|---:|---:|---:|---|");
  for (const type of args.timingTypes) {
    const ours: number[] = [];
    const theirs: number[] = [];
    const out = path.join(args.dir, `timing-${type}.gguf`);
    for (let rep = 0; rep < args.reps; rep++) {
      await execFileAsync("sync");
      ours.push(await runOurs(input, out, type, args.threads));
      await rm(out, { force: true });
      await rm(`${out}.slm-lab.json`, { force: true });
      await execFileAsync("sync");
      theirs.push(await runTheirs(binary, input, out, type, args.threads, undefined, libraries));
      await rm(out, { force: true });
    }
    const a = median(ours);
    const b = median(theirs);
    const runs = (values: readonly number[]): string => values.map((value) => (value / 1000).toFixed(2)).join(" ");
    console.log(`| ${type} | ${(a / 1000).toFixed(2)} | ${(b / 1000).toFixed(2)} | ${(a / b).toFixed(3)} | ${runs(ours)} / ${runs(theirs)} |`);
  }
  await rm(args.dir, { recursive: true, force: true });
  if (mismatches > 0) {
    console.error(`${mismatches} output(s) differ from llama-quantize's`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
