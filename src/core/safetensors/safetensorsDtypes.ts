/**
 * The dtypes of the safetensors format (`Dtype` in huggingface/safetensors `safetensors/src/tensor.rs`), with their
 * sizes in bits, and the subset SLM Lab converts.
 */
import { UnsupportedSafetensorsDtypeError } from "./safetensorsErrors";

/** Bits per element of every dtype the format defines (F4 and F6 pack several elements per byte). */
const DTYPE_BITS = {
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
} as const;

export type SafetensorsDtype = keyof typeof DTYPE_BITS;

/** The dtypes whose tensors SLM Lab reads as numbers. */
export type SupportedSafetensorsDtype = "F32" | "F16" | "BF16";

export const SUPPORTED_SAFETENSORS_DTYPES: readonly SupportedSafetensorsDtype[] = ["F32", "F16", "BF16"];

/** Whether a string is a dtype the safetensors format defines. */
export function isSafetensorsDtype(value: string): value is SafetensorsDtype {
  return Object.prototype.hasOwnProperty.call(DTYPE_BITS, value);
}

/** Bits per element of a dtype. */
export function safetensorsDtypeBits(dtype: SafetensorsDtype): number {
  return DTYPE_BITS[dtype];
}

/** Bytes per element of a supported dtype. */
export function supportedDtypeBytes(dtype: SupportedSafetensorsDtype): 2 | 4 {
  return dtype === "F32" ? 4 : 2;
}

/** Whether a dtype is one SLM Lab reads. */
export function isSupportedSafetensorsDtype(dtype: SafetensorsDtype): dtype is SupportedSafetensorsDtype {
  return dtype === "F32" || dtype === "F16" || dtype === "BF16";
}

/** Returns the tensor's dtype narrowed to a supported one, or throws UnsupportedSafetensorsDtypeError naming it. */
export function requireSupportedDtype(tensor: { readonly name: string; readonly dtype: SafetensorsDtype; readonly file: string }): SupportedSafetensorsDtype {
  if (isSupportedSafetensorsDtype(tensor.dtype)) return tensor.dtype;
  throw new UnsupportedSafetensorsDtypeError(tensor.file, tensor.name, tensor.dtype, SUPPORTED_SAFETENSORS_DTYPES);
}
