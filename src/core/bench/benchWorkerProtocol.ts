/** Messages between runBench (parent) and the bench child process (benchWorker.ts), over Node's IPC. */
import { type LibllamaLocation } from "../quantize/libllamaLocation";

/** llama-bench's speed test: -p, -n, -r, -b, -ub, -t. */
export interface SpeedJob {
  readonly promptTokens: number;
  readonly generatedTokens: number;
  readonly repetitions: number;
}

/** llama-perplexity on a text, optionally writing or comparing against a baseline's top-k log-probs. */
export interface QualityJob {
  readonly text: string;
  readonly contextSize: number;
  /** Write this model's top-k log-probs here (the model is the baseline). */
  readonly writeBaseline?: { readonly file: string; readonly modelSha256: string; readonly textSha256: string };
  /** Compare against the baseline stored here (KL divergence, top-1 agreement). */
  readonly readBaseline?: string;
}

/** Parent → child: one bench run of one model. */
export interface BenchJobMessage {
  readonly type: "bench";
  readonly modelPath: string;
  readonly threads: number;
  readonly batchSize: number;
  readonly ubatchSize: number;
  /** Times the model is loaded (each timed); the last load is kept for the tests. */
  readonly loadRepetitions: number;
  readonly speed?: SpeedJob;
  readonly quality?: QualityJob;
}

export interface QualityResult {
  readonly tokenCount: number;
  readonly chunks: number;
  readonly perplexity: number;
  readonly perplexityError: number;
  readonly meanKlDivergence?: number;
  readonly top1Agreement?: number;
  readonly baselinePerplexity?: number;
}

export interface BenchJobResult {
  readonly loadMs: readonly number[];
  readonly promptTokensPerSecond: readonly number[];
  readonly generationTokensPerSecond: readonly number[];
  /** Peak RSS of the child so far (process.resourceUsage().maxRSS), bytes. */
  readonly peakRssBytes: number;
  /** Whether llama.cpp resolved flash attention "auto" to enabled. */
  readonly flashAttention: boolean;
  readonly parameterCount: number;
  readonly quality?: QualityResult;
}

/** Progress of a job, as the child reports it. */
export interface BenchJobProgress {
  readonly phase: "loading" | "warmup" | "prompt" | "generation" | "perplexity";
  readonly repetition?: number;
  readonly repetitions?: number;
  readonly chunk?: number;
  readonly chunks?: number;
}

/** Child → parent. */
export type BenchChildMessage =
  | { readonly type: "ready"; readonly location: LibllamaLocation; readonly llamaVersion: string }
  | { readonly type: "progress"; readonly progress: BenchJobProgress }
  | { readonly type: "done"; readonly result: BenchJobResult }
  | { readonly type: "failed"; readonly message: string; readonly action: string | undefined };

/** Whether a value received over IPC is a child message (IPC data is untyped). */
export function isBenchChildMessage(value: unknown): value is BenchChildMessage {
  return typeof value === "object" && value !== null && "type" in value && typeof value.type === "string";
}

/** Whether a value received over IPC is a job. */
export function isBenchJobMessage(value: unknown): value is BenchJobMessage {
  return typeof value === "object" && value !== null && "type" in value && value.type === "bench";
}
