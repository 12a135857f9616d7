/**
 * Maps a checkpoint's tensors to GGUF names and checks them, as gguf-py's `TensorNameMap` (tensor_mapping.py) and
 * llama.cpp's loader do: every tensor must map to a known name (else "Can not map tensor" in the script), every tensor
 * the loader requires must be there, with the shape the config implies.
 */
import path from "node:path";
import { type SafetensorsTensorInfo } from "../../safetensors/safetensorsHeader";
import { ConvertError } from "../convertErrors";
import { type PlannedTensor, type TensorPlanContext, type TensorTransform } from "./convertArchitecture";

/** HF names under `model.layers.N.` → GGUF names under `blk.N.` (without the .weight/.bias suffix). */
export type LayerTensorMap = Readonly<Record<string, string>>;

/** The layer tensors of Llama-style models (tensor_mapping.py, the entries tagged llama-hf, qwen2, qwen3, phi3). */
export const LLAMA_LAYER_TENSORS: LayerTensorMap = {
  input_layernorm: "attn_norm",
  "self_attn.q_proj": "attn_q",
  "self_attn.k_proj": "attn_k",
  "self_attn.v_proj": "attn_v",
  "self_attn.o_proj": "attn_output",
  "self_attn.q_norm": "attn_q_norm",
  "self_attn.k_norm": "attn_k_norm",
  post_attention_layernorm: "ffn_norm",
  "mlp.gate_proj": "ffn_gate",
  "mlp.up_proj": "ffn_up",
  "mlp.down_proj": "ffn_down",
};

/** Tensors that are not weights of the text model: dropped, as the script drops them. */
const SKIPPED = /(?:\.rotary_emb\.inv_freq|\.attention\.masked_bias|\.attention\.bias)$|(?:^|\.)(?:vision_tower|vision_model|multi_modal_projector|visual|audio_tower)\./;

/** What a checkpoint tensor becomes: its GGUF name, or undefined when it is not part of the text model. */
export function ggufTensorName(hfName: string, layerMap: LayerTensorMap, blockCount: number): string | undefined {
  if (SKIPPED.test(hfName)) return undefined;
  // Multimodal checkpoints keep the language model under language_model (old and new transformers layouts).
  const name = hfName.replace(/^model\.language_model\./, "model.").replace(/^language_model\./, "");
  if (name === "model.embed_tokens.weight") return "token_embd.weight";
  if (name === "model.norm.weight") return "output_norm.weight";
  if (name === "lm_head.weight") return "output.weight";
  const match = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(name);
  if (match === null) return undefined;
  const [, layer = "", inner = "", suffix = ""] = match;
  const mapped = layerMap[inner];
  if (mapped === undefined || Number(layer) >= blockCount) return undefined;
  return `blk.${layer}.${mapped}.${suffix}`;
}

/** How to plan one architecture's tensors from a checkpoint. */
export interface CheckpointTensorRules {
  readonly layerMap: LayerTensorMap;
  readonly blockCount: number;
  /** GGUF name → expected PyTorch shape; the tensors listed here must all be present. */
  readonly required: ReadonlyMap<string, readonly number[]>;
  /** GGUF name → expected shape of optional tensors (biases, the untied output) when present. */
  readonly optional: ReadonlyMap<string, readonly number[]>;
  /** Transformations for a tensor, by GGUF name. */
  transforms(ggufName: string): readonly TensorTransform[];
}

/** Plans every checkpoint tensor of the text model: mapped, checked against the config, with its transformations. */
export function planCheckpointTensors(context: TensorPlanContext, rules: CheckpointTensorRules): PlannedTensor[] {
  const { checkpoint } = context;
  const planned: PlannedTensor[] = [];
  const seen = new Set<string>();
  for (const tensor of checkpoint.tensors) {
    const name = ggufTensorName(tensor.name, rules.layerMap, rules.blockCount);
    if (name === undefined) {
      if (SKIPPED.test(tensor.name)) continue;
      throw new ConvertError("tensor-mismatch", `${path.basename(tensor.file)}: tensor "${tensor.name}" does not belong to a ${context.config.architecture} model`, {
        file: tensor.file,
        action: "The checkpoint does not match its config.json (architecture or num_hidden_layers), or is a variant SLM Lab does not convert.",
      });
    }
    const expected = rules.required.get(name) ?? rules.optional.get(name);
    if (expected === undefined) {
      throw new ConvertError("tensor-mismatch", `${path.basename(tensor.file)}: tensor "${tensor.name}" is not used by ${context.config.architecture} as configured`, {
        file: tensor.file,
        action: "The checkpoint does not match its config.json; download it again.",
      });
    }
    checkShape(tensor, expected, context);
    seen.add(name);
    const transforms = rules.transforms(name);
    const take = transforms.find((transform) => transform.kind === "take-rows");
    const shape = take === undefined ? tensor.shape : [take.rows, ...tensor.shape.slice(1)];
    planned.push({ name, shape, source: { kind: "checkpoint", tensor: tensor.name, transforms } });
  }
  for (const name of rules.required.keys()) {
    if (!seen.has(name)) {
      throw new ConvertError("tensor-mismatch", `${path.basename(checkpoint.dir)}: the checkpoint has no tensor for ${name}, which ${context.config.architecture} needs`, {
        action: "The checkpoint is incomplete or does not match its config.json; download it again.",
      });
    }
  }
  return planned;
}

function checkShape(tensor: SafetensorsTensorInfo, expected: readonly number[], context: TensorPlanContext): void {
  // -1 stands for "any" (the vocabulary dimension, checked against the tokenizer separately).
  const matches = tensor.shape.length === expected.length && tensor.shape.every((dim, index) => expected[index] === -1 || dim === expected[index]);
  if (!matches) {
    throw new ConvertError(
      "tensor-mismatch",
      `${path.basename(tensor.file)}: tensor "${tensor.name}" has shape [${tensor.shape.join(", ")}], but config.json implies [${expected.map((dim) => (dim === -1 ? "n_vocab" : String(dim))).join(", ")}]`,
      { file: tensor.file, action: `The weights do not match ${path.basename(context.config.file)}; download the checkpoint again.` },
    );
  }
}
