/**
 * The tensor element types of ggml (`enum ggml_type` in llama.cpp `ggml/include/ggml.h` of the bundled commit) with
 * their block size and bytes per block (`type_traits` in `ggml/src/ggml.c`; the same numbers as
 * `GGML_QUANT_SIZES` in `gguf-py/gguf/constants.py`). Removed ids (4, 5, 31–33, 36–38) are left out on purpose:
 * a GGUF file that uses them cannot be loaded by the bundled llama.cpp.
 */

export interface GgmlTypeInfo {
  /** `enum ggml_type` value as stored in a GGUF tensor info. */
  readonly id: number;
  /** Upper-case name as in the enum without the `GGML_TYPE_` prefix: "F32", "Q4_K", "IQ2_XXS". */
  readonly name: string;
  /** Elements per block (1 for plain types, 32/64/128/256 for quantized ones). */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
  /** True for block-quantized types. */
  readonly quantized: boolean;
}

/** `enum ggml_type` values by name (only the ids the bundled ggml still knows). */
export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  IQ2_XXS: 16,
  IQ2_XS: 17,
  IQ3_XXS: 18,
  IQ1_S: 19,
  IQ4_NL: 20,
  IQ3_S: 21,
  IQ2_S: 22,
  IQ4_XS: 23,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  IQ1_M: 29,
  BF16: 30,
  TQ1_0: 34,
  TQ2_0: 35,
  MXFP4: 39,
  NVFP4: 40,
  Q1_0: 41,
  Q2_0: 42,
} as const;
export type GgmlTypeName = keyof typeof GgmlType;

/** QK_K from `ggml/src/ggml-common.h`: the super-block size of the k-quants and i-quants. */
const QK_K = 256;

/** [blockSize, typeSize] per type, verified against `sizeof(block_*)` of the bundled `ggml-common.h`. */
const SIZES: Readonly<Record<GgmlTypeName, readonly [number, number]>> = {
  F32: [1, 4],
  F16: [1, 2],
  Q4_0: [32, 2 + 16],
  Q4_1: [32, 2 + 2 + 16],
  Q5_0: [32, 2 + 4 + 16],
  Q5_1: [32, 2 + 2 + 4 + 16],
  Q8_0: [32, 2 + 32],
  Q8_1: [32, 2 + 2 + 32],
  Q2_K: [QK_K, 2 + 2 + QK_K / 16 + QK_K / 4],
  Q3_K: [QK_K, 2 + QK_K / 4 + QK_K / 8 + 12],
  Q4_K: [QK_K, 2 + 2 + QK_K / 2 + 12],
  Q5_K: [QK_K, 2 + 2 + QK_K / 2 + QK_K / 8 + 12],
  Q6_K: [QK_K, 2 + QK_K / 2 + QK_K / 4 + QK_K / 16],
  Q8_K: [QK_K, 4 + QK_K + QK_K / 8],
  IQ2_XXS: [QK_K, 2 + QK_K / 4],
  IQ2_XS: [QK_K, 2 + QK_K / 4 + QK_K / 32],
  IQ3_XXS: [QK_K, 2 + QK_K / 4 + QK_K / 8],
  IQ1_S: [QK_K, 2 + QK_K / 8 + QK_K / 16],
  IQ4_NL: [32, 2 + 16],
  IQ3_S: [QK_K, 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4],
  IQ2_S: [QK_K, 2 + QK_K / 4 + QK_K / 16],
  IQ4_XS: [QK_K, 2 + 2 + QK_K / 2 + QK_K / 64],
  I8: [1, 1],
  I16: [1, 2],
  I32: [1, 4],
  I64: [1, 8],
  F64: [1, 8],
  IQ1_M: [QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32],
  BF16: [1, 2],
  TQ1_0: [QK_K, 2 + 4 * 13],
  TQ2_0: [QK_K, 2 + 64],
  MXFP4: [32, 1 + 16],
  NVFP4: [64, 4 + 32],
  Q1_0: [128, 2 + 16],
  Q2_0: [64, 2 + 16],
};

/** Every known type, ordered by id. */
export const ggmlTypes: readonly GgmlTypeInfo[] = (Object.keys(GgmlType) as GgmlTypeName[])
  .map((name): GgmlTypeInfo => {
    const [blockSize, typeSize] = SIZES[name];
    return { id: GgmlType[name], name, blockSize, typeSize, quantized: blockSize > 1 };
  })
  .sort((a, b) => a.id - b.id);

const byId = new Map<number, GgmlTypeInfo>(ggmlTypes.map((info) => [info.id, info]));
const byName = new Map<string, GgmlTypeInfo>(ggmlTypes.map((info) => [info.name, info]));

/** The type with this `enum ggml_type` id, or undefined for an unknown or removed id. */
export function ggmlTypeInfo(id: number): GgmlTypeInfo | undefined {
  return byId.get(id);
}

/** The type with this name, case-insensitive ("q4_K", "Q4_K", "GGML_TYPE_Q4_K"), or undefined. */
export function ggmlTypeByName(name: string): GgmlTypeInfo | undefined {
  return byName.get(name.toUpperCase().replace(/^GGML_TYPE_/, ""));
}

/** Product of the dims (the element count); 1 for a scalar (no dims), as in ggml. */
export function elementCount(dims: readonly number[]): number {
  let count = 1;
  for (const dim of dims) count *= dim;
  return count;
}

/**
 * Bytes of a tensor with these dims (ne[0] innermost) and type, as `ggml_nbytes` computes for a contiguous tensor.
 * Throws a RangeError for an unknown type, a negative or non-integer dim, ne[0] not a multiple of the block size,
 * or a size that is not a safe integer.
 */
export function tensorByteLength(dims: readonly number[], ggmlType: number): number {
  const info = ggmlTypeInfo(ggmlType);
  if (info === undefined) throw new RangeError(`unknown ggml type ${ggmlType}`);
  for (const dim of dims) {
    if (!Number.isSafeInteger(dim) || dim < 0) throw new RangeError(`invalid dimension ${dim} in [${dims.join(", ")}]`);
  }
  const rowLength = dims[0] ?? 1;
  if (rowLength % info.blockSize !== 0) {
    throw new RangeError(`${info.name} tensor row length ${rowLength} is not a multiple of the block size ${info.blockSize}`);
  }
  const elements = elementCount(dims);
  const bytes = (elements / info.blockSize) * info.typeSize;
  if (!Number.isSafeInteger(elements) || !Number.isSafeInteger(bytes)) throw new RangeError(`tensor of shape [${dims.join(", ")}] is too large`);
  return bytes;
}
