/**
 * qwen2: Qwen2ForCausalLM (Qwen2.5, Qwen2.5-Coder), after convert_hf_to_gguf.py `Qwen2Model` (conversion/qwen.py): the
 * text-model hyper-parameters only, tensors renamed without any permutation (llama.cpp runs Qwen2 with NEOX RoPE, the
 * HF layout), q/k/v biases kept.
 */
import { type GgufValue } from "../../gguf/ggufTypes";
import { type HfConfig } from "../hfConfig";
import { planCheckpointTensors, LLAMA_LAYER_TENSORS } from "./checkpointTensorPlan";
import { type ConvertArchitecture, type PlannedTensor, type TensorPlanContext } from "./convertArchitecture";
import { llamaFamilyShapes } from "./llamaFamilyShapes";
import { modelDimensions, textModelParameters } from "./textModelParameters";

/** Qwen2 and Qwen3 share everything but the name and Qwen3's q/k norms. */
function qwenArchitecture(ggufName: "qwen2" | "qwen3", hfArchitectures: readonly string[], examples: string): ConvertArchitecture {
  return {
    ggufName,
    hfArchitectures,
    examples,
    hyperParameters(config: HfConfig): Map<string, GgufValue> {
      return textModelParameters(ggufName, config);
    },
    planTensors(context: TensorPlanContext): PlannedTensor[] {
      const dims = modelDimensions(context.config);
      const shapes = llamaFamilyShapes(dims, { qkNorm: ggufName === "qwen3" });
      return planCheckpointTensors(context, { layerMap: LLAMA_LAYER_TENSORS, blockCount: dims.layers, ...shapes, transforms: () => [] });
    },
  };
}

export const qwen2Architecture = qwenArchitecture("qwen2", ["Qwen2ForCausalLM"], "Qwen2.5, Qwen2.5-Coder");

/** qwen3: Qwen3ForCausalLM, after `Qwen3Model` (a Qwen2Model with per-head q/k RMSNorm and no biases). */
export const qwen3Architecture = qwenArchitecture("qwen3", ["Qwen3ForCausalLM"], "Qwen3");
