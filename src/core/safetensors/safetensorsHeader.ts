/**
 * safetensors header reader with the validation of huggingface/safetensors (`safetensors/src/tensor.rs`,
 * `SafeTensors::read_metadata` and `Metadata::validate`): an 8-byte little-endian header length N (at most
 * 100,000,000), N bytes of UTF-8 JSON mapping tensor names to `{dtype, shape, data_offsets}` plus an optional
 * `__metadata__` string map, then the data buffer. Offsets are relative to the buffer; sorted by offset, the tensors
 * must tile it exactly (no overlap, no gap, ending at the end of the file), and each range must be shape × dtype size.
 * On top of the reference reader we reject duplicate JSON keys (which the README disallows) and name the byte
 * offset of every problem. Tensor data is never read here.
 */
import { open } from "node:fs/promises";
import { throwIfAborted } from "../errors";
import { scanJsonObjectKeys } from "./jsonKeyScan";
import { isSafetensorsDtype, safetensorsDtypeBits, type SafetensorsDtype } from "./safetensorsDtypes";
import { SafetensorsFormatError } from "./safetensorsErrors";

/** `MAX_HEADER_SIZE` in safetensors `tensor.rs`. */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;
/** The reserved header key for the free-form string map. */
export const SAFETENSORS_METADATA_KEY = "__metadata__";

/** One tensor of a safetensors file. */
export interface SafetensorsTensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  /** Row-major (C order), outermost dimension first, as in PyTorch. */
  readonly shape: readonly number[];
  readonly elementCount: number;
  /** `data_offsets[0]`: relative to the start of the data buffer. */
  readonly begin: number;
  /** `data_offsets[1]`: one past the last byte, relative to the data buffer. */
  readonly end: number;
  readonly byteLength: number;
  /** Absolute offset of the tensor's first byte in the file. */
  readonly fileOffset: number;
  /** The file the tensor is in. */
  readonly file: string;
}

/** The parsed, validated header of one safetensors file. */
export interface SafetensorsHeader {
  readonly file: string;
  readonly fileSize: number;
  /** N, the JSON header's length in bytes. */
  readonly headerByteLength: number;
  /** Absolute offset of the data buffer: 8 + N. */
  readonly dataOffset: number;
  /** The tensors in the order of their data in the file. */
  readonly tensors: readonly SafetensorsTensorInfo[];
  /** `__metadata__` (empty when absent). */
  readonly metadata: ReadonlyMap<string, string>;
}

export interface SafetensorsReadOptions {
  readonly signal?: AbortSignal;
}

/** Reads and validates the header of a safetensors file (not its tensor data). */
export async function readSafetensorsHeader(filePath: string, options: SafetensorsReadOptions = {}): Promise<SafetensorsHeader> {
  throwIfAborted(options.signal);
  const handle = await open(filePath, "r");
  try {
    const fileSize = (await handle.stat()).size;
    const lengthBytes = new Uint8Array(8);
    const { bytesRead } = await handle.read(lengthBytes, 0, 8, 0);
    const headerByteLength = checkHeaderLength(lengthBytes.subarray(0, bytesRead), fileSize, filePath);
    const headerBytes = new Uint8Array(headerByteLength);
    let filled = 0;
    while (filled < headerByteLength) {
      throwIfAborted(options.signal);
      const read = await handle.read(headerBytes, filled, headerByteLength - filled, 8 + filled);
      if (read.bytesRead === 0) {
        // The file shrank after we took its size.
        throw new SafetensorsFormatError("truncated", filePath, 8 + filled, `${headerByteLength} bytes of JSON header`);
      }
      filled += read.bytesRead;
    }
    return parseSafetensorsHeader(headerBytes, fileSize, filePath);
  } finally {
    await handle.close();
  }
}

/** Parses a whole safetensors file held in memory (tests, small files); tensor data is checked for bounds only. */
export function parseSafetensorsBytes(bytes: Uint8Array, file: string): SafetensorsHeader {
  const headerByteLength = checkHeaderLength(bytes.subarray(0, 8), bytes.byteLength, file);
  return parseSafetensorsHeader(bytes.subarray(8, 8 + headerByteLength), bytes.byteLength, file);
}

/** Validates the 8-byte header length against the limit and the file size; returns N. */
function checkHeaderLength(lengthBytes: Uint8Array, fileSize: number, file: string): number {
  if (lengthBytes.byteLength < 8) {
    throw new SafetensorsFormatError("truncated", file, lengthBytes.byteLength, "an 8-byte little-endian header length", `the file has ${fileSize} bytes`);
  }
  const length = new DataView(lengthBytes.buffer, lengthBytes.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    throw new SafetensorsFormatError("header-too-large", file, 0, `a header length of at most ${SAFETENSORS_MAX_HEADER_BYTES} bytes`, `header length ${length} is too large`);
  }
  const headerByteLength = Number(length);
  if (8 + headerByteLength > fileSize) {
    throw new SafetensorsFormatError("truncated", file, fileSize, `${headerByteLength} bytes of JSON header after the 8-byte length`, `the file has ${fileSize} bytes`);
  }
  return headerByteLength;
}

/** Validates the N header bytes of a file of `fileSize` bytes and returns its tensors in data order. */
export function parseSafetensorsHeader(headerBytes: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  const dataOffset = 8 + headerBytes.byteLength;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsFormatError("invalid-header", file, 8, "a UTF-8 JSON header", "the header is not valid UTF-8");
  }
  // The reference implementation requires the JSON to start with "{" (InvalidHeaderStart).
  if (!text.startsWith("{")) throw new SafetensorsFormatError("invalid-header", file, 8, 'a JSON object starting with "{"', "the header is not a JSON object");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec(error instanceof Error ? error.message : "");
    const at = position?.[1] === undefined ? 8 : 8 + utf8Length(text.slice(0, Number(position[1])));
    throw new SafetensorsFormatError("invalid-header", file, at, "valid JSON", "the header is not valid JSON");
  }
  if (!isPlainObject(parsed)) throw new SafetensorsFormatError("invalid-header", file, 8, "a JSON object", "the header is not a JSON object");
  const scan = scanJsonObjectKeys(text);
  if (scan.duplicate !== undefined) {
    const where = scan.duplicate.topLevel ? "tensor names" : "keys of one object";
    throw new SafetensorsFormatError("duplicate-key", file, 8 + utf8Length(text.slice(0, scan.duplicate.index)), `unique ${where}`, `duplicate key "${scan.duplicate.key}"`);
  }
  const keyOffset = (key: string): number => 8 + utf8Length(text.slice(0, scan.topLevelKeys.get(key) ?? 0));

  let metadata: ReadonlyMap<string, string> = new Map();
  const tensors: SafetensorsTensorInfo[] = [];
  for (const [name, entry] of Object.entries(parsed)) {
    if (name === SAFETENSORS_METADATA_KEY) {
      metadata = parseMetadata(entry, file, () => keyOffset(name));
      continue;
    }
    tensors.push(parseTensorEntry(name, entry, { file, offset: () => keyOffset(name), dataOffset }));
  }
  checkLayout(tensors, { file, fileSize, dataOffset });
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  return { file, fileSize, headerByteLength: headerBytes.byteLength, dataOffset, tensors, metadata };
}

/** `offset` computes the byte offset of the entry's key, only when an error needs it (it is O(header size)). */
function parseMetadata(entry: unknown, file: string, offset: () => number): ReadonlyMap<string, string> {
  if (entry === null) return new Map(); // serde reads `"__metadata__": null` as no metadata
  if (!isPlainObject(entry)) throw new SafetensorsFormatError("invalid-entry", file, offset(), `"${SAFETENSORS_METADATA_KEY}" to be an object of strings`);
  const metadata = new Map<string, string>();
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value !== "string") {
      throw new SafetensorsFormatError("invalid-entry", file, offset(), `"${SAFETENSORS_METADATA_KEY}" to be an object of strings`, `metadata value "${key}" is not a string`);
    }
    metadata.set(key, value);
  }
  return metadata;
}

function parseTensorEntry(name: string, entry: unknown, at: { readonly file: string; readonly offset: () => number; readonly dataOffset: number }): SafetensorsTensorInfo {
  const { file, offset } = at;
  const invalid = (expected: string, problem: string): SafetensorsFormatError =>
    new SafetensorsFormatError("invalid-entry", file, offset(), expected, `tensor "${name}": ${problem}`);
  if (!isPlainObject(entry)) throw invalid("an object with dtype, shape and data_offsets", "the entry is not an object");
  const dtype = entry["dtype"];
  const shape = entry["shape"];
  const offsets = entry["data_offsets"];
  if (typeof dtype !== "string") throw invalid('a "dtype" string', "no dtype");
  if (!isSafetensorsDtype(dtype)) throw new SafetensorsFormatError("unknown-dtype", file, offset(), "a safetensors dtype (F32, F16, BF16, I8, …)", `tensor "${name}" has unknown dtype "${dtype.slice(0, 40)}"`);
  if (!Array.isArray(shape) || !shape.every(isSize)) throw invalid('a "shape" array of non-negative integers', "invalid shape");
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isSize)) throw invalid('"data_offsets" [begin, end] of non-negative integers', "invalid data_offsets");
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw invalid("data_offsets with begin ≤ end", `data_offsets [${begin}, ${end}] end before they begin`);
  const dims = shape;
  let elementCount = 1;
  for (const dim of dims) elementCount *= dim;
  const bits = elementCount * safetensorsDtypeBits(dtype);
  if (!Number.isSafeInteger(bits) || bits % 8 !== 0 || bits / 8 !== end - begin) {
    const expected = Number.isSafeInteger(bits) && bits % 8 === 0 ? `${bits / 8} bytes` : "a whole number of bytes";
    throw new SafetensorsFormatError(
      "size-mismatch",
      file,
      offset(),
      `shape [${dims.join(", ")}] × ${dtype} = ${expected}`,
      `tensor "${name}" has ${end - begin} bytes in data_offsets [${begin}, ${end}]`,
    );
  }
  return { name, dtype, shape: dims, elementCount, begin, end, byteLength: end - begin, fileOffset: at.dataOffset + begin, file };
}

/** Every range inside the file; sorted by offset, the ranges tile the data buffer with no overlap and no gap. */
function checkLayout(
  tensors: readonly SafetensorsTensorInfo[],
  at: { readonly file: string; readonly fileSize: number; readonly dataOffset: number },
): void {
  const { file, fileSize, dataOffset } = at;
  const dataSize = fileSize - dataOffset;
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (const tensor of sorted) {
    if (tensor.end > dataSize) {
      throw new SafetensorsFormatError(
        "truncated",
        file,
        fileSize,
        `data of tensor "${tensor.name}" up to byte ${dataOffset + tensor.end}`,
        `the file has ${fileSize} bytes`,
      );
    }
  }
  let expectedBegin = 0;
  let previous: SafetensorsTensorInfo | undefined;
  for (const tensor of sorted) {
    if (tensor.begin < expectedBegin) {
      throw new SafetensorsFormatError(
        "overlap",
        file,
        dataOffset + tensor.begin,
        `data of tensor "${tensor.name}" to start at byte ${dataOffset + expectedBegin}, after "${previous?.name ?? ""}"`,
        `tensor "${tensor.name}" overlaps tensor "${previous?.name ?? ""}"`,
      );
    }
    if (tensor.begin > expectedBegin) {
      throw new SafetensorsFormatError(
        "gap",
        file,
        dataOffset + expectedBegin,
        `data of tensor "${tensor.name}" to start here`,
        `${tensor.begin - expectedBegin} bytes belong to no tensor`,
      );
    }
    expectedBegin = tensor.end;
    previous = tensor;
  }
  if (expectedBegin < dataSize) {
    throw new SafetensorsFormatError(
      "gap",
      file,
      dataOffset + expectedBegin,
      "the end of the file after the last tensor",
      `${dataSize - expectedBegin} trailing bytes belong to no tensor`,
    );
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isSize(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}
