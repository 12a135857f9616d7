/**
 * IEEE 754 binary16 encoding for fixture weights (Node 20 has no Float16Array).
 * Rounds to nearest, ties to even, as numpy's `astype(float16)` and ggml's `GGML_FP32_TO_FP16` do.
 */

const TWO_POW_24 = 2 ** 24;
/** Smallest positive normal binary16 value. */
const MIN_NORMAL = 2 ** -14;
/** Halfway between the largest finite binary16 (65504) and 65536: this and above round to infinity. */
const OVERFLOW_THRESHOLD = 65520;

function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The binary16 bit pattern nearest to `value` (any JS number; a float32 is a special case). */
export function float16Bits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude >= OVERFLOW_THRESHOLD) return sign | 0x7c00;
  if (magnitude < MIN_NORMAL) {
    // Subnormal: a multiple of 2^-24. Scaling by a power of two is exact, so one rounding happens here.
    // A result of 1024 is the smallest normal number, whose bit pattern is exactly 0x0400.
    return sign | roundHalfToEven(magnitude * TWO_POW_24);
  }
  let exponent = Math.floor(Math.log2(magnitude));
  // log2 may be off by one next to powers of two; fix it with exact comparisons.
  if (2 ** exponent > magnitude) exponent -= 1;
  else if (2 ** (exponent + 1) <= magnitude) exponent += 1;
  let mantissa = roundHalfToEven((magnitude / 2 ** exponent) * 1024);
  if (mantissa === 2048) {
    mantissa = 1024;
    exponent += 1;
  }
  if (exponent > 15) return sign | 0x7c00;
  return sign | ((exponent + 15) << 10) | (mantissa - 1024);
}

/** The number a binary16 bit pattern stands for (exact). */
export function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

let float16Table: Float32Array | undefined;

/** All 65,536 binary16 values as float32 (every binary16 value is exactly representable in float32). */
export function float16ToFloat32Table(): Float32Array {
  if (float16Table === undefined) {
    float16Table = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits += 1) float16Table[bits] = float16Value(bits);
  }
  return float16Table;
}

/**
 * The binary16 bit pattern nearest to the float32 with bit pattern `f32` (round to nearest, ties to even), by integer
 * arithmetic only: the fast path for converting whole tensors. Agrees with `float16Bits` on every float32;
 * NaN payloads are kept (quietened), as numpy does.
 */
export function float32BitsToFloat16Bits(f32: number): number {
  const sign = (f32 >>> 16) & 0x8000;
  const exponent = (f32 >>> 23) & 0xff;
  const mantissa = f32 & 0x7fffff;
  if (exponent === 0xff) return mantissa === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mantissa >>> 13);
  // Unbiased exponent e = exponent - 127; binary16 normals need e in [-14, 15].
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal (or zero) in binary16: value = m × 2^-24 with m = full mantissa >> shift.
    if (halfExponent < -10) return sign; // below half the smallest subnormal: rounds to zero
    const full = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    const kept = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    const rounded = rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept;
    return sign | rounded; // a carry into 0x400 is the smallest normal, which is the right bit pattern
  }
  const kept = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa bumps the exponent, and out of the largest exponent gives infinity: both correct.
  const rounded = rest > 0x1000 || (rest === 0x1000 && (kept & 1) === 1) ? kept + 1 : kept;
  return sign | rounded;
}
