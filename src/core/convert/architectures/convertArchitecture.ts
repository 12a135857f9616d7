/**
 * What the converter needs to know about one model architecture: its GGUF hyper-parameters from config.json, and the
 * plan of its tensors (GGUF name, source tensor, transformation). One module per architecture implements it,
 * following the matching class of llama.cpp's convert_hf_to_gguf.py (conversion/*.py) and what llama.cpp's loader
 * (src/models/<arch>.cpp) requires.
 */
import { type GgufValue } from "../../gguf/ggufTypes";
import { type SafetensorsCheckpoint } from "../../safetensors/safetensorsCheckpoint";
import { type HfConfig } from "../hfConfig";

/** A change applied to a source tensor on its way to the GGUF. */
export type TensorTransform =
  /**
   * The Q/K row permutation of convert_hf_to_gguf.py `LlamaModel.permute`: HF stores each head's rotary pairs as
   * halves (x[i], x[i + d/2]), llama.cpp's LLAMA RoPE expects them interleaved (x[2i], x[2i+1]).
   */
  | { readonly kind: "rope-permute"; readonly heads: number }
  /** Adds a constant to every value (Gemma's RMSNorm stores w with the norm scaling by 1 + w). */
  | { readonly kind: "add"; readonly value: number }
  /** Keeps the first `rows` rows (Gemma 3's embedding is padded past the tokenizer's vocabulary). */
  | { readonly kind: "take-rows"; readonly rows: number };

/** One tensor of the output. */
export interface PlannedTensor {
  /** GGUF name, e.g. "blk.0.attn_q.weight". */
  readonly name: string;
  /** PyTorch order: outermost dimension first (the GGUF dims are the reverse). */
  readonly shape: readonly number[];
  readonly source:
    | { readonly kind: "checkpoint"; readonly tensor: string; readonly transforms: readonly TensorTransform[] }
    | { readonly kind: "generated"; readonly values: Float32Array };
}

export interface TensorPlanContext {
  readonly config: HfConfig;
  readonly checkpoint: SafetensorsCheckpoint;
  /** Length of `tokenizer.ggml.tokens` of the exported tokenizer (what llama.cpp's loader takes as n_vocab). */
  readonly tokenCount: number;
}

export interface ConvertArchitecture {
  /** `general.architecture`, e.g. "llama". */
  readonly ggufName: string;
  /** The `architectures[0]` values of config.json this module converts. */
  readonly hfArchitectures: readonly string[];
  /** Examples for error messages and docs. */
  readonly examples: string;
  /** `{arch}.*` metadata (without `general.*` and `tokenizer.*`). */
  hyperParameters(config: HfConfig): Map<string, GgufValue>;
  /** Every output tensor, generated ones (rope factors) first as convert_hf_to_gguf.py writes them. */
  planTensors(context: TensorPlanContext): PlannedTensor[];
}
