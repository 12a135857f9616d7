/**
 * Benchmark of the benchmark: SLM Lab's bench (runBench: the bundled libllama through koffi, in a child process)
 * against llama.cpp's own llama-bench and llama-perplexity, built from the same source (node-llama-cpp's git bundle)
 * with GGML_NATIVE=ON (the bundled binaries load the CPU-variant backend that suits this CPU at run time; a
 * baseline x86-64 build would be slower for reasons that have nothing to do with SLM Lab).
 *
 * For each type, on the same model file, threads, batch (2048) and micro-batch (512), flash attention auto:
 * 1. pp and tg tok/s: ours (runBench) and theirs (llama-bench -o json), alternating, `--rounds` rounds; prints the
 *    ratio ours ÷ theirs of the means (target ≥ 0.9 each).
 *    llama-bench runs twice: as built (its own native libggml/libllama) and on the bundled libraries SLM Lab itself
 *    runs (the same libllama/libggml files and CPU-variant backend, through LD_LIBRARY_PATH symlinks under the
 *    names the build linked against): the second isolates SLM Lab's own overhead from how the libraries were compiled.
 * 2. perplexity on the same text and context: ours vs llama-perplexity's final estimate (target within 1%).
 *
 *   npx tsx bench/bench.ts [--threads 2] [--model qwen2.5-coder-0.5b-shape] [--types Q4_0,Q8_0] [-p 512] [-n 128]
 *       [-r 3] [--rounds 1] [--ctx 512] [--text FILE] [--dir DIR]
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { bundledEvalTextPath } from "../src/core/bench/benchEvalText";
import { runBench } from "../src/core/bench/runBench";
import { quantizeModel } from "../src/core/quantize/quantizeModel";
import { type FixtureModelName } from "../test/fixtures/fixtureModelSpecs";
import { ensureFixtureModel } from "../test/fixtures/fixtureModels";
import { buildLlamaCppTool, bundledLibraries, type BundledLibraries, bundledToolOptions } from "./llamaCppTools";
import { mean } from "./benchNumbers";

const execFileAsync = promisify(execFile);

interface Args {
  readonly threads: number;
  readonly model: string;
  readonly types: readonly string[];
  readonly prompt: number;
  readonly gen: number;
  readonly reps: number;
  readonly rounds: number;
  readonly ctx: number;
  readonly text: string | undefined;
  readonly dir: string;
}

function parseArgs(argv: readonly string[]): Args {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("-") || argv[i + 1] === undefined) throw new Error(`bad argument ${arg}; see the usage at the top of bench/bench.ts`);
    values.set(arg.replace(/^--?/, ""), argv[++i] ?? "");
  }
  const whole = (key: string, fallback: number): number => {
    const value = Number(values.get(key) ?? String(fallback));
    if (!Number.isInteger(value) || value < 0) throw new Error(`--${key} must be a whole number`);
    return value;
  };
  return {
    threads: whole("threads", 2),
    model: values.get("model") ?? "qwen2.5-coder-0.5b-shape",
    types: (values.get("types") ?? "Q4_0,Q8_0").split(",").filter((type) => type !== ""),
    prompt: whole("p", 512),
    gen: whole("n", 128),
    reps: Math.max(1, whole("r", 3)),
    rounds: Math.max(1, whole("rounds", 1)),
    ctx: whole("ctx", 512),
    text: values.get("text"),
    dir: values.get("dir") ?? path.join(os.tmpdir(), "slm-lab-bench-bench"),
  };
}

interface Speed {
  readonly pp: number;
  readonly tg: number;
}

/** llama-bench -o json: one object per test with n_prompt, n_gen, avg_ts. */
async function runLlamaBench(binary: string, model: string, args: Args, bundled?: BundledLibraries): Promise<Speed> {
  const { stdout } = await execFileAsync(
    binary,
    ["-m", model, "-t", String(args.threads), "-p", String(args.prompt), "-n", String(args.gen), "-r", String(args.reps), "-b", "2048", "-ub", "512", "-o", "json"],
    {
      maxBuffer: 64 * 1024 * 1024,
      ...bundledToolOptions(bundled),
    },
  );
  const tests = JSON.parse(stdout) as { n_prompt: number; n_gen: number; avg_ts: number }[];
  const find = (prompt: boolean): number => tests.find((test) => (prompt ? test.n_prompt > 0 && test.n_gen === 0 : test.n_gen > 0 && test.n_prompt === 0))?.avg_ts ?? Number.NaN;
  return { pp: find(true), tg: find(false) };
}

async function runOursSpeed(model: string, args: Args): Promise<Speed> {
  const record = await runBench({ modelPath: model, threads: args.threads, promptTokens: args.prompt, generatedTokens: args.gen, repetitions: args.reps });
  return { pp: record.promptTokensPerSecond.mean, tg: record.generationTokensPerSecond.mean };
}

/** llama-perplexity's "Final estimate: PPL = X +/- Y". */
async function runLlamaPerplexity(binary: string, model: string, text: string, args: Args): Promise<{ ppl: number; error: number }> {
  const { stdout, stderr } = await execFileAsync(binary, ["-m", model, "-f", text, "-c", String(args.ctx), "-t", String(args.threads), "-b", "2048", "-ub", "512"], {
    maxBuffer: 256 * 1024 * 1024,
  });
  const match = /Final estimate: PPL = ([\d.]+) \+\/- ([\d.]+)/.exec(`${stdout}\n${stderr}`);
  if (match === null) throw new Error(`llama-perplexity printed no final estimate:\n${stderr.slice(-2000)}`);
  return { ppl: Number(match[1]), error: Number(match[2]) };
}

async function runOursPerplexity(model: string, text: string, args: Args): Promise<{ ppl: number; error: number }> {
  const record = await runBench({
    modelPath: model,
    threads: args.threads,
    promptTokens: 0,
    generatedTokens: 0,
    repetitions: 1,
    quality: { text: { kind: "file", path: text }, contextSize: args.ctx, klDivergence: false },
  });
  if (record.quality === undefined) throw new Error("no quality in our record");
  return { ppl: record.quality.perplexity, error: record.quality.perplexityError };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  await mkdir(args.dir, { recursive: true });
  const [llamaBench, llamaPerplexity] = [await buildLlamaCppTool("llama-bench", "native"), await buildLlamaCppTool("llama-perplexity", "native")];
  const source = args.model.endsWith(".gguf") ? path.resolve(args.model) : await ensureFixtureModel(args.model as FixtureModelName);
  const text = args.text === undefined ? bundledEvalTextPath() : path.resolve(args.text);
  console.log(`model ${path.basename(source)}, ${args.threads} threads, pp${args.prompt} / tg${args.gen}, ${args.reps} reps, ${args.rounds} round(s); perplexity: ctx ${args.ctx} on ${path.basename(text)}`);
  console.log(`machine: ${os.cpus()[0]?.model ?? "?"} × ${os.availableParallelism()}, load average ${os.loadavg().map((value) => value.toFixed(1)).join(" ")}`);
  console.log("");
  const bundled = await bundledLibraries(llamaBench, path.join(args.dir, "bundled-libs"), ["libllama-bench-impl.so"]);
  console.log("llama-bench: as built (native) / on the bundled libraries SLM Lab runs (same .so files and CPU backend)");
  console.log("");
  console.log("| type | pp ours t/s | pp llama-bench native / bundled t/s | pp ratio native / bundled | tg ours t/s | tg llama-bench native / bundled t/s | tg ratio native / bundled | PPL ours | PPL llama-perplexity | PPL diff |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const type of args.types) {
    const model = type.toUpperCase() === "F16" ? source : path.join(args.dir, `${path.basename(source, ".gguf")}-${type}.gguf`);
    if (!existsSync(model)) await quantizeModel(source, model, { type, threads: args.threads });
    const ours: Speed[] = [];
    const theirs: Speed[] = [];
    const theirsBundled: Speed[] = [];
    for (let round = 0; round < args.rounds; round++) {
      // Alternating, ours first in even rounds, so that a drift in the machine's load does not favour one side.
      const steps = [
        async (): Promise<void> => { ours.push(await runOursSpeed(model, args)); },
        async (): Promise<void> => { theirs.push(await runLlamaBench(llamaBench, model, args)); },
        async (): Promise<void> => { theirsBundled.push(await runLlamaBench(llamaBench, model, args, bundled)); },
      ];
      for (const step of round % 2 === 0 ? steps : [...steps].reverse()) await step();
    }
    const oursPpl = args.ctx > 0 ? await runOursPerplexity(model, text, args) : undefined;
    const theirsPpl = args.ctx > 0 ? await runLlamaPerplexity(llamaPerplexity, model, text, args) : undefined;
    const pp = [mean(ours.map((s) => s.pp)), mean(theirs.map((s) => s.pp)), mean(theirsBundled.map((s) => s.pp))] as const;
    const tg = [mean(ours.map((s) => s.tg)), mean(theirs.map((s) => s.tg)), mean(theirsBundled.map((s) => s.tg))] as const;
    const pplCells =
      oursPpl === undefined || theirsPpl === undefined
        ? ["-", "-", "-"]
        : [`${oursPpl.ppl.toFixed(4)} ± ${oursPpl.error.toFixed(4)}`, `${theirsPpl.ppl.toFixed(4)} ± ${theirsPpl.error.toFixed(4)}`, `${(((oursPpl.ppl - theirsPpl.ppl) / theirsPpl.ppl) * 100).toFixed(3)}%`];
    const speedCells = (values: readonly [number, number, number]): string =>
      `${values[0].toFixed(2)} | ${values[1].toFixed(2)} / ${values[2].toFixed(2)} | ${(values[0] / values[1]).toFixed(3)} / ${(values[0] / values[2]).toFixed(3)}`;
    console.log(`| ${type} | ${speedCells(pp)} | ${speedCells(tg)} | ${pplCells.join(" | ")} |`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
