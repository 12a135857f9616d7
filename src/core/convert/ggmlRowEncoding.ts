/**
 * The converter's compute-bound encodings done by ggml itself: the `libggml-base` that ships with node-llama-cpp
 * (loaded through koffi, like the quantizer) widens F16/BF16 rows to F32 (`ggml_fp16_to_fp32_row`,
 * `ggml_bf16_to_fp32_row`), narrows F32 to F16 (`ggml_fp32_to_fp16_row`) and writes Q8_0 blocks
 * (`ggml_quantize_chunk`, i.e. `quantize_row_q8_0_ref`, which q8_0Quantization.ts mirrors in JavaScript).
 *
 * Calls run on koffi's worker threads (`.async`), one slice of the chunk per CPU in parallel, so the JavaScript
 * thread keeps reading and writing meanwhile. Where the CPU has AVX2 + F16C, the F32 ↔ half conversions come from
 * ggml-cpu's vectorized build instead (several GB/s). Results are bit-identical to the JavaScript path (gguf-py's
 * rounding): F16 NaN lanes, which ggml writes differently from numpy, are redone in JavaScript; the widening and the F16 narrowing
 * are checked against JavaScript when the library is loaded (ggml quiets signalling F16 NaNs, so F16 is widened in
 * JavaScript), and unit tests compare Q8_0 blocks.
 * Used in the convert child process; where the library cannot be loaded, JavaScript does all the work.
 */
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { GgmlType } from "../gguf/ggmlTypes";
import { float32BitsToFloat16Bits } from "../numeric/float16";
import { locateLibllama } from "../quantize/libllamaLocation";
import { decodeToFloat32 } from "../safetensors/safetensorsTensorData";
import { type SupportedSafetensorsDtype } from "../safetensors/safetensorsDtypes";
import { Q8_0_BLOCK_BYTES, Q8_0_BLOCK_ELEMENTS } from "./q8_0Quantization";
import { loadKoffi } from "../koffiModule";

type Done = (error: unknown, result: unknown) => void;
/** A koffi function's `.async` form: the arguments, then a Node-style callback. */
type AsyncCall = (...args: [...unknown[], Done]) => void;

interface GgmlRowFunctions {
  readonly fp16ToFp32: AsyncCall;
  readonly bf16ToFp32: AsyncCall;
  readonly fp32ToFp16: AsyncCall;
  readonly quantizeChunk: AsyncCall;
  /** `ggml_validate_row_data`: false when the data holds a NaN or an infinity (it then says so on stderr). */
  readonly validateRowData: AsyncCall;
}

/** Encodes chunks with ggml. */
export interface GgmlRowEncoder {
  /**
   * `bytes` (whole elements of `dtype`; for Q8_0 a multiple of 32 of them) encoded as `ggmlType`, bit-identical to
   * `encodeFloat32(decodeToFloat32(...))`, or undefined when this pair is left to JavaScript. The result lives in one
   * of two buffers used in turn: it stays valid during the next call (a writer may still be writing it) and is
   * overwritten by the one after.
   */
  encode(dtype: SupportedSafetensorsDtype, ggmlType: number, bytes: Uint8Array): Promise<Uint8Array> | undefined;
}

/** `enum ggml_type` values. */
const GGML_TYPE_Q8_0 = 8;
const GGML_TYPE_BF16 = 30;

let loaded: GgmlRowEncoder | null | undefined;

/** The ggml encoder, or undefined where libggml-base cannot be loaded or fails its self-check. Loaded once. */
export async function ggmlRowEncoder(): Promise<GgmlRowEncoder | undefined> {
  if (loaded === undefined) {
    const functions = loadFunctions();
    const checked = functions === null ? undefined : await checkAgainstJavaScript(functions);
    loaded = functions === null || checked?.narrowing !== true ? null : createEncoder(functions, Math.min(4, Math.max(1, os.availableParallelism())), checked.nativeWidening, true);
  }
  return loaded ?? undefined;
}

function loadFunctions(): GgmlRowFunctions | null {
  if (process.env["SLM_LAB_NO_GGML_ENCODING"] === "1") return null;
  try {
    const binaries = locateLibllama().binariesDir;
    const base = path.join(binaries, "libggml-base.so");
    if (process.platform !== "linux" || !existsSync(base)) return null;
    const koffi = loadKoffi();
    const lib = koffi.load(base);
    const fp16 = lib.func("void ggml_fp16_to_fp32_row(const uint16_t *x, float *y, int64_t n)");
    const quantize = lib.func("size_t ggml_quantize_chunk(int type, const float *src, void *dst, int64_t start, int64_t nrows, int64_t n_per_row, const float *imatrix)");
    const validate = lib.func("bool ggml_validate_row_data(int type, const void *data, size_t nbytes)");
    // ggml-base converts one value at a time; ggml-cpu's build for AVX2 + F16C converts 8 at once (~8× faster), so it
    // is used where this CPU can run it (the variant node-llama-cpp itself would load is at least as capable).
    const vectorized = path.join(binaries, "libggml-cpu-haswell.so");
    const cpu = cpuSupportsHaswellBuild() && existsSync(vectorized) ? koffi.load(vectorized) : undefined;
    const bf16 = cpu?.func("void ggml_cpu_bf16_to_fp32(const uint16_t *x, float *y, int64_t n)") ?? lib.func("void ggml_bf16_to_fp32_row(const uint16_t *x, float *y, int64_t n)");
    const toFp16 = cpu?.func("void ggml_cpu_fp32_to_fp16(const float *x, uint16_t *y, int64_t n)") ?? lib.func("void ggml_fp32_to_fp16_row(const float *x, uint16_t *y, int64_t n)");
    return {
      fp16ToFp32: (...args) => { fp16.async(...args); },
      bf16ToFp32: (...args) => { bf16.async(...args); },
      fp32ToFp16: (...args) => { toFp16.async(...args); },
      quantizeChunk: (...args) => { quantize.async(...args); },
      validateRowData: (...args) => { validate.async(...args); },
    };
  } catch {
    // A missing package, a library without these symbols: JavaScript encodes everything.
    return null;
  }
}

/** Whether /proc/cpuinfo lists what ggml's "haswell" CPU build uses: AVX2, F16C, FMA, BMI2. */
function cpuSupportsHaswellBuild(): boolean {
  try {
    const flags = new Set(/^flags\s*:(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim().split(/\s+/) ?? []);
    return ["avx2", "f16c", "fma", "bmi2"].every((flag) => flags.has(flag));
  } catch {
    return false;
  }
}

function call(fn: AsyncCall, ...args: unknown[]): Promise<void> {
  return callForResult(fn, ...args).then(() => undefined);
}

function callForResult(fn: AsyncCall, ...args: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    fn(...args, (error: unknown, result: unknown) => {
      if (error !== null && error !== undefined) reject(error instanceof Error ? error : new Error("a ggml call through koffi failed", { cause: error }));
      else resolve(result);
    });
  });
}

/**
 * Which widenings ggml does with the JavaScript path's bits for every 16-bit pattern (ggml quiets signalling F16
 * NaNs, which numpy keeps: F16 is then widened in JavaScript), and whether its F32 → F16 narrowing, after the NaN
 * repair, matches on every widened half and on random float32 patterns (rounding of the bits F16 drops).
 */
async function checkAgainstJavaScript(functions: GgmlRowFunctions): Promise<{ readonly nativeWidening: ReadonlySet<"F16" | "BF16">; readonly narrowing: boolean }> {
  const probe = createEncoder(functions, 1, new Set(["F16", "BF16"]), false);
  const patterns = new Uint8Array(new Uint16Array(65536).map((_, index) => index).buffer);
  const nativeWidening = new Set<"F16" | "BF16">();
  let narrowing = true;
  const samples: Float32Array[] = [];
  for (const dtype of ["F16", "BF16"] as const) {
    const reference = new Float32Array(65536);
    decodeToFloat32(dtype, patterns, reference);
    samples.push(reference);
    const widened = await probe.encode(dtype, GgmlType.F32, patterns);
    if (widened !== undefined && Buffer.compare(widened, new Uint8Array(reference.buffer)) === 0) nativeWidening.add(dtype);
  }
  // Random float32 bit patterns (a fixed LCG: the check is the same on every run).
  const random = new Uint32Array(65536);
  let state = 0x9e3779b9;
  for (let index = 0; index < random.length; index += 1) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    random[index] = state;
  }
  samples.push(new Float32Array(random.buffer));
  for (const values of samples) {
    const bits = new Uint32Array(values.buffer);
    const expected = new Uint16Array(values.length);
    for (let index = 0; index < values.length; index += 1) expected[index] = float32BitsToFloat16Bits(bits[index] ?? 0);
    const narrowed = await probe.encode("F32", GgmlType.F16, new Uint8Array(values.buffer));
    if (narrowed === undefined || Buffer.compare(narrowed, new Uint8Array(expected.buffer)) !== 0) narrowing = false;
  }
  return { nativeWidening, narrowing };
}

/**
 * `checkFinite`: skip the NaN repair's scan for BF16 chunks that ggml finds finite. Off for the load-time self-check,
 * whose NaN-filled probes would only make ggml print about them.
 */
function createEncoder(functions: GgmlRowFunctions, parallelism: number, nativeWidening: ReadonlySet<"F16" | "BF16">, checkFinite: boolean): GgmlRowEncoder {
  const buffers = new Map<string, Uint8Array>();
  /** Which of the two result buffers this call fills. */
  let turn = 0;
  /** A reused buffer of at least `byteLength` bytes per purpose and turn. */
  const scratch = (purpose: string, byteLength: number): Uint8Array => {
    purpose = `${purpose}-${turn}`;
    let buffer = buffers.get(purpose);
    if (buffer === undefined || buffer.byteLength < byteLength) {
      buffer = new Uint8Array(byteLength);
      buffers.set(purpose, buffer);
    }
    return buffer.subarray(0, byteLength);
  };
  /** Runs `work(first, count)` over `elements` in up to `parallelism` slices of whole `unit`s, concurrently. */
  const sliced = async (elements: number, unit: number, work: (first: number, count: number) => Promise<void>): Promise<void> => {
    const units = elements / unit;
    const parts = Math.max(1, Math.min(parallelism, Math.floor(units / 4096)));
    const perPart = Math.ceil(units / parts);
    const jobs: Promise<void>[] = [];
    for (let first = 0; first < units; first += perPart) jobs.push(work(first * unit, Math.min(perPart, units - first) * unit));
    await Promise.all(jobs);
  };
  /** The chunk as float32: a view of F32 bytes, or F16/BF16 widened by ggml into a reused buffer. */
  const widen = async (dtype: SupportedSafetensorsDtype, bytes: Uint8Array, count: number): Promise<Float32Array> => {
    if (dtype === "F32") {
      const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
      return new Float32Array(aligned.buffer, aligned.byteOffset, count);
    }
    const target = scratch("f32", count * 4);
    const out = new Float32Array(target.buffer, target.byteOffset, count);
    if (!nativeWidening.has(dtype)) {
      decodeToFloat32(dtype, bytes, out);
      return out;
    }
    const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
    const input = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
    const fn = dtype === "F16" ? functions.fp16ToFp32 : functions.bf16ToFp32;
    await sliced(count, 1, (first, n) => call(fn, input.subarray(first, first + n), out.subarray(first, first + n), n));
    return out;
  };
  /**
   * Whether BF16 data is free of NaNs and infinities (ggml's vectorizable count, on other threads): the NaN repair's
   * JavaScript scan then has nothing to find. Other sources are always scanned.
   */
  const finiteBf16 = async (bytes: Uint8Array): Promise<boolean> => {
    if (!checkFinite) return false;
    const results: unknown[] = [];
    await sliced(bytes.byteLength / 2, 1, async (first, n) => {
      results.push(await callForResult(functions.validateRowData, GGML_TYPE_BF16, bytes.subarray(first * 2, (first + n) * 2), n * 2));
    });
    return results.every((result) => result === true);
  };
  const toHalves = async (values: Float32Array, finite: Promise<boolean>): Promise<Uint8Array> => {
    const target = scratch("f16", values.length * 2);
    const out = new Uint16Array(target.buffer, target.byteOffset, values.length);
    await sliced(values.length, 1, (first, n) => call(functions.fp32ToFp16, values.subarray(first, first + n), out.subarray(first, first + n), n));
    if (!(await finite)) repairNans(values, out);
    return target;
  };
  return {
    encode(dtype, ggmlType, bytes) {
      turn ^= 1;
      const count = bytes.byteLength / (dtype === "F32" ? 4 : 2);
      if (ggmlType === GgmlType.F32 && dtype !== "F32") {
        return widen(dtype, bytes, count).then((values) => new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
      }
      if (ggmlType === GgmlType.F16 && dtype !== "F16") {
        const finite = dtype === "BF16" ? finiteBf16(bytes) : Promise.resolve(false);
        return widen(dtype, bytes, count).then((values) => toHalves(values, finite));
      }
      if (ggmlType === GgmlType.Q8_0 && count % Q8_0_BLOCK_ELEMENTS === 0) {
        return (async () => {
          const values = await widen(dtype, bytes, count);
          const out = scratch("q8_0", (count / Q8_0_BLOCK_ELEMENTS) * Q8_0_BLOCK_BYTES);
          // Q8_0 blocks do not depend on the row length: one "row" of 32 values per block, sliced at block boundaries.
          await sliced(count, Q8_0_BLOCK_ELEMENTS, (first, n) => {
            const blocks = n / Q8_0_BLOCK_ELEMENTS;
            const outStart = (first / Q8_0_BLOCK_ELEMENTS) * Q8_0_BLOCK_BYTES;
            return call(functions.quantizeChunk, GGML_TYPE_Q8_0, values.subarray(first, first + n), out.subarray(outStart, outStart + blocks * Q8_0_BLOCK_BYTES), 0, blocks, Q8_0_BLOCK_ELEMENTS, null);
          });
          return out;
        })();
      }
      return undefined;
    },
  };
}

/**
 * Redoes the NaN lanes of an F16 result with the JavaScript rounding: ggml-base writes every NaN as ±0x7E00 and the
 * F16C instruction sets the quiet bit, where numpy (gguf-py) keeps the payload as it is. NaNs (absent from real
 * weights) have a top byte of 0x7F or 0xFF: a native byte search finds the candidates, each is then checked.
 */
function repairNans(values: Float32Array, out: Uint16Array): void {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (const topByte of [0x7f, 0xff]) {
    for (let at = bytes.indexOf(topByte); at >= 0; at = bytes.indexOf(topByte, at + 1)) {
      if (at % 4 !== 3) continue;
      const lane = (at - 3) / 4;
      const word = bits[lane] ?? 0;
      if ((word & 0x7f800000) === 0x7f800000 && (word & 0x7fffff) !== 0) out[lane] = float32BitsToFloat16Bits(word);
    }
  }
}
