/**
 * The output types of the converter and which ggml type each tensor gets, following convert_hf_to_gguf.py
 * (`ModelBase.prepare_tensors`): 1-D tensors, norms (`*_norm.weight`) and anything not named `*.weight` (biases) stay
 * F32; the rest take the output type; Q8_0 needs rows that are a multiple of 32 and falls back to F16 otherwise
 * (gguf-py raises QuantError and the script falls back). "auto" follows the script's guess: the dtype of the first
 * 2-D tensor of the checkpoint, BF16 → bf16, else f16.
 */
import { GgmlType } from "../gguf/ggmlTypes";
import { LlamaFileType } from "../gguf/llamaFileTypes";
import { type SafetensorsCheckpoint } from "../safetensors/safetensorsCheckpoint";
import { Q8_0_BLOCK_ELEMENTS } from "./q8_0Quantization";

export type ConvertOutType = "f32" | "f16" | "bf16" | "q8_0";
export type ConvertOutTypeRequest = ConvertOutType | "auto";

export const CONVERT_OUT_TYPES: readonly ConvertOutTypeRequest[] = ["f32", "f16", "bf16", "q8_0", "auto"];

/** Whether a string is a valid `--outtype`. */
export function isConvertOutTypeRequest(value: string): value is ConvertOutTypeRequest {
  return (CONVERT_OUT_TYPES as readonly string[]).includes(value);
}

/** The concrete output type of a request: "auto" looks at the first 2-D tensor of the checkpoint. */
export function resolveOutType(request: ConvertOutTypeRequest, checkpoint: SafetensorsCheckpoint): ConvertOutType {
  if (request !== "auto") return request;
  const first = checkpoint.tensors.find((tensor) => tensor.shape.length >= 2);
  return first?.dtype === "BF16" ? "bf16" : "f16";
}

/** `general.file_type` (`enum llama_ftype`) of an output type. */
export function outTypeFileType(outType: ConvertOutType): number {
  switch (outType) {
    case "f32":
      return LlamaFileType.F32;
    case "f16":
      return LlamaFileType.F16;
    case "bf16":
      return LlamaFileType.BF16;
    case "q8_0":
      return LlamaFileType.Q8_0;
  }
}

/** The ggml type a tensor is written in. `dims` in ggml order (ne[0] innermost). */
export function tensorGgmlType(ggufName: string, dims: readonly number[], outType: ConvertOutType): number {
  if (dims.length <= 1 || ggufName.endsWith("_norm.weight") || !ggufName.endsWith(".weight")) return GgmlType.F32;
  switch (outType) {
    case "f32":
      return GgmlType.F32;
    case "f16":
      return GgmlType.F16;
    case "bf16":
      return GgmlType.BF16;
    case "q8_0":
      return (dims[0] ?? 0) % Q8_0_BLOCK_ELEMENTS === 0 ? GgmlType.Q8_0 : GgmlType.F16;
  }
}
