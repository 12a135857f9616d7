/**
 * The tensors (GGUF names) and PyTorch shapes of Llama-style decoder layers, as llama.cpp's loaders create them
 * (src/models/llama.cpp, qwen2.cpp, qwen3.cpp, phi3.cpp, gemma3.cpp; ggml dims reversed). -1 marks the vocabulary
 * dimension, which is checked against the tokenizer instead.
 */
import { type ModelDimensions } from "./textModelParameters";

export interface LayerLayout {
  /** Q, K and V in one `attn_qkv` tensor (Phi-3). */
  readonly fusedQkv?: boolean;
  /** gate and up in one `ffn_up` tensor of 2 × intermediate_size rows (Phi-3). */
  readonly fusedGateUp?: boolean;
  /** Per-head RMSNorm of Q and K (Qwen3, Gemma 3). */
  readonly qkNorm?: boolean;
  /** Norms after attention and after the MLP as well as before (Gemma 2/3 "sandwich" norms). */
  readonly sandwichNorms?: boolean;
}

export interface TensorShapes {
  readonly required: Map<string, readonly number[]>;
  readonly optional: Map<string, readonly number[]>;
}

/** Required and optional tensors of a model with these dimensions and layer layout. */
export function llamaFamilyShapes(dims: ModelDimensions, layout: LayerLayout): TensorShapes {
  const { hidden, heads, kvHeads, headDim, feedForward } = dims;
  const required = new Map<string, readonly number[]>([
    ["token_embd.weight", [-1, hidden]],
    ["output_norm.weight", [hidden]],
  ]);
  const optional = new Map<string, readonly number[]>([["output.weight", [-1, hidden]]]);
  const qRows = heads * headDim;
  const kvRows = kvHeads * headDim;
  for (let layer = 0; layer < dims.layers; layer += 1) {
    const blk = `blk.${layer}`;
    required.set(`${blk}.attn_norm.weight`, [hidden]);
    if (layout.fusedQkv === true) {
      required.set(`${blk}.attn_qkv.weight`, [qRows + 2 * kvRows, hidden]);
      optional.set(`${blk}.attn_qkv.bias`, [qRows + 2 * kvRows]);
    } else {
      required.set(`${blk}.attn_q.weight`, [qRows, hidden]);
      required.set(`${blk}.attn_k.weight`, [kvRows, hidden]);
      required.set(`${blk}.attn_v.weight`, [kvRows, hidden]);
      optional.set(`${blk}.attn_q.bias`, [qRows]);
      optional.set(`${blk}.attn_k.bias`, [kvRows]);
      optional.set(`${blk}.attn_v.bias`, [kvRows]);
    }
    required.set(`${blk}.attn_output.weight`, [hidden, qRows]);
    optional.set(`${blk}.attn_output.bias`, [hidden]);
    if (layout.qkNorm === true) {
      required.set(`${blk}.attn_q_norm.weight`, [headDim]);
      required.set(`${blk}.attn_k_norm.weight`, [headDim]);
    }
    required.set(`${blk}.ffn_norm.weight`, [hidden]);
    if (layout.sandwichNorms === true) {
      required.set(`${blk}.post_attention_norm.weight`, [hidden]);
      required.set(`${blk}.post_ffw_norm.weight`, [hidden]);
    }
    if (layout.fusedGateUp === true) {
      required.set(`${blk}.ffn_up.weight`, [2 * feedForward, hidden]);
    } else {
      required.set(`${blk}.ffn_gate.weight`, [feedForward, hidden]);
      required.set(`${blk}.ffn_up.weight`, [feedForward, hidden]);
    }
    required.set(`${blk}.ffn_down.weight`, [hidden, feedForward]);
  }
  return { required, optional };
}
