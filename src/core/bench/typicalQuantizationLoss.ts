/**
 * llama.cpp's published quality loss per quantization type (Llama-3-8B, wikitext-2, against F16), as shared/reference/
 * quantization.md lists them: the "typical" column the Compare Quantizations view shows next to what the user measured
 * on their own model and text. Types llama.cpp gives no figure for have none here (never an invented one).
 */

export interface TypicalQuantizationLoss {
  /** llama.cpp type name, e.g. "Q4_K_M". */
  readonly type: string;
  /** Perplexity increase over F16. */
  readonly deltaPerplexity: number;
  /** Mean KL divergence from F16's token distribution. */
  readonly meanKlDivergence: number;
}

/** Where the figures come from, for tooltips and exports. */
export const TYPICAL_QUANTIZATION_LOSS_SOURCE = "llama.cpp's published figures for Llama-3-8B on wikitext-2 (vs F16)";

const TABLE: readonly TypicalQuantizationLoss[] = [
  { type: "Q8_0", deltaPerplexity: 0.0027, meanKlDivergence: 0.0014 },
  { type: "Q6_K", deltaPerplexity: 0.0217, meanKlDivergence: 0.0055 },
  { type: "Q5_K_M", deltaPerplexity: 0.057, meanKlDivergence: 0.0108 },
  { type: "Q5_1", deltaPerplexity: 0.1062, meanKlDivergence: 0.018 },
  { type: "Q5_0", deltaPerplexity: 0.1316, meanKlDivergence: 0.0222 },
  { type: "Q4_K_M", deltaPerplexity: 0.1755, meanKlDivergence: 0.0313 },
  { type: "Q4_K_S", deltaPerplexity: 0.2689, meanKlDivergence: 0.0431 },
  { type: "Q4_0", deltaPerplexity: 0.4685, meanKlDivergence: 0.0719 },
  { type: "Q3_K_M", deltaPerplexity: 0.6569, meanKlDivergence: 0.1019 },
  { type: "Q2_K", deltaPerplexity: 3.5199, meanKlDivergence: 0.4451 },
];

/** Aliases llama-quantize accepts for the same file type (tools/quantize/quantize.cpp QUANT_OPTIONS). */
const ALIASES: Readonly<Record<string, string>> = { Q4_K: "Q4_K_M", Q5_K: "Q5_K_M", Q3_K: "Q3_K_M" };

/** The published loss of a type (case-insensitive; unquantized F32/F16/BF16 lose nothing), or undefined when llama.cpp gives none. */
export function typicalQuantizationLoss(type: string): TypicalQuantizationLoss | undefined {
  const upper = type.trim().toUpperCase();
  if (upper === "F32" || upper === "F16" || upper === "BF16") return { type: upper, deltaPerplexity: 0, meanKlDivergence: 0 };
  const name = ALIASES[upper] ?? upper;
  return TABLE.find((entry) => entry.type === name);
}

/** Every type with a published figure, smallest loss first. */
export function typicalQuantizationLossTable(): readonly TypicalQuantizationLoss[] {
  return TABLE;
}
