/**
 * Benchmark: SLM Lab's local completion engine against llama.cpp's `llama-server` `/infill` with `cache_prompt`,
 * replaying typing through real source files.
 *
 * - llama-server is built from the llama.cpp source bundled with node-llama-cpp (bench/llamaCppTools.ts, cached in
 *   .cache/llama.cpp-tools); the model is the `qwen2.5-coder-0.5b-shape` fixture quantized to Q4_0 by SLM Lab's
 *   quantizer (cached in .cache/bench-completion).
 * - Files: a .cpp, a .py and a .ts of the bundled llama.cpp source. In each, the cursor goes to the start of a line in
 *   the middle of the file with a ~1.5k-token prefix window and a few hundred tokens of suffix; the "user" retypes
 *   that line one character per keystroke (the suffix stays as it is, as when typing new code).
 * - Engines, same threads, same max tokens, greedy, end-of-generation tokens banned on both (`ignore_eos`; the model
 *   has random weights, so every request generates exactly --max-tokens tokens and timings compare like for like):
 *   ours (SPM layout: suffix first, so typing only appends), llama-server's default /infill (PSM: the suffix comes
 *   after the edited prefix and is re-evaluated on every keystroke), and llama-server with --spm-infill (the same
 *   layout as ours: the fair check of identical output, and how much the layout alone buys).
 * - Prints cold (first request of a file) and per-keystroke p50/p95, the ratios, cache-hit latency, whether our
 *   tokens equal llama-server's for identical prompts, and the event-loop delay of this (the caller's) process while
 *   our engine generates.
 *
 *   npx tsx bench/completion.ts [--threads 2] [--keystrokes 10] [--max-tokens 16] [--prefix-chars 6000]
 *       [--suffix-chars 1200] [--context 8192] [--server-build native|baseline] [--server-libs bundled|built] [--files 3]
 *
 * By default ("--server-libs bundled") llama-server runs on the libllama/libggml files and the CPU-variant backend
 * bundled with node-llama-cpp (LD_LIBRARY_PATH symlinks, see bench/llamaCppTools.ts): both sides then compute with the
 * same kernels, which is what "identical suggestions for identical prompts" can be checked against. "built" runs the
 * server on its own build's libraries.
 *
 * llama-server is built with GGML_NATIVE=ON by default ("native"): node-llama-cpp's prebuilt binaries pick the best
 * ggml-cpu variant for the CPU at run time (AVX-512 where there is one), so a baseline (AVX2) llama-server would be
 * slower for reasons unrelated to the engines, and its float rounding would differ (greedy picks can then differ on
 * the random-weight model, whose top logits are near ties).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { CompletionRequest, CompletionResult } from "../src/core/runtime/completionEngine";
import { LocalCompletionEngine } from "../src/core/runtime/localEngine";
import { quantizeModel } from "../src/core/quantize/quantizeModel";
import { ensureFixtureModel } from "../test/fixtures/fixtureModels";
import { llamaCppSourceTree, repositoryRoot } from "../test/fixtures/llamaCppSource";
import { buildLlamaCppTool, bundledLibraries, type BundledLibraries, type LlamaCppBuildVariant, bundledToolOptions } from "./llamaCppTools";
import { mean } from "./benchNumbers";

interface Args {
  readonly threads: number;
  readonly keystrokes: number;
  readonly maxTokens: number;
  readonly prefixChars: number;
  readonly suffixChars: number;
  readonly context: number;
  readonly serverBuild: LlamaCppBuildVariant;
  /** Run llama-server on node-llama-cpp's bundled libllama/libggml and CPU backend (the same kernels as ours). */
  readonly bundledLibraries: boolean;
  /** How many of SOURCE_FILES to type through. */
  readonly files: number;
}

function parseArgs(argv: readonly string[]): Args {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--") || argv[i + 1] === undefined) throw new Error(`bad argument ${arg}; see the usage at the top of bench/completion.ts`);
    values.set(arg.slice(2), argv[++i] ?? "");
  }
  const integer = (key: string, fallback: number): number => {
    const value = Number(values.get(key) ?? fallback);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${key} must be a positive integer`);
    return value;
  };
  return {
    threads: integer("threads", 2),
    keystrokes: integer("keystrokes", 10),
    maxTokens: integer("max-tokens", 16),
    prefixChars: integer("prefix-chars", 6000),
    suffixChars: integer("suffix-chars", 1200),
    context: integer("context", 8192),
    serverBuild: serverBuild(values.get("server-build") ?? "native"),
    bundledLibraries: serverLibraries(values.get("server-libs") ?? "bundled"),
    files: Math.min(SOURCE_FILES.length, integer("files", SOURCE_FILES.length)),
  };
}

function serverLibraries(value: string): boolean {
  if (value !== "bundled" && value !== "built") throw new Error("--server-libs must be bundled or built");
  return value === "bundled";
}

function serverBuild(value: string): LlamaCppBuildVariant {
  if (value !== "native" && value !== "baseline") throw new Error("--server-build must be native or baseline");
  return value;
}

/** Files of the bundled llama.cpp source to type through (several languages). */
const SOURCE_FILES = ["src/llama-vocab.cpp", "gguf-py/gguf/gguf_reader.py", "tools/ui/src/lib/stores/tools.svelte.ts"];

interface Scenario {
  readonly file: string;
  readonly before: string;
  readonly line: string;
  readonly indent: number;
  readonly after: string;
}

/** A cursor at the start of a line in the middle of the file with `prefixChars` before it (cut at a line start). */
function scenario(file: string, text: string, args: Args): Scenario {
  const lines = text.split("\n");
  let offset = 0;
  const starts = lines.map((line) => {
    const start = offset;
    offset += line.length + 1;
    return start;
  });
  const middle = Math.max(args.prefixChars, Math.floor(text.length / 2));
  let index = starts.findIndex((start, i) => start >= middle && (lines[i] ?? "").trim().length >= args.keystrokes + 4);
  if (index < 0) index = Math.max(0, lines.length - 2);
  const lineStart = starts[index] ?? 0;
  const line = lines[index] ?? "";
  let windowStart = Math.max(0, lineStart - args.prefixChars);
  const nextLine = text.indexOf("\n", windowStart);
  if (windowStart > 0 && nextLine >= 0 && nextLine < lineStart) windowStart = nextLine + 1;
  const afterStart = lineStart + line.length + 1;
  let afterEnd = Math.min(text.length, afterStart + args.suffixChars);
  const lastNewline = text.lastIndexOf("\n", afterEnd);
  if (lastNewline > afterStart) afterEnd = lastNewline + 1;
  return {
    file,
    before: text.slice(windowStart, lineStart),
    line,
    indent: line.length - line.trimStart().length,
    after: text.slice(afterStart, afterEnd),
  };
}

/** The request after `typed` characters of the line (its indentation is there from the start). */
function keystrokeRequest(s: Scenario, typed: number, maxTokens: number): CompletionRequest {
  return {
    prefix: s.before + s.line.slice(0, s.indent + typed),
    suffix: `\n${s.after}`,
    // llama-server's /infill lays out "<|repo_name|>myproject" and "<|file_sep|>filename" itself: ours uses the same.
    filePath: "filename",
    repoName: "myproject",
    languageId: path.extname(s.file).slice(1),
    extraContext: [],
    mode: "single-line",
    maxTokens,
  };
}

interface ServerReply {
  readonly ms: number;
  readonly tokens: readonly number[];
  readonly promptTokens: number;
  readonly evaluated: number;
}

class LlamaServer {
  private constructor(
    readonly label: string,
    private readonly child: ChildProcess,
    private readonly endpoint: string,
  ) {}

  static async start(binary: string, model: string, port: number, args: Args, spm: boolean, bundled: BundledLibraries | undefined): Promise<LlamaServer> {
    const flags = [
      "-m", model, "--host", "127.0.0.1", "--port", String(port), "-t", String(args.threads), "-tb", String(args.threads),
      // n_batch = half the context: /infill keeps up to 3/4 n_batch prefix tokens and n_batch/4 suffix tokens, and
      // drops the repo/file header unless n_ctx - n_batch leaves room for it (format_prompt_infill).
      "-c", String(args.context), "-b", String(args.context / 2), "-ub", "512", "-fa", "on", "-np", "1", "--no-webui",
      ...(spm ? ["--spm-infill"] : []),
    ];
    const child = spawn(binary, flags, {
      stdio: ["ignore", "ignore", "pipe"],
      ...bundledToolOptions(bundled),
    });
    let log = "";
    child.stderr.on("data", (chunk: Buffer) => { log = (log + chunk.toString("utf8")).slice(-4000); });
    const endpoint = `http://127.0.0.1:${port}`;
    for (let attempt = 0; ; attempt++) {
      const status = await fetch(`${endpoint}/health`).then((response) => response.status, () => 0);
      if (status === 200) break;
      if (attempt > 1200 || child.exitCode !== null) throw new Error(`llama-server did not start:\n${log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return new LlamaServer(spm ? "llama-server --spm-infill" : "llama-server /infill", child, endpoint);
  }

  /** The same request as our engine gets, greedy, EOG banned (`ignore_eos`), tokens returned. */
  async infill(request: CompletionRequest): Promise<ServerReply> {
    const started = performance.now();
    const response = await fetch(`${this.endpoint}/infill`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        input_prefix: request.prefix,
        input_suffix: request.suffix,
        input_extra: [],
        n_predict: request.maxTokens,
        cache_prompt: true,
        top_k: 1,
        temperature: 0,
        ignore_eos: true,
        return_tokens: true,
      }),
    });
    const body = (await response.json()) as { tokens?: number[]; tokens_evaluated?: number; timings?: { prompt_n?: number } };
    const ms = performance.now() - started;
    if (!response.ok) throw new Error(`llama-server answered ${response.status}: ${JSON.stringify(body)}`);
    return { ms, tokens: body.tokens ?? [], promptTokens: body.tokens_evaluated ?? 0, evaluated: body.timings?.prompt_n ?? 0 };
  }

  stop(): void {
    this.child.kill("SIGKILL");
  }
}

async function quantizedModel(threads: number): Promise<string> {
  const dir = path.join(repositoryRoot(), ".cache", "bench-completion");
  const output = path.join(dir, "qwen2.5-coder-0.5b-shape-Q4_0.gguf");
  if (existsSync(output)) return output;
  await mkdir(dir, { recursive: true });
  const input = await ensureFixtureModel("qwen2.5-coder-0.5b-shape");
  console.error(`quantizing ${path.basename(input)} to Q4_0…`);
  await quantizeModel(input, output, { type: "Q4_0", threads });
  return output;
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

const ms = (value: number): string => (Number.isNaN(value) ? "—" : value < 10 ? value.toFixed(2) : value.toFixed(0));

function sameTokens(a: readonly number[] | undefined, b: readonly number[]): boolean {
  return a?.length === b.length && a.every((token, i) => token === b[i]);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const binary = await buildLlamaCppTool("llama-server", args.serverBuild);
  const model = await quantizedModel(args.threads);
  const source = await llamaCppSourceTree();
  const never = new AbortController().signal;

  const basePort = 19_000 + Math.floor(Math.random() * 1000);
  const bundled = args.bundledLibraries ? await bundledLibraries(binary, path.join(repositoryRoot(), ".cache", "bench-completion", "bundled-libs"), ["libllama-server-impl.so"]) : undefined;
  const psmServer = await LlamaServer.start(binary, model, basePort, args, false, bundled);
  const spmServer = await LlamaServer.start(binary, model, basePort + 1, args, true, bundled);
  const config = { kind: "local", modelPath: model, threads: args.threads, contextSize: args.context, idleUnloadMs: 0 } as const;
  const ours = new LocalCompletionEngine(config, { ignoreEos: true, layout: "auto" });
  // Ours with llama-server's default layout, for the identity check of PSM prompts.
  const oursPsm = new LocalCompletionEngine(config, { ignoreEos: true, layout: "psm" });
  // One histogram per request of ours: re-enabling a histogram counts the time it was off as one huge delay.
  const delays: { readonly mean: number; readonly p99: number; readonly max: number }[] = [];

  try {
    // The same header as the keystroke requests, so that every engine starts the first file with the same cached tokens
    // (llama.cpp's results depend slightly on where micro-batches start).
    const warm: CompletionRequest = { prefix: "int main() {\n", suffix: "\n}\n", filePath: "filename", repoName: "myproject", languageId: "c", extraContext: [], mode: "single-line", maxTokens: 1 };
    let started = performance.now();
    await ours.complete(warm, never);
    const oursLoadMs = performance.now() - started;
    await oursPsm.complete(warm, never);
    await psmServer.infill(warm);
    await spmServer.infill(warm);

    const cold = { ours: [] as number[], psm: [] as number[], spm: [] as number[] };
    const keys = { ours: [] as number[], psm: [] as number[], spm: [] as number[] };
    const evaluated = { ours: [] as number[], psm: [] as number[] };
    const cacheHits: number[] = [];
    let promptTokens = 0;
    let identicalSpm = 0;
    let identicalPsm = 0;
    let comparedPsm = 0;
    let compared = 0;

    console.log(`# completion latency: ours vs llama-server /infill (cache_prompt, ${args.serverBuild} build${args.bundledLibraries ? " on the bundled libllama/libggml" : ""}), ${args.threads} threads, ${args.maxTokens} tokens per request, qwen2.5-coder-0.5b-shape Q4_0`);
    console.log("| file | prompt tokens | keystroke | ours (ms) | evaluated | llama-server (ms) | evaluated | --spm-infill (ms) | evaluated | same tokens as --spm-infill |");
    console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    const files = SOURCE_FILES.slice(0, args.files);
    for (const file of files) {
      const text = await readFile(path.join(source, file), "utf8");
      const s = scenario(file, text, args);
      let last: CompletionRequest | undefined;
      for (let typed = 0; typed <= args.keystrokes; typed++) {
        const request = keystrokeRequest(s, typed, args.maxTokens);
        last = request;
        const delay = monitorEventLoopDelay({ resolution: 1 });
        delay.enable();
        started = performance.now();
        const result: CompletionResult = await ours.complete(request, never);
        const oursMs = performance.now() - started;
        delay.disable();
        delays.push({ mean: delay.mean / 1e6, p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 });
        const psm = await psmServer.infill(request);
        const spm = await spmServer.infill(request);
        const same = sameTokens(result.tokens, spm.tokens);
        compared++;
        if (same) identicalSpm++;
        promptTokens = Math.max(promptTokens, result.timings.promptTokens);
        if (typed < 2) {
          // Our PSM prompt against llama-server's default one: identical prompts, so identical tokens expected.
          const oursPsmResult = await oursPsm.complete(request, never);
          comparedPsm++;
          if (sameTokens(oursPsmResult.tokens, psm.tokens)) identicalPsm++;
        }
        (typed === 0 ? cold : keys).ours.push(oursMs);
        (typed === 0 ? cold : keys).psm.push(psm.ms);
        (typed === 0 ? cold : keys).spm.push(spm.ms);
        if (typed > 0) {
          evaluated.ours.push(result.timings.evaluatedPromptTokens ?? Number.NaN);
          evaluated.psm.push(psm.evaluated);
        }
        console.log(`| ${path.basename(file)} | ${result.timings.promptTokens} | ${typed === 0 ? "cold" : typed} | ${ms(oursMs)} | ${result.timings.evaluatedPromptTokens ?? "?"} | ${ms(psm.ms)} | ${psm.evaluated} | ${ms(spm.ms)} | ${spm.evaluated} | ${same ? "yes" : "NO"} |`);
      }
      if (last !== undefined) {
        started = performance.now();
        const hit = await ours.complete(last, never);
        const hitMs = performance.now() - started;
        if (!hit.fromCache) throw new Error("the repeated request was not answered from the cache");
        cacheHits.push(hitMs);
      }
    }

    const p50 = { ours: percentile(keys.ours, 50), psm: percentile(keys.psm, 50), spm: percentile(keys.spm, 50) };
    console.log(`\n# summary (${files.length} files, ${args.keystrokes} keystrokes each, prompts up to ${promptTokens} tokens)`);
    console.log("| engine | cold mean (ms) | keystroke p50 (ms) | keystroke p95 (ms) | prompt tokens evaluated per keystroke (median) |");
    console.log("|---|---:|---:|---:|---:|");
    console.log(`| ours (local, SPM layout) | ${ms(mean(cold.ours))} | ${ms(p50.ours)} | ${ms(percentile(keys.ours, 95))} | ${percentile(evaluated.ours, 50)} |`);
    console.log(`| llama-server /infill | ${ms(mean(cold.psm))} | ${ms(p50.psm)} | ${ms(percentile(keys.psm, 95))} | ${percentile(evaluated.psm, 50)} |`);
    console.log(`| llama-server --spm-infill | ${ms(mean(cold.spm))} | ${ms(p50.spm)} | ${ms(percentile(keys.spm, 95))} | — |`);
    console.log(`\nkeystroke p50 ours ÷ llama-server /infill: ${(p50.ours / p50.psm).toFixed(3)} (target ≤ 0.5)`);
    console.log(`cold mean ours ÷ llama-server /infill: ${(mean(cold.ours) / mean(cold.psm)).toFixed(3)} (target ≤ 1.1)`);
    console.log(`keystroke p50 ours ÷ llama-server --spm-infill: ${(p50.ours / p50.spm).toFixed(3)}`);
    console.log(`cache hit: mean ${ms(mean(cacheHits))} ms, max ${ms(Math.max(...cacheHits))} ms (target ≤ 5 ms)`);
    console.log(`identical tokens: ours (SPM) = llama-server --spm-infill in ${identicalSpm}/${compared} requests; ours (PSM) = llama-server /infill in ${identicalPsm}/${comparedPsm}`);
    const worst = (key: "mean" | "p99" | "max"): number => Math.max(...delays.map((entry) => entry[key]));
    console.log(`event-loop delay of this process while ours generated (per request, worst of ${delays.length}): mean ${ms(worst("mean"))} ms, p99 ${ms(worst("p99"))} ms, max ${ms(worst("max"))} ms`);
    console.log(`our first request, including starting the worker and loading the model: ${ms(oursLoadMs)} ms`);
    if (identicalSpm !== compared || identicalPsm !== comparedPsm) process.exitCode = 1;
  } finally {
    psmServer.stop();
    spmServer.stop();
    await ours.dispose();
    await oursPsm.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
