/**
 * bfloat16: the upper 16 bits of a float32. Rounding follows gguf-py's `BF16.quantize_blocks` (`gguf/quants.py`):
 * round to nearest even, NaN forced to a quiet NaN.
 */

/** The float32 bit pattern of a bfloat16 bit pattern (exact). */
export function bfloat16ToFloat32Bits(bits: number): number {
  return (bits << 16) >>> 0;
}

/** The bfloat16 bit pattern nearest to the float32 with bit pattern `f32` (ties to even; NaN stays a quiet NaN). */
export function float32BitsToBfloat16Bits(f32: number): number {
  const bits = f32 >>> 0;
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) & 0xffff) | 0x0040;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}
