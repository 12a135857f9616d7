/**
 * The GGUF data model shared by the reader and the writer.
 * Follows the GGUF v3 spec (llama.cpp `docs/gguf.md`, `ggml/include/gguf.h` of the bundled commit).
 */

/** `enum gguf_type` from gguf.h: the on-disk tag of a metadata value. */
export const GgufValueTag = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
} as const;
export type GgufValueType = keyof typeof GgufValueTag;

export type GgufNumberType = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64";
export type GgufBigIntType = "u64" | "i64";

/** A scalar metadata value, tagged with its exact on-disk type so it round-trips. */
export type GgufScalar =
  | { readonly type: GgufNumberType; readonly value: number }
  | { readonly type: GgufBigIntType; readonly value: bigint }
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "string"; readonly value: string };

/** An array metadata value; arrays may nest (`itemType: "array"`). */
export type GgufArray =
  | { readonly type: "array"; readonly itemType: GgufNumberType; readonly values: readonly number[] }
  | { readonly type: "array"; readonly itemType: GgufBigIntType; readonly values: readonly bigint[] }
  | { readonly type: "array"; readonly itemType: "bool"; readonly values: readonly boolean[] }
  | { readonly type: "array"; readonly itemType: "string"; readonly values: readonly string[] }
  | { readonly type: "array"; readonly itemType: "array"; readonly values: readonly GgufArray[] };

export type GgufValue = GgufScalar | GgufArray;

/** Metadata in file order. */
export type GgufMetadata = ReadonlyMap<string, GgufValue>;

/**
 * A top-level array the reader left undecoded because it is longer than `GgufReadOptions.maxArrayValues`
 * (e.g. a 150k-token vocabulary when only a summary is wanted): its item type and length, not its values.
 */
export interface GgufArraySummary {
  readonly type: "array-summary";
  readonly itemType: GgufValueType;
  readonly length: number;
}

/** A metadata entry as read with `maxArrayValues`: a full value, or a long array's summary. */
export type GgufMetadataEntry = GgufValue | GgufArraySummary;

/** One tensor info record. `offset` is relative to the start of the tensor data section. */
export interface GgufTensorInfo {
  readonly name: string;
  /** ne[0..n): ne[0] is the innermost (contiguous) dimension, as in ggml. */
  readonly dims: readonly number[];
  /** `enum ggml_type` value. */
  readonly ggmlType: number;
  readonly offset: number;
  /** Bytes of this tensor's data, from the ggml type's block size and type size. */
  readonly byteLength: number;
}

/**
 * What the reader returns: everything but the tensor data.
 * `Entry` is `GgufValue` (the default: every array decoded) or `GgufMetadataEntry` when read with `maxArrayValues`.
 */
export interface GgufFile<Entry extends GgufMetadataEntry = GgufValue> {
  readonly path: string;
  readonly version: number;
  /** Metadata in file order. */
  readonly metadata: ReadonlyMap<string, Entry>;
  readonly tensors: readonly GgufTensorInfo[];
  /** `general.alignment`, default 32. */
  readonly alignment: number;
  /** Absolute file offset of the tensor data section. */
  readonly dataOffset: number;
  readonly fileSize: number;
}

/** What a person wants to know about a GGUF model at a glance (tree, CLI `info`, model info view). */
export interface GgufModelSummary {
  readonly path: string;
  /** `general.architecture`, e.g. "llama", "qwen2". */
  readonly architecture: string | undefined;
  /** `general.name`. */
  readonly name: string | undefined;
  /** Sum of the element counts of all tensors. */
  readonly parameterCount: number;
  /** llama.cpp file type name ("F16", "Q4_K_M", …) from `general.file_type`, else inferred from the tensors. */
  readonly fileType: string;
  readonly tensorCount: number;
  /** `{arch}.context_length`. */
  readonly contextLength: number | undefined;
  /** Length of `tokenizer.ggml.tokens` (or `{arch}.vocab_size`). */
  readonly vocabularySize: number | undefined;
  /** `tokenizer.ggml.model`, e.g. "llama" (SentencePiece), "gpt2" (BPE). */
  readonly tokenizerModel: string | undefined;
  /** `tokenizer.ggml.pre`, e.g. "qwen2", "llama-bpe". */
  readonly tokenizerPre: string | undefined;
  readonly embeddingLength: number | undefined;
  readonly blockCount: number | undefined;
  readonly headCount: number | undefined;
  readonly headCountKv: number | undefined;
  readonly feedForwardLength: number | undefined;
  /** Size on disk in bytes. */
  readonly fileSize: number;
  /** Tensor data bits per parameter. */
  readonly bitsPerWeight: number;
  readonly ggufVersion: number;
}
