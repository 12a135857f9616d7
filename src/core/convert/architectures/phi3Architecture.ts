/**
 * phi3: Phi3ForCausalLM (Phi-3, Phi-3.5, Phi-4-mini), after convert_hf_to_gguf.py `Phi3MiniModel` (conversion/phi.py).
 * Its `set_gguf_parameters` does not call the text-model one: it writes its own keys, among them
 * `rope.scaling.original_context_length`, a partial `rope.dimension_count` (Phi-4-mini rotates 3/4 of each head) and
 * `attention.sliding_window` (0 when the config has none). LongRoPE checkpoints get `rope_factors_long/short.weight`
 * and `rope.scaling.attn_factor`. The fused `qkv_proj` and `gate_up_proj` stay fused: llama.cpp's phi3 loader reads
 * `attn_qkv` and an `ffn_up` of 2 × n_ff rows (src/models/phi3.cpp).
 */
import { type GgufValue } from "../../gguf/ggufTypes";
import { type HfConfig } from "../hfConfig";
import { planCheckpointTensors, LLAMA_LAYER_TENSORS } from "./checkpointTensorPlan";
import { type ConvertArchitecture, type PlannedTensor, type TensorPlanContext } from "./convertArchitecture";
import { f32, u32 } from "./ggufMetadataValues";
import { llamaFamilyShapes } from "./llamaFamilyShapes";
import { ropeParameters } from "./ropeParameters";
import { modelDimensions } from "./textModelParameters";

const PHI3_LAYER_TENSORS = { ...LLAMA_LAYER_TENSORS, "self_attn.qkv_proj": "attn_qkv", "mlp.gate_up_proj": "ffn_up" };

interface Phi3Rope {
  readonly originalContext: number;
  readonly ropeDims: number;
  readonly theta: number;
  readonly longFactors: readonly number[] | undefined;
  readonly shortFactors: readonly number[] | undefined;
  readonly attnFactor: number | undefined;
}

function phi3Rope(config: HfConfig): Phi3Rope {
  const dims = modelDimensions(config);
  const rope = ropeParameters(config).full;
  const original = rope["original_max_position_embeddings"];
  if (typeof original !== "number" || !Number.isSafeInteger(original) || original <= 0) {
    throw config.invalid("original_max_position_embeddings", "is missing (Phi-3 configs have it at the top level or in rope_scaling)");
  }
  const partial = typeof rope["partial_rotary_factor"] === "number" ? rope["partial_rotary_factor"] : 1;
  const ropeDims = Math.floor(Math.floor(partial * dims.hidden) / dims.heads);
  const theta = rope["rope_theta"];
  if (typeof theta !== "number") throw config.invalid("rope_theta", "is missing");
  const contextLength = config.positiveInteger("max_position_embeddings");
  const long = numberList(config, rope["long_factor"], "rope_scaling.long_factor");
  const short = numberList(config, rope["short_factor"], "rope_scaling.short_factor");
  if (long === undefined || long.length === 0) return { originalContext: original, ropeDims, theta, longFactors: undefined, shortFactors: undefined, attnFactor: undefined };
  const scale = contextLength / original;
  const type = rope["rope_type"] ?? rope["type"];
  if (typeof type !== "string" || type === "") throw config.invalid("rope_scaling.type", "is missing");
  let attnFactor: number;
  if (type === "su" || type === "longrope") attnFactor = scale > 1 ? Math.sqrt(1 + Math.log(scale) / Math.log(original)) : 1;
  else if (type === "yarn") attnFactor = scale > 1 ? 0.1 * Math.log(scale) + 1 : 1;
  else throw config.invalid("rope_scaling.type", `"${type}" is not supported for Phi-3 (longrope, su or yarn)`);
  if (long.length !== short?.length || long.length !== ropeDims / 2) {
    throw config.invalid("rope_scaling.long_factor", `and short_factor must both have ${ropeDims / 2} entries (rope dimensions / 2)`);
  }
  return { originalContext: original, ropeDims, theta, longFactors: long, shortFactors: short, attnFactor };
}

function numberList(config: HfConfig, value: unknown, key: string): readonly number[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item): item is number => typeof item === "number")) throw config.invalid(key, "must be a list of numbers");
  return value;
}

export const phi3Architecture: ConvertArchitecture = {
  ggufName: "phi3",
  hfArchitectures: ["Phi3ForCausalLM"],
  examples: "Phi-3, Phi-3.5-mini, Phi-4-mini",

  hyperParameters(config: HfConfig): Map<string, GgufValue> {
    const dims = modelDimensions(config);
    const rope = phi3Rope(config);
    const metadata = new Map<string, GgufValue>([
      ["phi3.context_length", u32(config.positiveInteger("max_position_embeddings"))],
      ["phi3.rope.scaling.original_context_length", u32(rope.originalContext)],
      ["phi3.embedding_length", u32(dims.hidden)],
      ["phi3.feed_forward_length", u32(dims.feedForward)],
      ["phi3.block_count", u32(dims.layers)],
      ["phi3.attention.head_count", u32(dims.heads)],
      ["phi3.attention.head_count_kv", u32(dims.kvHeads)],
      ["phi3.attention.layer_norm_rms_epsilon", f32(config.number("rms_norm_eps"))],
      ["phi3.rope.dimension_count", u32(rope.ropeDims)],
      ["phi3.rope.freq_base", f32(rope.theta)],
      // 0 distinguishes Phi-4 (no sliding window) from other Phi-3 models, as the script does.
      ["phi3.attention.sliding_window", u32(config.optionalPositiveInteger("sliding_window") ?? 0)],
    ]);
    if (rope.attnFactor !== undefined) metadata.set("phi3.rope.scaling.attn_factor", f32(rope.attnFactor));
    return metadata;
  },

  planTensors(context: TensorPlanContext): PlannedTensor[] {
    const dims = modelDimensions(context.config);
    const rope = phi3Rope(context.config);
    const shapes = llamaFamilyShapes(dims, { fusedQkv: true, fusedGateUp: true });
    const planned = planCheckpointTensors(context, { layerMap: PHI3_LAYER_TENSORS, blockCount: dims.layers, ...shapes, transforms: () => [] });
    if (rope.longFactors === undefined || rope.shortFactors === undefined) return planned;
    return [
      { name: "rope_factors_long.weight", shape: [rope.longFactors.length], source: { kind: "generated", values: Float32Array.from(rope.longFactors) } },
      { name: "rope_factors_short.weight", shape: [rope.shortFactors.length], source: { kind: "generated", values: Float32Array.from(rope.shortFactors) } },
      ...planned,
    ];
  },
};
