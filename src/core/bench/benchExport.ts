/**
 * Exports of the Compare Quantizations table: CSV (RFC 4180: comma-separated, CRLF line ends, fields with a comma,
 * quote or line break quoted and their quotes doubled; raw numbers, so a spreadsheet can compute with them) and
 * Markdown (a GitHub table with units and ± in the cells, for a README or an issue).
 */
import { formatBytes } from "../format/humanUnits";
import type { ComparisonVariant, QuantizationComparison } from "./quantizationComparison";
import { TYPICAL_QUANTIZATION_LOSS_SOURCE } from "./typicalQuantizationLoss";

/** CSV columns, in order; every cell is a raw number or text (empty when unknown). */
export const CSV_COLUMNS = [
  "file",
  "type",
  "parent",
  "bits_per_weight",
  "size_bytes",
  "memory_estimate_bytes",
  "memory_fit",
  "load_ms_mean",
  "load_ms_stddev",
  "pp_tok_s_mean",
  "pp_tok_s_stddev",
  "tg_tok_s_mean",
  "tg_tok_s_stddev",
  "prompt_tokens",
  "generated_tokens",
  "repetitions",
  "threads",
  "perplexity",
  "delta_ppl",
  "kld",
  "top1_agreement",
  "typical_delta_ppl",
  "typical_kld",
  "bench_finished_at",
  "path",
] as const;

/** The comparison as CSV: a header row, then one row per variant in the comparison's order. */
export function comparisonToCsv(comparison: QuantizationComparison): string {
  const rows = comparison.variants.map((variant) => csvRow(variant));
  return [CSV_COLUMNS.join(","), ...rows.map((row) => row.map(csvField).join(","))].join("\r\n") + "\r\n";
}

function csvRow(variant: ComparisonVariant): (string | number | undefined)[] {
  const bench = variant.bench;
  const byColumn: Record<(typeof CSV_COLUMNS)[number], string | number | undefined> = {
    file: variant.fileName,
    type: variant.fileType,
    parent: variant.isParent ? "yes" : "no",
    bits_per_weight: round(variant.bitsPerWeight, 4),
    size_bytes: variant.fileBytes,
    memory_estimate_bytes: variant.memory.estimatedBytes,
    memory_fit: variant.memory.fit,
    load_ms_mean: round(bench?.loadMs.mean, 3),
    load_ms_stddev: round(bench?.loadMs.stddev, 3),
    pp_tok_s_mean: round(bench?.promptTokensPerSecond.mean, 3),
    pp_tok_s_stddev: round(bench?.promptTokensPerSecond.stddev, 3),
    tg_tok_s_mean: round(bench?.generationTokensPerSecond.mean, 3),
    tg_tok_s_stddev: round(bench?.generationTokensPerSecond.stddev, 3),
    prompt_tokens: bench?.promptTokens,
    generated_tokens: bench?.generatedTokens,
    repetitions: bench?.repetitions,
    threads: bench?.threads,
    perplexity: round(bench?.perplexity, 6),
    delta_ppl: round(bench?.deltaPerplexity, 6),
    kld: round(bench?.meanKlDivergence, 6),
    top1_agreement: round(bench?.top1Agreement, 6),
    typical_delta_ppl: variant.typical?.deltaPerplexity,
    typical_kld: variant.typical?.meanKlDivergence,
    bench_finished_at: bench?.finishedAt,
    path: variant.modelPath,
  };
  return CSV_COLUMNS.map((column) => byColumn[column]);
}

function csvField(value: string | number | undefined): string {
  if (value === undefined) return "";
  const text = typeof value === "number" ? String(value) : value;
  // A leading =, +, - or @ would run as a formula in a spreadsheet: file names are text, never formulas.
  const safe = typeof value === "string" && /^[=+\-@]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The comparison as a Markdown document: a heading, the machine, the table and what the columns mean. */
export function comparisonToMarkdown(comparison: QuantizationComparison): string {
  const header = ["Variant", "Type", "Bits/weight", "Size", "Memory (fit)", "Load ms", "pp tok/s", "tg tok/s", "PPL", "ΔPPL (typical)", "KLD (typical)", "Top-1"];
  const align = [":--", ":--", "--:", "--:", "--:", "--:", "--:", "--:", "--:", "--:", "--:", "--:"];
  const rows = comparison.variants.map((variant) => {
    const bench = variant.bench;
    return [
      `${variant.fileName}${variant.isParent ? " (parent)" : ""}${bench?.stale === true ? " (file changed since bench)" : ""}`,
      variant.fileType,
      variant.bitsPerWeight.toFixed(2),
      formatBytes(variant.fileBytes),
      `${formatBytes(variant.memory.estimatedBytes)} (${variant.memory.fit})`,
      meanStd(bench?.loadMs, 0),
      meanStd(bench?.promptTokensPerSecond, 1),
      meanStd(bench?.generationTokensPerSecond, 1),
      bench?.perplexity === undefined ? "–" : `${bench.perplexity.toFixed(3)}${bench.perplexityError === undefined ? "" : ` ± ${bench.perplexityError.toFixed(3)}`}`,
      `${fixed(bench?.deltaPerplexity, 4)} (${fixed(variant.typical?.deltaPerplexity, 4)})`,
      `${fixed(bench?.meanKlDivergence, 4)} (${fixed(variant.typical?.meanKlDivergence, 4)})`,
      bench?.top1Agreement === undefined ? "–" : `${(bench.top1Agreement * 100).toFixed(1)}%`,
    ];
  });
  const benches = comparison.variants.flatMap((variant) => (variant.bench === undefined ? [] : [variant.bench]));
  const settings = [...new Set(benches.map((bench) => `pp${bench.promptTokens}/tg${bench.generatedTokens}, ${bench.repetitions} repetitions, ${bench.threads} threads`))];
  const lines = [
    `# Quantizations of ${escapeCell(comparison.familyName)}`,
    "",
    `Machine: ${escapeCell(comparison.machine.cpuModel)} (${comparison.machine.cpuCount} CPUs), ${formatBytes(comparison.machine.totalMemoryBytes)} RAM. Generated ${comparison.generatedAt}.`,
    ...(settings.length === 0 ? [] : [`Bench: ${settings.join("; ")} (mean ± sample stddev).`]),
    "",
    `| ${header.join(" | ")} |`,
    `| ${align.join(" | ")} |`,
    ...rows.map((row) => `| ${row.map(escapeCell).join(" | ")} |`),
    "",
    `ΔPPL is the perplexity increase over the parent on the same text; KLD is the mean KL divergence from the parent's token distribution. Typical values in parentheses: ${TYPICAL_QUANTIZATION_LOSS_SOURCE}. – means not measured.`,
    "",
  ];
  return lines.join("\n");
}

function meanStd(value: { readonly mean: number; readonly stddev: number } | undefined, digits: number): string {
  return value === undefined ? "–" : `${value.mean.toFixed(digits)} ± ${value.stddev.toFixed(digits)}`;
}

function fixed(value: number | undefined, digits: number): string {
  return value === undefined ? "–" : value.toFixed(digits);
}

function round(value: number | undefined, digits: number): number | undefined {
  if (value === undefined || !Number.isFinite(value)) return undefined;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** A table cell cannot hold a pipe or a line break. */
function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}
