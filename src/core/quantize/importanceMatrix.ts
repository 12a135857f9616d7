/**
 * Importance matrix files (`llama-imatrix` output) as llama-quantize reads them (common/imatrix-loader.cpp and
 * tools/quantize/quantize.cpp of the bundled llama.cpp): the GGUF format (`<tensor>.in_sum2` and `<tensor>.counts` F32
 * tensors, `imatrix.datasets` / `imatrix.chunk_count` / `imatrix.chunk_size` metadata) and the legacy `.dat` format.
 * The values handed to `llama_model_quantize` are normalized exactly as llama-quantize does (f32 arithmetic), and the
 * `quantize.imatrix.*` keys it writes into the output are built here too, so that our output stays byte-identical.
 */
import { open, readFile } from "node:fs/promises";
import path from "node:path";
import { throwIfAborted, UserError } from "../errors";
import { GgmlType } from "../gguf/ggmlTypes";
import { readGgufFile, readTensorData } from "../gguf/ggufReader";
import { metadataInteger, metadataStringArray } from "../gguf/ggufMetadata";
import type { GgufTensorInfo } from "../gguf/ggufTypes";

/** Loaded and normalized, ready for `llama_model_quantize`. */
export interface ImportanceMatrix {
  readonly path: string;
  readonly format: "gguf" | "legacy";
  /** Tensor name → importance per column (per expert for MoE), as llama-quantize passes them. */
  readonly entries: ReadonlyMap<string, Float32Array>;
  readonly datasets: readonly string[];
  readonly chunkCount: number;
  readonly chunkSize: number;
}

/** A `llama_model_kv_override` llama-quantize adds to the output's metadata. */
export type QuantizeKvOverride =
  | { readonly key: string; readonly kind: "int"; readonly value: number }
  | { readonly key: string; readonly kind: "str"; readonly value: string };

/** A file that is not a usable importance matrix. */
export class ImportanceMatrixError extends UserError {
  constructor(file: string, problem: string) {
    super(`${path.basename(file)} is not a usable importance matrix: ${problem}.`, {
      action: "Give the .gguf (or legacy .dat) file that llama.cpp's llama-imatrix wrote for this model.",
    });
    this.name = "ImportanceMatrixError";
  }
}

const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
const IN_SUM2_SUFFIX = ".in_sum2";
const COUNTS_SUFFIX = ".counts";
/** llama-quantize copies at most 127 bytes into `val_str` (strncpy into char[128]). */
const MAX_OVERRIDE_STRING_BYTES = 127;

/** Reads an importance matrix file (GGUF or legacy) and normalizes it as llama-quantize does. */
export async function readImportanceMatrix(file: string, signal?: AbortSignal): Promise<ImportanceMatrix> {
  throwIfAborted(signal);
  let magic: number;
  try {
    const handle = await open(file, "r");
    try {
      const head = Buffer.alloc(4);
      const { bytesRead } = await handle.read(head, 0, 4, 0);
      magic = bytesRead === 4 ? head.readUInt32LE(0) : -1;
    } finally {
      await handle.close();
    }
  } catch (error: unknown) {
    throw new UserError(`Cannot read the importance matrix ${file}.`, { action: "Check the path.", inner: error });
  }
  return magic === GGUF_MAGIC ? readGgufImportanceMatrix(file, signal) : readLegacyImportanceMatrix(file);
}

/** The `quantize.imatrix.*` keys llama-quantize writes (file as given on its command line, first dataset, counts). */
export function importanceMatrixOverrides(matrix: ImportanceMatrix, fileAsGiven: string): QuantizeKvOverride[] {
  const overrides: QuantizeKvOverride[] = [{ key: "quantize.imatrix.file", kind: "str", value: truncateUtf8(fileAsGiven, MAX_OVERRIDE_STRING_BYTES) }];
  const dataset = matrix.datasets[0];
  if (dataset !== undefined) overrides.push({ key: "quantize.imatrix.dataset", kind: "str", value: truncateUtf8(dataset, MAX_OVERRIDE_STRING_BYTES) });
  overrides.push({ key: "quantize.imatrix.entries_count", kind: "int", value: matrix.entries.size });
  if (matrix.chunkCount > 0) overrides.push({ key: "quantize.imatrix.chunks_count", kind: "int", value: matrix.chunkCount });
  return overrides;
}

async function readGgufImportanceMatrix(file: string, signal: AbortSignal | undefined): Promise<ImportanceMatrix> {
  const gguf = await readGgufFile(file, signal === undefined ? {} : { signal });
  if (gguf.tensors.length === 0) throw new ImportanceMatrixError(file, "it holds no tensors");
  const datasets = metadataStringArray(gguf.metadata, "imatrix.datasets");
  const chunkCount = metadataInteger(gguf.metadata, "imatrix.chunk_count");
  const chunkSize = metadataInteger(gguf.metadata, "imatrix.chunk_size");
  // llama-quantize refuses a GGUF imatrix without its metadata (a GGUF that is some other kind of file, e.g. a model).
  if (datasets === undefined || chunkCount === undefined || chunkSize === undefined) {
    throw new ImportanceMatrixError(file, "it has no imatrix.datasets / imatrix.chunk_count / imatrix.chunk_size metadata (is it a model rather than an imatrix?)");
  }
  const pairs = new Map<string, { sums?: GgufTensorInfo; counts?: GgufTensorInfo }>();
  for (const tensor of gguf.tensors) {
    const [base, role] = tensor.name.endsWith(IN_SUM2_SUFFIX)
      ? [tensor.name.slice(0, -IN_SUM2_SUFFIX.length), "sums" as const]
      : tensor.name.endsWith(COUNTS_SUFFIX)
        ? [tensor.name.slice(0, -COUNTS_SUFFIX.length), "counts" as const]
        : [undefined, undefined];
    if (base === undefined || base === "") continue;
    const pair = pairs.get(base) ?? {};
    pair[role] = tensor;
    pairs.set(base, pair);
  }
  const entries = new Map<string, Float32Array>();
  for (const [name, pair] of [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (pair.sums === undefined || pair.counts === undefined) throw new ImportanceMatrixError(file, `tensor ${name} has sums without counts or counts without sums`);
    if (pair.sums.ggmlType !== GgmlType.F32 || pair.counts.ggmlType !== GgmlType.F32) throw new ImportanceMatrixError(file, `the sums and counts of ${name} must be F32`);
    const sums = await readFloats(gguf, pair.sums, signal);
    const counts = (await readFloats(gguf, pair.counts, signal)).map((count) => Math.round(count));
    if (counts.length === 0 || sums.length % counts.length !== 0) throw new ImportanceMatrixError(file, `${name} has ${sums.length} sums for ${counts.length} counts`);
    const perCount = sums.length / counts.length;
    const values = new Float32Array(sums.length);
    for (let j = 0; j < counts.length; j++) {
      const count = counts[j] ?? 0;
      for (let i = 0; i < perCount; i++) {
        // f32 sum ÷ f32 count, rounded once to f32: a double division of two floats rounds correctly to float.
        values[j * perCount + i] = count > 0 ? (sums[j * perCount + i] ?? 0) / Math.fround(count) : 1;
      }
    }
    entries.set(name, values);
  }
  if (entries.size === 0) throw new ImportanceMatrixError(file, "it holds no .in_sum2/.counts tensor pairs");
  return { path: file, format: "gguf", entries, datasets, chunkCount, chunkSize };
}

async function readFloats(gguf: Awaited<ReturnType<typeof readGgufFile>>, tensor: GgufTensorInfo, signal: AbortSignal | undefined): Promise<Float32Array> {
  const bytes = new Uint8Array(tensor.byteLength);
  let filled = 0;
  for await (const chunk of readTensorData(gguf, tensor, signal)) {
    bytes.set(chunk, filled);
    filled += chunk.byteLength;
  }
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** The legacy format: i32 n_entries, then per entry i32 name length, name, i32 ncall, i32 nval, f32 × nval; then optionally i32 chunk count, i32 length, dataset name. */
async function readLegacyImportanceMatrix(file: string): Promise<ImportanceMatrix> {
  const bytes = await readFile(file);
  let offset = 0;
  const need = (count: number, what: string): void => {
    if (offset + count > bytes.byteLength) throw new ImportanceMatrixError(file, `it ends at byte ${bytes.byteLength} while reading ${what} (neither GGUF nor a complete legacy imatrix)`);
  };
  const int32 = (what: string): number => {
    need(4, what);
    const value = bytes.readInt32LE(offset);
    offset += 4;
    return value;
  };
  const entryCount = int32("the number of entries");
  if (entryCount < 1) throw new ImportanceMatrixError(file, "it holds no entries (or is neither GGUF nor a legacy imatrix)");
  const entries = new Map<string, Float32Array>();
  for (let index = 0; index < entryCount; index++) {
    const nameLength = int32(`the name length of entry ${index + 1}`);
    if (nameLength < 0 || nameLength > 4096) throw new ImportanceMatrixError(file, `entry ${index + 1} has an invalid name length ${nameLength}`);
    need(nameLength, `the name of entry ${index + 1}`);
    // llama.cpp keeps the name up to its first NUL (it builds a std::string from a char*).
    const rawName = bytes.subarray(offset, offset + nameLength).toString("utf8");
    const name = rawName.split("\0")[0] ?? "";
    offset += nameLength;
    const callCount = int32(`the call count of ${name}`);
    const valueCount = int32(`the value count of ${name}`);
    if (valueCount < 1) throw new ImportanceMatrixError(file, `${name} has ${valueCount} values`);
    need(valueCount * 4, `the ${valueCount} values of ${name}`);
    const values = new Float32Array(valueCount);
    for (let i = 0; i < valueCount; i++) {
      const sum = bytes.readFloatLE(offset + 4 * i);
      // `sums[i] / ncall` with ncall an int64 converted to float.
      values[i] = callCount > 0 ? sum / Math.fround(callCount) : sum;
    }
    offset += valueCount * 4;
    entries.set(name, values);
  }
  let chunkCount = 0;
  const datasets: string[] = [];
  if (offset + 4 <= bytes.byteLength) {
    chunkCount = bytes.readInt32LE(offset);
    offset += 4;
    if (offset + 4 <= bytes.byteLength) {
      const length = bytes.readInt32LE(offset);
      offset += 4;
      if (length > 0 && offset + length <= bytes.byteLength) datasets.push(bytes.subarray(offset, offset + length).toString("utf8").split("\0")[0] ?? "");
    }
  }
  return { path: file, format: "legacy", entries, datasets, chunkCount, chunkSize: 0 };
}

function truncateUtf8(text: string, maxBytes: number): string {
  // llama-quantize cuts bytes (strncpy); we cut whole characters so the value stays valid UTF-8 (same for ASCII paths).
  let cut = text;
  while (Buffer.byteLength(cut, "utf8") > maxBytes) cut = cut.slice(0, -1);
  return cut;
}
