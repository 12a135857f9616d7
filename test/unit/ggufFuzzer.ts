/**
 * A deterministic GGUF fuzzer shared by test/unit/ggufFuzz.test.ts (a CI-sized run) and bench/ggufFuzz.ts (10,000+
 * cases). Valid files are mutated (bit flips, byte overwrites, huge or odd values spliced into count, length, tag and
 * type fields, truncation, inserted/deleted bytes, and stacks of these) and parsed. Every case must either parse or
 * throw GgufFormatError; anything else is a crash. Some cases also go through the streaming reader from disk with
 * a random read-ahead, which must give exactly the same result as the in-memory parser.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import v8 from "node:v8";
import { GgmlType } from "../../src/core/gguf/ggmlTypes";
import { GgufFormatError, type GgufFormatErrorCode } from "../../src/core/gguf/ggufErrors";
import { parseGgufBytes, readGgufFile } from "../../src/core/gguf/ggufReader";
import type { GgufFile, GgufMetadataEntry, GgufValue } from "../../src/core/gguf/ggufTypes";
import { encodeGguf } from "../../src/core/gguf/ggufWriter";
import { patternBytes, sampleInput } from "./ggufSamples";
import { Random } from "../fixtures/seededRandom";


interface Field {
  readonly offset: number;
  readonly size: 4 | 8;
}

interface BaseFile {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Where the header ends (mutations favour it: that is where the parser works). */
  readonly headerEnd: number;
  /** Every count, length, tag, type, dimension and offset field. */
  readonly fields: readonly Field[];
}

/** Offsets of the integer fields of a valid little-endian GGUF file (an independent walk of the layout). */
function fieldsOf(bytes: Uint8Array): { fields: Field[]; headerEnd: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: Field[] = [];
  let pos = 4;
  const u32 = (): number => {
    fields.push({ offset: pos, size: 4 });
    pos += 4;
    return view.getUint32(pos - 4, true);
  };
  const u64 = (): number => {
    fields.push({ offset: pos, size: 8 });
    pos += 8;
    return Number(view.getBigUint64(pos - 8, true));
  };
  const fixedSizes: Readonly<Record<number, number>> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  // Read a length before adding it to pos: `pos += u64()` would add to the pos read before u64 moved it.
  const skip = (length: number): void => {
    pos += length;
  };
  const value = (tag: number): void => {
    if (tag === 8) skip(u64());
    else if (tag === 9) {
      const itemTag = u32();
      const count = u64();
      for (let i = 0; i < count; i++) value(itemTag);
    } else pos += fixedSizes[tag] ?? 0;
  };
  u32(); // version
  const tensorCount = u64();
  const kvCount = u64();
  for (let i = 0; i < kvCount; i++) {
    skip(u64()); // key
    value(u32());
  }
  for (let i = 0; i < tensorCount; i++) {
    skip(u64()); // name
    const dims = u32();
    for (let d = 0; d < dims; d++) u64();
    u32(); // type
    u64(); // offset
  }
  return { fields, headerEnd: pos };
}

function baseFile(name: string, bytes: Uint8Array): BaseFile {
  return { name, bytes, ...fieldsOf(bytes) };
}

/** The valid files the cases start from: small, covering every value type, nesting, alignments and tensor types. */
export function baseFiles(): readonly BaseFile[] {
  const nested: GgufValue = {
    type: "array",
    itemType: "array",
    values: [
      { type: "array", itemType: "array", values: [{ type: "array", itemType: "string", values: ["x", "yz"] }] },
      { type: "array", itemType: "u64", values: [1n, 2n] },
    ],
  };
  const v2 = encodeGguf(sampleInput());
  new DataView(v2.buffer, v2.byteOffset).setUint32(4, 2, true);
  return [
    baseFile("sample", encodeGguf(sampleInput())),
    baseFile("sample-align64", encodeGguf(sampleInput({ alignment: 64 }))),
    baseFile("sample-v2", v2),
    baseFile(
      "nested",
      encodeGguf({
        metadata: new Map<string, GgufValue>([
          ["general.architecture", { type: "string", value: "qwen2" }],
          ["deep", nested],
          ["tokenizer.ggml.tokens", { type: "array", itemType: "string", values: ["a", "bb", "ccc", "Ġd", "é"] }],
        ]),
        tensors: [
          { name: "a", dims: [256], ggmlType: GgmlType.Q4_K, data: patternBytes(144, 1) },
          { name: "b", dims: [2, 2], ggmlType: GgmlType.F16, data: patternBytes(8, 2) },
        ],
      }),
    ),
    baseFile("metadata-only", encodeGguf({ metadata: sampleInput().metadata, tensors: [] })),
  ];
}

const U64_SPECIALS: readonly bigint[] = [
  0n,
  1n,
  2n,
  4n,
  5n,
  31n,
  32n,
  63n,
  64n,
  255n,
  1n << 30n,
  (1n << 30n) + 1n,
  (1n << 31n) - 1n,
  1n << 31n,
  (1n << 32n) - 1n,
  1n << 32n,
  1n << 53n,
  (1n << 53n) + 1n,
  (1n << 63n) - 1n,
  1n << 63n,
  (1n << 64n) - 1n,
];
const U32_SPECIALS: readonly number[] = [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 14, 24, 30, 31, 34, 39, 41, 42, 43, 64, 255, 0x7fffffff, 0x80000000, 0xffffffff];

export interface FuzzCase {
  readonly index: number;
  readonly base: string;
  readonly mutation: string;
  readonly bytes: Uint8Array;
}

/** Applies one random mutation to `bytes` (a copy) and says what it did. */
function mutateOnce(random: Random, base: BaseFile, input: Uint8Array): { bytes: Uint8Array; what: string } {
  const bytes = new Uint8Array(input);
  const view = new DataView(bytes.buffer);
  // Most mutations land in the header, where the parser works; some anywhere.
  const position = (): number => (random.next() < 0.85 ? random.int(Math.min(base.headerEnd, bytes.length)) : random.int(bytes.length));
  const kind = random.int(7);
  if (bytes.length === 0) return { bytes, what: "empty" };
  switch (kind) {
    case 0: {
      const flips = 1 + random.int(8);
      for (let i = 0; i < flips; i++) {
        const at = position();
        bytes[at] = (bytes[at] ?? 0) ^ (1 << random.int(8));
      }
      return { bytes, what: `flip ${flips} bits` };
    }
    case 1: {
      const count = 1 + random.int(16);
      for (let i = 0; i < count; i++) bytes[position()] = random.pick([0x00, 0xff, 0x7f, 0x80, random.int(256)]);
      return { bytes, what: `overwrite ${count} bytes` };
    }
    case 2:
    case 3: {
      const field = base.fields[random.int(base.fields.length)];
      if (field === undefined || field.offset + field.size > bytes.length) return { bytes, what: "no field" };
      if (field.size === 8) {
        const remaining = BigInt(bytes.length - field.offset);
        const value = random.pick([...U64_SPECIALS, remaining, remaining - 8n, remaining + 1n, BigInt(random.int(2 ** 31)) * BigInt(random.int(2 ** 31) + 1)]);
        view.setBigUint64(field.offset, BigInt.asUintN(64, value), true);
        return { bytes, what: `u64 at ${field.offset} = ${value}` };
      }
      const value = random.pick([...U32_SPECIALS, random.int(2 ** 32)]);
      view.setUint32(field.offset, value, true);
      return { bytes, what: `u32 at ${field.offset} = ${value}` };
    }
    case 4: {
      const cut = random.next() < 0.7 ? random.int(base.headerEnd + 1) : random.int(bytes.length);
      return { bytes: bytes.subarray(0, cut), what: `truncate at ${cut}` };
    }
    case 5: {
      const at = position();
      const length = 1 + random.int(16);
      const out = new Uint8Array(bytes.length - Math.min(length, bytes.length - at));
      out.set(bytes.subarray(0, at));
      out.set(bytes.subarray(at + length), at);
      return { bytes: out, what: `delete ${length} at ${at}` };
    }
    default: {
      const at = position();
      const inserted = Uint8Array.from({ length: 1 + random.int(16) }, () => random.int(256));
      const out = new Uint8Array(bytes.length + inserted.length);
      out.set(bytes.subarray(0, at));
      out.set(inserted, at);
      out.set(bytes.subarray(at), at + inserted.length);
      return { bytes: out, what: `insert ${inserted.length} at ${at}` };
    }
  }
}

/** The cases of a run: deterministic in (seed, index). */
export function* fuzzCases(seed: number, count: number): Generator<FuzzCase> {
  const bases = baseFiles();
  for (let index = 0; index < count; index++) {
    const random = new Random(seed * 1_000_003 + index);
    const base = random.pick(bases);
    let bytes = base.bytes;
    const steps: string[] = [];
    // Mostly one mutation; sometimes a stack of up to four.
    const mutations = random.next() < 0.7 ? 1 : 2 + random.int(3);
    for (let i = 0; i < mutations; i++) {
      const { bytes: next, what } = mutateOnce(random, base, bytes);
      bytes = next;
      steps.push(what);
    }
    yield { index, base: base.name, mutation: steps.join(", "), bytes };
  }
}

export type FuzzOutcome = "parsed" | GgufFormatErrorCode;

export interface FuzzCrash {
  readonly index: number;
  readonly base: string;
  readonly mutation: string;
  readonly error: string;
}

export interface FuzzReport {
  readonly seed: number;
  readonly cases: number;
  readonly outcomes: Readonly<Record<string, number>>;
  readonly streamedCases: number;
  readonly crashes: readonly FuzzCrash[];
  /** Slowest in-memory case (both parses); the hang guard. */
  readonly maxCaseMs: number;
  readonly slowestCase: string;
  /** Slowest streamed case, file write and removal included. */
  readonly maxStreamedCaseMs: number;
  readonly baselineHeapBytes: number;
  /** Largest V8 heap size (committed) seen after any case. */
  readonly peakHeapBytes: number;
  /** Largest external (ArrayBuffer) memory seen. */
  readonly peakExternalBytes: number;
  readonly totalMs: number;
}

export interface FuzzOptions {
  readonly seed: number;
  readonly cases: number;
  /** Every n-th case also goes through readGgufFile from disk (0: never). */
  readonly streamEvery?: number;
  readonly onProgress?: (done: number) => void;
}

function outcomeOf(run: () => GgufFile<GgufMetadataEntry>): { outcome: FuzzOutcome; result: unknown } {
  try {
    return { outcome: "parsed", result: run() };
  } catch (error) {
    if (error instanceof GgufFormatError) return { outcome: error.code, result: { code: error.code, offset: error.offset, message: error.message } };
    throw error;
  }
}

/** Runs the cases; never throws for a bad case (a crash is recorded in the report). */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const outcomes: Record<string, number> = {};
  const crashes: FuzzCrash[] = [];
  const dir = await mkdtemp(path.join(os.tmpdir(), "slm-gguf-fuzz-"));
  let maxCaseMs = 0;
  let slowestCase = "";
  let maxStreamedCaseMs = 0;
  let streamedCases = 0;
  const baselineHeapBytes = v8.getHeapStatistics().total_heap_size;
  let peakHeapBytes = baselineHeapBytes;
  let peakExternalBytes = process.memoryUsage().arrayBuffers;
  const started = performance.now();
  try {
    for (const fuzzCase of fuzzCases(options.seed, options.cases)) {
      const name = `case-${fuzzCase.index}.gguf`;
      const start = performance.now();
      try {
        const { outcome, result } = outcomeOf(() => parseGgufBytes(fuzzCase.bytes, name));
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        // Skipping long arrays (maxArrayValues) must validate exactly as decoding them does.
        const skipped = outcomeOf(() => parseGgufBytes(fuzzCase.bytes, name, { maxArrayValues: 1 }));
        const sameOutcome =
          outcome === "parsed" && skipped.outcome === "parsed"
            ? isDeepStrictEqual((skipped.result as GgufFile<GgufMetadataEntry>).tensors, (result as GgufFile).tensors)
            : isDeepStrictEqual(skipped.result, result);
        if (!sameOutcome) throw new Error(`maxArrayValues parse disagrees: ${JSON.stringify(skipped.result, bigints)} vs ${JSON.stringify(result, bigints)}`);
        const ms = performance.now() - start;
        if (ms > maxCaseMs) {
          maxCaseMs = ms;
          slowestCase = `#${fuzzCase.index} (${fuzzCase.base}: ${fuzzCase.mutation})`;
        }
        const every = options.streamEvery ?? 0;
        if (every > 0 && fuzzCase.index % every === 0) {
          streamedCases++;
          const file = path.join(dir, name);
          await writeFile(file, fuzzCase.bytes);
          const readAheadBytes = 1 + new Random(fuzzCase.index).int(512);
          let streamed: unknown;
          try {
            const parsed = await readGgufFile(file, { readAheadBytes });
            streamed = { ...parsed, path: name };
          } catch (error) {
            if (!(error instanceof GgufFormatError)) throw error;
            streamed = { code: error.code, offset: error.offset, message: error.message };
          }
          await rm(file, { force: true });
          maxStreamedCaseMs = Math.max(maxStreamedCaseMs, performance.now() - start);
          if (!isDeepStrictEqual(streamed, result)) {
            throw new Error(`streaming reader (readAheadBytes ${readAheadBytes}) disagrees: ${JSON.stringify(streamed, bigints)} vs ${JSON.stringify(result, bigints)}`);
          }
        }
      } catch (error) {
        crashes.push({ index: fuzzCase.index, base: fuzzCase.base, mutation: fuzzCase.mutation, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      }
      peakHeapBytes = Math.max(peakHeapBytes, v8.getHeapStatistics().total_heap_size);
      if (fuzzCase.index % 64 === 0) {
        peakExternalBytes = Math.max(peakExternalBytes, process.memoryUsage().arrayBuffers);
        options.onProgress?.(fuzzCase.index);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return {
    seed: options.seed,
    cases: options.cases,
    outcomes,
    streamedCases,
    crashes,
    maxCaseMs,
    slowestCase,
    maxStreamedCaseMs,
    baselineHeapBytes,
    peakHeapBytes,
    peakExternalBytes,
    totalMs: performance.now() - started,
  };
}

function bigints(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? `${value}n` : value;
}
