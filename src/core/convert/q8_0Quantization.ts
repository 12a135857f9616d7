/**
 * Q8_0 blocks exactly as ggml's `quantize_row_q8_0_ref` (ggml/src/ggml-quants.c) and gguf-py's `Q8_0.quantize_blocks`
 * write them: per 32 values, d = max|x| / 127 in float32, stored as f16 (round to nearest even), then
 * q = roundf(x · (1/d)) (round half away from zero) as int8. Every step is a float32 operation, as in C, and blocks
 * holding NaNs come out as ggml's do (its MAX macro, its F16 NaN, x86's float → int conversion); ggmlRowEncoding.ts
 * runs that same C routine for large tensors, and a unit test compares the two.
 */
import { float32BitsToFloat16Bits } from "../numeric/float16";

export const Q8_0_BLOCK_ELEMENTS = 32;
/** 2 bytes of f16 scale + 32 int8. */
export const Q8_0_BLOCK_BYTES = 34;

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** Quantizes `values` (a multiple of 32 of them) to Q8_0 blocks. */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  if (values.length % Q8_0_BLOCK_ELEMENTS !== 0) throw new RangeError(`Q8_0 needs a multiple of ${Q8_0_BLOCK_ELEMENTS} values, got ${values.length}`);
  const blocks = values.length / Q8_0_BLOCK_ELEMENTS;
  const out = new Uint8Array(blocks * Q8_0_BLOCK_BYTES);
  const quants = new Int8Array(out.buffer);
  const fround = Math.fround;
  for (let block = 0; block < blocks; block += 1) {
    const start = block * Q8_0_BLOCK_ELEMENTS;
    let amax = 0;
    for (let index = start; index < start + Q8_0_BLOCK_ELEMENTS; index += 1) {
      // ggml's MAX(a, b) is `a > b ? a : b`: a NaN replaces amax, and the next value replaces the NaN.
      const magnitude = Math.abs(values[index] ?? 0);
      amax = amax > magnitude ? amax : magnitude;
    }
    // float32 division and reciprocal: a double operation on float32 operands rounded once to float32 is exact IEEE float32.
    const d = fround(amax / 127);
    const inverse = d !== 0 ? fround(1 / d) : 0;
    scratch[0] = d;
    const dBits = scratchBits[0] ?? 0;
    // GGML_FP32_TO_FP16 writes every NaN as ±0x7E00 (gguf-py's numpy would keep the payload).
    const half = Number.isNaN(d) ? ((dBits >>> 16) & 0x8000) | 0x7e00 : float32BitsToFloat16Bits(dBits);
    const offset = block * Q8_0_BLOCK_BYTES;
    out[offset] = half & 0xff;
    out[offset + 1] = half >>> 8;
    for (let index = 0; index < Q8_0_BLOCK_ELEMENTS; index += 1) {
      const scaled = fround((values[start + index] ?? 0) * inverse);
      // roundf: half away from zero (Math.round rounds half up, which differs for negative ties).
      const rounded = scaled < 0 ? -Math.round(-scaled) : Math.round(scaled);
      // float → int8_t in C on x86-64 converts to int32 first (cvttss2si) and keeps the low byte: a NaN or anything
      // beyond int32 (only reachable after a NaN, see amax) is 0x80000000, whose low byte is 0.
      quants[offset + 2 + index] = Math.abs(rounded) < 2147483648 ? rounded : 0;
    }
  }
  return out;
}
