/**
 * The hyper-parameters every text model writes: convert_hf_to_gguf.py `TextModel.set_gguf_parameters`
 * (conversion/base.py), with the GGUF key names of gguf-py's constants.py. Required fields are validated here so that a
 * broken config.json fails before any tensor is read.
 */
import { type GgufValue } from "../../gguf/ggufTypes";
import { type HfConfig, nestedNumber } from "../hfConfig";
import { f32, str, u32 } from "./ggufMetadataValues";
import { ropeParameters } from "./ropeParameters";

/** The attention and MLP sizes of a llama-like model, validated against each other. */
export interface ModelDimensions {
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly feedForward: number;
  readonly vocab: number;
}

/** Reads the dimensions every supported architecture has; `headDimFallback` for configs without `head_dim`. */
export function modelDimensions(config: HfConfig, headDimFallback?: number): ModelDimensions {
  const hidden = config.positiveInteger("hidden_size");
  const layers = config.positiveInteger("num_hidden_layers");
  const heads = config.positiveInteger("num_attention_heads");
  const kvHeads = config.positiveInteger("num_key_value_heads", heads);
  const feedForward = config.positiveInteger("intermediate_size");
  const vocab = config.positiveInteger("vocab_size");
  if (heads % kvHeads !== 0) throw config.invalid("num_key_value_heads", `(${kvHeads}) must divide num_attention_heads (${heads})`);
  const headDim = config.optionalPositiveInteger("head_dim") ?? headDimFallback ?? (hidden % heads === 0 ? hidden / heads : undefined);
  if (headDim === undefined) throw config.invalid("head_dim", `is missing and hidden_size (${hidden}) is not a multiple of num_attention_heads (${heads})`);
  return { hidden, layers, heads, kvHeads, headDim, feedForward, vocab };
}

/** `TextModel.set_gguf_parameters` (without `general.file_type`, which the converter adds). */
export function textModelParameters(arch: string, config: HfConfig): Map<string, GgufValue> {
  const dims = modelDimensions(config);
  const metadata = new Map<string, GgufValue>();
  metadata.set(`${arch}.block_count`, u32(dims.layers));
  const context = config.optionalPositiveInteger("max_position_embeddings");
  if (context !== undefined) metadata.set(`${arch}.context_length`, u32(context));
  metadata.set(`${arch}.embedding_length`, u32(dims.hidden));
  metadata.set(`${arch}.feed_forward_length`, u32(dims.feedForward));
  metadata.set(`${arch}.attention.head_count`, u32(dims.heads));
  if (config.has("num_key_value_heads")) metadata.set(`${arch}.attention.head_count_kv`, u32(dims.kvHeads));

  const rope = ropeParameters(config);
  const ropeType = rope.full["rope_type"] ?? rope.full["type"];
  if (typeof ropeType === "string") {
    const factor = rope.full["factor"];
    const parent = config.has("rope_parameters") ? "rope_parameters" : "rope_scaling";
    if (ropeType === "linear" && typeof factor === "number") {
      metadata.set(`${arch}.rope.scaling.type`, str("linear"));
      metadata.set(`${arch}.rope.scaling.factor`, f32(factor));
    } else if (ropeType === "yarn" && typeof factor === "number") {
      metadata.set(`${arch}.rope.scaling.type`, str("yarn"));
      metadata.set(`${arch}.rope.scaling.factor`, f32(factor));
      metadata.set(`${arch}.rope.scaling.original_context_length`, u32(nestedNumber(config, parent, rope.full, "original_max_position_embeddings")));
      const optional: readonly [string, string][] = [
        ["extrapolation_factor", "rope.scaling.yarn_ext_factor"],
        [rope.full["attention_factor"] !== undefined ? "attention_factor" : "attn_factor", "rope.scaling.yarn_attn_factor"],
        ["beta_fast", "rope.scaling.yarn_beta_fast"],
        ["beta_slow", "rope.scaling.yarn_beta_slow"],
      ];
      for (const [field, key] of optional) {
        const value = rope.full[field];
        if (typeof value === "number") metadata.set(`${arch}.${key}`, f32(value));
      }
    } else if (ropeType === "su" || ropeType === "longrope") {
      metadata.set(`${arch}.rope.scaling.type`, str("longrope"));
    }
    // "llama3" is written as the rope_freqs tensor (see llamaArchitecture.ts); "default" needs nothing.
  }
  const theta = rope.full["rope_theta"];
  if (typeof theta === "number") metadata.set(`${arch}.rope.freq_base`, f32(theta));
  if (rope.slidingTheta !== undefined) metadata.set(`${arch}.rope.freq_base_swa`, f32(rope.slidingTheta));
  const eps = config.optionalNumber("rms_norm_eps");
  if (eps !== undefined) metadata.set(`${arch}.attention.layer_norm_rms_epsilon`, f32(eps));
  if (config.has("head_dim")) {
    metadata.set(`${arch}.attention.key_length`, u32(dims.headDim));
    metadata.set(`${arch}.attention.value_length`, u32(dims.headDim));
  }
  return metadata;
}
