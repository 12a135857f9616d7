/**
 * Which llama.cpp quantizations to make (or download) for a catalog entry. The presets follow
 * ../shared/reference/quantization.md: Q4_0 for phones, Q5_1 for edge devices, Q8_0 when quality comes first; models
 * trained ternary (BitNet b1.58) get llama.cpp's ternary types TQ2_0 / TQ1_0 instead.
 */
import { type LlamaFileTypeName } from "../gguf/llamaFileTypes";
import { quantizationPresets } from "../quantize/quantizationTypes";
import { type CatalogEntry } from "./catalogTypes";

/** Ids of the quantizer's presets (src/core/quantize/quantizationTypes.ts) that the catalog recommends, plus ternary. */
export const QUANTIZATION_PRESETS = ["mobile", "edge", "production", "ternary"] as const;

export type QuantizationPreset = (typeof QUANTIZATION_PRESETS)[number];

/** A published GGUF file (or `-hf repo:TAG` quantization) that already has this type. */
export interface PublishedQuantization {
  readonly repo: string;
  /** Absent when only the `-hf` tag was confirmed, not the file name. */
  readonly file?: string;
}

export interface QuantizationRecommendation {
  readonly type: LlamaFileTypeName;
  readonly preset: QuantizationPreset;
  readonly purpose: string;
  /** GGUF sources of the entry that already publish this type; empty means: quantize it yourself from F16/BF16. */
  readonly publishedIn: readonly PublishedQuantization[];
}

export interface Preset {
  readonly type: LlamaFileTypeName;
  readonly preset: QuantizationPreset;
  readonly purpose: string;
}

function isRecommendedPreset(id: string): id is QuantizationPreset {
  return (QUANTIZATION_PRESETS as readonly string[]).includes(id);
}

/** Q4_0 / Q5_1 / Q8_0, taken from the quantizer's presets so names and types are defined once ("balanced" is not a catalog recommendation). */
export const STANDARD_PRESETS: readonly Preset[] = quantizationPresets.flatMap((preset) =>
  isRecommendedPreset(preset.id) ? [{ type: preset.type, preset: preset.id, purpose: preset.detail }] : [],
);

// llama.cpp's ternary types (ggml.h GGML_TYPE_TQ1_0/TQ2_0), for weights that are already {-1, 0, 1}.
const TERNARY_PRESETS: readonly Preset[] = [
  { type: "TQ2_0", preset: "ternary", purpose: "ternary weights at 2.06 bpw (faster kernels)" },
  { type: "TQ1_0", preset: "ternary", purpose: "ternary weights at 1.69 bpw (smallest)" },
];

/** The quantizations to offer for `entry`, best-suited first, with where each is already published. */
export function recommendedQuantizations(entry: CatalogEntry): QuantizationRecommendation[] {
  const presets = entry.tags.includes("ternary") ? TERNARY_PRESETS : STANDARD_PRESETS;
  return presets.map((preset) => ({ ...preset, publishedIn: publishedQuantizations(entry, preset.type) }));
}

/** The entry's GGUF files and `-hf` tags that hold `type`. */
export function publishedQuantizations(entry: CatalogEntry, type: LlamaFileTypeName): PublishedQuantization[] {
  const fileSuffix = new RegExp(`[-._]${type}\\.gguf$`, "i");
  return entry.repositories.gguf.flatMap((source) => {
    const files = source.files.filter((file) => fileSuffix.test(file)).map((file) => ({ repo: source.repo, file }));
    if (files.length > 0) return files;
    return source.quantTags.some((tag) => tag.toUpperCase() === type) ? [{ repo: source.repo }] : [];
  });
}
