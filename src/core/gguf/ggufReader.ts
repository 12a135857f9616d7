/**
 * Streaming GGUF reader: header, metadata (every value type, nested arrays), tensor infos, alignment and data offset.
 * Follows the GGUF spec (llama.cpp `docs/gguf.md`) and the validation of `gguf_init_from_reader` in
 * `ggml/src/gguf.cpp` of the bundled commit, plus a few checks llama.cpp leaves to later (tensor data past EOF,
 * overlapping tensors). Only little-endian files are read (big-endian ones are reported as such).
 *
 * How the streaming works: a synchronous parser runs over a window of the file held in memory and commits one whole
 * metadata entry or tensor info at a time. When the window ends before an entry does, the parser reports how far it
 * needs to see; the driver reads more of the file (at least doubling the window, so a large entry such as a 150k-token
 * vocabulary is re-parsed only a few times) and the parser restarts from its last commit. Tensor data is never read.
 */
import { open, type FileHandle } from "node:fs/promises";
import { throwIfAborted } from "../errors";
import { elementCount, ggmlTypeInfo } from "./ggmlTypes";
import { GgufFormatError, type GgufFormatErrorCode } from "./ggufErrors";
import {
  GgufValueTag,
  type GgufArray,
  type GgufArraySummary,
  type GgufFile,
  type GgufMetadataEntry,
  type GgufTensorInfo,
  type GgufValue,
  type GgufValueType,
} from "./ggufTypes";

export interface GgufReadOptions {
  readonly signal?: AbortSignal;
  /**
   * Most bytes of header (metadata + tensor infos) the reader will hold in memory; a file whose header is larger is
   * rejected with `limit-exceeded`. This also bounds what a corrupt count can make the reader allocate. Default
   * 64 MiB; real models need a few MB (Qwen's 151k-token vocabulary with merges: 5 MB; Gemma's 262k tokens: 16 MB).
   */
  readonly maxHeaderBytes?: number;
  /**
   * Size of the first read; later reads at least double the window. Default 256 KiB, which holds the whole header
   * of most models without a vocabulary array. Tests set it tiny to exercise the refill path.
   */
  readonly readAheadBytes?: number;
}

/** Options of a reader that keeps long top-level arrays as `GgufArraySummary` (fast summaries of big vocabularies). */
export interface GgufSummaryReadOptions extends GgufReadOptions {
  /** Top-level arrays with more values than this are walked and validated but not decoded. */
  readonly maxArrayValues: number;
}

/** `GGUF_DEFAULT_ALIGNMENT` in gguf.h. */
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** `GGML_MAX_DIMS` in ggml.h. */
export const GGML_MAX_DIMS = 4;
/** `GGML_MAX_NAME` in ggml.h: a tensor name must be shorter than this many bytes. */
export const GGML_MAX_NAME = 64;
/** `GGUF_MAX_STRING_LENGTH` / `GGUF_MAX_ARRAY_ELEMENTS` in gguf.cpp. */
export const GGUF_MAX_STRING_LENGTH = 1024 * 1024 * 1024;
export const GGUF_MAX_ARRAY_ELEMENTS = 1024 * 1024 * 1024;
/** Our own cap on a metadata key's length; real keys are under 100 bytes. */
export const GGUF_MAX_KEY_LENGTH = 65_536;
/** Most array nesting we accept; llama.cpp reads none, the spec allows some, nobody needs more than a few. */
export const GGUF_MAX_ARRAY_DEPTH = 8;

const DEFAULT_MAX_HEADER_BYTES = 64 * 1024 * 1024;
/** First read: enough for the whole header of most small and medium models. */
const INITIAL_WINDOW = 256 * 1024;
/** Chunk size of `readTensorData`. */
const TENSOR_CHUNK = 4 * 1024 * 1024;

/** Tag → name, indexed by the on-disk tag (`enum gguf_type`). */
const TAG_NAMES: readonly GgufValueType[] = (Object.keys(GgufValueTag) as GgufValueType[]).sort(
  (a, b) => GgufValueTag[a] - GgufValueTag[b],
);
/** Bytes of a fixed-size value by tag; 0 for string and array. */
const TAG_SIZES: readonly number[] = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8];
/** Fewest bytes a value of a tag can take: a string is at least its 8-byte length; an array its type and count. */
const TAG_MIN_SIZES: readonly number[] = [1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8];
/** Fewest bytes of one metadata entry: key length, a 1-byte key, type tag, a 1-byte value. */
const MIN_KV_BYTES = 8 + 1 + 4 + 1;
/** Fewest bytes of one tensor info: name length, n_dims, type, offset. */
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8;

/** Thrown inside the parser when the window ends before the entry does; never escapes this module. */
class NeedMoreData extends Error {
  constructor(
    /** The window must reach at least this absolute offset. */
    readonly until: number,
    /** Where the entry probably ends (an estimate for big arrays), so one more read is likely enough. */
    readonly hint = until,
  ) {
    super("need more data");
  }
}

/** What the parser needs next: the offset the window must reach and a likely better one. */
interface WindowRequest {
  readonly until: number;
  readonly hint: number;
}

/** Guess of the average bytes per string element (length field included) of an array not yet seen. */
const GUESSED_STRING_ELEMENT_BYTES = 24;

type Phase = "header" | "metadata" | "tensors" | "done";

/** A kind of string field; its labels are constants so the hot loops build no message text. */
interface StringKind {
  readonly name: string;
  readonly lengthLabel: string;
}
const KEY: StringKind = { name: "key", lengthLabel: "8-byte string length" };
const STRING_VALUE: StringKind = { name: "string value", lengthLabel: "8-byte string length" };
const ELEMENT: StringKind = { name: "string", lengthLabel: "8-byte string length" };
const TENSOR_NAME: StringKind = { name: "name", lengthLabel: "8-byte name length" };

/** The synchronous parser over a window `[base, end)` of the file. */
class GgufHeaderParser {
  private bytes: Buffer = Buffer.alloc(0);
  private view: DataView = new DataView(new ArrayBuffer(0));
  /** Absolute file offset of `bytes[0]`. */
  private base = 0;
  /** Absolute file offset one past the last byte in the window. */
  private end = 0;
  /** Absolute file offset of the next byte to parse. */
  private pos = 0;
  /** Absolute offset of the last commit: where a restart resumes. */
  checkpoint = 0;

  private phase: Phase = "header";
  private version = 0;
  private tensorCount = 0;
  private kvCount = 0;
  private alignment = GGUF_DEFAULT_ALIGNMENT;
  private readonly metadata = new Map<string, GgufMetadataEntry>();
  private readonly tensors: GgufTensorInfo[] = [];
  private readonly tensorNames = new Set<string>();

  // What is being parsed, for error messages; formatted only when an error is thrown.
  private section: "header" | "metadata" | "tensor" = "header";
  private itemIndex = 0;
  private itemName: string | undefined;
  private elementIndex = -1;

  constructor(
    private readonly file: string,
    readonly fileSize: number,
    private readonly maxArrayValues: number,
  ) {}

  /** The absolute offset the window ends at. */
  get windowEnd(): number {
    return this.end;
  }

  /** Bytes from the checkpoint to the window's end: the part a refill keeps. */
  pendingBytes(): Buffer {
    return this.bytes.subarray(this.checkpoint - this.base, this.end - this.base);
  }

  /** Replaces the window; `bytes` starts at absolute offset `base`. */
  setWindow(bytes: Buffer, base: number): void {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.base = base;
    this.end = base + bytes.byteLength;
  }

  /** Parses as far as the window allows. Returns what it needs to see next, or undefined when done. */
  run(): WindowRequest | undefined {
    this.pos = this.checkpoint;
    try {
      if (this.phase === "header") {
        this.parseHeader();
        this.commit();
        this.phase = "metadata";
      }
      if (this.phase === "metadata") {
        while (this.metadata.size < this.kvCount) {
          this.parseKeyValue(this.metadata.size);
          this.commit();
        }
        this.phase = "tensors";
      }
      if (this.phase === "tensors") {
        while (this.tensors.length < this.tensorCount) {
          this.parseTensorInfo(this.tensors.length);
          this.commit();
        }
        this.phase = "done";
      }
      return undefined;
    } catch (error) {
      if (error instanceof NeedMoreData) return { until: error.until, hint: Math.max(error.until, error.hint) };
      throw error;
    }
  }

  /** The parsed file, once `run` returned undefined; validates the tensor data layout. */
  result(path: string): GgufFile<GgufMetadataEntry> {
    // gguf.cpp: the data section starts at the next multiple of the alignment after the tensor infos
    // (only when there are tensors; an empty model ends with its metadata).
    const headerEnd = this.checkpoint;
    const dataOffset = this.tensorCount > 0 ? alignUp(headerEnd, this.alignment) : headerEnd;
    this.section = "tensor";
    this.elementIndex = -1;
    if (dataOffset > this.fileSize) {
      this.itemIndex = 0;
      this.itemName = this.tensors[0]?.name;
      this.fail("truncated", headerEnd, `padding up to the tensor data at byte ${dataOffset}`, "file ends");
    }
    // Every tensor's data lies inside the file and no two overlap (gguf.cpp requires them in order and packed;
    // we accept any order, as the spec does).
    const byOffset = this.tensors.map((tensor, index) => ({ tensor, index })).sort((a, b) => a.tensor.offset - b.tensor.offset);
    let previous: { tensor: GgufTensorInfo; index: number } | undefined;
    for (const entry of byOffset) {
      const { tensor, index } = entry;
      this.itemIndex = index;
      this.itemName = tensor.name;
      const start = dataOffset + tensor.offset;
      if (start + tensor.byteLength > this.fileSize) {
        this.fail(
          "tensor-data-out-of-bounds",
          start,
          `${tensor.byteLength} bytes of data of ${this.subject()} (file ends at byte ${this.fileSize})`,
          "tensor data past end of file",
        );
      }
      if (previous !== undefined && previous.tensor.offset + previous.tensor.byteLength > tensor.offset) {
        this.fail(
          "invalid-value",
          start,
          `data of ${this.subject()} after the data of tensor '${previous.tensor.name}', which ends at byte ${dataOffset + previous.tensor.offset + previous.tensor.byteLength}`,
          "overlapping tensor data",
        );
      }
      previous = entry;
    }
    return {
      path,
      version: this.version,
      metadata: this.metadata,
      tensors: this.tensors,
      alignment: this.alignment,
      dataOffset,
      fileSize: this.fileSize,
    };
  }

  private commit(): void {
    this.checkpoint = this.pos;
    this.elementIndex = -1;
  }

  // ---- header -------------------------------------------------------------------------------------------------

  private parseHeader(): void {
    this.section = "header";
    // Magic "GGUF" (gguf.h GGUF_MAGIC). A file shorter than that is truncated only if it starts like one.
    if (this.fileSize < 4) {
      const available = this.bytes.subarray(0, this.fileSize);
      if (!Buffer.from("GGUF").subarray(0, available.length).equals(available)) {
        this.fail("bad-magic", 0, 'magic "GGUF" at the start of the file', `not a GGUF file (${this.fileSize} bytes)`);
      }
    }
    const magicAt = this.take(4, '4-byte magic "GGUF"');
    const magic = this.bytes.subarray(magicAt, magicAt + 4);
    if (magic.toString("latin1") !== "GGUF") {
      this.fail("bad-magic", 0, 'magic "GGUF" at the start of the file', `not a GGUF file (starts with ${printable(magic)})`);
    }

    const versionOffset = this.pos;
    const version = this.u32("4-byte GGUF version");
    if (version === 1) {
      this.fail("unsupported-version", versionOffset, "GGUF version 2 or 3", "GGUF version 1 is no longer supported");
    }
    if (version !== 2 && version !== 3) {
      // gguf.cpp: a version with its low 16 bits zero is most likely a file of the other endianness.
      const hint = (version & 0xffff) === 0 ? `version ${version}: a big-endian GGUF file?` : `unsupported GGUF version ${version}`;
      this.fail("unsupported-version", versionOffset, "GGUF version 2 or 3", hint);
    }
    this.version = version;

    // Counts are u64 (i64 in gguf.cpp). A count whose smallest possible records cannot fit in the rest of the
    // file is rejected here, before anything is allocated for it.
    const tensorCountOffset = this.pos;
    const tensorCount = this.u64("8-byte tensor count");
    const kvCountOffset = this.pos;
    const kvCount = this.u64("8-byte metadata key-value count");
    const remaining = this.fileSize - this.pos;
    this.checkCount(tensorCount, MIN_TENSOR_INFO_BYTES, remaining, tensorCountOffset, "tensor count", "tensor infos");
    this.checkCount(kvCount, MIN_KV_BYTES, remaining, kvCountOffset, "metadata key-value count", "metadata entries");
    if (kvCount * MIN_KV_BYTES + tensorCount * MIN_TENSOR_INFO_BYTES > remaining) {
      this.fail(
        "truncated",
        tensorCountOffset,
        `${tensorCount} tensor infos and ${kvCount} metadata entries in the remaining ${remaining} bytes`,
        "file too short for its counts",
      );
    }
    this.tensorCount = tensorCount;
    this.kvCount = kvCount;
  }

  private checkCount(count: number, minBytes: number, remaining: number, offset: number, what: string, items: string): void {
    if (count <= remaining / minBytes) return;
    // Past any sane count (gguf.cpp's array cap), or past what the rest of this file could hold.
    if (count > GGUF_MAX_ARRAY_ELEMENTS) {
      this.fail("limit-exceeded", offset, `a ${what} of at most ${GGUF_MAX_ARRAY_ELEMENTS}`, `${what} ${formatCount(count)} is too large`);
    }
    this.fail("truncated", offset, `a ${what} that fits in the remaining ${remaining} bytes`, `file too short for ${count} ${items}`);
  }

  // ---- metadata -----------------------------------------------------------------------------------------------

  private parseKeyValue(index: number): void {
    this.section = "metadata";
    this.itemIndex = index;
    this.itemName = undefined;
    const keyOffset = this.pos;
    const key = this.string(KEY, GGUF_MAX_KEY_LENGTH);
    if (key.length === 0) this.fail("invalid-value", keyOffset, `a non-empty key for ${this.subject()}`, "empty key");
    this.itemName = key;
    if (this.metadata.has(key)) this.fail("invalid-value", keyOffset, `a key not seen before for ${this.subject()}`, `duplicate key '${key}'`);

    const valueOffset = this.pos;
    const tag = this.tag("4-byte value type");
    let value: GgufMetadataEntry;
    if (tag === GgufValueTag.array) {
      const itemTag = this.tag("4-byte array item type");
      const lengthOffset = this.pos;
      const length = this.arrayLength(itemTag);
      value =
        length > this.maxArrayValues ? this.skipArray(itemTag, length, lengthOffset, 1) : this.arrayValues(itemTag, length, 1);
    } else {
      value = this.scalar(tag);
    }
    if (key === "general.alignment") this.alignment = this.checkAlignment(value, valueOffset);
    this.metadata.set(key, value);
  }

  /** gguf.cpp: `general.alignment` must be a u32 power of two. */
  private checkAlignment(value: GgufMetadataEntry, offset: number): number {
    if (value.type !== "u32") this.fail("invalid-value", offset, `a u32 value of ${this.subject()}`, `general.alignment is of type ${value.type}`);
    const alignment = value.value;
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) {
      this.fail("invalid-value", offset + 4, `a power of two for ${this.subject()}`, `alignment ${alignment} is not a power of two`);
    }
    return alignment;
  }

  private tag(expected: string): number {
    const offset = this.pos;
    const tag = this.u32(expected);
    if (tag >= TAG_NAMES.length) this.fail("invalid-value", offset, `${expected} of ${this.subject()} (0–12)`, `unknown value type ${tag}`);
    return tag;
  }

  /** An array's u64 length, checked against gguf.cpp's cap and the bytes left in the file before anything is allocated. */
  private arrayLength(itemTag: number): number {
    const offset = this.pos;
    const length = this.u64("8-byte array length");
    const minBytes = length * (TAG_MIN_SIZES[itemTag] ?? 1);
    if (length > GGUF_MAX_ARRAY_ELEMENTS) {
      this.fail("limit-exceeded", offset, `an array length of ${this.subject()} of at most ${GGUF_MAX_ARRAY_ELEMENTS}`, `array length ${formatCount(length)} is too large`);
    }
    if (this.pos + minBytes > this.fileSize) {
      this.fail("truncated", offset, `an array length of ${this.subject()} that fits in the remaining ${this.fileSize - this.pos} bytes`, `array of ${length} ${TAG_NAMES[itemTag] ?? "?"} values runs past the end of the file`);
    }
    // Ask for all the array's smallest possible bytes at once rather than failing repeatedly inside it.
    if (this.pos + minBytes > this.end) {
      const guess = itemTag === GgufValueTag.string ? this.pos + length * GUESSED_STRING_ELEMENT_BYTES : this.pos + minBytes;
      throw new NeedMoreData(this.pos + minBytes, guess);
    }
    return length;
  }

  private scalar(tag: number): GgufValue {
    const view = this.view;
    switch (tag) {
      case GgufValueTag.u8:
        return { type: "u8", value: view.getUint8(this.take(1, "1-byte u8 value")) };
      case GgufValueTag.i8:
        return { type: "i8", value: view.getInt8(this.take(1, "1-byte i8 value")) };
      case GgufValueTag.u16:
        return { type: "u16", value: view.getUint16(this.take(2, "2-byte u16 value"), true) };
      case GgufValueTag.i16:
        return { type: "i16", value: view.getInt16(this.take(2, "2-byte i16 value"), true) };
      case GgufValueTag.u32:
        return { type: "u32", value: view.getUint32(this.take(4, "4-byte u32 value"), true) };
      case GgufValueTag.i32:
        return { type: "i32", value: view.getInt32(this.take(4, "4-byte i32 value"), true) };
      case GgufValueTag.f32:
        return { type: "f32", value: view.getFloat32(this.take(4, "4-byte f32 value"), true) };
      case GgufValueTag.bool:
        return { type: "bool", value: view.getUint8(this.take(1, "1-byte bool value")) !== 0 };
      case GgufValueTag.string:
        return { type: "string", value: this.string(STRING_VALUE, GGUF_MAX_STRING_LENGTH) };
      case GgufValueTag.u64:
        return { type: "u64", value: view.getBigUint64(this.take(8, "8-byte u64 value"), true) };
      case GgufValueTag.i64:
        return { type: "i64", value: view.getBigInt64(this.take(8, "8-byte i64 value"), true) };
      case GgufValueTag.f64:
        return { type: "f64", value: view.getFloat64(this.take(8, "8-byte f64 value"), true) };
      default:
        // Arrays are handled by the callers; kept for exhaustiveness.
        return this.fail("invalid-value", this.pos, `a scalar value type for ${this.subject()}`, `unexpected value type ${tag}`);
    }
  }

  /** Decodes `length` values of one tag; the length was already checked by `arrayLength`. */
  private arrayValues(itemTag: number, length: number, depth: number): GgufArray {
    const itemType = TAG_NAMES[itemTag] ?? "u8";
    const size = TAG_SIZES[itemTag] ?? 0;
    if (size > 0) {
      this.need(size * length, `${size * length} bytes of ${length} ${itemType} values`);
      const start = this.pos - this.base;
      this.pos += size * length;
      return this.fixedArray(itemTag, start, length);
    }
    if (itemTag === GgufValueTag.string) {
      const values = new Array<string>(length);
      const arrayStart = this.pos;
      let i = 0;
      try {
        for (; i < length; i++) {
          this.elementIndex = i;
          values[i] = this.string(ELEMENT, GGUF_MAX_STRING_LENGTH);
        }
      } catch (error) {
        // Out of window part-way: ask for where the array probably ends, from the average element so far.
        if (error instanceof NeedMoreData && i > 0) throw new NeedMoreData(error.until, arrayStart + Math.ceil(((this.pos - arrayStart) / i) * length * 1.05));
        throw error;
      }
      return { type: "array", itemType: "string", values };
    }
    // Nested arrays: each element carries its own item type and length.
    if (depth >= GGUF_MAX_ARRAY_DEPTH) {
      this.fail("limit-exceeded", this.pos, `arrays nested at most ${GGUF_MAX_ARRAY_DEPTH} deep in ${this.subject()}`, "arrays nested too deep");
    }
    const values = new Array<GgufArray>(length);
    for (let i = 0; i < length; i++) {
      this.elementIndex = i;
      const innerTag = this.tag("4-byte array item type");
      const innerLength = this.arrayLength(innerTag);
      values[i] = this.arrayValues(innerTag, innerLength, depth + 1);
    }
    return { type: "array", itemType: "array", values };
  }

  private fixedArray(itemTag: number, start: number, length: number): GgufArray {
    const view = this.view;
    switch (itemTag) {
      case GgufValueTag.u8:
        return { type: "array", itemType: "u8", values: Array.from(this.bytes.subarray(start, start + length)) };
      case GgufValueTag.i8:
        return { type: "array", itemType: "i8", values: readNumbers(length, (i) => view.getInt8(start + i)) };
      case GgufValueTag.u16:
        return { type: "array", itemType: "u16", values: readNumbers(length, (i) => view.getUint16(start + 2 * i, true)) };
      case GgufValueTag.i16:
        return { type: "array", itemType: "i16", values: readNumbers(length, (i) => view.getInt16(start + 2 * i, true)) };
      case GgufValueTag.u32:
        return { type: "array", itemType: "u32", values: readNumbers(length, (i) => view.getUint32(start + 4 * i, true)) };
      case GgufValueTag.i32:
        return { type: "array", itemType: "i32", values: readNumbers(length, (i) => view.getInt32(start + 4 * i, true)) };
      case GgufValueTag.f32:
        return { type: "array", itemType: "f32", values: readNumbers(length, (i) => view.getFloat32(start + 4 * i, true)) };
      case GgufValueTag.f64:
        return { type: "array", itemType: "f64", values: readNumbers(length, (i) => view.getFloat64(start + 8 * i, true)) };
      case GgufValueTag.bool: {
        const values = new Array<boolean>(length);
        for (let i = 0; i < length; i++) values[i] = view.getUint8(start + i) !== 0;
        return { type: "array", itemType: "bool", values };
      }
      case GgufValueTag.u64: {
        const values = new Array<bigint>(length);
        for (let i = 0; i < length; i++) values[i] = view.getBigUint64(start + 8 * i, true);
        return { type: "array", itemType: "u64", values };
      }
      default: {
        const values = new Array<bigint>(length);
        for (let i = 0; i < length; i++) values[i] = view.getBigInt64(start + 8 * i, true);
        return { type: "array", itemType: "i64", values };
      }
    }
  }

  /** Walks over an array without decoding it (same validation), for `maxArrayValues`. */
  private skipArray(itemTag: number, length: number, lengthOffset: number, depth: number): GgufArraySummary {
    const itemType = TAG_NAMES[itemTag] ?? "u8";
    const size = TAG_SIZES[itemTag] ?? 0;
    if (size > 0) {
      this.need(size * length, `${size * length} bytes of ${length} ${itemType} values`);
      this.pos += size * length;
    } else if (itemTag === GgufValueTag.string) {
      for (let i = 0; i < length; i++) {
        this.elementIndex = i;
        const stringLength = this.stringLength(ELEMENT, GGUF_MAX_STRING_LENGTH);
        if (this.pos + stringLength > this.end) this.need(stringLength, `${stringLength} bytes of ${ELEMENT.name}`);
        this.pos += stringLength;
      }
    } else {
      if (depth >= GGUF_MAX_ARRAY_DEPTH) {
        this.fail("limit-exceeded", lengthOffset, `arrays nested at most ${GGUF_MAX_ARRAY_DEPTH} deep in ${this.subject()}`, "arrays nested too deep");
      }
      for (let i = 0; i < length; i++) {
        this.elementIndex = i;
        const innerTag = this.tag("4-byte array item type");
        const innerOffset = this.pos;
        const innerLength = this.arrayLength(innerTag);
        this.skipArray(innerTag, innerLength, innerOffset, depth + 1);
      }
    }
    return { type: "array-summary", itemType, length };
  }

  // ---- tensor infos -------------------------------------------------------------------------------------------

  private parseTensorInfo(index: number): void {
    this.section = "tensor";
    this.itemIndex = index;
    this.itemName = undefined;
    const nameOffset = this.pos;
    // gguf.cpp: the name must fit ggml_tensor.name (GGML_MAX_NAME bytes including the terminating zero).
    const name = this.string(TENSOR_NAME, GGML_MAX_NAME - 1);
    this.itemName = name;
    if (this.tensorNames.has(name)) this.fail("invalid-value", nameOffset, `a tensor name not seen before for ${this.subject()}`, `duplicate tensor name '${name}'`);

    const dimsOffset = this.pos;
    const dimCount = this.u32("4-byte dimension count");
    if (dimCount > GGML_MAX_DIMS) {
      this.fail("limit-exceeded", dimsOffset, `at most ${GGML_MAX_DIMS} dimensions (GGML_MAX_DIMS) for ${this.subject()}`, `${dimCount} dimensions`);
    }
    const dims: number[] = [];
    for (let d = 0; d < dimCount; d++) {
      const dimOffset = this.pos;
      // ne[] are int64 in ggml: a negative one is invalid, one past 2^53 cannot be a real tensor.
      const at = this.take(8, `8-byte dimension ${d}`);
      const low = this.view.getUint32(at, true);
      const high = this.view.getInt32(at + 4, true);
      if (high < 0) this.fail("invalid-value", dimOffset, `a non-negative dimension ${d} of ${this.subject()}`, "negative dimension");
      const dim = high * 2 ** 32 + low;
      if (!Number.isSafeInteger(dim)) this.fail("limit-exceeded", dimOffset, `dimension ${d} of ${this.subject()} below 2^53`, `dimension ${dim} too large`);
      dims.push(dim);
    }
    const elements = elementCount(dims);
    if (!Number.isSafeInteger(elements)) {
      this.fail("limit-exceeded", dimsOffset, `an element count of ${this.subject()} below 2^53`, `shape [${dims.join(", ")}] too large`);
    }

    const typeOffset = this.pos;
    const ggmlType = this.u32("4-byte ggml type");
    const info = ggmlTypeInfo(ggmlType);
    if (info === undefined) this.fail("unknown-ggml-type", typeOffset, `a known ggml type for ${this.subject()}`, `unknown ggml type ${ggmlType}`);
    // gguf.cpp: rows (ne[0]) must be whole blocks of the type.
    const rowLength = dims[0] ?? 1;
    if (rowLength % info.blockSize !== 0) {
      this.fail("invalid-value", typeOffset, `a row length of ${this.subject()} that is a multiple of the ${info.name} block size ${info.blockSize}`, `row length ${rowLength}`);
    }
    const byteLength = (elements / info.blockSize) * info.typeSize;
    if (!Number.isSafeInteger(byteLength)) this.fail("limit-exceeded", typeOffset, `a size of ${this.subject()} below 2^53 bytes`, "tensor too large");

    const offsetOffset = this.pos;
    const offset = this.u64("8-byte data offset");
    if (!Number.isSafeInteger(offset)) this.fail("limit-exceeded", offsetOffset, `a data offset of ${this.subject()} below 2^53`, `offset ${formatCount(offset)} too large`);
    if (offset % this.alignment !== 0) {
      this.fail("invalid-value", offsetOffset, `a data offset of ${this.subject()} that is a multiple of the alignment ${this.alignment}`, `unaligned offset ${offset}`);
    }
    this.tensorNames.add(name);
    this.tensors.push({ name, dims, ggmlType, offset, byteLength });
  }

  // ---- primitives ---------------------------------------------------------------------------------------------

  /** Makes sure `n` bytes from `pos` are in the window: truncated if the file is shorter, else asks for more. */
  private need(n: number, expected: string): void {
    if (this.pos + n <= this.end) return;
    if (this.pos + n > this.fileSize) {
      this.fail("truncated", this.pos, this.section === "header" ? `${expected} in the header` : `${expected} of ${this.subject()}`);
    }
    throw new NeedMoreData(this.pos + n);
  }

  /** Moves past an n-byte field and returns where it starts in the window. */
  private take(n: number, expected: string): number {
    if (this.pos + n > this.end) this.need(n, expected);
    const at = this.pos - this.base;
    this.pos += n;
    return at;
  }

  private u32(expected: string): number {
    return this.view.getUint32(this.take(4, expected), true);
  }

  /** A u64 as a number: exact below 2^53, approximate above (every caller rejects such values as too large). */
  private u64(expected: string): number {
    const at = this.take(8, expected);
    return this.view.getUint32(at + 4, true) * 2 ** 32 + this.view.getUint32(at, true);
  }

  private stringLength(kind: StringKind, max: number): number {
    const offset = this.pos;
    const length = this.u64(kind.lengthLabel);
    if (length > max) {
      this.fail("limit-exceeded", offset, `a ${kind.name} length of ${this.subject()} of at most ${max} bytes`, `${kind.name} length ${formatCount(length)} is too large`);
    }
    if (this.pos + length > this.fileSize) {
      this.fail("truncated", offset, `a ${kind.name} length of ${this.subject()} that fits in the remaining ${this.fileSize - this.pos} bytes`, `${kind.name} of ${length} bytes runs past the end of the file`);
    }
    return length;
  }

  /** A GGUF string: u64 byte length, then UTF-8 bytes (no terminator). */
  private string(kind: StringKind, max: number): string {
    const length = this.stringLength(kind, max);
    if (this.pos + length > this.end) this.need(length, `${length} bytes of ${kind.name}`);
    const start = this.pos - this.base;
    this.pos += length;
    return decodeUtf8(this.bytes, start, start + length);
  }

  /** What is being parsed, for messages: "element #5 of metadata key #3 'tokenizer.ggml.tokens'". */
  private subject(): string {
    let subject: string;
    if (this.section === "header") return "the header";
    if (this.section === "metadata") subject = `metadata key #${this.itemIndex}`;
    else subject = `tensor info #${this.itemIndex}`;
    if (this.itemName !== undefined) subject += ` '${truncateForMessage(this.itemName)}'`;
    if (this.elementIndex >= 0) subject = `element #${this.elementIndex} of ${subject}`;
    return subject;
  }

  private fail(code: GgufFormatErrorCode, offset: number, expected: string, problem?: string): never {
    throw new GgufFormatError(code, this.file, offset, expected, problem);
  }
}

/**
 * UTF-8 decode of `bytes[start, end)`. Node's `Buffer#utf8Slice` (what `toString("utf8")` calls after its argument
 * checks) is the fastest for the many short strings of a vocabulary: ~1.5x `toString`, ~2x `TextDecoder`. It is not in
 * the typings, so it is looked up once with a fallback.
 */
const decodeUtf8: (bytes: Buffer, start: number, end: number) => string = (() => {
  const prototype = Buffer.prototype as Buffer & { utf8Slice?: (start: number, end: number) => string };
  const utf8Slice = prototype.utf8Slice;
  if (typeof utf8Slice === "function") return (bytes: Buffer, start: number, end: number) => utf8Slice.call(bytes, start, end);
  return (bytes: Buffer, start: number, end: number) => bytes.toString("utf8", start, end);
})();

function readNumbers(length: number, read: (index: number) => number): number[] {
  const values = new Array<number>(length);
  for (let i = 0; i < length; i++) values[i] = read(i);
  return values;
}

function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}

function printable(bytes: Uint8Array): string {
  const text = Array.from(bytes, (byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : "?")).join("");
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join(" ");
  return `"${text}" (${hex})`;
}

/** A count for a message: exact when it can be, else in exponent form (a corrupt u64). */
function formatCount(count: number): string {
  return Number.isSafeInteger(count) ? String(count) : count.toExponential(3);
}

function truncateForMessage(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Reads the header of a GGUF file: metadata and tensor infos, reading only as much of the file as they take. */
export function readGgufFile(path: string, options?: GgufReadOptions & { readonly maxArrayValues?: undefined }): Promise<GgufFile>;
/** Same, but top-level arrays longer than `maxArrayValues` come back as `GgufArraySummary` (much faster for big vocabularies). */
export function readGgufFile(path: string, options: GgufSummaryReadOptions): Promise<GgufFile<GgufMetadataEntry>>;
export async function readGgufFile(
  path: string,
  options: GgufReadOptions & { readonly maxArrayValues?: number | undefined } = {},
): Promise<GgufFile<GgufMetadataEntry>> {
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  throwIfAborted(options.signal);
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const parser = new GgufHeaderParser(path, size, options.maxArrayValues ?? Infinity);
    const readAhead = Math.max(1, options.readAheadBytes ?? INITIAL_WINDOW);
    await refill(handle, parser, Math.min(size, readAhead), path);
    for (;;) {
      const request = parser.run();
      if (request === undefined) break;
      const { until, hint } = request;
      throwIfAborted(options.signal);
      if (until > maxHeaderBytes) {
        throw new GgufFormatError(
          "limit-exceeded",
          path,
          parser.checkpoint,
          `a header (metadata and tensor infos) within the first ${maxHeaderBytes} bytes`,
          `header needs at least ${until} bytes`,
        );
      }
      // Grow the window to at least double what is pending, so a big entry is re-parsed only O(log n) times.
      const pending = parser.windowEnd - parser.checkpoint;
      const wanted = Math.max(hint, parser.checkpoint + 2 * pending, parser.checkpoint + readAhead);
      await refill(handle, parser, Math.min(size, Math.max(until, Math.min(wanted, maxHeaderBytes))), path);
    }
    return parser.result(path);
  } finally {
    await handle.close();
  }
}

/** Keeps the window's bytes from the checkpoint on and reads the file up to `end`. */
async function refill(handle: FileHandle, parser: GgufHeaderParser, end: number, path: string): Promise<void> {
  const kept = parser.pendingBytes();
  const start = parser.checkpoint;
  const window = Buffer.allocUnsafe(end - start);
  kept.copy(window, 0);
  let filled = kept.byteLength;
  while (start + filled < end) {
    const { bytesRead } = await handle.read(window, filled, end - start - filled, start + filled);
    if (bytesRead === 0) {
      // The file shrank while we read it.
      throw new GgufFormatError("truncated", path, start + filled, `${end - start - filled} more bytes of the header`, "file ended while reading");
    }
    filled += bytesRead;
  }
  parser.setWindow(window, start);
}

/** Parses a whole GGUF file held in memory; `name` is used in error messages. */
export function parseGgufBytes(bytes: Uint8Array, name: string, options?: { readonly maxArrayValues?: undefined }): GgufFile;
/** Same, with long top-level arrays kept as `GgufArraySummary`. */
export function parseGgufBytes(bytes: Uint8Array, name: string, options: { readonly maxArrayValues: number }): GgufFile<GgufMetadataEntry>;
export function parseGgufBytes(
  bytes: Uint8Array,
  name: string,
  options: { readonly maxArrayValues?: number | undefined } = {},
): GgufFile<GgufMetadataEntry> {
  const parser = new GgufHeaderParser(name, bytes.byteLength, options.maxArrayValues ?? Infinity);
  parser.setWindow(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0);
  // The whole file is in the window, so the parser can only finish or throw.
  const request = parser.run();
  if (request !== undefined) throw new Error(`GGUF parser asked for byte ${request.until} of a complete buffer`);
  return parser.result(name);
}

/** Streams one tensor's data from the file, in chunks of up to 4 MiB (each a fresh buffer the caller may keep). */
export async function* readTensorData(
  file: GgufFile<GgufMetadataEntry>,
  tensor: GgufTensorInfo,
  signal?: AbortSignal,
): AsyncIterable<Uint8Array> {
  const start = file.dataOffset + tensor.offset;
  const end = start + tensor.byteLength;
  throwIfAborted(signal);
  const handle = await open(file.path, "r");
  try {
    const { size } = await handle.stat();
    if (end > size) {
      throw new GgufFormatError("tensor-data-out-of-bounds", file.path, start, `${tensor.byteLength} bytes of data of tensor '${tensor.name}' (file ends at byte ${size})`, "tensor data past end of file");
    }
    let position = start;
    while (position < end) {
      throwIfAborted(signal);
      const chunk = Buffer.allocUnsafe(Math.min(TENSOR_CHUNK, end - position));
      let filled = 0;
      while (filled < chunk.byteLength) {
        const { bytesRead } = await handle.read(chunk, filled, chunk.byteLength - filled, position + filled);
        if (bytesRead === 0) throw new GgufFormatError("truncated", file.path, position + filled, `data of tensor '${tensor.name}'`, "file ended while reading");
        filled += bytesRead;
      }
      position += filled;
      yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
  } finally {
    await handle.close();
  }
}
