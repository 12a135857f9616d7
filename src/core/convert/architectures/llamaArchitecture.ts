/**
 * llama: LlamaForCausalLM (Llama 3.x, SmolLM2, …), after convert_hf_to_gguf.py `LlamaModel` (conversion/llama.py):
 * the text-model hyper-parameters plus `vocab_size` and `rope.dimension_count`; Q and K rows permuted for llama.cpp's
 * interleaved RoPE; Llama 3.x "llama3" RoPE scaling written as the `rope_freqs.weight` tensor of per-frequency factors.
 */
import { type GgufValue } from "../../gguf/ggufTypes";
import { nestedNumber, type HfConfig } from "../hfConfig";
import { planCheckpointTensors, LLAMA_LAYER_TENSORS } from "./checkpointTensorPlan";
import { type ConvertArchitecture, type PlannedTensor, type TensorPlanContext, type TensorTransform } from "./convertArchitecture";
import { u32 } from "./ggufMetadataValues";
import { llamaFamilyShapes } from "./llamaFamilyShapes";
import { ropeParameters } from "./ropeParameters";
import { modelDimensions, textModelParameters } from "./textModelParameters";

export const llamaArchitecture: ConvertArchitecture = {
  ggufName: "llama",
  hfArchitectures: ["LlamaForCausalLM", "LLaMAForCausalLM"],
  examples: "Llama 3.x, SmolLM2",

  hyperParameters(config: HfConfig): Map<string, GgufValue> {
    const metadata = textModelParameters("llama", config);
    const dims = modelDimensions(config);
    metadata.set("llama.vocab_size", u32(dims.vocab));
    metadata.set("llama.rope.dimension_count", u32(dims.headDim));
    return metadata;
  },

  planTensors(context: TensorPlanContext): PlannedTensor[] {
    const dims = modelDimensions(context.config);
    const shapes = llamaFamilyShapes(dims, {});
    const transforms = (name: string): readonly TensorTransform[] => {
      if (/\.attn_q\.(weight|bias)$/.test(name)) return [{ kind: "rope-permute", heads: dims.heads }];
      // LlamaModel.permute(k, n_head, n_head_kv) permutes by the KV heads.
      if (/\.attn_k\.(weight|bias)$/.test(name)) return [{ kind: "rope-permute", heads: dims.kvHeads }];
      return [];
    };
    const extra = llama3RopeFactors(context.config, dims.headDim);
    const planned = planCheckpointTensors(context, { layerMap: LLAMA_LAYER_TENSORS, blockCount: dims.layers, ...shapes, transforms });
    return extra === undefined ? planned : [{ name: "rope_freqs.weight", shape: [extra.length], source: { kind: "generated", values: extra } }, ...planned];
  },
};

/**
 * `LlamaModel.generate_extra_tensors`: for rope_type "llama3", one factor per rotary frequency (1 for high
 * frequencies, `factor` for low ones, smoothly interpolated between), computed in float32 as torch does.
 */
export function llama3RopeFactors(config: HfConfig, headDim: number): Float32Array | undefined {
  const rope = ropeParameters(config).full;
  const type = rope["rope_type"] ?? rope["type"];
  if (typeof type !== "string" || type.toLowerCase() !== "llama3") return undefined;
  const parent = config.has("rope_parameters") ? "rope_parameters" : "rope_scaling";
  const fr = Math.fround;
  const base = nestedNumber(config, parent, rope, "rope_theta", 10000);
  const factor = nestedNumber(config, parent, rope, "factor", 8);
  const lowFreqFactor = nestedNumber(config, parent, rope, "low_freq_factor", 1);
  const highFreqFactor = nestedNumber(config, parent, rope, "high_freq_factor", 4);
  const oldContext = nestedNumber(config, parent, rope, "original_max_position_embeddings", 8192);
  const lowFreqWavelen = oldContext / lowFreqFactor;
  const highFreqWavelen = oldContext / highFreqFactor;
  const factors = new Float32Array(headDim / 2);
  for (let index = 0; index < factors.length; index += 1) {
    // freqs = 1 / base ** (arange(0, dim, 2, float32) / dim), all float32.
    const freq = fr(1 / fr(fr(base) ** fr(fr(2 * index) / headDim)));
    const wavelen = fr((2 * Math.PI) / freq);
    if (wavelen < highFreqWavelen) factors[index] = 1;
    else if (wavelen > lowFreqWavelen) factors[index] = factor;
    else {
      const smooth = fr(fr(fr(oldContext / wavelen) - lowFreqFactor) / (highFreqFactor - lowFreqFactor));
      factors[index] = fr(1 / fr(fr(fr(1 - smooth) / factor) + smooth));
    }
  }
  return factors;
}
