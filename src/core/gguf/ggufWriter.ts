/**
 * GGUF v3 writer (little-endian), laid out as llama.cpp's `gguf_write_to_file` / gguf-py's `GGUFWriter` do:
 * header, metadata, tensor infos, padding to the alignment, then each tensor's data padded to the alignment, in the
 * order given (gguf.cpp requires each tensor's offset to be the padded end of the one before it).
 */
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import { throwIfAborted } from "../errors";
import { copyFileRange, rangeCopyAvailable } from "../fs/fileRangeCopy";
import { tempSiblingPath } from "../fs/tempSibling";
import { ggmlTypeInfo, tensorByteLength } from "./ggmlTypes";
import { GGML_MAX_DIMS, GGML_MAX_NAME, GGUF_DEFAULT_ALIGNMENT } from "./ggufReader";
import { GgufValueTag, type GgufArray, type GgufMetadata, type GgufValue } from "./ggufTypes";

/** Tensor data produced piece by piece, so a large model never has to be held in memory. */
export interface GgufTensorDataSource {
  readonly byteLength: number;
  /**
   * The data in order. The writer may still be writing a chunk while it asks for the next one, and is done with it
   * before it asks for the one after: a source that reuses buffers needs at least two in turn.
   */
  chunks(): AsyncIterable<Uint8Array>;
  /**
   * Set when the data is exactly `byteLength` bytes of a file from `offset` (a tensor copied as it is): the writer
   * then copies the range inside the kernel where it can, and uses `chunks()` where it cannot.
   */
  readonly fileRange?: { readonly file: string; readonly offset: number };
}

export interface GgufTensorToWrite {
  readonly name: string;
  /** ne[0..n): ne[0] is the innermost (contiguous) dimension, as in ggml. */
  readonly dims: readonly number[];
  /** `enum ggml_type` value (see `GgmlType`). */
  readonly ggmlType: number;
  readonly data: Uint8Array | GgufTensorDataSource;
}

export interface GgufWriteInput {
  /** Written in map order. `general.alignment`, if present, must be a u32 and agree with `alignment`. */
  readonly metadata: GgufMetadata;
  readonly tensors: readonly GgufTensorToWrite[];
  /** Data alignment; default 32. A non-default one is written as `general.alignment` unless metadata has it. */
  readonly alignment?: number;
  readonly version?: 3;
}

/** A write input whose tensor data is all in memory (for `encodeGguf`). */
export interface GgufInMemoryWriteInput extends GgufWriteInput {
  readonly tensors: readonly (GgufTensorToWrite & { readonly data: Uint8Array })[];
}

export interface GgufWriteOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (writtenBytes: number, totalBytes: number) => void;
  /** Called as the writer starts on each tensor's data, in order. */
  readonly onTensorStart?: (index: number, name: string) => void;
}

interface TensorPlacement {
  readonly tensor: GgufTensorToWrite;
  readonly byteLength: number;
  /** Relative to the data section. */
  readonly offset: number;
}

interface GgufLayout {
  /** Magic through the padding before the data section. */
  readonly header: Buffer;
  readonly alignment: number;
  readonly dataOffset: number;
  readonly placements: readonly TensorPlacement[];
  readonly totalSize: number;
}

/** Encodes a whole GGUF file in memory (tests, small fixtures). */
export function encodeGguf(input: GgufInMemoryWriteInput): Uint8Array {
  const layout = planLayout(input);
  const out = new Uint8Array(layout.totalSize);
  out.set(layout.header, 0);
  for (const { tensor, offset } of layout.placements) out.set(tensor.data as Uint8Array, layout.dataOffset + offset);
  return out;
}

/**
 * Writes a GGUF file: to `<name>.tmp-<random>` in the same directory, renamed over `filePath` when complete; the temp
 * file is removed on any error or abort. Runs of all-zero data are left as holes (sparse files read back as zeros).
 */
export async function writeGgufFile(filePath: string, input: GgufWriteInput, options: GgufWriteOptions = {}): Promise<void> {
  const { signal, onProgress } = options;
  throwIfAborted(signal);
  const layout = planLayout(input);
  const tempPath = tempSiblingPath(filePath);
  const handle = await open(tempPath, "wx");
  let closed = false;
  try {
    let written = 0;
    const report = (bytes: number): void => {
      written += bytes;
      onProgress?.(written, layout.totalSize);
    };
    await writeFully(handle, layout.header, layout.header.byteLength, 0);
    report(layout.header.byteLength);
    for (const [index, placement] of layout.placements.entries()) {
      throwIfAborted(signal);
      options.onTensorStart?.(index, placement.tensor.name);
      const start = layout.dataOffset + placement.offset;
      await writeTensorData(handle, placement, start, signal, report);
      // The padding after each tensor is zeros: a hole that the final truncate (or the next write) fills in.
      report(alignUp(placement.byteLength, layout.alignment) - placement.byteLength);
    }
    // Sets the size, which also materialises trailing holes.
    await handle.truncate(layout.totalSize);
    closed = true;
    await handle.close();
    throwIfAborted(signal);
    await rename(tempPath, filePath);
  } catch (error) {
    if (!closed) await handle.close().catch(() => undefined);
    await rm(tempPath, { force: true });
    throw error;
  }
}

async function writeTensorData(
  handle: FileHandle,
  placement: TensorPlacement,
  start: number,
  signal: AbortSignal | undefined,
  report: (bytes: number) => void,
): Promise<void> {
  const { tensor, byteLength } = placement;
  if (tensor.data instanceof Uint8Array) {
    await writeSparse(handle, tensor.data, start);
    report(tensor.data.byteLength);
    return;
  }
  // A plain byte range of a file: copied in the kernel; what it could not copy is then written from chunks().
  const copied = tensor.data.fileRange === undefined ? 0 : await copyRange(handle, tensor.data.fileRange, byteLength, start, signal, report);
  if (copied === byteLength) return;
  let position = 0;
  // One write in flight while the source reads and encodes the next chunk (both cores busy instead of taking turns).
  let writing: Promise<void> = Promise.resolve();
  try {
    for await (const chunk of tensor.data.chunks()) {
      throwIfAborted(signal);
      if (position + chunk.byteLength > byteLength) {
        throw new RangeError(`tensor '${tensor.name}': data source yielded more than its ${byteLength} bytes`);
      }
      // Rewriting what the range copy already wrote is harmless (same bytes, same place); only new bytes count as progress.
      if (position + chunk.byteLength > copied) {
        const newBytes = Math.min(chunk.byteLength, position + chunk.byteLength - copied);
        const at = start + position;
        await writing;
        writing = writeSparse(handle, chunk, at).then(() => {
          report(newBytes);
        });
        // A failure is seen where `writing` is awaited; this only keeps it from counting as unhandled meanwhile.
        writing.catch(() => undefined);
      }
      position += chunk.byteLength;
    }
    await writing;
  } catch (error) {
    // Never leave a write running into a file that the caller is about to close and remove.
    await writing.catch(() => undefined);
    throw error;
  }
  if (position !== byteLength) throw new RangeError(`tensor '${tensor.name}': data source yielded ${position} of its ${byteLength} bytes`);
}

/** Copies a source's file range to `start` in the kernel; returns the bytes copied (0 where range copies are unavailable). */
async function copyRange(
  handle: FileHandle,
  range: { readonly file: string; readonly offset: number },
  byteLength: number,
  start: number,
  signal: AbortSignal | undefined,
  report: (bytes: number) => void,
): Promise<number> {
  if (byteLength === 0 || !rangeCopyAvailable()) return 0;
  const source = await open(range.file, "r");
  try {
    return await copyFileRange(source.fd, range.offset, handle.fd, start, byteLength, { ...(signal === undefined ? {} : { signal }), onCopied: report });
  } finally {
    await source.close();
  }
}

const ZERO_RUN = 1024 * 1024;
const zeros = Buffer.alloc(ZERO_RUN);

/** Writes `data` at `position`, skipping 1 MiB pieces that are all zero (compared natively, memcmp-fast). */
async function writeSparse(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let runStart = 0;
  for (let piece = 0; piece < data.byteLength; piece += ZERO_RUN) {
    const pieceEnd = Math.min(piece + ZERO_RUN, data.byteLength);
    const isZero = Buffer.compare(data.subarray(piece, pieceEnd), zeros.subarray(0, pieceEnd - piece)) === 0;
    if (isZero) {
      if (piece > runStart) await writeFully(handle, data.subarray(runStart, piece), piece - runStart, position + runStart);
      runStart = pieceEnd;
    }
  }
  if (data.byteLength > runStart) await writeFully(handle, data.subarray(runStart), data.byteLength - runStart, position + runStart);
}

/**
 * Bytes per write call. Measured on Linux (bench/convert.ts's machine): writing 2.4 GB into the page cache took ~5 s
 * in 16 MiB calls and ~0.75 s in 1 MiB calls (256 KiB: ~1.1 s), from the same buffers.
 */
const WRITE_STEP_BYTES = 1024 * 1024;

async function writeFully(handle: FileHandle, data: Uint8Array, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await handle.write(data, done, Math.min(length - done, WRITE_STEP_BYTES), position + done);
    done += bytesWritten;
  }
}

function layoutAlignment(input: GgufWriteInput): number {
  const fromMetadata = input.metadata.get("general.alignment");
  return input.alignment ?? (fromMetadata?.type === "u32" ? fromMetadata.value : GGUF_DEFAULT_ALIGNMENT);
}

function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}

/** Validates the input and encodes everything before the tensor data. */
function planLayout(input: GgufWriteInput): GgufLayout {
  // Guards JavaScript callers; the type already says 3.
  const version: number = input.version ?? 3;
  if (version !== 3) throw new RangeError(`can only write GGUF version 3, not ${version}`);
  const alignment = layoutAlignment(input);
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment > 0xffffffff || (alignment & (alignment - 1)) !== 0) {
    throw new RangeError(`alignment ${alignment} is not a power of two`);
  }
  const metadataAlignment = input.metadata.get("general.alignment");
  if (metadataAlignment !== undefined && (metadataAlignment.type !== "u32" || metadataAlignment.value !== alignment)) {
    throw new RangeError(`metadata general.alignment must be a u32 equal to the alignment ${alignment}`);
  }
  const entries: [string, GgufValue][] = [...input.metadata];
  if (metadataAlignment === undefined && alignment !== GGUF_DEFAULT_ALIGNMENT) {
    entries.push(["general.alignment", { type: "u32", value: alignment }]);
  }

  const names = new Set<string>();
  let dataSize = 0;
  const placements = input.tensors.map((tensor): TensorPlacement => {
    const nameBytes = Buffer.byteLength(tensor.name);
    if (nameBytes === 0 || nameBytes >= GGML_MAX_NAME) throw new RangeError(`tensor name '${tensor.name}' must be 1–${GGML_MAX_NAME - 1} bytes`);
    if (names.has(tensor.name)) throw new RangeError(`duplicate tensor name '${tensor.name}'`);
    names.add(tensor.name);
    if (tensor.dims.length === 0 || tensor.dims.length > GGML_MAX_DIMS) {
      throw new RangeError(`tensor '${tensor.name}' has ${tensor.dims.length} dimensions; 1–${GGML_MAX_DIMS} are allowed`);
    }
    if (ggmlTypeInfo(tensor.ggmlType) === undefined) throw new RangeError(`tensor '${tensor.name}' has unknown ggml type ${tensor.ggmlType}`);
    let byteLength: number;
    try {
      byteLength = tensorByteLength(tensor.dims, tensor.ggmlType);
    } catch (error) {
      throw new RangeError(`tensor '${tensor.name}': ${(error as Error).message}`);
    }
    if (tensor.data.byteLength !== byteLength) {
      throw new RangeError(`tensor '${tensor.name}' of shape [${tensor.dims.join(", ")}] needs ${byteLength} bytes of data, got ${tensor.data.byteLength}`);
    }
    const placement = { tensor, byteLength, offset: dataSize };
    dataSize += alignUp(byteLength, alignment);
    return placement;
  });

  const sink = new ByteSink();
  sink.bytes(Buffer.from("GGUF", "latin1"));
  sink.u32(3);
  sink.u64(placements.length);
  sink.u64(entries.length);
  for (const [key, value] of entries) {
    if (key.length === 0) throw new RangeError("empty metadata key");
    sink.string(key);
    writeValue(sink, key, value);
  }
  for (const { tensor, offset } of placements) {
    sink.string(tensor.name);
    sink.u32(tensor.dims.length);
    for (const dim of tensor.dims) sink.u64(dim);
    sink.u32(tensor.ggmlType);
    sink.u64(offset);
  }
  const dataOffset = placements.length > 0 ? alignUp(sink.length, alignment) : sink.length;
  sink.zeros(dataOffset - sink.length);
  return { header: sink.result(), alignment, dataOffset, placements, totalSize: dataOffset + dataSize };
}

const INTEGER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  u8: [0, 0xff],
  i8: [-0x80, 0x7f],
  u16: [0, 0xffff],
  i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
};
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

function writeValue(sink: ByteSink, key: string, value: GgufValue): void {
  sink.u32(GgufValueTag[value.type]);
  if (value.type === "array") {
    writeArray(sink, key, value);
    return;
  }
  switch (value.type) {
    case "string":
      sink.string(value.value);
      return;
    case "bool":
      sink.u8(value.value ? 1 : 0);
      return;
    case "u64":
    case "i64":
      writeBigInt(sink, key, value.type, value.value);
      return;
    default:
      writeNumber(sink, key, value.type, value.value);
  }
}

/** Array payload: item type, u64 count, items; nested arrays carry their own item type and count. */
function writeArray(sink: ByteSink, key: string, array: GgufArray): void {
  sink.u32(GgufValueTag[array.itemType]);
  sink.u64(array.values.length);
  switch (array.itemType) {
    case "string":
      for (const item of array.values) sink.string(item);
      return;
    case "bool":
      for (const item of array.values) sink.u8(item ? 1 : 0);
      return;
    case "u64":
    case "i64":
      for (const item of array.values) writeBigInt(sink, key, array.itemType, item);
      return;
    case "array":
      for (const item of array.values) writeArray(sink, key, item);
      return;
    default:
      for (const item of array.values) writeNumber(sink, key, array.itemType, item);
  }
}

function writeNumber(sink: ByteSink, key: string, type: "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64", value: number): void {
  if (typeof value !== "number") throw new RangeError(`metadata '${key}': ${type} value ${String(value)} is not a number`);
  const range = INTEGER_RANGES[type];
  if (range !== undefined && (!Number.isInteger(value) || value < range[0] || value > range[1])) {
    throw new RangeError(`metadata '${key}': ${value} is not a valid ${type}`);
  }
  switch (type) {
    case "u8":
      sink.u8(value);
      return;
    case "i8":
      sink.fixed(1).writeInt8(value, sink.length - 1);
      return;
    case "u16":
      sink.fixed(2).writeUInt16LE(value, sink.length - 2);
      return;
    case "i16":
      sink.fixed(2).writeInt16LE(value, sink.length - 2);
      return;
    case "u32":
      sink.u32(value);
      return;
    case "i32":
      sink.fixed(4).writeInt32LE(value, sink.length - 4);
      return;
    case "f32":
      sink.fixed(4).writeFloatLE(value, sink.length - 4);
      return;
    case "f64":
      sink.fixed(8).writeDoubleLE(value, sink.length - 8);
      return;
  }
}

function writeBigInt(sink: ByteSink, key: string, type: "u64" | "i64", value: bigint): void {
  if (typeof value !== "bigint") throw new RangeError(`metadata '${key}': ${type} value ${String(value)} is not a bigint`);
  if (type === "u64" ? value < 0n || value > U64_MAX : value < I64_MIN || value > I64_MAX) {
    throw new RangeError(`metadata '${key}': ${value} is not a valid ${type}`);
  }
  if (type === "u64") sink.fixed(8).writeBigUInt64LE(value, sink.length - 8);
  else sink.fixed(8).writeBigInt64LE(value, sink.length - 8);
}

/** Strings up to this many UTF-16 units are UTF-8 encoded by `encodeShortUtf8`. */
const SHORT_STRING = 64;

/**
 * UTF-8 of `value` into `out` at `at`; returns the byte count, or -1 (nothing meaningful written) when the string has a
 * surrogate, which Buffer.write then handles (pairs, and lone surrogates as U+FFFD, as it always does).
 */
function encodeShortUtf8(value: string, out: Buffer, at: number): number {
  let position = at;
  for (let index = 0; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    if (code < 0x80) {
      out[position++] = code;
    } else if (code < 0x800) {
      out[position++] = 0xc0 | (code >> 6);
      out[position++] = 0x80 | (code & 0x3f);
    } else if (code < 0xd800 || code > 0xdfff) {
      out[position++] = 0xe0 | (code >> 12);
      out[position++] = 0x80 | ((code >> 6) & 0x3f);
      out[position++] = 0x80 | (code & 0x3f);
    } else {
      return -1;
    }
  }
  return position - at;
}

/** A growable little-endian byte buffer. */
class ByteSink {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  length = 0;

  /** Reserves `n` bytes at the end and returns the buffer to write them into (at `length - n`). */
  fixed(n: number): Buffer {
    this.reserve(n);
    this.length += n;
    return this.buffer;
  }

  u8(value: number): void {
    this.fixed(1)[this.length - 1] = value;
  }

  u32(value: number): void {
    this.fixed(4).writeUInt32LE(value, this.length - 4);
  }

  u64(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${value} is not a valid u64 count`);
    this.reserve(8);
    this.putU64(value, this.length);
    this.length += 8;
  }

  /** u64 byte length, then UTF-8 bytes. */
  string(value: string): void {
    // At most 3 UTF-8 bytes per UTF-16 unit: encode once in place, then fill in the length.
    this.reserve(8 + 3 * value.length);
    const start = this.length + 8;
    // Short strings (a vocabulary's hundreds of thousands of tokens and merges) are encoded here: a native call per
    // string costs more than the encoding. Surrogate pairs, and long strings, go to Buffer.write.
    let written = value.length <= SHORT_STRING ? encodeShortUtf8(value, this.buffer, start) : -1;
    if (written < 0) written = this.buffer.write(value, start, "utf8");
    this.putU64(written, this.length);
    this.length += 8 + written;
  }

  /** A safe integer as u64 little-endian, without a BigInt. */
  private putU64(value: number, at: number): void {
    this.buffer.writeUInt32LE(value % 0x100000000, at);
    this.buffer.writeUInt32LE(Math.floor(value / 0x100000000), at + 4);
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.byteLength);
    this.buffer.set(data, this.length);
    this.length += data.byteLength;
  }

  zeros(n: number): void {
    this.reserve(n);
    this.buffer.fill(0, this.length, this.length + n);
    this.length += n;
  }

  result(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.byteLength) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.byteLength * 2, this.length + n));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}
