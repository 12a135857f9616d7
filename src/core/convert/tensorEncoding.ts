/**
 * float32 values → the bytes of a GGUF tensor of type F32, F16, BF16 or Q8_0, rounding as gguf-py does (numpy's
 * `astype(float16)`: round to nearest even; `BF16.quantize_blocks`: round to nearest even, quiet NaN; Q8_0: ggml's
 * reference quantizer). A source tensor already in the target dtype needs no conversion: its bytes are copied as they are.
 */
import { GgmlType } from "../gguf/ggmlTypes";
import { bfloat16ToFloat32Bits, float32BitsToBfloat16Bits } from "../numeric/bfloat16";
import { float32BitsToFloat16Bits } from "../numeric/float16";
import { type SupportedSafetensorsDtype } from "../safetensors/safetensorsDtypes";
import { decodeToFloat32 } from "../safetensors/safetensorsTensorData";
import { quantizeQ8_0 } from "./q8_0Quantization";

/** The ggml types the converter writes. */
export type ConvertGgmlType = typeof GgmlType.F32 | typeof GgmlType.F16 | typeof GgmlType.BF16 | typeof GgmlType.Q8_0;

/** Whether a safetensors dtype has the same bytes as a ggml type (so a tensor can be copied without decoding). */
export function dtypeMatchesGgmlType(dtype: SupportedSafetensorsDtype, ggmlType: number): boolean {
  return (dtype === "F32" && ggmlType === GgmlType.F32) || (dtype === "F16" && ggmlType === GgmlType.F16) || (dtype === "BF16" && ggmlType === GgmlType.BF16);
}

let bf16ToF16: Uint16Array | undefined;
let f16ToBf16: Uint16Array | undefined;

/**
 * The output bits for every 16-bit input pattern when converting between F16 and BF16: both widen exactly to float32,
 * so one table lookup per element gives the same bits as decoding to float32 and rounding (the slow path).
 */
function halfTranscodeTable(from: "F16" | "BF16"): Uint16Array {
  if (from === "BF16") {
    bf16ToF16 ??= buildTable((bits) => float32BitsToFloat16Bits(bfloat16ToFloat32Bits(bits)));
    return bf16ToF16;
  }
  f16ToBf16 ??= buildTable((bits) => {
    const widened = new Float32Array(1);
    decodeToFloat32("F16", Uint8Array.of(bits & 0xff, bits >>> 8), widened);
    return float32BitsToBfloat16Bits(new Uint32Array(widened.buffer)[0] ?? 0);
  });
  return f16ToBf16;
}

function buildTable(convert: (bits: number) => number): Uint16Array {
  const table = new Uint16Array(65536);
  for (let bits = 0; bits < 65536; bits += 1) table[bits] = convert(bits);
  return table;
}

/** F16 ↔ BF16 bytes by table, or undefined when the pair is not one of those two. */
export function transcodeHalves(dtype: SupportedSafetensorsDtype, ggmlType: number, bytes: Uint8Array, scratch?: Uint16Array): Uint8Array | undefined {
  if (!((dtype === "BF16" && ggmlType === GgmlType.F16) || (dtype === "F16" && ggmlType === GgmlType.BF16))) return undefined;
  const table = halfTranscodeTable(dtype);
  const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
  const input = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2);
  const count = input.length;
  // Into the caller's scratch when it is big enough (the result is then only valid until the next call with it).
  const output = scratch !== undefined && scratch.length >= count ? scratch.subarray(0, count) : new Uint16Array(count);
  for (let index = 0; index < count; index += 1) output[index] = table[input[index] ?? 0] ?? 0;
  return new Uint8Array(output.buffer, output.byteOffset, output.byteLength);
}

/** Encodes float32 values (for Q8_0: a multiple of 32) as tensor data of `ggmlType`. */
export function encodeFloat32(values: Float32Array, ggmlType: number): Uint8Array {
  switch (ggmlType) {
    case GgmlType.F32:
      return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    case GgmlType.F16:
      return encodeHalves(values, float32BitsToFloat16Bits);
    case GgmlType.BF16:
      return encodeHalves(values, float32BitsToBfloat16Bits);
    case GgmlType.Q8_0:
      return quantizeQ8_0(values);
    default:
      throw new RangeError(`the converter does not write ggml type ${ggmlType}`);
  }
}

function encodeHalves(values: Float32Array, encode: (bits: number) => number): Uint8Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const halves = new Uint16Array(values.length);
  for (let index = 0; index < halves.length; index += 1) halves[index] = encode(bits[index] ?? 0);
  return new Uint8Array(halves.buffer);
}
