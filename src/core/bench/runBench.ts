/**
 * Benchmarks one GGUF model the way llama-bench and llama-perplexity do, in a child process (benchWorker.ts) so the
 * caller never blocks: load time, prompt processing (pp) and generation (tg) tok/s, peak RSS, and optionally
 * perplexity plus KL divergence / top-1 agreement against the F16/BF16 parent. Checks what it can before any work
 * (a readable GGUF, sane settings, a model that fits in memory); cancelling kills the child.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { throwIfAborted, UserError } from "../errors";
import { readGgufSummary } from "../gguf/ggufModelSummary";
import { type GgufModelSummary } from "../gguf/ggufTypes";
import { llamaCppSourceCommit, type LibllamaLocation } from "../quantize/libllamaLocation";
import { currentMachineMemory, estimateRunMemory, memoryFitLabel, runMemoryInputFromGguf } from "../runtime/memoryFit";
import { readSidecarParent } from "../store/modelSidecar";
import { baselineCachePath } from "./baselineLogProbs";
import { BenchChildSession } from "./benchChildSession";
import { resolveBenchText, type BenchText, type BenchTextSource } from "./benchEvalText";
import { currentBenchMachine } from "./benchMachine";
import { type BenchQuality, type BenchRecord } from "./benchRecord";
import { type BenchJobMessage, type BenchJobProgress } from "./benchWorkerProtocol";
import { fileSha256 } from "./fileSha256";
import { meanAndStddev } from "./logitStatistics";

export type { BenchTextSource } from "./benchEvalText";

export interface BenchQualityRequest {
  readonly text: BenchTextSource;
  /** Tokens per perplexity chunk (llama-perplexity -c). */
  readonly contextSize: number;
  /** The F16/BF16 model to compute KL divergence against; default: the quantize sidecar's parent when it exists. */
  readonly baselineModelPath?: string;
  /** Folder for the baseline's stored top-k log-probs; default ~/.cache/slm-lab/bench-baselines. */
  readonly cacheDir?: string;
  /** false: no KL divergence even when a parent is known. */
  readonly klDivergence?: boolean;
}

export interface BenchRequest {
  readonly modelPath: string;
  readonly threads: number;
  /** llama-bench -p (0 skips pp). */
  readonly promptTokens: number;
  /** llama-bench -n (0 skips tg). */
  readonly generatedTokens: number;
  /** llama-bench -r; also how many times the model is loaded for the load time. */
  readonly repetitions: number;
  /** Context the memory estimate is for; default promptTokens + generatedTokens (llama-bench sizes one per test). */
  readonly contextSize?: number;
  /** llama-bench -b / -ub; defaults 2048 / 512. */
  readonly batchSize?: number;
  readonly ubatchSize?: number;
  readonly quality?: BenchQualityRequest;
  /** Skip the memory-fit refusal (a user who knows better). */
  readonly skipMemoryCheck?: boolean;
}

export type BenchPhase = "checking" | "hashing" | "baseline" | "loading" | "warmup" | "prompt" | "generation" | "perplexity" | "done";

/** Where a bench run is. */
export interface BenchProgress {
  readonly phase: BenchPhase;
  /** 1-based repetition (loading, prompt, generation). */
  readonly repetition?: number;
  readonly repetitions?: number;
  /** Perplexity chunks done / total (baseline, perplexity). */
  readonly chunk?: number;
  readonly chunks?: number;
  /** 0..1 over the whole run, roughly. */
  readonly fraction: number;
  /** One line for a progress UI. */
  readonly message: string;
}

export interface BenchOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: BenchProgress) => void;
}

/** File types whose logits are the reference for their quantized variants. */
const UNQUANTIZED_FILE_TYPES: ReadonlySet<string> = new Set(["F32", "F16", "BF16"]);

/** llama-bench's defaults (-b 2048, -ub 512). */
export const DEFAULT_BATCH_SIZE = 2048;
export const DEFAULT_UBATCH_SIZE = 512;

/** The default folder for stored baseline log-probs when the caller names none. */
export function defaultBaselineCacheDir(): string {
  return path.join(os.homedir(), ".cache", "slm-lab", "bench-baselines");
}

/** Runs one benchmark in a child process; cancelling kills it and rejects with CancelledError. */
export async function runBench(request: BenchRequest, options: BenchOptions = {}): Promise<BenchRecord> {
  const { signal } = options;
  const report = options.onProgress ?? ((): void => undefined);
  throwIfAborted(signal);
  checkRequest(request);
  const modelPath = path.resolve(request.modelPath);
  report({ phase: "checking", fraction: 0, message: `Checking ${path.basename(modelPath)}` });

  // The reader's error (not a GGUF, truncated, …) comes before any other work.
  const summary = await readGgufSummary(modelPath, signal === undefined ? {} : { signal });
  const speedContext = request.contextSize ?? Math.max(1, request.promptTokens + request.generatedTokens);
  const estimateContext = Math.max(speedContext, request.quality?.contextSize ?? 0);
  const estimate = estimateRunMemory({ ...runMemoryInputFromGguf(summary, estimateContext), microBatchSize: request.ubatchSize ?? DEFAULT_UBATCH_SIZE });
  const fit = memoryFitLabel(estimate, currentMachineMemory());
  if (fit.label === "too-big" && request.skipMemoryCheck !== true) {
    throw new UserError(`${path.basename(modelPath)} is too big to benchmark on this machine: it ${fit.explanation}`, {
      action: "Benchmark a smaller quantization, or lower the context size.",
    });
  }

  const text = request.quality === undefined ? undefined : await resolveBenchText(request.quality.text);
  const parentModelPath = await readSidecarParent(modelPath);
  const baselinePath = baselineModelFor(request.quality, parentModelPath);
  if (baselinePath !== undefined) await readGgufSummary(baselinePath, signal === undefined ? {} : { signal });

  report({ phase: "hashing", fraction: 0.02, message: `Hashing ${path.basename(modelPath)}` });
  const modelSha256 = await fileSha256(modelPath, signal);

  let session: BenchChildSession | undefined;
  try {
    const batchSize = request.batchSize ?? DEFAULT_BATCH_SIZE;
    const ubatchSize = request.ubatchSize ?? DEFAULT_UBATCH_SIZE;
    const base = { type: "bench", threads: request.threads, batchSize, ubatchSize } as const;

    let baselineFile: string | undefined;
    let baselineComputed = false;
    const cacheDir = request.quality?.cacheDir ?? defaultBaselineCacheDir();
    if (baselinePath !== undefined && text !== undefined && request.quality !== undefined) {
      const baselineSha256 = baselinePath === modelPath ? modelSha256 : await fileSha256(baselinePath, signal);
      baselineFile = baselineCachePath(cacheDir, baselineSha256, text.sha256, request.quality.contextSize);
      if (!existsSync(baselineFile)) {
        await mkdir(cacheDir, { recursive: true });
        report({ phase: "baseline", fraction: 0.05, message: `Computing the baseline's log-probabilities (${path.basename(baselinePath)})` });
        // A child of its own: the bench child's peak RSS must be the benchmarked model's, not its parent's.
        const baselineSession = new BenchChildSession(signal);
        try {
          await baselineSession.run(
            {
              ...base,
              modelPath: baselinePath,
              loadRepetitions: 1,
              quality: { text: text.text, contextSize: request.quality.contextSize, writeBaseline: { file: baselineFile, modelSha256: baselineSha256, textSha256: text.sha256 } },
            },
            (progress) => { report(describeProgress(progress, true, request)); },
          );
        } finally {
          baselineSession.dispose();
        }
        baselineComputed = true;
      }
    }

    // An unquantized model benched for quality without a baseline is itself the baseline of its variants: store its
    // top-k log-probs on the way (no extra pass), so their KLD needs no second run of it.
    let writeBaseline: { file: string; modelSha256: string; textSha256: string } | undefined;
    if (baselineFile === undefined && text !== undefined && request.quality !== undefined && request.quality.klDivergence !== false && UNQUANTIZED_FILE_TYPES.has(summary.fileType)) {
      const file = baselineCachePath(cacheDir, modelSha256, text.sha256, request.quality.contextSize);
      if (!existsSync(file)) {
        await mkdir(cacheDir, { recursive: true });
        writeBaseline = { file, modelSha256, textSha256: text.sha256 };
      }
    }
    const job: BenchJobMessage = {
      ...base,
      modelPath,
      loadRepetitions: request.repetitions,
      speed: { promptTokens: request.promptTokens, generatedTokens: request.generatedTokens, repetitions: request.repetitions },
      ...(text === undefined || request.quality === undefined
        ? {}
        : {
            quality: {
              text: text.text,
              contextSize: request.quality.contextSize,
              ...(baselineFile === undefined ? {} : { readBaseline: baselineFile }),
              ...(writeBaseline === undefined ? {} : { writeBaseline }),
            },
          }),
    };
    session = new BenchChildSession(signal);
    const run = await session.run(job, (progress) => { report(describeProgress(progress, false, request, baselineComputed)); });
    const { result } = run;
    const record = buildRecord({ request, modelPath, modelSha256, summary, parentModelPath, baselinePath, text, estimateBytes: estimate.totalBytes, speedContext, batchSize, ubatchSize, run });
    report({ phase: "done", fraction: 1, message: `Done: pp ${result.promptTokensPerSecond.length > 0 ? record.promptTokensPerSecond.mean.toFixed(1) : "-"} t/s, tg ${result.generationTokensPerSecond.length > 0 ? record.generationTokensPerSecond.mean.toFixed(1) : "-"} t/s` });
    return record;
  } finally {
    session?.dispose();
  }
}

function checkRequest(request: BenchRequest): void {
  const wholeNumber = (value: number | undefined, name: string, min: number, max: number): void => {
    if (value === undefined) return;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new UserError(`Invalid ${name}: ${value}.`, { action: `Give a whole number from ${min} to ${max}.` });
    }
  };
  wholeNumber(request.threads, "thread count", 1, 1024);
  wholeNumber(request.promptTokens, "prompt token count (-p)", 0, 1 << 20);
  wholeNumber(request.generatedTokens, "generated token count (-n)", 0, 1 << 20);
  wholeNumber(request.repetitions, "repetition count (-r)", 1, 1000);
  wholeNumber(request.contextSize, "context size", 1, 1 << 20);
  wholeNumber(request.batchSize, "batch size (-b)", 1, 1 << 20);
  wholeNumber(request.ubatchSize, "micro-batch size (-ub)", 1, 1 << 20);
  wholeNumber(request.quality?.contextSize, "perplexity context size (--ctx)", 8, 1 << 20);
  if (request.promptTokens === 0 && request.generatedTokens === 0 && request.quality === undefined) {
    throw new UserError("Nothing to measure: both -p and -n are 0 and no perplexity was asked for.", { action: "Give -p or -n a positive count, or ask for perplexity." });
  }
}

function baselineModelFor(quality: BenchQualityRequest | undefined, parentModelPath: string | undefined): string | undefined {
  if (quality === undefined || quality.klDivergence === false) return undefined;
  if (quality.baselineModelPath !== undefined) return path.resolve(quality.baselineModelPath);
  return parentModelPath !== undefined && existsSync(parentModelPath) ? parentModelPath : undefined;
}

function describeProgress(progress: BenchJobProgress, baseline: boolean, request: BenchRequest, baselineComputed = false): BenchProgress {
  const of = (done: number, total: number): number => (total > 0 ? Math.min(1, done / total) : 0);
  if (baseline) {
    const fraction = 0.05 + 0.3 * of(progress.chunk ?? 0, progress.chunks ?? 1);
    return { ...progress, phase: "baseline", fraction, message: progress.phase === "perplexity" ? `Baseline: chunk ${(progress.chunk ?? 0) + 1}/${progress.chunks ?? "?"}` : "Baseline: loading" };
  }
  const start = baselineComputed ? 0.35 : 0.05;
  const speedShare = request.quality === undefined ? 0.95 : 0.5;
  const rep = progress.repetition ?? 0;
  const reps = progress.repetitions ?? request.repetitions;
  switch (progress.phase) {
    case "loading":
      return { ...progress, fraction: start, message: `Loading (${rep}/${reps})` };
    case "warmup":
      return { ...progress, fraction: start + 0.05 * speedShare, message: "Warming up" };
    case "prompt":
      return { ...progress, fraction: start + speedShare * (0.1 + 0.45 * of(rep - 1, reps)), message: `Prompt processing pp${request.promptTokens} (${rep}/${reps})` };
    case "generation":
      return { ...progress, fraction: start + speedShare * (0.55 + 0.45 * of(rep - 1, reps)), message: `Generation tg${request.generatedTokens} (${rep}/${reps})` };
    case "perplexity":
      return {
        ...progress,
        fraction: Math.min(0.99, start + speedShare + (1 - start - speedShare) * of(progress.chunk ?? 0, progress.chunks ?? 1)),
        message: `Perplexity: chunk ${(progress.chunk ?? 0) + 1}/${progress.chunks ?? "?"}`,
      };
  }
}

/** "node-llama-cpp 3.22.1 (llama.cpp v0.5.0, de3ff815)". */
function engineName(location: LibllamaLocation, llamaVersion: string): string {
  const commit = llamaCppSourceCommit(location);
  const llama = [location.llamaCppRelease ?? llamaVersion, commit?.slice(0, 8)].filter((part) => part !== undefined).join(", ");
  return `node-llama-cpp ${location.binariesPackageVersion ?? "?"} (llama.cpp ${llama}; libllama via koffi, CPU)`;
}

function buildRecord(input: {
  readonly request: BenchRequest;
  readonly modelPath: string;
  readonly modelSha256: string;
  readonly summary: GgufModelSummary;
  readonly parentModelPath: string | undefined;
  readonly baselinePath: string | undefined;
  readonly text: BenchText | undefined;
  readonly estimateBytes: number;
  readonly speedContext: number;
  readonly batchSize: number;
  readonly ubatchSize: number;
  readonly run: Awaited<ReturnType<BenchChildSession["run"]>>;
}): BenchRecord {
  const { request, summary, run, text } = input;
  const { result } = run;
  const parameters = summary.parameterCount > 0 ? summary.parameterCount : result.parameterCount;
  const resultQuality = result.quality;
  const quality: BenchQuality | undefined =
    resultQuality === undefined || text === undefined || request.quality === undefined
      ? undefined
      : {
          textSource: text.source,
          textSha256: text.sha256,
          contextSize: request.quality.contextSize,
          chunks: resultQuality.chunks,
          perplexity: resultQuality.perplexity,
          perplexityError: resultQuality.perplexityError,
          ...(resultQuality.meanKlDivergence === undefined ? {} : { meanKlDivergence: resultQuality.meanKlDivergence }),
          ...(resultQuality.top1Agreement === undefined ? {} : { top1Agreement: resultQuality.top1Agreement }),
          ...(input.baselinePath === undefined ? {} : { baselineModel: input.baselinePath }),
          ...(resultQuality.baselinePerplexity === undefined ? {} : { baselinePerplexity: resultQuality.baselinePerplexity }),
        };
  return {
    version: 1,
    finishedAt: new Date().toISOString(),
    modelPath: input.modelPath,
    modelSha256: input.modelSha256,
    modelFileBytes: summary.fileSize,
    fileType: summary.fileType,
    bitsPerWeight: parameters > 0 ? (summary.fileSize * 8) / parameters : 0,
    parameters,
    architecture: summary.architecture ?? "unknown",
    ...(input.parentModelPath === undefined ? {} : { parentModelPath: input.parentModelPath }),
    engine: engineName(run.location, run.llamaVersion),
    machine: currentBenchMachine(),
    settings: {
      threads: request.threads,
      promptTokens: request.promptTokens,
      generatedTokens: request.generatedTokens,
      repetitions: request.repetitions,
      batchSize: input.batchSize,
      ubatchSize: input.ubatchSize,
      contextSize: input.speedContext,
      flashAttention: result.flashAttention,
    },
    loadMs: meanAndStddev(result.loadMs),
    promptTokensPerSecond: meanAndStddev(result.promptTokensPerSecond),
    generationTokensPerSecond: meanAndStddev(result.generationTokensPerSecond),
    peakRssBytes: result.peakRssBytes,
    estimatedMemoryBytes: input.estimateBytes,
    ...(quality === undefined ? {} : { quality }),
  };
}
