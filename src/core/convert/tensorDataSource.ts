/**
 * The bytes of one planned output tensor, produced chunk by chunk while the GGUF writer writes them: read from the
 * safetensors file in bounded chunks, transformed, encoded in the output type. Only the Q/K RoPE permutation needs a
 * whole tensor in memory (it moves rows), and Q/K projections are never the largest tensors.
 */
import { type GgufTensorDataSource } from "../gguf/ggufWriter";
import { tensorByteLength } from "../gguf/ggmlTypes";
import { float16Bits, float16Value } from "../numeric/float16";
import { requireSupportedDtype, supportedDtypeBytes, type SupportedSafetensorsDtype } from "../safetensors/safetensorsDtypes";
import { type SafetensorsTensorInfo } from "../safetensors/safetensorsHeader";
import { decodeToFloat32, readSafetensorsTensorBytes, SAFETENSORS_DEFAULT_CHUNK_BYTES } from "../safetensors/safetensorsTensorData";
import { type PlannedTensor, type TensorTransform } from "./architectures/convertArchitecture";
import { ggmlRowEncoder } from "./ggmlRowEncoding";
import { dtypeMatchesGgmlType, encodeFloat32, transcodeHalves } from "./tensorEncoding";

/** Tensors smaller than this are encoded in JavaScript even where ggml could do it. */
const NATIVE_ENCODING_MIN_BYTES = 4 * 1024 * 1024;

/**
 * Bytes read and encoded per step (a multiple of every element and Q8_0 block size). 4 MiB: ggml's BF16 → F16 runs
 * ~2× faster on 4 MiB steps than on 16 MiB ones (the float32 intermediate stays in the CPU cache), and the whole
 * bf16 → f16 conversion in bench/convert.ts took 1.44 s instead of 2.13 s for 1.1 GB; 1–2 MiB were no faster.
 */
export const CONVERT_CHUNK_BYTES = SAFETENSORS_DEFAULT_CHUNK_BYTES;

export interface TensorSourceOptions {
  readonly signal?: AbortSignal;
  readonly chunkBytes?: number;
}

/** A streaming data source for `planned` in `ggmlType`; `tensor` is its checkpoint tensor (undefined for generated ones). */
export function plannedTensorSource(planned: PlannedTensor, tensor: SafetensorsTensorInfo | undefined, ggmlType: number, options: TensorSourceOptions = {}): GgufTensorDataSource {
  const dims = [...planned.shape].reverse();
  const byteLength = tensorByteLength(dims, ggmlType);
  const source = planned.source;
  if (source.kind === "generated") {
    return {
      byteLength,
      chunks: async function* () {
        yield await Promise.resolve(encodeFloat32(source.values.slice(), ggmlType));
      },
    };
  }
  if (tensor === undefined) throw new RangeError(`no checkpoint tensor for ${planned.name}`);
  const dtype = requireSupportedDtype(tensor);
  const transforms = source.transforms;
  const rowsKept = transforms.find((transform) => transform.kind === "take-rows")?.rows ?? tensor.shape[0] ?? 1;
  const rowBytes = tensor.shape.length > 1 ? tensor.byteLength / (tensor.shape[0] ?? 1) : supportedDtypeBytes(dtype);
  const sourceBytes = tensor.shape.length > 1 ? rowsKept * rowBytes : tensor.byteLength;
  const permute = transforms.find((transform) => transform.kind === "rope-permute");
  const add = transforms.find((transform) => transform.kind === "add");
  const chunkBytes = options.chunkBytes ?? CONVERT_CHUNK_BYTES;
  const readOptions = { chunkBytes, ...(options.signal === undefined ? {} : { signal: options.signal }) };
  // The bytes need no encoding (a permutation only moves rows).
  const sameBytes = add === undefined && dtypeMatchesGgmlType(dtype, ggmlType);
  const copyAsIs = permute === undefined && sameBytes;

  return {
    byteLength,
    // Bytes that need no change are copied from the file inside the kernel (ggufWriter), not through chunks().
    ...(copyAsIs && sourceBytes === byteLength ? { fileRange: { file: tensor.file, offset: tensor.fileOffset } } : {}),
    async *chunks() {
      if (permute !== undefined) {
        const whole = new Uint8Array(sourceBytes);
        let filled = 0;
        for await (const chunk of limited(readSafetensorsTensorBytes(tensor, readOptions), sourceBytes)) {
          whole.set(chunk, filled);
          filled += chunk.byteLength;
        }
        const permuted = permuteRopeRows(whole, tensor.shape[0] ?? 1, permute.heads);
        if (sameBytes) yield* splitChunks(permuted, chunkBytes);
        else yield* encodeChunks(splitChunks(permuted, chunkBytes), dtype, ggmlType, add, sourceBytes);
        return;
      }
      // Three buffers in turn: the writer may still be writing one chunk while it holds the next (ggufWriter), and
      // readAhead reads a third meanwhile; the writer is done with a chunk before it asks for the one after next.
      const raw = readAhead(limited(readSafetensorsTensorBytes(tensor, { ...readOptions, reuseBuffers: 3 }), sourceBytes));
      if (sameBytes) yield* raw;
      else yield* encodeChunks(raw, dtype, ggmlType, add, sourceBytes);
    },
  };
}

/** Decodes source chunks to float32, applies an `add` transform, encodes in the output type. */
async function* encodeChunks(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  dtype: SupportedSafetensorsDtype,
  ggmlType: number,
  add: Extract<TensorTransform, { kind: "add" }> | undefined,
  byteLength: number,
): AsyncGenerator<Uint8Array> {
  // Two output buffers in turn: the writer may still be writing the previous chunk (ggufWriter).
  const scratch: (Uint16Array | undefined)[] = [undefined, undefined];
  let turn = 0;
  // ggml does the compute-bound pairs on other threads where it can be loaded (ggmlRowEncoding.ts), same bits; not
  // worth loading it (~70 ms with its self-check) for small tensors alone, like the norms of a bf16 → auto conversion.
  const native = add === undefined && byteLength >= NATIVE_ENCODING_MIN_BYTES ? await ggmlRowEncoder() : undefined;
  for await (const chunk of chunks) {
    const encoded = native?.encode(dtype, ggmlType, chunk);
    if (encoded !== undefined) {
      yield await encoded;
      continue;
    }
    turn ^= 1;
    if (add === undefined) scratch[turn] ??= new Uint16Array(chunk.byteLength / 2);
    const transcoded = add === undefined ? transcodeHalves(dtype, ggmlType, chunk, scratch[turn]) : undefined;
    if (transcoded !== undefined) {
      yield transcoded;
      continue;
    }
    const values = new Float32Array(chunk.byteLength / supportedDtypeBytes(dtype));
    decodeToFloat32(dtype, chunk, values);
    if (add !== undefined) addConstant(values, add.value, dtype);
    yield encodeFloat32(values, ggmlType);
  }
}

/**
 * Adds `value` in the precision convert_hf_to_gguf.py does: F16 tensors stay float16 through `modify_tensors` (the sum
 * is rounded to float16), BF16 ones are widened to float32 first, F32 ones are float32.
 */
function addConstant(values: Float32Array, value: number, dtype: SupportedSafetensorsDtype): void {
  for (let index = 0; index < values.length; index += 1) {
    const sum = (values[index] ?? 0) + value;
    values[index] = dtype === "F16" ? float16Value(float16Bits(sum)) : sum;
  }
}

/**
 * convert_hf_to_gguf.py `LlamaModel.permute`: w.reshape(n_head, 2, rows / n_head / 2, …).swapaxes(1, 2): within each
 * head, output row 2j + i is input row i · (rows per head / 2) + j. Works on raw rows, whatever the element type.
 */
export function permuteRopeRows(data: Uint8Array, rows: number, heads: number): Uint8Array {
  if (rows % (heads * 2) !== 0) throw new RangeError(`cannot permute ${rows} rows for ${heads} heads`);
  const rowBytes = data.byteLength / rows;
  const perHead = rows / heads;
  const half = perHead / 2;
  const out = new Uint8Array(data.byteLength);
  for (let head = 0; head < heads; head += 1) {
    for (let j = 0; j < half; j += 1) {
      for (let i = 0; i < 2; i += 1) {
        const from = (head * perHead + i * half + j) * rowBytes;
        const to = (head * perHead + 2 * j + i) * rowBytes;
        out.set(data.subarray(from, from + rowBytes), to);
      }
    }
  }
  return out;
}

/**
 * Asks for the next chunk as soon as the current one is handed on, so the file read (in libuv's thread pool) overlaps
 * the encoding and the write of the current chunk. One chunk is in flight beyond the one being used.
 */
async function* readAhead(chunks: AsyncGenerator<Uint8Array>): AsyncGenerator<Uint8Array> {
  let next = chunks.next();
  try {
    for (;;) {
      const result = await next;
      if (result.done === true) return;
      next = chunks.next();
      yield result.value;
    }
  } finally {
    // Stopped early (cancel, an error downstream): let the pending read settle, then close the source.
    await next.then(() => undefined, () => undefined);
    await chunks.return(undefined);
  }
}

/** The first `limit` bytes of a chunk stream (stops reading there, which closes the file). */
async function* limited(chunks: AsyncGenerator<Uint8Array>, limit: number): AsyncGenerator<Uint8Array> {
  let done = 0;
  if (limit === 0) return;
  for await (const chunk of chunks) {
    const take = Math.min(chunk.byteLength, limit - done);
    yield take === chunk.byteLength ? chunk : chunk.subarray(0, take);
    done += take;
    if (done >= limit) return;
  }
}

function* splitChunks(data: Uint8Array, chunkBytes: number): Generator<Uint8Array> {
  for (let start = 0; start < data.byteLength; start += chunkBytes) yield data.subarray(start, Math.min(start + chunkBytes, data.byteLength));
}
