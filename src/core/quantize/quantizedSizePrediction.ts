/**
 * The exact size of the file `llama_model_quantize` will write, from its dry run's per-tensor target types: the
 * header it builds (src/llama-quant.cpp: the input's metadata with general.quantization_version and
 * general.file_type set and the split keys removed, tensor infos with the new types) padded to the alignment, then
 * each tensor's data padded to the alignment (gguf.cpp's layout).
 */
import { ggmlTypeByName, tensorByteLength } from "../gguf/ggmlTypes";
import { type GgufFile, type GgufMetadata, type GgufMetadataEntry, type GgufValue } from "../gguf/ggufTypes";
import { encodeGguf } from "../gguf/ggufWriter";
import { type QuantizeTensorLine } from "./quantizeLogParser";

/** GGML_QNT_VERSION in ggml/include/ggml.h of the bundled commit. */
const GGML_QNT_VERSION = 2;

const SPLIT_KEYS = ["split.no", "split.count", "split.tensors.count"];
/** The keys llama.cpp sets as u32 in the output. */
const SET_KEYS = ["general.quantization_version", "general.file_type"];
const FOUR_BYTE_TYPES: ReadonlySet<string> = new Set(["u32", "i32", "f32"]);

/** `ggml_n_dims`: the number of dims written, trailing 1s dropped (at least 1). */
function writtenDimCount(shape: readonly number[]): number {
  for (let index = shape.length - 1; index >= 1; index--) if ((shape[index] ?? 1) > 1) return index + 1;
  return 1;
}

function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}

/** gguf tensor info bytes: name (u64 length + bytes), n_dims (u32), ne (u64 each), type (u32), offset (u64). */
function tensorInfoBytes(name: string, dimCount: number): number {
  return 8 + Buffer.byteLength(name, "utf8") + 4 + 8 * dimCount + 4 + 8;
}

/**
 * Bytes of the output file for `input` quantized as the dry run's `tensors` say. When the output header has the same
 * length as the input's (the usual case: the input already has both u32 keys, no split keys, and the same dim counts),
 * the padded header is the input's data offset; otherwise the header is re-encoded from the full metadata, which
 * `readFullMetadata` reads (slower: it decodes the vocabulary).
 */
export async function predictQuantizedFileSize(
  input: GgufFile<GgufMetadataEntry>,
  ftype: number,
  tensors: readonly QuantizeTensorLine[],
  readFullMetadata: () => Promise<GgufMetadata>,
  /** Keys llama.cpp adds from kv overrides (the importance matrix's `quantize.imatrix.*`), set after the others. */
  extraMetadata: readonly (readonly [string, GgufValue])[] = [],
): Promise<number> {
  let dataBytes = 0;
  let tensorInfoDelta = 0;
  let outputTensorInfo = 0;
  const inputDims = new Map<string, number>(input.tensors.map((tensor) => [tensor.name, tensor.dims.length]));
  for (const tensor of tensors) {
    const type = ggmlTypeByName(tensor.targetType);
    if (type === undefined) throw new Error(`llama.cpp reported an unknown tensor type '${tensor.targetType}' for ${tensor.name}`);
    const dims = writtenDimCount(tensor.shape);
    outputTensorInfo += tensorInfoBytes(tensor.name, dims);
    tensorInfoDelta += tensorInfoBytes(tensor.name, dims) - tensorInfoBytes(tensor.name, inputDims.get(tensor.name) ?? -1);
    dataBytes += alignUp(tensorByteLength(tensor.shape.slice(0, dims), type.id), input.alignment);
  }
  const sameTensors = tensors.length === input.tensors.length && tensors.every((tensor) => inputDims.has(tensor.name));
  const sameKeys =
    SPLIT_KEYS.every((key) => !input.metadata.has(key)) && SET_KEYS.every((key) => FOUR_BYTE_TYPES.has(input.metadata.get(key)?.type ?? "missing"));
  if (sameTensors && sameKeys && tensorInfoDelta === 0 && extraMetadata.length === 0) return input.dataOffset + dataBytes;

  const metadata = new Map<string, GgufValue>(await readFullMetadata());
  for (const key of SPLIT_KEYS) metadata.delete(key);
  metadata.set("general.quantization_version", { type: "u32", value: GGML_QNT_VERSION });
  metadata.set("general.file_type", { type: "u32", value: ftype });
  for (const [key, value] of extraMetadata) metadata.set(key, value);
  // Magic, version, counts and metadata: what encodeGguf writes for a file without tensors.
  const headerBytes = encodeGguf({ metadata, tensors: [], alignment: input.alignment }).byteLength + outputTensorInfo;
  return alignUp(headerBytes, input.alignment) + dataBytes;
}
