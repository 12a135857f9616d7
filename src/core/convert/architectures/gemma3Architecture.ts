/**
 * gemma3: Gemma3ForCausalLM and the text model of Gemma3ForConditionalGeneration, after convert_hf_to_gguf.py
 * `Gemma3Model` (conversion/gemma.py): the text-model hyper-parameters with Gemma's defaults, `sliding_window` (llama.cpp
 * then makes every 6th layer global: `load_swa_pattern(ml, 6)` in src/models/gemma3.cpp), the local RoPE base as
 * `rope.freq_base_swa`, `final_logit_softcapping` when set. Tensors: every `*norm.weight` gets +1 (Gemma3RMSNorm scales
 * by 1 + w; llama.cpp's RMSNorm by w), and the embedding is cut to the tokenizer's vocabulary (the checkpoint pads it).
 * The embedding scale √n_embd is applied in llama.cpp's graph, not stored in the weights.
 */
import { type GgufValue } from "../../gguf/ggufTypes";
import { ConvertError } from "../convertErrors";
import { type HfConfig } from "../hfConfig";
import { planCheckpointTensors, LLAMA_LAYER_TENSORS } from "./checkpointTensorPlan";
import { type ConvertArchitecture, type PlannedTensor, type TensorPlanContext, type TensorTransform } from "./convertArchitecture";
import { f32, u32 } from "./ggufMetadataValues";
import { llamaFamilyShapes } from "./llamaFamilyShapes";
import { ropeParameters } from "./ropeParameters";
import { modelDimensions, textModelParameters } from "./textModelParameters";

const GEMMA3_LAYER_TENSORS = {
  ...LLAMA_LAYER_TENSORS,
  post_attention_layernorm: "post_attention_norm",
  pre_feedforward_layernorm: "ffn_norm",
  post_feedforward_layernorm: "post_ffw_norm",
};

/** llama.cpp's default pattern: 5 sliding-window layers, then a global one. */
const LLAMA_CPP_SWA_PATTERN = 6;

export const gemma3Architecture: ConvertArchitecture = {
  ggufName: "gemma3",
  hfArchitectures: ["Gemma3ForCausalLM", "Gemma3ForConditionalGeneration"],
  examples: "Gemma 3 (text)",

  hyperParameters(config: HfConfig): Map<string, GgufValue> {
    const metadata = textModelParameters("gemma3", config);
    const headDim = config.positiveInteger("head_dim", 256);
    metadata.set("gemma3.context_length", u32(config.positiveInteger("max_position_embeddings", 131072)));
    metadata.set("gemma3.attention.head_count", u32(config.positiveInteger("num_attention_heads", 8)));
    metadata.set("gemma3.attention.layer_norm_rms_epsilon", f32(config.number("rms_norm_eps", 1e-6)));
    metadata.set("gemma3.attention.key_length", u32(headDim));
    metadata.set("gemma3.attention.value_length", u32(headDim));
    const theta = ropeParameters(config).full["rope_theta"];
    metadata.set("gemma3.rope.freq_base", f32(typeof theta === "number" ? theta : 1_000_000));
    if (config.has("attn_logit_softcapping")) throw config.invalid("attn_logit_softcapping", "must be null for Gemma 3 (it was removed after Gemma 2)");
    const softcap = config.optionalNumber("final_logit_softcapping");
    if (softcap !== undefined && softcap !== 0) metadata.set("gemma3.final_logit_softcapping", f32(softcap));
    const pattern = config.raw("sliding_window_pattern");
    if (pattern !== 1) {
      metadata.set("gemma3.attention.sliding_window", u32(config.positiveInteger("sliding_window")));
      // The script leaves the pattern to llama.cpp's default of 6; a config with another one gets it written.
      if (typeof pattern === "number" && pattern !== LLAMA_CPP_SWA_PATTERN) metadata.set("gemma3.attention.sliding_window_pattern", u32(config.positiveInteger("sliding_window_pattern")));
    }
    metadata.set("gemma3.attention.head_count_kv", u32(config.positiveInteger("num_key_value_heads", 4)));
    return metadata;
  },

  planTensors(context: TensorPlanContext): PlannedTensor[] {
    const dims = modelDimensions(context.config, 256);
    const shapes = llamaFamilyShapes(dims, { qkNorm: true, sandwichNorms: true });
    const embedding = context.checkpoint.tensors.find((tensor) => /(^|\.)embed_tokens\.weight$/.test(tensor.name));
    const rows = embedding?.shape[0] ?? 0;
    if (embedding !== undefined && rows < context.tokenCount) {
      throw new ConvertError("vocabulary-mismatch", `The embedding has ${rows} rows but the tokenizer has ${context.tokenCount} tokens`, {
        action: "The tokenizer files do not belong to this checkpoint; download it again.",
      });
    }
    const transforms = (name: string): readonly TensorTransform[] => {
      if (name.endsWith("norm.weight")) return [{ kind: "add", value: 1 }];
      if ((name === "token_embd.weight" || name === "output.weight") && rows > context.tokenCount) return [{ kind: "take-rows", rows: context.tokenCount }];
      return [];
    };
    return planCheckpointTensors(context, { layerMap: GEMMA3_LAYER_TENSORS, blockCount: dims.layers, ...shapes, transforms });
  },
};
