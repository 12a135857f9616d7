/** What a person wants to know about a GGUF model at a glance, from its header alone. */
import { elementCount, ggmlTypeInfo, GgmlType } from "./ggmlTypes";
import {
  metadataArchitecture,
  metadataArchitectureNumber,
  metadataArrayLength,
  metadataInteger,
  metadataString,
  type GgufMetadataView,
} from "./ggufMetadata";
import { readGgufFile } from "./ggufReader";
import type { GgufFile, GgufMetadataEntry, GgufModelSummary, GgufTensorInfo } from "./ggufTypes";
import { llamaFileTypeName, type LlamaFileTypeName } from "./llamaFileTypes";

/** Arrays longer than this are only counted when reading for a summary (vocabularies, merges, scores). */
const SUMMARY_MAX_ARRAY_VALUES = 64;

/** Summarizes a parsed file (read with or without `maxArrayValues`). */
export function summarizeGguf(file: GgufFile<GgufMetadataEntry>): GgufModelSummary {
  const meta = file.metadata;
  let parameterCount = 0;
  let tensorBytes = 0;
  for (const tensor of file.tensors) {
    parameterCount += elementCount(tensor.dims);
    tensorBytes += tensor.byteLength;
  }
  return {
    path: file.path,
    architecture: metadataArchitecture(meta),
    name: metadataString(meta, "general.name"),
    parameterCount,
    fileType: fileTypeOf(meta, file.tensors),
    tensorCount: file.tensors.length,
    contextLength: architectureInteger(meta, "context_length"),
    vocabularySize: metadataArrayLength(meta, "tokenizer.ggml.tokens") ?? architectureInteger(meta, "vocab_size"),
    tokenizerModel: metadataString(meta, "tokenizer.ggml.model"),
    tokenizerPre: metadataString(meta, "tokenizer.ggml.pre"),
    embeddingLength: architectureInteger(meta, "embedding_length"),
    blockCount: architectureInteger(meta, "block_count"),
    headCount: architectureInteger(meta, "attention.head_count"),
    headCountKv: architectureInteger(meta, "attention.head_count_kv"),
    feedForwardLength: architectureInteger(meta, "feed_forward_length"),
    fileSize: file.fileSize,
    bitsPerWeight: parameterCount > 0 ? (tensorBytes * 8) / parameterCount : 0,
    ggufVersion: file.version,
  };
}

/** Reads just enough of a GGUF file to summarize it (long arrays are counted, not decoded). */
export async function readGgufSummary(path: string, options: { readonly signal?: AbortSignal } = {}): Promise<GgufModelSummary> {
  const file = await readGgufFile(path, { ...options, maxArrayValues: SUMMARY_MAX_ARRAY_VALUES });
  return summarizeGguf(file);
}

function architectureInteger(meta: GgufMetadataView, suffix: string): number | undefined {
  const value = metadataArchitectureNumber(meta, suffix);
  return value !== undefined && Number.isSafeInteger(value) ? value : undefined;
}

/**
 * The file type from `general.file_type`; without it (or with an unknown value), the type llama.cpp would guess
 * (`llama_model_loader`: the most common tensor type) counted over the 2-D weights, which carry the quantization.
 */
function fileTypeOf(meta: GgufMetadataView, tensors: readonly GgufTensorInfo[]): string {
  const declared = metadataInteger(meta, "general.file_type");
  const name = declared === undefined ? undefined : llamaFileTypeName(declared);
  if (name !== undefined) return name;
  const matrices = tensors.filter((tensor) => tensor.dims.length === 2);
  const counted = matrices.length > 0 ? matrices : tensors;
  if (counted.length === 0) return "unknown";
  const counts = new Map<number, number>();
  for (const tensor of counted) counts.set(tensor.ggmlType, (counts.get(tensor.ggmlType) ?? 0) + 1);
  let mostCommon = counted[0]?.ggmlType ?? GgmlType.F32;
  for (const [type, count] of counts) if (count > (counts.get(mostCommon) ?? 0)) mostCommon = type;
  return FILE_TYPE_BY_GGML_TYPE.get(mostCommon) ?? ggmlTypeInfo(mostCommon)?.name ?? "unknown";
}

/** `llama_model_loader`'s mapping from the most common tensor type to a file type (k-quants guess "Medium"). */
const FILE_TYPE_BY_GGML_TYPE = new Map<number, LlamaFileTypeName>([
  [GgmlType.F32, "F32"],
  [GgmlType.F16, "F16"],
  [GgmlType.BF16, "BF16"],
  [GgmlType.Q4_0, "Q4_0"],
  [GgmlType.Q4_1, "Q4_1"],
  [GgmlType.Q5_0, "Q5_0"],
  [GgmlType.Q5_1, "Q5_1"],
  [GgmlType.Q8_0, "Q8_0"],
  [GgmlType.Q2_K, "Q2_K"],
  [GgmlType.Q3_K, "Q3_K_M"],
  [GgmlType.Q4_K, "Q4_K_M"],
  [GgmlType.Q5_K, "Q5_K_M"],
  [GgmlType.Q6_K, "Q6_K"],
  [GgmlType.TQ1_0, "TQ1_0"],
  [GgmlType.TQ2_0, "TQ2_0"],
  [GgmlType.IQ2_XXS, "IQ2_XXS"],
  [GgmlType.IQ2_XS, "IQ2_XS"],
  [GgmlType.IQ2_S, "IQ2_S"],
  [GgmlType.IQ3_XXS, "IQ3_XXS"],
  [GgmlType.IQ1_S, "IQ1_S"],
  [GgmlType.IQ1_M, "IQ1_M"],
  [GgmlType.IQ4_NL, "IQ4_NL"],
  [GgmlType.IQ4_XS, "IQ4_XS"],
  [GgmlType.IQ3_S, "IQ3_S"],
  [GgmlType.NVFP4, "NVFP4"],
  [GgmlType.Q1_0, "Q1_0"],
  [GgmlType.Q2_0, "Q2_0"],
]);
