/**
 * A plain-TypeScript reference forward pass of the supported architectures, written from the Hugging Face modeling
 * definitions (transformers modeling_llama.py, modeling_qwen2.py, modeling_qwen3.py, modeling_phi3.py,
 * modeling_gemma3.py) and run on a checkpoint's own safetensors weights: no llama.cpp conventions (no Q/K
 * permutation, no fused-tensor splitting, no norm offsets folded in). All arithmetic is in float64 on the float32
 * values of the weights, so its own rounding is far below any tolerance the tests state.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { openSafetensorsCheckpoint } from "../../src/core/safetensors/safetensorsCheckpoint";
import { tensorToFloat32 } from "../../src/core/safetensors/safetensorsTensorData";
import { applyRope, ropeTable, type RopeTable } from "./referenceRope";

type Family = "llama" | "qwen2" | "qwen3" | "phi3" | "gemma3";

const FAMILY_OF_ARCHITECTURE: Readonly<Record<string, Family>> = {
  LlamaForCausalLM: "llama",
  Qwen2ForCausalLM: "qwen2",
  Qwen3ForCausalLM: "qwen3",
  Phi3ForCausalLM: "phi3",
  Gemma3ForCausalLM: "gemma3",
};

/** A checkpoint loaded for the reference: hyper-parameters and every weight as float32. */
export interface ReferenceModel {
  readonly family: Family;
  readonly config: Readonly<Record<string, unknown>>;
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly intermediate: number;
  readonly vocab: number;
  readonly eps: number;
  readonly weights: ReadonlyMap<string, Float32Array>;
}

function configNumber(config: Readonly<Record<string, unknown>>, key: string, fallback?: number): number {
  const value = config[key];
  if (typeof value === "number") return value;
  if (fallback !== undefined) return fallback;
  throw new Error(`config.json: ${key} is missing`);
}

/** Reads config.json and all weights of an HF checkpoint folder. */
export async function loadReferenceModel(dir: string): Promise<ReferenceModel> {
  const config = JSON.parse(await readFile(path.join(dir, "config.json"), "utf8")) as Record<string, unknown>;
  const architectures = config["architectures"];
  const family = Array.isArray(architectures) && typeof architectures[0] === "string" ? FAMILY_OF_ARCHITECTURE[architectures[0]] : undefined;
  if (family === undefined) throw new Error(`reference forward pass: unsupported architectures ${JSON.stringify(architectures)}`);
  const checkpoint = await openSafetensorsCheckpoint(dir);
  const weights = new Map<string, Float32Array>();
  for (const tensor of checkpoint.tensors) weights.set(tensor.name, await tensorToFloat32(tensor));
  const hidden = configNumber(config, "hidden_size");
  const heads = configNumber(config, "num_attention_heads");
  return {
    family,
    config,
    hidden,
    layers: configNumber(config, "num_hidden_layers"),
    heads,
    kvHeads: configNumber(config, "num_key_value_heads", heads),
    headDim: configNumber(config, "head_dim", hidden / heads),
    intermediate: configNumber(config, "intermediate_size"),
    vocab: configNumber(config, "vocab_size"),
    eps: configNumber(config, "rms_norm_eps"),
    weights,
  };
}

function weight(model: ReferenceModel, name: string): Float32Array {
  const value = model.weights.get(name);
  if (value === undefined) throw new Error(`reference forward pass: tensor ${name} is missing`);
  return value;
}

/** y = W x (+ b) for a PyTorch linear weight [out, in] stored row-major; `rowOffset` selects rows of a fused weight. */
function linear(w: Float32Array, x: Float64Array, outFeatures: number, bias?: Float32Array, rowOffset = 0): Float64Array {
  const inFeatures = x.length;
  const y = new Float64Array(outFeatures);
  for (let row = 0; row < outFeatures; row += 1) {
    let sum = 0;
    const base = (row + rowOffset) * inFeatures;
    for (let col = 0; col < inFeatures; col += 1) sum += (w[base + col] ?? 0) * (x[col] ?? 0);
    y[row] = sum + (bias?.[row] ?? 0);
  }
  return y;
}

/** RMSNorm over `size` values at `offset`: x / sqrt(mean(x²) + eps) * w, or * (1 + w) for Gemma (Gemma3RMSNorm). */
function rmsNorm(x: Float64Array, w: Float32Array, eps: number, gemma: boolean, offset = 0, size = x.length): Float64Array {
  let squares = 0;
  for (let index = 0; index < size; index += 1) squares += (x[offset + index] ?? 0) ** 2;
  const scale = 1 / Math.sqrt(squares / size + eps);
  const out = new Float64Array(x);
  for (let index = 0; index < size; index += 1) out[offset + index] = (x[offset + index] ?? 0) * scale * (gemma ? 1 + (w[index] ?? 0) : (w[index] ?? 0));
  return out;
}

const silu = (value: number): number => value / (1 + Math.exp(-value));
/** gelu_pytorch_tanh. */
const geluTanh = (value: number): number => 0.5 * value * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (value + 0.044715 * value ** 3)));

interface LayerAttention {
  readonly rope: RopeTable;
  /** Keys further back than this are masked (Gemma 3's sliding layers); Infinity: plain causal attention. */
  readonly window: number;
  readonly scale: number;
}

function layerAttention(model: ReferenceModel, layer: number, sequenceLength: number): LayerAttention {
  const config = model.config;
  const scaling = config["rope_scaling"];
  const ropeScaling = typeof scaling === "object" && scaling !== null ? (scaling as Record<string, unknown>) : undefined;
  const maxPositionEmbeddings = configNumber(config, "max_position_embeddings");
  const originalMax = typeof config["original_max_position_embeddings"] === "number" ? config["original_max_position_embeddings"] : undefined;
  if (model.family === "gemma3") {
    // Gemma3DecoderLayer: every sliding_window_pattern-th layer is global (rope_theta, rope_scaling); the others
    // attend to the last sliding_window positions with rope_local_base_freq and no scaling.
    const pattern = configNumber(config, "sliding_window_pattern", 6);
    const sliding = (layer + 1) % pattern !== 0;
    const base = sliding ? configNumber(config, "rope_local_base_freq") : configNumber(config, "rope_theta");
    const rope = ropeTable({ base, rotaryDim: model.headDim, scaling: sliding ? undefined : ropeScaling, maxPositionEmbeddings, originalMaxPositionEmbeddings: originalMax, sequenceLength });
    return { rope, window: sliding ? configNumber(config, "sliding_window") : Infinity, scale: configNumber(config, "query_pre_attn_scalar") ** -0.5 };
  }
  const rotaryDim = model.family === "phi3" ? Math.floor(model.headDim * configNumber(config, "partial_rotary_factor", 1)) : model.headDim;
  const rope = ropeTable({ base: configNumber(config, "rope_theta"), rotaryDim, scaling: ropeScaling, maxPositionEmbeddings, originalMaxPositionEmbeddings: originalMax, sequenceLength });
  return { rope, window: Infinity, scale: model.headDim ** -0.5 };
}

/** Logits (vocab_size values) at every position of `tokens`, as the HF model computes them without a cache. */
export function referenceLogits(model: ReferenceModel, tokens: readonly number[]): Float32Array[] {
  const { hidden, headDim, heads, kvHeads, eps, family } = model;
  const gemma = family === "gemma3";
  const qSize = heads * headDim;
  const kvSize = kvHeads * headDim;
  const embed = weight(model, "model.embed_tokens.weight");
  // Gemma3TextScaledWordEmbedding multiplies by sqrt(hidden) cast to the weights' dtype (exact for hidden = 64).
  const embedScale = gemma ? Math.sqrt(hidden) : 1;
  let states = tokens.map((token) => {
    if (!Number.isInteger(token) || token < 0 || token >= model.vocab) throw new Error(`token ${token} is outside the vocabulary`);
    const x = new Float64Array(hidden);
    for (let index = 0; index < hidden; index += 1) x[index] = (embed[token * hidden + index] ?? 0) * embedScale;
    return x;
  });

  for (let layer = 0; layer < model.layers; layer += 1) {
    const prefix = `model.layers.${layer}`;
    const attention = layerAttention(model, layer, tokens.length);
    const queries: Float64Array[] = [];
    const keys: Float64Array[] = [];
    const values: Float64Array[] = [];
    states.forEach((x, position) => {
      const h = rmsNorm(x, weight(model, `${prefix}.input_layernorm.weight`), eps, gemma);
      let q: Float64Array;
      let k: Float64Array;
      let v: Float64Array;
      if (family === "phi3") {
        // Phi3Attention: qkv_proj rows are q, then k, then v.
        const qkv = weight(model, `${prefix}.self_attn.qkv_proj.weight`);
        q = linear(qkv, h, qSize);
        k = linear(qkv, h, kvSize, undefined, qSize);
        v = linear(qkv, h, kvSize, undefined, qSize + kvSize);
      } else {
        const bias = (name: string): Float32Array | undefined => model.weights.get(`${prefix}.self_attn.${name}.bias`);
        q = linear(weight(model, `${prefix}.self_attn.q_proj.weight`), h, qSize, bias("q_proj"));
        k = linear(weight(model, `${prefix}.self_attn.k_proj.weight`), h, kvSize, bias("k_proj"));
        v = linear(weight(model, `${prefix}.self_attn.v_proj.weight`), h, kvSize, bias("v_proj"));
      }
      if (family === "qwen3" || gemma) {
        // Per-head RMSNorm of queries and keys before RoPE (Qwen3Attention, Gemma3Attention).
        const qNorm = weight(model, `${prefix}.self_attn.q_norm.weight`);
        const kNorm = weight(model, `${prefix}.self_attn.k_norm.weight`);
        for (let head = 0; head < heads; head += 1) q = rmsNorm(q, qNorm, eps, gemma, head * headDim, headDim);
        for (let head = 0; head < kvHeads; head += 1) k = rmsNorm(k, kNorm, eps, gemma, head * headDim, headDim);
      }
      for (let head = 0; head < heads; head += 1) applyRope(q, head * headDim, position, attention.rope);
      for (let head = 0; head < kvHeads; head += 1) applyRope(k, head * headDim, position, attention.rope);
      queries.push(q);
      keys.push(k);
      values.push(v);
    });

    const oProj = weight(model, `${prefix}.self_attn.o_proj.weight`);
    const group = heads / kvHeads;
    states = states.map((x, position) => {
      const q = queries[position] ?? new Float64Array(qSize);
      const mixed = new Float64Array(qSize);
      const first = Math.max(0, position - attention.window + 1);
      for (let head = 0; head < heads; head += 1) {
        const kvHead = Math.floor(head / group);
        const scores: number[] = [];
        for (let past = first; past <= position; past += 1) {
          const k = keys[past] ?? new Float64Array(kvSize);
          let dot = 0;
          for (let index = 0; index < headDim; index += 1) dot += (q[head * headDim + index] ?? 0) * (k[kvHead * headDim + index] ?? 0);
          scores.push(dot * attention.scale);
        }
        const max = Math.max(...scores);
        const exps = scores.map((score) => Math.exp(score - max));
        const total = exps.reduce((sum, value) => sum + value, 0);
        exps.forEach((weightOfPast, offset) => {
          const v = values[first + offset] ?? new Float64Array(kvSize);
          for (let index = 0; index < headDim; index += 1) mixed[head * headDim + index] = (mixed[head * headDim + index] ?? 0) + (weightOfPast / total) * (v[kvHead * headDim + index] ?? 0);
        });
      }
      let attended = linear(oProj, mixed, hidden);
      if (gemma) attended = rmsNorm(attended, weight(model, `${prefix}.post_attention_layernorm.weight`), eps, true);
      const residual = x.map((value, index) => value + (attended[index] ?? 0));

      // MLP: gated SiLU (GELU-tanh for Gemma); Gemma normalises before and after, the others before only.
      const preNorm = gemma ? `${prefix}.pre_feedforward_layernorm.weight` : `${prefix}.post_attention_layernorm.weight`;
      const h = rmsNorm(residual, weight(model, preNorm), eps, gemma);
      const inter = model.intermediate;
      let gate: Float64Array;
      let up: Float64Array;
      if (family === "phi3") {
        // Phi3MLP: gate_up_proj rows are gate, then up.
        const gateUp = weight(model, `${prefix}.mlp.gate_up_proj.weight`);
        gate = linear(gateUp, h, inter);
        up = linear(gateUp, h, inter, undefined, inter);
      } else {
        gate = linear(weight(model, `${prefix}.mlp.gate_proj.weight`), h, inter);
        up = linear(weight(model, `${prefix}.mlp.up_proj.weight`), h, inter);
      }
      const activation = gemma ? geluTanh : silu;
      const product = gate.map((value, index) => activation(value) * (up[index] ?? 0));
      let mlp = linear(weight(model, `${prefix}.mlp.down_proj.weight`), product, hidden);
      if (gemma) mlp = rmsNorm(mlp, weight(model, `${prefix}.post_feedforward_layernorm.weight`), eps, true);
      return residual.map((value, index) => value + (mlp[index] ?? 0));
    });
  }

  const norm = weight(model, "model.norm.weight");
  const head = model.weights.get("lm_head.weight") ?? embed;
  const softcap = model.config["final_logit_softcapping"];
  return states.map((x) => {
    const normed = rmsNorm(x, norm, eps, gemma);
    const logits = linear(head, normed, model.vocab);
    if (typeof softcap === "number" && softcap > 0) for (let index = 0; index < logits.length; index += 1) logits[index] = Math.tanh((logits[index] ?? 0) / softcap) * softcap;
    return Float32Array.from(logits);
  });
}
