/**
 * The Compare Quantizations table as data: one row per variant of a model family (the F16/BF16 parent and its
 * quantized children), each with its file facts, memory estimate and fit on this machine, its latest benchmark from
 * the history, ΔPPL against the parent on the same text, and llama.cpp's typical loss for its type. Plain JSON: the
 * webview renders it, the exporters write it, the CLI could print it.
 */
import type { GgufModelSummary } from "../gguf/ggufTypes";
import { estimateRunMemory, memoryFitLabel, runMemoryInputFromGguf, type MachineMemory, type MemoryFitLabel } from "../runtime/memoryFit";
import type { BenchRecord } from "./benchRecord";
import { typicalQuantizationLoss } from "./typicalQuantizationLoss";

/** Mean ± sample standard deviation. */
export interface ComparisonStat {
  readonly mean: number;
  readonly stddev: number;
}

/** The latest benchmark of one variant, flattened for display. */
export interface ComparisonBench {
  readonly finishedAt: string;
  readonly threads: number;
  readonly promptTokens: number;
  readonly generatedTokens: number;
  readonly repetitions: number;
  readonly loadMs: ComparisonStat;
  readonly promptTokensPerSecond: ComparisonStat;
  readonly generationTokensPerSecond: ComparisonStat;
  readonly peakRssBytes: number;
  readonly perplexity?: number;
  readonly perplexityError?: number;
  /** This variant's perplexity minus the parent's on the same text and context. */
  readonly deltaPerplexity?: number;
  readonly meanKlDivergence?: number;
  readonly top1Agreement?: number;
  readonly textSource?: string;
  /** The file changed size since this bench ran (re-quantized): the numbers may not describe it. */
  readonly stale: boolean;
}

export interface ComparisonVariant {
  readonly modelPath: string;
  readonly fileName: string;
  /** llama.cpp file type, e.g. "Q4_K_M". */
  readonly fileType: string;
  /** The family's F16/BF16 original. */
  readonly isParent: boolean;
  readonly bitsPerWeight: number;
  readonly fileBytes: number;
  readonly parameters: number;
  readonly memory: {
    readonly estimatedBytes: number;
    /** "dimensions" (weights + KV cache + compute buffers) or "rule-of-thumb". */
    readonly method: "dimensions" | "rule-of-thumb";
    readonly contextSize: number;
    readonly fit: MemoryFitLabel;
    readonly explanation: string;
  };
  readonly bench?: ComparisonBench;
  /** llama.cpp's published ΔPPL/KLD for this type (Llama-3-8B), when it has one. */
  readonly typical?: { readonly deltaPerplexity: number; readonly meanKlDivergence: number };
}

export interface QuantizationComparison {
  /** The family's name: the parent's file name without `.gguf`. */
  readonly familyName: string;
  /** The F16/BF16 (or F32) original, when the family has one. */
  readonly parentPath?: string;
  /** Parent first, then by descending bits/weight. */
  readonly variants: readonly ComparisonVariant[];
  readonly machine: { readonly totalMemoryBytes: number; readonly cpuModel: string; readonly cpuCount: number };
  readonly generatedAt: string;
}

/** One member of a family as the store knows it. */
export interface ComparisonMember {
  readonly summary: GgufModelSummary;
  readonly isParent: boolean;
}

export interface ComparisonInput {
  readonly familyName: string;
  readonly members: readonly ComparisonMember[];
  /** The whole bench history; records of other models are ignored. */
  readonly history: readonly BenchRecord[];
  readonly machine: MachineMemory & { readonly cpuModel: string; readonly cpuCount: number };
  /** Context the memory estimate assumes (the completion context setting). */
  readonly contextSize: number;
  readonly now?: Date;
}

/** Builds the comparison: each member's latest bench (by path), ΔPPL against the parent's bench on the same text. */
export function buildQuantizationComparison(input: ComparisonInput): QuantizationComparison {
  const latest = new Map<string, BenchRecord>();
  for (const record of input.history) {
    const previous = latest.get(record.modelPath);
    if (previous === undefined || record.finishedAt >= previous.finishedAt) latest.set(record.modelPath, record);
  }
  const parent = input.members.find((member) => member.isParent);
  const parentRecord = parent === undefined ? undefined : latest.get(parent.summary.path);
  const variants = input.members.map((member) => buildVariant(member, latest.get(member.summary.path), parentRecord, input));
  variants.sort((a, b) => Number(b.isParent) - Number(a.isParent) || b.bitsPerWeight - a.bitsPerWeight || a.fileName.localeCompare(b.fileName));
  return {
    familyName: input.familyName,
    ...(parent === undefined ? {} : { parentPath: parent.summary.path }),
    variants,
    machine: { totalMemoryBytes: input.machine.totalMemoryBytes, cpuModel: input.machine.cpuModel, cpuCount: input.machine.cpuCount },
    generatedAt: (input.now ?? new Date()).toISOString(),
  };
}

function buildVariant(member: ComparisonMember, record: BenchRecord | undefined, parentRecord: BenchRecord | undefined, input: ComparisonInput): ComparisonVariant {
  const { summary } = member;
  // The context the user will run with, not the bench's (llama-bench sizes its context to pp + tg: tiny).
  const contextSize = input.contextSize;
  const estimate = estimateRunMemory(runMemoryInputFromGguf(summary, contextSize));
  const fit = memoryFitLabel(estimate, input.machine);
  const typical = typicalQuantizationLoss(summary.fileType);
  const fileName = summary.path.split(/[\\/]/).pop() ?? summary.path;
  return {
    modelPath: summary.path,
    fileName,
    fileType: summary.fileType,
    isParent: member.isParent,
    bitsPerWeight: summary.bitsPerWeight,
    fileBytes: summary.fileSize,
    parameters: summary.parameterCount,
    memory: { estimatedBytes: estimate.totalBytes, method: estimate.method, contextSize, fit: fit.label, explanation: fit.explanation },
    ...(record === undefined ? {} : { bench: flattenBench(record, summary.fileSize, member.isParent, parentRecord) }),
    ...(typical === undefined ? {} : { typical: { deltaPerplexity: typical.deltaPerplexity, meanKlDivergence: typical.meanKlDivergence } }),
  };
}

function flattenBench(record: BenchRecord, currentFileBytes: number, isParent: boolean, parentRecord: BenchRecord | undefined): ComparisonBench {
  const quality = record.quality;
  const deltaPerplexity = quality === undefined ? undefined : isParent ? 0 : deltaAgainstParent(quality, parentRecord);
  return {
    finishedAt: record.finishedAt,
    threads: record.settings.threads,
    promptTokens: record.settings.promptTokens,
    generatedTokens: record.settings.generatedTokens,
    repetitions: record.settings.repetitions,
    loadMs: stat(record.loadMs),
    promptTokensPerSecond: stat(record.promptTokensPerSecond),
    generationTokensPerSecond: stat(record.generationTokensPerSecond),
    peakRssBytes: record.peakRssBytes,
    ...(quality === undefined
      ? {}
      : {
          perplexity: quality.perplexity,
          perplexityError: quality.perplexityError,
          textSource: quality.textSource,
          ...(deltaPerplexity === undefined ? {} : { deltaPerplexity }),
          ...(quality.meanKlDivergence === undefined ? {} : { meanKlDivergence: quality.meanKlDivergence }),
          ...(quality.top1Agreement === undefined ? {} : { top1Agreement: quality.top1Agreement }),
        }),
    stale: record.modelFileBytes !== currentFileBytes,
  };
}

/** ΔPPL needs both perplexities on the same text and context: the record's own baseline, else the parent's bench. */
function deltaAgainstParent(quality: NonNullable<BenchRecord["quality"]>, parentRecord: BenchRecord | undefined): number | undefined {
  if (quality.baselinePerplexity !== undefined) return quality.perplexity - quality.baselinePerplexity;
  const parentQuality = parentRecord?.quality;
  if (parentQuality === undefined) return undefined;
  if (parentQuality.textSha256 !== quality.textSha256 || parentQuality.contextSize !== quality.contextSize) return undefined;
  return quality.perplexity - parentQuality.perplexity;
}

function stat(value: { readonly mean: number; readonly stddev: number }): ComparisonStat {
  return { mean: value.mean, stddev: value.stddev };
}
