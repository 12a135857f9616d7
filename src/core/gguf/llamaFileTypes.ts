/**
 * `enum llama_ftype` (llama.cpp `include/llama.h` of the bundled commit): the value of `general.file_type`, i.e. the
 * quantization scheme a whole model file was made with. Short names follow `llama-quantize`'s ("Q4_K_M", "F16");
 * descriptions follow `llama_ftype_name` in `src/llama-model-loader.cpp` ("Q4_K - Medium").
 * Removed values (4–6, 33–35) are left out.
 */

interface LlamaFileTypeEntry {
  readonly id: number;
  /** Short name: the enum name without `LLAMA_FTYPE_MOSTLY_` ("ALL_F32" becomes "F32"). */
  readonly name: string;
  /** llama.cpp's own description. */
  readonly description: string;
}

/** `enum llama_ftype` values by short name. */
export const LlamaFileType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q8_0: 7,
  Q5_0: 8,
  Q5_1: 9,
  Q2_K: 10,
  Q3_K_S: 11,
  Q3_K_M: 12,
  Q3_K_L: 13,
  Q4_K_S: 14,
  Q4_K_M: 15,
  Q5_K_S: 16,
  Q5_K_M: 17,
  Q6_K: 18,
  IQ2_XXS: 19,
  IQ2_XS: 20,
  Q2_K_S: 21,
  IQ3_XS: 22,
  IQ3_XXS: 23,
  IQ1_S: 24,
  IQ4_NL: 25,
  IQ3_S: 26,
  IQ3_M: 27,
  IQ2_S: 28,
  IQ2_M: 29,
  IQ4_XS: 30,
  IQ1_M: 31,
  BF16: 32,
  TQ1_0: 36,
  TQ2_0: 37,
  MXFP4_MOE: 38,
  NVFP4: 39,
  Q1_0: 40,
  Q2_0: 41,
} as const;
export type LlamaFileTypeName = keyof typeof LlamaFileType;

/** `LLAMA_FTYPE_GUESSED`: set by llama.cpp when the file type was not in the file. */
export const LLAMA_FTYPE_GUESSED = 1024;

const DESCRIPTIONS: Readonly<Record<LlamaFileTypeName, string>> = {
  F32: "all F32",
  F16: "F16",
  Q4_0: "Q4_0",
  Q4_1: "Q4_1",
  Q8_0: "Q8_0",
  Q5_0: "Q5_0",
  Q5_1: "Q5_1",
  Q2_K: "Q2_K - Medium",
  Q3_K_S: "Q3_K - Small",
  Q3_K_M: "Q3_K - Medium",
  Q3_K_L: "Q3_K - Large",
  Q4_K_S: "Q4_K - Small",
  Q4_K_M: "Q4_K - Medium",
  Q5_K_S: "Q5_K - Small",
  Q5_K_M: "Q5_K - Medium",
  Q6_K: "Q6_K",
  IQ2_XXS: "IQ2_XXS - 2.0625 bpw",
  IQ2_XS: "IQ2_XS - 2.3125 bpw",
  Q2_K_S: "Q2_K - Small",
  IQ3_XS: "IQ3_XS - 3.3 bpw",
  IQ3_XXS: "IQ3_XXS - 3.0625 bpw",
  IQ1_S: "IQ1_S - 1.5625 bpw",
  IQ4_NL: "IQ4_NL - 4.5 bpw",
  IQ3_S: "IQ3_S - 3.4375 bpw",
  IQ3_M: "IQ3_S mix - 3.66 bpw",
  IQ2_S: "IQ2_S - 2.5 bpw",
  IQ2_M: "IQ2_M - 2.7 bpw",
  IQ4_XS: "IQ4_XS - 4.25 bpw",
  IQ1_M: "IQ1_M - 1.75 bpw",
  BF16: "BF16",
  TQ1_0: "TQ1_0 - 1.69 bpw ternary",
  TQ2_0: "TQ2_0 - 2.06 bpw ternary",
  MXFP4_MOE: "MXFP4 MoE",
  NVFP4: "NVFP4",
  Q1_0: "Q1_0",
  Q2_0: "Q2_0",
};

const entries: readonly LlamaFileTypeEntry[] = (Object.keys(LlamaFileType) as LlamaFileTypeName[]).map((name) => ({
  id: LlamaFileType[name],
  name,
  description: DESCRIPTIONS[name],
}));
const byId = new Map<number, LlamaFileTypeEntry>(entries.map((entry) => [entry.id, entry]));
const byName = new Map<string, LlamaFileTypeEntry>(entries.map((entry) => [entry.name, entry]));

/** Short name ("Q4_K_M") of a `general.file_type` value, or undefined for an unknown one. The guessed bit is ignored. */
export function llamaFileTypeName(id: number): string | undefined {
  return byId.get(id & ~LLAMA_FTYPE_GUESSED)?.name;
}

/** llama.cpp's description ("Q4_K - Medium") of a `general.file_type` value, or undefined. */
export function llamaFileTypeDescription(id: number): string | undefined {
  return byId.get(id & ~LLAMA_FTYPE_GUESSED)?.description;
}

/**
 * The `enum llama_ftype` value for a name, case-insensitive, with or without the enum prefixes:
 * "Q4_K_M", "q4_k_m", "MOSTLY_Q4_0", "LLAMA_FTYPE_MOSTLY_Q4_0", "ALL_F32", "F32". Undefined when unknown.
 */
export function llamaFileTypeByName(name: string): number | undefined {
  const short = name
    .toUpperCase()
    .replace(/^LLAMA_FTYPE_/, "")
    .replace(/^MOSTLY_/, "")
    .replace(/^ALL_F32$/, "F32");
  return byName.get(short)?.id;
}
