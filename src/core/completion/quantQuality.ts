/**
 * "Is this quant good enough for my code?": held-out lines sampled from the user's own files (seeded, so a rerun asks
 * the same lines), completed by each variant of a model from the text before and after them, and scored by next-line
 * exact match and edit similarity (1 − normalized Levenshtein distance), the two measures of code-completion
 * benchmarks such as CrossCodeEval and RepoBench. Each variant gets identical prompts.
 */
import { appendJsonLine, readJsonLines } from "../store/jsonLinesFile";
import path from "node:path";
import { benchHistoryPath } from "../bench/benchHistory";
import { CancelledError, describeError, throwIfAborted } from "../errors";
import type { CompletionEngine, CompletionRequest } from "../runtime/completionEngine";
import { contextWindow, estimateTokens } from "./contextWindow";
import { postprocessCompletion } from "./postprocess";

export interface QualitySourceFile {
  /** Path the model sees (workspace-relative, `/` separators). */
  readonly filePath: string;
  readonly languageId: string;
  readonly text: string;
}

/** One line to predict: the cursor after its indentation, the rest of the line is what the model should write. */
export interface HeldOutLine {
  readonly filePath: string;
  readonly languageId: string;
  /** 0-based line number. */
  readonly line: number;
  readonly prefix: string;
  readonly suffix: string;
  /** The line after its indentation, without trailing whitespace. */
  readonly expected: string;
}

export interface SampleOptions {
  readonly count: number;
  readonly seed: number;
  /** Lines shorter than this (after trimming) are not asked: `}` and `end` say nothing about a model. Default 8. */
  readonly minChars?: number;
  /** Longer lines (minified, data) are not asked either. Default 200. */
  readonly maxChars?: number;
  /** Token budgets of the windows around the line; default 1024 before, 256 after. */
  readonly prefixTokens?: number;
  readonly suffixTokens?: number;
}

/**
 * Picks `count` lines across the files, the same ones for the same files and seed: lines with a word in them, not
 * blank, not too short or too long, not comments only; spread over the files as their candidate lines are.
 */
export function sampleHeldOutLines(files: readonly QualitySourceFile[], options: SampleOptions): HeldOutLine[] {
  const minChars = options.minChars ?? 8;
  const maxChars = options.maxChars ?? 200;
  const candidates: { file: QualitySourceFile; line: number; start: number; end: number }[] = [];
  for (const file of files) {
    const text = file.text.replace(/\r\n/g, "\n");
    let start = 0;
    for (let line = 0; start <= text.length; line += 1) {
      const newline = text.indexOf("\n", start);
      const end = newline < 0 ? text.length : newline;
      const content = text.slice(start, end).trim();
      // Not the first line (no prefix to go on) and only lines with a word that are not just a comment.
      if (line > 0 && content.length >= minChars && content.length <= maxChars && /[\p{L}\p{N}_]/u.test(content) && !/^(\/\/|#|\*|\/\*|--|;)/.test(content)) {
        candidates.push({ file: { ...file, text }, line, start, end });
      }
      if (newline < 0) break;
      start = newline + 1;
    }
  }
  const random = mulberry32(options.seed);
  // Partial Fisher–Yates: the first `count` of a seeded shuffle.
  const picked = candidates.slice();
  const count = Math.min(Math.max(0, Math.floor(options.count)), picked.length);
  for (let index = 0; index < count; index += 1) {
    const other = index + Math.floor(random() * (picked.length - index));
    const swap = picked[index];
    const chosen = picked[other];
    if (swap === undefined || chosen === undefined) break;
    picked[index] = chosen;
    picked[other] = swap;
  }
  return picked
    .slice(0, count)
    .sort((a, b) => a.file.filePath.localeCompare(b.file.filePath) || a.line - b.line)
    .map(({ file, line, start, end }) => {
      const lineText = file.text.slice(start, end);
      const indent = /^\s*/.exec(lineText)?.[0] ?? "";
      const cursor = start + indent.length;
      // The line itself is held out: the suffix starts at the line break after it.
      const window = contextWindow(file.text.slice(0, cursor) + file.text.slice(end), cursor, estimateTokens, {
        prefixTokens: options.prefixTokens ?? 1024,
        suffixTokens: options.suffixTokens ?? 256,
      });
      return { filePath: file.filePath, languageId: file.languageId, line, prefix: window.prefix, suffix: window.suffix, expected: lineText.slice(indent.length).trimEnd() };
    });
}

/** Levenshtein distance (insert, delete, substitute, each 1), in O(|a|·|b|) time and O(|b|) memory. */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** 1 − distance ÷ the longer length: 1 for equal strings, 0 for nothing in common (both empty: 1). */
export function editSimilarity(actual: string, expected: string): number {
  const longest = Math.max(actual.length, expected.length);
  return longest === 0 ? 1 : 1 - levenshtein(actual, expected) / longest;
}

/** The first line of a suggestion as it is compared with the held-out line (surrounding whitespace ignored). */
export function predictedLine(suggestion: string | undefined): string {
  return (suggestion ?? "").split("\n")[0]?.trim() ?? "";
}

export interface QualityVariant {
  /** e.g. "Q4_0". */
  readonly label: string;
  readonly modelPath: string;
}

export interface LineOutcome {
  readonly filePath: string;
  readonly line: number;
  readonly expected: string;
  readonly predicted: string;
  readonly exact: boolean;
  readonly similarity: number;
  readonly latencyMs: number;
  /** Set when the engine failed on this line (scored as an empty prediction). */
  readonly error?: string;
}

export interface VariantQuality {
  readonly label: string;
  readonly modelPath: string;
  readonly samples: number;
  readonly exactMatches: number;
  readonly exactMatchRate: number;
  readonly meanEditSimilarity: number;
  readonly meanLatencyMs: number;
  readonly failures: number;
  readonly lines: readonly LineOutcome[];
}

export interface QualityProgress {
  readonly variant: string;
  readonly variantIndex: number;
  readonly variantCount: number;
  readonly linesDone: number;
  readonly lineCount: number;
}

export interface EvaluateQualityOptions {
  /** Tokens generated per line (a line rarely needs more than 48). */
  readonly maxTokens: number;
  /** Makes the engine of a variant; it is disposed after the variant. */
  readonly createEngine: (variant: QualityVariant) => CompletionEngine;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: QualityProgress) => void;
  /** Stops a variant after this many failed lines in a row (a model that does not load); default 3. */
  readonly maxConsecutiveFailures?: number;
}

/** Asks every variant to complete every line, one variant at a time; returns the scores in variant order. */
export async function evaluateCompletionQuality(variants: readonly QualityVariant[], lines: readonly HeldOutLine[], options: EvaluateQualityOptions): Promise<VariantQuality[]> {
  const results: VariantQuality[] = [];
  const maxFailures = options.maxConsecutiveFailures ?? 3;
  for (const [variantIndex, variant] of variants.entries()) {
    throwIfAborted(options.signal);
    const engine = options.createEngine(variant);
    const outcomes: LineOutcome[] = [];
    let failuresInARow = 0;
    try {
      for (const held of lines) {
        throwIfAborted(options.signal);
        options.onProgress?.({ variant: variant.label, variantIndex, variantCount: variants.length, linesDone: outcomes.length, lineCount: lines.length });
        if (failuresInARow >= maxFailures) {
          outcomes.push(scoreLine(held, undefined, 0, "skipped after repeated failures"));
          continue;
        }
        const request: CompletionRequest = {
          prefix: held.prefix,
          suffix: held.suffix,
          filePath: held.filePath,
          languageId: held.languageId,
          extraContext: [],
          mode: "single-line",
          maxTokens: options.maxTokens,
        };
        const started = performance.now();
        try {
          const result = await engine.complete(request, options.signal ?? new AbortController().signal);
          const suggestion = postprocessCompletion(result.text, { prefix: held.prefix, suffix: held.suffix, mode: "single-line", languageId: held.languageId, stopSequences: result.stopSequences });
          outcomes.push(scoreLine(held, suggestion, result.timings.totalMs));
          failuresInARow = 0;
        } catch (error) {
          if (error instanceof CancelledError || options.signal?.aborted === true) throw new CancelledError();
          outcomes.push(scoreLine(held, undefined, performance.now() - started, describeError(error)));
          failuresInARow += 1;
        }
      }
    } finally {
      await engine.dispose().catch(() => undefined);
    }
    options.onProgress?.({ variant: variant.label, variantIndex, variantCount: variants.length, linesDone: outcomes.length, lineCount: lines.length });
    results.push(summarize(variant, outcomes));
  }
  return results;
}

function scoreLine(held: HeldOutLine, suggestion: string | undefined, latencyMs: number, error?: string): LineOutcome {
  const predicted = predictedLine(suggestion);
  const expected = held.expected.trim();
  return {
    filePath: held.filePath,
    line: held.line,
    expected,
    predicted,
    exact: predicted === expected,
    similarity: editSimilarity(predicted, expected),
    latencyMs,
    ...(error === undefined ? {} : { error }),
  };
}

/** Scores of one variant from its lines. */
export function summarize(variant: QualityVariant, lines: readonly LineOutcome[]): VariantQuality {
  const samples = lines.length;
  const exactMatches = lines.filter((line) => line.exact).length;
  const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length);
  return {
    label: variant.label,
    modelPath: variant.modelPath,
    samples,
    exactMatches,
    exactMatchRate: samples === 0 ? 0 : exactMatches / samples,
    meanEditSimilarity: mean(lines.map((line) => line.similarity)),
    meanLatencyMs: mean(lines.filter((line) => line.error === undefined).map((line) => line.latencyMs)),
    failures: lines.filter((line) => line.error !== undefined).length,
    lines,
  };
}

/** A Markdown report: one row per variant, best edit similarity first, with what was asked. */
export function formatQualityReport(results: readonly VariantQuality[], about: { readonly files: number; readonly seed: number; readonly maxTokens: number }): string {
  const rows = [...results].sort((a, b) => b.meanEditSimilarity - a.meanEditSimilarity || b.exactMatchRate - a.exactMatchRate);
  const samples = results[0]?.samples ?? 0;
  const lines = [
    "# Is this quant good enough for my code?",
    "",
    `${samples} held-out lines from ${about.files} file(s) (seed ${about.seed}), each completed from the code before and after it; at most ${about.maxTokens} tokens per line.`,
    "",
    "| Variant | Exact match | Edit similarity | Mean latency | Failures |",
    "|---|---:|---:|---:|---:|",
    ...rows.map((row) => `| ${row.label} | ${(row.exactMatchRate * 100).toFixed(1)} % (${row.exactMatches}/${row.samples}) | ${row.meanEditSimilarity.toFixed(3)} | ${row.meanLatencyMs.toFixed(0)} ms | ${row.failures} |`),
    "",
    "Exact match: the suggested line equals the real one (surrounding whitespace ignored). Edit similarity: 1 − Levenshtein distance ÷ the longer line's length, averaged.",
  ];
  const failed = results.flatMap((row) => row.lines.filter((line) => line.error !== undefined).slice(0, 1).map((line) => `- ${row.label}: ${line.error ?? ""}`));
  if (failed.length > 0) lines.push("", "First failure per variant:", ...failed);
  return `${lines.join("\n")}\n`;
}

/** One run as the quality history keeps it. */
export interface CompletionQualityRecord {
  readonly version: 1;
  readonly kind: "completion-quality";
  readonly finishedAt: string;
  readonly seed: number;
  readonly files: number;
  readonly maxTokens: number;
  readonly variants: readonly Omit<VariantQuality, "lines">[];
}

/** The quality history of a models directory (next to the bench history). */
export function completionQualityHistoryPath(modelsDir: string): string {
  return path.join(path.dirname(benchHistoryPath(modelsDir)), "completion-quality-history.jsonl");
}

/** Appends one record as a line, as the bench history does. */
export async function appendCompletionQualityRecord(historyFile: string, record: CompletionQualityRecord): Promise<void> {
  await appendJsonLine(historyFile, record);
}

/** Every record of a history file; missing file: none; lines that are not records are skipped. */
export async function readCompletionQualityHistory(historyFile: string): Promise<CompletionQualityRecord[]> {
  return readJsonLines(historyFile, isCompletionQualityRecord);
}

function isCompletionQualityRecord(value: unknown): value is CompletionQualityRecord {
  const record = value as Partial<CompletionQualityRecord> | null;
  return typeof record === "object" && record !== null && record.version === 1 && record.kind === "completion-quality" && Array.isArray(record.variants);
}

/** The record of a run (lines dropped: the history keeps scores, never the user's code). */
export function qualityRecord(results: readonly VariantQuality[], about: { readonly files: number; readonly seed: number; readonly maxTokens: number }, finishedAt = new Date()): CompletionQualityRecord {
  return {
    version: 1,
    kind: "completion-quality",
    finishedAt: finishedAt.toISOString(),
    seed: about.seed,
    files: about.files,
    maxTokens: about.maxTokens,
    variants: results.map(({ lines: _lines, ...scores }) => scores),
  };
}

/** mulberry32, as test/fixtures/seededRandom.ts (the core cannot import test code). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
