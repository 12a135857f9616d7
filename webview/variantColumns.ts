/**
 * The Compare Quantizations table's columns: header, what a cell shows, and the value it sorts by. DOM-free, so the
 * unit tests check sorting and formatting without a browser.
 */
import { formatBytes } from "../src/core/format/humanUnits";
import type { ComparisonStat, ComparisonVariant } from "../src/core/bench/quantizationComparison";
import type { SortColumn, SortDirection } from "./protocol";

export interface CellText {
  /** The main text. */
  readonly text: string;
  /** A second, muted line (± sd, typical value, fit label). */
  readonly note?: string;
  /** A tooltip. */
  readonly title?: string;
  /** A CSS class for the cell (fit labels are coloured). */
  readonly tone?: "good" | "warn" | "bad";
}

export interface VariantColumn {
  readonly id: SortColumn;
  readonly header: string;
  /** Explains the header (units, conventions). */
  readonly headerTitle: string;
  readonly numeric: boolean;
  /** Higher is better (speeds, top-1): descending is the natural first sort. */
  readonly higherIsBetter: boolean;
  cell(variant: ComparisonVariant): CellText;
  /** Undefined sorts last in either direction. */
  sortValue(variant: ComparisonVariant): number | string | undefined;
}

const DASH = "–";

function stat(value: ComparisonStat | undefined, digits: number): CellText {
  if (value === undefined) return { text: DASH };
  return { text: formatMeasure(value.mean, digits), note: `± ${formatMeasure(value.stddev, digits)}` };
}

/** A measurement with `digits` decimals, fewer once it is large (a random model's perplexity is 6 digits long). */
export function formatMeasure(value: number, digits: number): string {
  const magnitude = Math.abs(value);
  const shown = magnitude >= 10_000 ? 0 : magnitude >= 1000 ? Math.min(digits, 1) : digits;
  return value.toFixed(shown);
}

/** A loss (ΔPPL, KLD): 4 decimals, or 3 significant digits (2.13e-5) when smaller than that shows. */
export function formatLoss(value: number): string {
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return value.toFixed(0);
  if (magnitude >= 100) return value.toFixed(1);
  if (magnitude >= 0.001) return value.toFixed(4);
  return value.toExponential(2);
}

function loss(variant: ComparisonVariant, measured: number | undefined, typical: number | undefined, noise?: number): CellText {
  // A ΔPPL inside the perplexity's own ± error is not a measurable difference on this text: say so on hover.
  const withinNoise = measured !== undefined && noise !== undefined && !variant.isParent && Math.abs(measured) < noise;
  return {
    text: measured === undefined ? DASH : formatLoss(measured),
    ...(typical === undefined || variant.isParent ? {} : { note: `typical ${formatLoss(typical)}` }),
    ...(withinNoise ? { title: `Within the perplexity's ± ${formatMeasure(noise, 3)}: not a measurable difference on this text.` } : {}),
  };
}

/** The columns in display order; pp/tg headers name the token counts of the benches shown (llama-bench's pp512/tg128). */
export function variantColumns(variants: readonly ComparisonVariant[]): VariantColumn[] {
  const promptTokens = uniqueOf(variants.map((variant) => variant.bench?.promptTokens));
  const generatedTokens = uniqueOf(variants.map((variant) => variant.bench?.generatedTokens));
  return [
    {
      // The type is what people compare; the file name (cut to fit, full path in the tooltip) says which file it is.
      id: "type",
      header: "Variant",
      headerTitle: "llama.cpp file type, and the model file",
      numeric: false,
      higherIsBetter: false,
      cell: (v) => ({
        text: v.fileType,
        note: `${v.isParent ? "parent · " : ""}${v.bench?.stale === true ? "file changed since its bench · " : ""}${v.fileName}`,
        ...(v.bench?.stale === true ? { tone: "warn" as const } : {}),
        title: v.modelPath,
      }),
      sortValue: (v) => v.fileType,
    },
    { id: "bpw", header: "bpw", headerTitle: "Bits per weight: file size × 8 ÷ parameters", numeric: true, higherIsBetter: true, cell: (v) => ({ text: v.bitsPerWeight.toFixed(2) }), sortValue: (v) => v.bitsPerWeight },
    { id: "size", header: "Size", headerTitle: "File size on disk", numeric: true, higherIsBetter: false, cell: (v) => ({ text: formatBytes(v.fileBytes), title: `${v.fileBytes.toLocaleString("en-US")} bytes` }), sortValue: (v) => v.fileBytes },
    {
      id: "memory",
      header: "Memory",
      headerTitle: "Estimated memory to run (weights + KV cache + compute buffers) and whether it fits this machine",
      numeric: true,
      higherIsBetter: false,
      cell: (v) => ({
        text: formatBytes(v.memory.estimatedBytes),
        note: FIT_TEXT[v.memory.fit],
        tone: v.memory.fit === "fits" ? "good" : v.memory.fit === "too-big" ? "bad" : "warn",
        title: `${v.memory.explanation} (context ${v.memory.contextSize.toLocaleString("en-US")} tokens; ${v.memory.method === "dimensions" ? "weights + KV cache + compute buffers" : "rule of thumb"})`,
      }),
      sortValue: (v) => v.memory.estimatedBytes,
    },
    { id: "load", header: "Load ms", headerTitle: "Model load time, mean ± sample stddev", numeric: true, higherIsBetter: false, cell: (v) => stat(v.bench?.loadMs, 0), sortValue: (v) => v.bench?.loadMs.mean },
    {
      id: "pp",
      header: `pp${promptTokens ?? ""} t/s`,
      headerTitle: `Prompt processing${promptTokens === undefined ? "" : ` of ${promptTokens} tokens`}, tokens per second, mean ± sample stddev`,
      numeric: true,
      higherIsBetter: true,
      cell: (v) => stat(v.bench?.promptTokensPerSecond, 1),
      sortValue: (v) => v.bench?.promptTokensPerSecond.mean,
    },
    {
      id: "tg",
      header: `tg${generatedTokens ?? ""} t/s`,
      headerTitle: `Generation${generatedTokens === undefined ? "" : ` of ${generatedTokens} tokens`}, tokens per second, mean ± sample stddev`,
      numeric: true,
      higherIsBetter: true,
      cell: (v) => stat(v.bench?.generationTokensPerSecond, 1),
      sortValue: (v) => v.bench?.generationTokensPerSecond.mean,
    },
    {
      id: "ppl",
      header: "PPL",
      headerTitle: "Perplexity on the evaluation text (lower is better), ± llama-perplexity's estimate",
      numeric: true,
      higherIsBetter: false,
      cell: (v) => (v.bench?.perplexity === undefined ? { text: DASH } : { text: formatMeasure(v.bench.perplexity, 3), ...(v.bench.perplexityError === undefined ? {} : { note: `± ${formatMeasure(v.bench.perplexityError, 3)}` }), ...(v.bench.textSource === undefined ? {} : { title: v.bench.textSource }) }),
      sortValue: (v) => v.bench?.perplexity,
    },
    { id: "dppl", header: "ΔPPL", headerTitle: "Perplexity increase over the parent on the same text; typical: llama.cpp's figure (Llama-3-8B, wikitext-2)", numeric: true, higherIsBetter: false, cell: (v) => loss(v, v.bench?.deltaPerplexity, v.typical?.deltaPerplexity, v.bench?.perplexityError), sortValue: (v) => v.bench?.deltaPerplexity },
    { id: "kld", header: "KLD", headerTitle: "Mean KL divergence from the parent's token distribution; typical: llama.cpp's figure (Llama-3-8B, wikitext-2)", numeric: true, higherIsBetter: false, cell: (v) => loss(v, v.isParent && v.bench !== undefined ? (v.bench.meanKlDivergence ?? 0) : v.bench?.meanKlDivergence, v.typical?.meanKlDivergence), sortValue: (v) => v.bench?.meanKlDivergence },
    {
      id: "top1",
      header: "Top-1",
      headerTitle: "How often the variant's most likely next token equals the parent's",
      numeric: true,
      higherIsBetter: true,
      cell: (v) => ({ text: v.bench?.top1Agreement === undefined ? DASH : `${(v.bench.top1Agreement * 100).toFixed(1)}%` }),
      sortValue: (v) => v.bench?.top1Agreement,
    },
  ];
}

const FIT_TEXT: Readonly<Record<ComparisonVariant["memory"]["fit"], string>> = {
  fits: "fits",
  "fits-partly-on-gpu": "partly on GPU",
  "too-big": "too big",
};

/** Sorts a copy of `variants` by a column; unknown values go last whichever the direction, ties keep the host's order. */
export function sortVariants(variants: readonly ComparisonVariant[], column: VariantColumn, direction: SortDirection): ComparisonVariant[] {
  const sign = direction === "ascending" ? 1 : -1;
  return variants
    .map((variant, index) => ({ variant, index, key: column.sortValue(variant) }))
    .sort((a, b) => {
      if (a.key === undefined || b.key === undefined) return a.key === b.key ? a.index - b.index : a.key === undefined ? 1 : -1;
      const order = typeof a.key === "number" && typeof b.key === "number" ? a.key - b.key : String(a.key).localeCompare(String(b.key));
      return order === 0 ? a.index - b.index : sign * order;
    })
    .map((entry) => entry.variant);
}

function uniqueOf(values: readonly (number | undefined)[]): number | undefined {
  const set = new Set(values.filter((value): value is number => value !== undefined));
  return set.size === 1 ? [...set][0] : undefined;
}
