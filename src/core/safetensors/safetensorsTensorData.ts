/**
 * Streams one tensor's bytes from its safetensors file in bounded chunks, and converts F32/F16/BF16 tensors to
 * float32, one tensor (or one chunk) at a time: a checkpoint is never held in memory as a whole.
 */
import { open } from "node:fs/promises";
import { endianness } from "node:os";
import { throwIfAborted } from "../errors";
import { bfloat16ToFloat32Bits } from "../numeric/bfloat16";
import { float16ToFloat32Table } from "../numeric/float16";
import { requireSupportedDtype, supportedDtypeBytes, type SupportedSafetensorsDtype } from "./safetensorsDtypes";
import { SafetensorsFormatError } from "./safetensorsErrors";
import { type SafetensorsTensorInfo } from "./safetensorsHeader";

/** Default chunk size: 4 MiB, a multiple of every element size. */
export const SAFETENSORS_DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;

export interface SafetensorsTensorReadOptions {
  readonly signal?: AbortSignal;
  /** Most bytes per yielded chunk; rounded down to a multiple of 8 so a chunk always holds whole elements. */
  readonly chunkBytes?: number;
  /**
   * Read into this many buffers in turn instead of a fresh one per chunk: a chunk then stays valid only until this
   * many more have been asked for, or until the next reading with this option starts after this one ended (the
   * buffers go back to a pool and serve the next tensor). Saves the garbage collector gigabytes of short-lived
   * buffers on a big checkpoint, and the process fresh pages to fault in for every tensor.
   */
  readonly reuseBuffers?: number;
}

/** Chunk buffers that readings with `reuseBuffers` return when they end, by byte length. */
const bufferPool = new Map<number, Buffer[]>();
/** Pooled buffers are kept up to this many bytes in all (a few chunks' worth, not a model). */
const BUFFER_POOL_MAX_BYTES = 128 * 1024 * 1024;

/** Bytes held in `bufferPool`. */
let pooledBytes = 0;

function borrowBuffer(byteLength: number): Buffer {
  const pooled = bufferPool.get(byteLength)?.pop();
  if (pooled !== undefined) pooledBytes -= pooled.byteLength;
  // Not zero-filled: every byte is read into before it is yielded (a short read is an error).
  return pooled ?? Buffer.allocUnsafeSlow(byteLength);
}

function returnBuffers(buffers: readonly Buffer[]): void {
  for (const buffer of buffers) {
    if (pooledBytes + buffer.byteLength > BUFFER_POOL_MAX_BYTES) return;
    const list = bufferPool.get(buffer.byteLength) ?? [];
    list.push(buffer);
    bufferPool.set(buffer.byteLength, list);
    pooledBytes += buffer.byteLength;
  }
}

/**
 * Yields a tensor's bytes in order, in fresh chunks of at most `chunkBytes` (each chunk holds whole elements).
 * A file that got shorter since its header was read gives a `truncated` SafetensorsFormatError.
 */
export async function* readSafetensorsTensorBytes(tensor: SafetensorsTensorInfo, options: SafetensorsTensorReadOptions = {}): AsyncGenerator<Uint8Array> {
  const chunkBytes = Math.max(8, Math.floor((options.chunkBytes ?? SAFETENSORS_DEFAULT_CHUNK_BYTES) / 8) * 8);
  throwIfAborted(options.signal);
  if (tensor.byteLength === 0) return;
  const handle = await open(tensor.file, "r");
  const ring: Buffer[] = [];
  const ringSize = Math.max(0, Math.floor(options.reuseBuffers ?? 0));
  let turn = 0;
  try {
    for (let done = 0; done < tensor.byteLength; ) {
      throwIfAborted(options.signal);
      const length = Math.min(chunkBytes, tensor.byteLength - done);
      let chunk: Uint8Array;
      if (ringSize === 0) {
        // Not zero-filled: every byte is read into before it is yielded (a short read is an error below).
        chunk = Buffer.allocUnsafeSlow(length);
      } else {
        const slot = turn++ % ringSize;
        // Full chunk-sized buffers, whatever this tensor's size, so that every tensor can reuse them.
        chunk = (ring[slot] ??= borrowBuffer(chunkBytes)).subarray(0, length);
      }
      let filled = 0;
      while (filled < chunk.byteLength) {
        const { bytesRead } = await handle.read(chunk, filled, chunk.byteLength - filled, tensor.fileOffset + done + filled);
        if (bytesRead === 0) {
          throw new SafetensorsFormatError(
            "truncated",
            tensor.file,
            tensor.fileOffset + done + filled,
            `data of tensor "${tensor.name}" up to byte ${tensor.fileOffset + tensor.byteLength}`,
            "the file got shorter while it was being read",
          );
        }
        filled += bytesRead;
      }
      done += chunk.byteLength;
      yield chunk;
    }
  } finally {
    await handle.close();
    returnBuffers(ring);
  }
}

/**
 * Decodes little-endian elements of a supported dtype into `out` starting at `outIndex`; returns the element count.
 * `bytes` must hold whole elements. F16 and BF16 values are exactly representable in float32, so this is exact.
 */
export function decodeToFloat32(dtype: SupportedSafetensorsDtype, bytes: Uint8Array, out: Float32Array, outIndex = 0): number {
  if (endianness() !== "LE") throw new Error("safetensors data can only be decoded on a little-endian machine");
  const size = supportedDtypeBytes(dtype);
  if (bytes.byteLength % size !== 0) throw new RangeError(`${bytes.byteLength} bytes are not a whole number of ${dtype} elements`);
  const count = bytes.byteLength / size;
  if (outIndex + count > out.length) throw new RangeError(`${count} elements do not fit at index ${outIndex} of ${out.length}`);
  // Typed-array views need an element-aligned byte offset; copy a misaligned chunk first.
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  if (dtype === "F32") {
    out.set(new Float32Array(aligned.buffer, aligned.byteOffset, count), outIndex);
    return count;
  }
  const halves = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
  // Integer copies of bit patterns: no float round trip, so NaN payloads survive.
  const outBits = new Uint32Array(out.buffer, out.byteOffset + outIndex * 4, count);
  if (dtype === "F16") {
    const table = float16BitsTable();
    for (let index = 0; index < count; index += 1) outBits[index] = table[halves[index] ?? 0] ?? 0;
  } else {
    for (let index = 0; index < count; index += 1) outBits[index] = bfloat16ToFloat32Bits(halves[index] ?? 0);
  }
  return count;
}

let f16Table: Uint32Array | undefined;

/** float32 bit pattern of every binary16 bit pattern; NaNs keep their sign and payload (widened as hardware does). */
function float16BitsTable(): Uint32Array {
  if (f16Table === undefined) {
    f16Table = new Uint32Array(float16ToFloat32Table().slice().buffer);
    for (let bits = 0x7c01; bits < 0x8000; bits += 1) {
      f16Table[bits] = 0x7f800000 | ((bits & 0x3ff) << 13);
      f16Table[bits | 0x8000] = (0xff800000 | ((bits & 0x3ff) << 13)) >>> 0;
    }
  }
  return f16Table;
}

/** Yields a supported tensor's values as float32 chunks (at most `chunkBytes` of source data each). */
export async function* readSafetensorsTensorFloat32(tensor: SafetensorsTensorInfo, options: SafetensorsTensorReadOptions = {}): AsyncGenerator<Float32Array> {
  const dtype = requireSupportedDtype(tensor);
  const size = supportedDtypeBytes(dtype);
  for await (const chunk of readSafetensorsTensorBytes(tensor, options)) {
    const values = new Float32Array(chunk.byteLength / size);
    decodeToFloat32(dtype, chunk, values);
    yield values;
  }
}

/** The whole tensor as float32 (one tensor in memory at a time; refuses dtypes other than F32, F16 and BF16). */
export async function tensorToFloat32(tensor: SafetensorsTensorInfo, options: SafetensorsTensorReadOptions = {}): Promise<Float32Array> {
  const dtype = requireSupportedDtype(tensor);
  const out = new Float32Array(tensor.elementCount);
  let index = 0;
  for await (const chunk of readSafetensorsTensorBytes(tensor, options)) index += decodeToFloat32(dtype, chunk, out, index);
  return out;
}
