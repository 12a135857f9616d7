/**
 * One benchmark run of one model file, as `slm-lab bench` prints it with --json, as the bench history (JSONL in the
 * store) keeps it, and as the Compare Quantizations webview shows it. Speeds follow llama-bench's conventions: pp = prompt
 * processing of `promptTokens` tokens, tg = generation of `generatedTokens` tokens, tok/s as mean ± sample stddev over
 * `repetitions` runs.
 */

/** Mean and sample standard deviation over repetitions. */
export interface MeanStd {
  readonly mean: number;
  readonly stddev: number;
  /** Every repetition's value, in order. */
  readonly samples: readonly number[];
}

export interface BenchMachine {
  readonly hostname: string;
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly totalMemoryBytes: number;
  readonly platform: string;
}

export interface BenchSettings {
  readonly threads: number;
  /** Prompt tokens for pp (llama-bench -p). */
  readonly promptTokens: number;
  /** Generated tokens for tg (llama-bench -n). */
  readonly generatedTokens: number;
  readonly repetitions: number;
  readonly batchSize: number;
  readonly ubatchSize: number;
  readonly contextSize: number;
  readonly flashAttention: boolean;
}

export interface BenchQuality {
  /** What text: "bundled:<name>" or a file path. */
  readonly textSource: string;
  /** sha256 of the text (the baseline's key). */
  readonly textSha256: string;
  /** Context per perplexity chunk (llama-perplexity -c). */
  readonly contextSize: number;
  readonly chunks: number;
  /** Perplexity over the scored tokens, with llama-perplexity's ± estimate. */
  readonly perplexity: number;
  readonly perplexityError: number;
  /** Against the F16/BF16 parent's stored top-k log-probs on the same tokens; undefined without a parent. */
  readonly meanKlDivergence?: number;
  /** Fraction of positions where this model's top-1 token equals the parent's. */
  readonly top1Agreement?: number;
  /** Path/sha256 of the parent the KLD is against. */
  readonly baselineModel?: string;
  readonly baselinePerplexity?: number;
}

export interface BenchRecord {
  /** Record format version. */
  readonly version: 1;
  /** ISO time the run finished. */
  readonly finishedAt: string;
  readonly modelPath: string;
  /** sha256 of the model file (identifies the variant across moves). */
  readonly modelSha256: string;
  readonly modelFileBytes: number;
  /** llama.cpp file type name, e.g. "Q4_0", "F16". */
  readonly fileType: string;
  /** Bits per weight: file bytes × 8 ÷ parameters. */
  readonly bitsPerWeight: number;
  readonly parameters: number;
  readonly architecture: string;
  /** Parent model (from the quantize sidecar), when known. */
  readonly parentModelPath?: string;
  /** e.g. "node-llama-cpp 3.22.1 (llama.cpp b1234)". */
  readonly engine: string;
  readonly machine: BenchMachine;
  readonly settings: BenchSettings;
  /** Load time in ms. */
  readonly loadMs: MeanStd;
  /** Prompt processing tok/s. */
  readonly promptTokensPerSecond: MeanStd;
  /** Generation tok/s. */
  readonly generationTokensPerSecond: MeanStd;
  /** Peak resident set size of the bench process, bytes. */
  readonly peakRssBytes: number;
  /** Estimated memory to run (weights + KV cache + compute buffers) for `settings.contextSize`. */
  readonly estimatedMemoryBytes?: number;
  readonly quality?: BenchQuality;
}
