// Bench records and comparisons built by hand for the Compare Quantizations unit tests (never shown as measurements).
import type { BenchRecord } from "../../src/core/bench/benchRecord";
import { buildQuantizationComparison, type QuantizationComparison } from "../../src/core/bench/quantizationComparison";
import type { GgufModelSummary } from "../../src/core/gguf/ggufTypes";

export function sampleSummary(file: string, fileType: string, fileSize: number, bitsPerWeight: number): GgufModelSummary {
  return {
    path: file,
    architecture: "qwen2",
    name: "tiny",
    parameterCount: 1_000_000,
    fileType,
    tensorCount: 10,
    contextLength: 32_768,
    vocabularySize: 1000,
    tokenizerModel: "gpt2",
    tokenizerPre: "qwen2",
    embeddingLength: 64,
    blockCount: 2,
    headCount: 4,
    headCountKv: 2,
    feedForwardLength: 128,
    fileSize,
    bitsPerWeight,
    ggufVersion: 3,
  };
}

export interface SampleRecordOptions {
  readonly modelPath: string;
  readonly fileType: string;
  readonly fileBytes: number;
  readonly finishedAt?: string;
  readonly pp?: number;
  readonly tg?: number;
  readonly perplexity?: number;
  readonly kld?: number;
  readonly top1?: number;
  readonly baselinePerplexity?: number;
  readonly textSha256?: string;
}

export function sampleRecord(options: SampleRecordOptions): BenchRecord {
  const pp = options.pp ?? 100;
  const tg = options.tg ?? 20;
  return {
    version: 1,
    finishedAt: options.finishedAt ?? "2026-01-01T00:00:00.000Z",
    modelPath: options.modelPath,
    modelSha256: "0".repeat(64),
    modelFileBytes: options.fileBytes,
    fileType: options.fileType,
    bitsPerWeight: (options.fileBytes * 8) / 1_000_000,
    parameters: 1_000_000,
    architecture: "qwen2",
    engine: "test",
    machine: { hostname: "test", cpuModel: "Test CPU", cpuCount: 2, totalMemoryBytes: 8 * 2 ** 30, platform: "linux" },
    settings: { threads: 2, promptTokens: 64, generatedTokens: 16, repetitions: 2, batchSize: 2048, ubatchSize: 512, contextSize: 80, flashAttention: false },
    loadMs: { mean: 12, stddev: 1, samples: [11, 13] },
    promptTokensPerSecond: { mean: pp, stddev: pp / 20, samples: [pp * 0.95, pp * 1.05] },
    generationTokensPerSecond: { mean: tg, stddev: tg / 20, samples: [tg * 0.95, tg * 1.05] },
    peakRssBytes: 50 * 2 ** 20,
    ...(options.perplexity === undefined
      ? {}
      : {
          quality: {
            textSource: "bundled:sample",
            textSha256: options.textSha256 ?? "a".repeat(64),
            contextSize: 128,
            chunks: 2,
            perplexity: options.perplexity,
            perplexityError: 0.5,
            ...(options.kld === undefined ? {} : { meanKlDivergence: options.kld }),
            ...(options.top1 === undefined ? {} : { top1Agreement: options.top1 }),
            ...(options.baselinePerplexity === undefined ? {} : { baselinePerplexity: options.baselinePerplexity }),
          },
        }),
  };
}

/** A family of four: F16 parent, Q8_0, Q4_0 (both benchmarked with quality), Q5_1 not benchmarked. */
export function sampleComparison(): QuantizationComparison {
  const f16 = sampleSummary("/models/tiny-F16.gguf", "F16", 2_000_000, 16);
  const q8 = sampleSummary("/models/tiny-Q8_0.gguf", "Q8_0", 1_062_500, 8.5);
  const q4 = sampleSummary("/models/tiny-Q4_0.gguf", "Q4_0", 562_500, 4.5);
  const q51 = sampleSummary("/models/tiny-Q5_1.gguf", "Q5_1", 750_000, 6);
  return buildQuantizationComparison({
    familyName: "tiny",
    members: [
      { summary: q4, isParent: false },
      { summary: f16, isParent: true },
      { summary: q51, isParent: false },
      { summary: q8, isParent: false },
    ],
    history: [
      sampleRecord({ modelPath: f16.path, fileType: "F16", fileBytes: f16.fileSize, pp: 90, tg: 10, perplexity: 20 }),
      sampleRecord({ modelPath: q8.path, fileType: "Q8_0", fileBytes: q8.fileSize, pp: 110, tg: 18, perplexity: 20.01, kld: 0.002, top1: 0.99 }),
      sampleRecord({ modelPath: q4.path, fileType: "Q4_0", fileBytes: q4.fileSize, pp: 130, tg: 30, perplexity: 21.5, kld: 0.09, top1: 0.9 }),
    ],
    machine: { totalMemoryBytes: 8 * 2 ** 30, freeMemoryBytes: 4 * 2 ** 30, cpuModel: "Test CPU", cpuCount: 2 },
    contextSize: 4096,
    now: new Date("2026-01-02T00:00:00.000Z"),
  });
}
