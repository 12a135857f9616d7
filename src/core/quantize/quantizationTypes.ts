/**
 * The quantization types SLM Lab offers: exactly those of `llama-quantize` in the bundled llama.cpp
 * (`tools/quantize/quantize.cpp`, `QUANT_OPTIONS`, less COPY), with the facts a person needs to choose one, plus
 * presets named as people think of them. Ids are `enum llama_ftype` (`include/llama.h`).
 */
import { GgmlType, ggmlTypeInfo, type GgmlTypeName } from "../gguf/ggmlTypes";
import { LlamaFileType, type LlamaFileTypeName } from "../gguf/llamaFileTypes";

/** One type `llama-quantize` offers. */
export interface QuantizationType {
  /** `llama-quantize`'s name: "Q4_K_M". */
  readonly name: LlamaFileTypeName;
  /** `enum llama_ftype` value. */
  readonly ftype: number;
  /** `llama-quantize`'s description (size and ΔPPL at Llama-3-8B where it gives them). */
  readonly description: string;
  /**
   * Bits per weight of the ftype's default tensor type (`llama_ftype_get_default_type` in src/llama-quant.cpp);
   * mixes (_M, _L, IQ2_M, IQ3_M) keep some tensors at a higher type, so whole files come out a little larger.
   */
  readonly bitsPerWeight: number;
  /** The ftype's default ggml tensor type. */
  readonly defaultTensorType: GgmlTypeName;
  /**
   * llama.cpp refuses it without an importance matrix: some of its tensors get a type `tensor_requires_imatrix`
   * (src/llama-quant.cpp) lists (IQ1_S/M, IQ2_XXS/XS/S, IQ3_XXS), or Q2_K in a Q2_K_S file. IQ3_XS is one: its mix
   * puts attn_q/attn_k at IQ3_XXS (`llama_tensor_get_type`).
   */
  readonly requiresImatrix: boolean;
  /** The same with `pure` (every tensor at the default tensor type, no mix). */
  readonly requiresImatrixWhenPure: boolean;
  /** Ternary (1.58-bit, BitNet-style): only useful for models trained ternary. */
  readonly ternary: boolean;
  /** Only quantizes MoE expert tensors (MXFP4_MOE). */
  readonly mixtureOfExpertsOnly: boolean;
}

interface TypeRow {
  readonly name: LlamaFileTypeName;
  readonly tensorType: GgmlTypeName;
  readonly description: string;
}

/** In `QUANT_OPTIONS` order (tools/quantize/quantize.cpp), aliases (Q3_K, Q4_K, Q5_K) and COPY left out. */
const ROWS: readonly TypeRow[] = [
  { name: "Q1_0", tensorType: "Q1_0", description: "1.125 bpw quantization" },
  { name: "Q2_0", tensorType: "Q2_0", description: "2.25 bpw quantization (group 64)" },
  { name: "Q4_0", tensorType: "Q4_0", description: "4.34G, +0.4685 ppl @ Llama-3-8B" },
  { name: "Q4_1", tensorType: "Q4_1", description: "4.78G, +0.4511 ppl @ Llama-3-8B" },
  { name: "MXFP4_MOE", tensorType: "MXFP4", description: "MXFP4 MoE" },
  { name: "Q5_0", tensorType: "Q5_0", description: "5.21G, +0.1316 ppl @ Llama-3-8B" },
  { name: "Q5_1", tensorType: "Q5_1", description: "5.65G, +0.1062 ppl @ Llama-3-8B" },
  { name: "IQ2_XXS", tensorType: "IQ2_XXS", description: "2.06 bpw quantization" },
  { name: "IQ2_XS", tensorType: "IQ2_XS", description: "2.31 bpw quantization" },
  { name: "IQ2_S", tensorType: "IQ2_XS", description: "2.5 bpw quantization" },
  { name: "IQ2_M", tensorType: "IQ2_S", description: "2.7 bpw quantization" },
  { name: "IQ1_S", tensorType: "IQ1_S", description: "1.56 bpw quantization" },
  { name: "IQ1_M", tensorType: "IQ1_M", description: "1.75 bpw quantization" },
  { name: "TQ1_0", tensorType: "TQ1_0", description: "1.69 bpw ternarization" },
  { name: "TQ2_0", tensorType: "TQ2_0", description: "2.06 bpw ternarization" },
  { name: "Q2_K", tensorType: "Q2_K", description: "2.96G, +3.5199 ppl @ Llama-3-8B" },
  { name: "Q2_K_S", tensorType: "Q2_K", description: "2.96G, +3.1836 ppl @ Llama-3-8B" },
  { name: "IQ3_XXS", tensorType: "IQ3_XXS", description: "3.06 bpw quantization" },
  { name: "IQ3_S", tensorType: "IQ3_S", description: "3.44 bpw quantization" },
  { name: "IQ3_M", tensorType: "IQ3_S", description: "3.66 bpw quantization mix" },
  { name: "IQ3_XS", tensorType: "IQ3_S", description: "3.3 bpw quantization" },
  { name: "Q3_K_S", tensorType: "Q3_K", description: "3.41G, +1.6321 ppl @ Llama-3-8B" },
  { name: "Q3_K_M", tensorType: "Q3_K", description: "3.74G, +0.6569 ppl @ Llama-3-8B" },
  { name: "Q3_K_L", tensorType: "Q3_K", description: "4.03G, +0.5562 ppl @ Llama-3-8B" },
  { name: "IQ4_NL", tensorType: "IQ4_NL", description: "4.50 bpw non-linear quantization" },
  { name: "IQ4_XS", tensorType: "IQ4_XS", description: "4.25 bpw non-linear quantization" },
  { name: "Q4_K_S", tensorType: "Q4_K", description: "4.37G, +0.2689 ppl @ Llama-3-8B" },
  { name: "Q4_K_M", tensorType: "Q4_K", description: "4.58G, +0.1754 ppl @ Llama-3-8B" },
  { name: "Q5_K_S", tensorType: "Q5_K", description: "5.21G, +0.1049 ppl @ Llama-3-8B" },
  { name: "Q5_K_M", tensorType: "Q5_K", description: "5.33G, +0.0569 ppl @ Llama-3-8B" },
  { name: "Q6_K", tensorType: "Q6_K", description: "6.14G, +0.0217 ppl @ Llama-3-8B" },
  { name: "Q8_0", tensorType: "Q8_0", description: "7.96G, +0.0026 ppl @ Llama-3-8B" },
  { name: "F16", tensorType: "F16", description: "14.00G, +0.0020 ppl @ Mistral-7B" },
  { name: "BF16", tensorType: "BF16", description: "14.00G, -0.0050 ppl @ Mistral-7B" },
  { name: "F32", tensorType: "F32", description: "26.00G @ 7B" },
];

/** `QUANT_OPTIONS`' aliases: "Q4_K" means Q4_K_M. */
const ALIASES: Readonly<Record<string, LlamaFileTypeName>> = { Q3_K: "Q3_K_M", Q4_K: "Q4_K_M", Q5_K: "Q5_K_M" };

/** ggml types `tensor_requires_imatrix` (src/llama-quant.cpp) refuses without an importance matrix. */
const IMATRIX_TENSOR_TYPES: ReadonlySet<GgmlTypeName> = new Set(["IQ3_XXS", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ1_M", "IQ1_S"]);

function bitsOf(tensorType: GgmlTypeName): number {
  const info = ggmlTypeInfo(GgmlType[tensorType]);
  if (info === undefined) throw new Error(`ggml type ${tensorType} is missing from ggmlTypes`);
  return (info.typeSize * 8) / info.blockSize;
}

/** Every type the bundled `llama-quantize` offers, in its order. */
export const quantizationTypes: readonly QuantizationType[] = ROWS.map((row) => ({
  name: row.name,
  ftype: LlamaFileType[row.name],
  description: row.description,
  bitsPerWeight: bitsOf(row.tensorType),
  defaultTensorType: row.tensorType,
  requiresImatrix: IMATRIX_TENSOR_TYPES.has(row.tensorType) || row.name === "Q2_K_S" || row.name === "IQ3_XS",
  requiresImatrixWhenPure: IMATRIX_TENSOR_TYPES.has(row.tensorType) || row.name === "Q2_K_S",
  ternary: row.name === "TQ1_0" || row.name === "TQ2_0",
  mixtureOfExpertsOnly: row.name === "MXFP4_MOE",
}));

/** A preset: a type under the name people use for what it is for. */
export interface QuantizationPreset {
  /** Lower-case key accepted on the command line: "mobile". */
  readonly id: string;
  /** Shown in pickers: "Mobile (Q4_0)". */
  readonly label: string;
  readonly type: LlamaFileTypeName;
  /** What it is for (../shared/reference/quantization.md). */
  readonly detail: string;
}

/** The presets of the SLM literature we build from (phones → Q4_0, edge → Q5_1, production → Q8_0) plus Q4_K_M. */
export const quantizationPresets: readonly QuantizationPreset[] = [
  { id: "mobile", label: "Mobile (Q4_0)", type: "Q4_0", detail: "Smallest of the common types: phones and low-RAM laptops." },
  { id: "edge", label: "Edge (Q5_1)", type: "Q5_1", detail: "Good quality per byte for edge devices." },
  { id: "production", label: "Production (Q8_0)", type: "Q8_0", detail: "Near-lossless: servers, quality first." },
  { id: "balanced", label: "Balanced (Q4_K_M)", type: "Q4_K_M", detail: "llama.cpp's usual default: small with modest loss." },
];

const byName = new Map<string, QuantizationType>(quantizationTypes.map((type) => [type.name, type]));

/**
 * The type for a name, an alias ("Q4_K"), a preset id ("mobile") or label ("Mobile (Q4_0)"), case-insensitive;
 * undefined when none matches.
 */
export function findQuantizationType(nameOrPreset: string): QuantizationType | undefined {
  const key = nameOrPreset.trim().toUpperCase();
  const preset = quantizationPresets.find((entry) => entry.id.toUpperCase() === key || entry.label.toUpperCase() === key);
  const name = preset?.type ?? ALIASES[key] ?? key;
  return byName.get(name);
}

/** The offered type with this `enum llama_ftype` value, if any. */
export function quantizationTypeByFtype(ftype: number): QuantizationType | undefined {
  return quantizationTypes.find((type) => type.ftype === ftype);
}
