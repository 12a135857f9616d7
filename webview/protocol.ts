/**
 * The typed messages between the Compare Quantizations panel (extension host) and its page (webview), one
 * discriminated union per direction. The page says `ready` first; the host sends data only after it. Both sides
 * narrow every incoming `unknown` with the parsers below and drop what does not fit (a message is never trusted).
 * No DOM and no `vscode` here: the host, the page and the unit tests all import this module.
 */
import type { ComparisonBench, ComparisonStat, ComparisonVariant, QuantizationComparison } from "../src/core/bench/quantizationComparison";

/** Bumped when a message changes shape; saved page state of another version is ignored. */
export const PROTOCOL_VERSION = 1;

export type SortDirection = "ascending" | "descending";

/** Table columns a person can sort by. */
export const SORT_COLUMNS = ["type", "bpw", "size", "memory", "load", "pp", "tg", "ppl", "dppl", "kld", "top1"] as const;
export type SortColumn = (typeof SORT_COLUMNS)[number];

/** Which loss the size-vs-quality chart plots. */
export type QualityMetric = "kld" | "dppl";

export type ExportFormat = "csv" | "markdown";

/** A long task the page shows with a progress bar and a Cancel button. */
export interface TaskProgress {
  readonly kind: "bench" | "quantize";
  readonly message: string;
  /** 0..1 when known. */
  readonly fraction?: number;
}

export type HostToWebviewMessage =
  | { readonly type: "comparison"; readonly comparison: QuantizationComparison; readonly problems: readonly string[] }
  | { readonly type: "progress"; readonly task: TaskProgress | null }
  | { readonly type: "notice"; readonly level: "info" | "error"; readonly message: string };

export type WebviewToHostMessage =
  | { readonly type: "ready" }
  | { readonly type: "refresh" }
  | { readonly type: "quantizeMore" }
  /** Bench these variants (empty: every variant without a bench yet, or all when all have one). */
  | { readonly type: "runBench"; readonly modelPaths: readonly string[] }
  | { readonly type: "cancel" }
  | { readonly type: "export"; readonly format: ExportFormat };

/** What the page keeps across reloads (vscode.setState) and what the panel serializer reads back. */
export interface CompareWebviewState {
  readonly version: typeof PROTOCOL_VERSION;
  /** Any member of the family (the parent when known): what the host reopens after a reload. */
  readonly modelPath: string;
  readonly sort: { readonly column: SortColumn; readonly direction: SortDirection };
  readonly qualityMetric: QualityMetric;
  /** The last data shown, drawn at once after a reload while the host reads fresh data. */
  readonly comparison?: QuantizationComparison;
}

// ---- narrowing helpers -------------------------------------------------------------------------------------------

type Fields = Readonly<Record<string, unknown>>;

function isFields(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function optional(value: unknown, check: (item: unknown) => boolean): boolean {
  return value === undefined || check(value);
}

function isStat(value: unknown): value is ComparisonStat {
  return isFields(value) && isFiniteNumber(value["mean"]) && isFiniteNumber(value["stddev"]);
}

function isBench(value: unknown): value is ComparisonBench {
  if (!isFields(value)) return false;
  return (
    typeof value["finishedAt"] === "string" &&
    isFiniteNumber(value["threads"]) &&
    isFiniteNumber(value["promptTokens"]) &&
    isFiniteNumber(value["generatedTokens"]) &&
    isFiniteNumber(value["repetitions"]) &&
    isStat(value["loadMs"]) &&
    isStat(value["promptTokensPerSecond"]) &&
    isStat(value["generationTokensPerSecond"]) &&
    isFiniteNumber(value["peakRssBytes"]) &&
    optional(value["perplexity"], isFiniteNumber) &&
    optional(value["perplexityError"], isFiniteNumber) &&
    optional(value["deltaPerplexity"], isFiniteNumber) &&
    optional(value["meanKlDivergence"], isFiniteNumber) &&
    optional(value["top1Agreement"], isFiniteNumber) &&
    optional(value["textSource"], (item): item is string => typeof item === "string") &&
    typeof value["stale"] === "boolean"
  );
}

const FIT_LABELS: readonly unknown[] = ["fits", "fits-partly-on-gpu", "too-big"];

function isVariant(value: unknown): value is ComparisonVariant {
  if (!isFields(value)) return false;
  const memory = value["memory"];
  const typical = value["typical"];
  return (
    typeof value["modelPath"] === "string" &&
    typeof value["fileName"] === "string" &&
    typeof value["fileType"] === "string" &&
    typeof value["isParent"] === "boolean" &&
    isFiniteNumber(value["bitsPerWeight"]) &&
    isFiniteNumber(value["fileBytes"]) &&
    isFiniteNumber(value["parameters"]) &&
    isFields(memory) &&
    isFiniteNumber(memory["estimatedBytes"]) &&
    (memory["method"] === "dimensions" || memory["method"] === "rule-of-thumb") &&
    isFiniteNumber(memory["contextSize"]) &&
    FIT_LABELS.includes(memory["fit"]) &&
    typeof memory["explanation"] === "string" &&
    optional(value["bench"], isBench) &&
    (typical === undefined || (isFields(typical) && isFiniteNumber(typical["deltaPerplexity"]) && isFiniteNumber(typical["meanKlDivergence"])))
  );
}

/** A whole comparison, checked field by field. */
export function isQuantizationComparison(value: unknown): value is QuantizationComparison {
  if (!isFields(value)) return false;
  const machine = value["machine"];
  const variants = value["variants"];
  return (
    typeof value["familyName"] === "string" &&
    optional(value["parentPath"], (item): item is string => typeof item === "string") &&
    Array.isArray(variants) &&
    variants.every(isVariant) &&
    isFields(machine) &&
    isFiniteNumber(machine["totalMemoryBytes"]) &&
    typeof machine["cpuModel"] === "string" &&
    isFiniteNumber(machine["cpuCount"]) &&
    typeof value["generatedAt"] === "string"
  );
}

function isTask(value: unknown): value is TaskProgress {
  if (!isFields(value)) return false;
  const fraction = value["fraction"];
  return (value["kind"] === "bench" || value["kind"] === "quantize") && typeof value["message"] === "string" && (fraction === undefined || (isFiniteNumber(fraction) && fraction >= 0 && fraction <= 1));
}

// ---- parsers -------------------------------------------------------------------------------------------------------

/** A message from the host, or undefined when `value` is not one (the page ignores it). */
export function parseHostMessage(value: unknown): HostToWebviewMessage | undefined {
  if (!isFields(value)) return undefined;
  switch (value["type"]) {
    case "comparison": {
      const { comparison, problems } = value;
      return isQuantizationComparison(comparison) && isStringArray(problems) ? { type: "comparison", comparison, problems } : undefined;
    }
    case "progress": {
      const { task } = value;
      return task === null || isTask(task) ? { type: "progress", task } : undefined;
    }
    case "notice": {
      const { level, message } = value;
      return (level === "info" || level === "error") && typeof message === "string" ? { type: "notice", level, message } : undefined;
    }
    default:
      return undefined;
  }
}

/** A message from the page, or undefined when `value` is not one (the host ignores it). */
export function parseWebviewMessage(value: unknown): WebviewToHostMessage | undefined {
  if (!isFields(value)) return undefined;
  switch (value["type"]) {
    case "ready":
    case "refresh":
    case "quantizeMore":
    case "cancel":
      return { type: value["type"] };
    case "runBench": {
      const { modelPaths } = value;
      return isStringArray(modelPaths) ? { type: "runBench", modelPaths } : undefined;
    }
    case "export": {
      const { format } = value;
      return format === "csv" || format === "markdown" ? { type: "export", format } : undefined;
    }
    default:
      return undefined;
  }
}

/** Saved page state of this protocol version, or undefined (missing, older, tampered). A bad saved comparison is dropped, the rest kept. */
export function parseWebviewState(value: unknown): CompareWebviewState | undefined {
  if (!isFields(value) || value["version"] !== PROTOCOL_VERSION || typeof value["modelPath"] !== "string" || value["modelPath"] === "") return undefined;
  const sort = value["sort"];
  const column = isFields(sort) ? sort["column"] : undefined;
  const direction = isFields(sort) ? sort["direction"] : undefined;
  const metric = value["qualityMetric"];
  const comparison = value["comparison"];
  return {
    version: PROTOCOL_VERSION,
    modelPath: value["modelPath"],
    sort: {
      column: SORT_COLUMNS.find((candidate) => candidate === column) ?? "bpw",
      direction: direction === "ascending" ? "ascending" : "descending",
    },
    qualityMetric: metric === "dppl" ? "dppl" : "kld",
    ...(isQuantizationComparison(comparison) ? { comparison } : {}),
  };
}
