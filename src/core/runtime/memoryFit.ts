/**
 * How much memory a model needs to run, and whether that fits this machine. Pure functions: the callers (completion
 * engine, bench, detail and comparison views) gather the machine's numbers and the model's dimensions.
 *
 * The estimate follows what llama.cpp allocates when it loads a model and creates a context:
 * - weights: the tensor data (≈ the GGUF file size; mmap'd, but it all ends up resident while generating);
 * - KV cache: `llama_kv_cache` holds K and V for every layer, `2 × layers × kv_heads × head_dim × ctx` elements of
 *   the cache type (F16 by default: 2 bytes);
 * - compute buffer: ggml-alloc sizes the graph for one micro-batch (n_ubatch = 512 by default); the biggest
 *   tensors alive are the logits (`vocab × n_ubatch` f32) at the end and, without flash attention, the attention
 *   scores (`heads × n_ubatch × ctx` f32), plus the per-token activations of a layer.
 * Without the dimensions, it falls back to the rule of thumb of shared/reference/quantization.md
 * (F16 ≈ 2.0×, Q8_0 ≈ 1.5×, Q4_0 ≈ 1.2× the file size).
 */
import os from "node:os";
import { formatBytes } from "../format/humanUnits";
import type { GgufModelSummary } from "../gguf/ggufTypes";

/** What the estimate needs; any dimension left out makes it fall back to the rule of thumb for that part. */
export interface RunMemoryInput {
  /** Bytes of weights (the GGUF file size, or the sum of the quantized tensors). */
  readonly weightsBytes: number;
  /** Transformer blocks (`{arch}.block_count`, `num_hidden_layers`). */
  readonly layers?: number | undefined;
  /** K/V heads (`{arch}.attention.head_count_kv`, `num_key_value_heads`). */
  readonly kvHeads?: number | undefined;
  /** Size of one head (`{arch}.attention.key_length`, `head_dim`, or embedding / heads). */
  readonly headDim?: number | undefined;
  /** Query heads (`{arch}.attention.head_count`); sizes the attention scores in the compute buffer. */
  readonly heads?: number | undefined;
  readonly vocabularySize?: number | undefined;
  readonly embeddingLength?: number | undefined;
  readonly feedForwardLength?: number | undefined;
  /** Tokens of context the model will be run with. */
  readonly contextSize: number;
  /** Bytes per K/V element: 2 for F16 (llama.cpp's default), 1 for Q8_0-ish caches. */
  readonly kvTypeBytes?: number | undefined;
  /** llama.cpp's micro-batch size (`n_ubatch`, default 512). */
  readonly microBatchSize?: number | undefined;
  /** Bits per weight of the file, used only by the rule of thumb when the dimensions are unknown. */
  readonly bitsPerWeight?: number | undefined;
}

export interface RunMemoryEstimate {
  readonly weightsBytes: number;
  readonly kvCacheBytes: number;
  readonly computeBytes: number;
  readonly totalBytes: number;
  /** "dimensions" when computed from the model's shape; "rule-of-thumb" when it multiplied the file size. */
  readonly method: "dimensions" | "rule-of-thumb";
}

/** The machine's memory, as the caller measured it (os.totalmem/os.freemem; a GPU's VRAM when known). */
export interface MachineMemory {
  readonly totalMemoryBytes: number;
  readonly freeMemoryBytes?: number | undefined;
  readonly gpuMemoryBytes?: number | undefined;
}

export type MemoryFitLabel = "fits" | "fits-partly-on-gpu" | "too-big";

export interface MemoryFit {
  readonly label: MemoryFitLabel;
  /** One sentence for a person: what fits where, and by how much. */
  readonly explanation: string;
}

/** llama.cpp's default `n_ubatch` (common/common.h `n_ubatch = 512`). */
export const DEFAULT_MICRO_BATCH = 512;
/** Bytes of an F16 K/V element, llama.cpp's default cache type. */
export const DEFAULT_KV_TYPE_BYTES = 2;
/** The share of RAM a model may take and still leave the OS and editor room to work. */
const RAM_USABLE_SHARE = 0.85;
/** The share of VRAM usable by one model (drivers, display and other processes keep the rest). */
const GPU_USABLE_SHARE = 0.9;
const F32_BYTES = 4;

/** Estimates the memory to run a model with `contextSize` tokens of context. */
export function estimateRunMemory(input: RunMemoryInput): RunMemoryEstimate {
  const weightsBytes = Math.max(0, input.weightsBytes);
  const ctx = Math.max(1, Math.floor(input.contextSize));
  const { layers, kvHeads, headDim } = input;
  if (!isPositive(layers) || !isPositive(kvHeads) || !isPositive(headDim)) {
    const total = Math.round(weightsBytes * ruleOfThumbFactor(input.bitsPerWeight));
    return { weightsBytes, kvCacheBytes: 0, computeBytes: total - weightsBytes, totalBytes: total, method: "rule-of-thumb" };
  }
  const kvTypeBytes = input.kvTypeBytes ?? DEFAULT_KV_TYPE_BYTES;
  const kvCacheBytes = 2 * layers * kvHeads * headDim * ctx * kvTypeBytes;
  const computeBytes = estimateComputeBytes(input, ctx);
  return { weightsBytes, kvCacheBytes, computeBytes, totalBytes: weightsBytes + kvCacheBytes + computeBytes, method: "dimensions" };
}

/** Says whether an estimate fits this machine: all in GPU or RAM, split across GPU and RAM, or not at all. */
export function memoryFitLabel(estimate: RunMemoryEstimate, machine: MachineMemory): MemoryFit {
  const need = estimate.totalBytes;
  const ramUsable = machine.totalMemoryBytes * RAM_USABLE_SHARE;
  const gpu = machine.gpuMemoryBytes ?? 0;
  const gpuUsable = gpu * GPU_USABLE_SHARE;
  const needText = `needs about ${formatBytes(need)}`;
  if (gpu > 0 && need <= gpuUsable) {
    return { label: "fits", explanation: `${needText}; fits in the GPU's ${formatBytes(gpu)}.` };
  }
  if (gpu > 0 && need <= gpuUsable + ramUsable) {
    const share = Math.round((gpuUsable / need) * 100);
    return {
      label: "fits-partly-on-gpu",
      explanation: `${needText}; about ${share}% of the layers fit in the GPU's ${formatBytes(gpu)}, the rest runs from RAM (slower).`,
    };
  }
  if (need <= ramUsable) {
    const free = machine.freeMemoryBytes;
    const freeNote =
      free !== undefined && need > free ? ` Only ${formatBytes(free)} is free right now: close other programs first.` : "";
    return { label: "fits", explanation: `${needText}; fits in ${formatBytes(machine.totalMemoryBytes)} of RAM.${freeNote}` };
  }
  const where = gpu > 0 ? `${formatBytes(gpu)} of GPU memory and ${formatBytes(machine.totalMemoryBytes)} of RAM` : `${formatBytes(machine.totalMemoryBytes)} of RAM`;
  return {
    label: "too-big",
    explanation: `${needText}, more than this machine's ${where}: pick a smaller quantization or a shorter context.`,
  };
}

/** The estimate's input from a GGUF summary (dimensions from its header; weights = the file size). */
export function runMemoryInputFromGguf(summary: GgufModelSummary, contextSize?: number): RunMemoryInput {
  const heads = summary.headCount;
  const headDim = isPositive(heads) && isPositive(summary.embeddingLength) ? summary.embeddingLength / heads : undefined;
  return {
    weightsBytes: summary.fileSize,
    layers: summary.blockCount,
    kvHeads: summary.headCountKv ?? heads,
    headDim,
    heads,
    vocabularySize: summary.vocabularySize,
    embeddingLength: summary.embeddingLength,
    feedForwardLength: summary.feedForwardLength,
    contextSize: contextSize ?? summary.contextLength ?? 4096,
    bitsPerWeight: summary.bitsPerWeight,
  };
}

/** The estimate's input from a Hugging Face `config.json` (transformers names) and the weights' size in bytes. */
export function runMemoryInputFromHfConfig(
  config: Readonly<Record<string, unknown>>,
  weightsBytes: number,
  contextSize?: number,
  bitsPerWeight?: number,
): RunMemoryInput {
  // Multimodal configs (Gemma 3, Llava) keep the language model's shape under text_config.
  const nested = config["text_config"];
  const text = isRecord(nested) ? { ...config, ...nested } : config;
  const heads = numberField(text, "num_attention_heads") ?? numberField(text, "n_head");
  const embedding = numberField(text, "hidden_size") ?? numberField(text, "n_embd");
  const headDim = numberField(text, "head_dim") ?? (isPositive(heads) && isPositive(embedding) ? embedding / heads : undefined);
  return {
    weightsBytes,
    layers: numberField(text, "num_hidden_layers") ?? numberField(text, "n_layer"),
    kvHeads: numberField(text, "num_key_value_heads") ?? heads,
    headDim,
    heads,
    vocabularySize: numberField(text, "vocab_size"),
    embeddingLength: embedding,
    feedForwardLength: numberField(text, "intermediate_size"),
    contextSize: contextSize ?? contextLengthFromHfConfig(config) ?? 4096,
    bitsPerWeight,
  };
}

/** The trained context length a `config.json` declares (`max_position_embeddings` or its older names). */
export function contextLengthFromHfConfig(config: Readonly<Record<string, unknown>>): number | undefined {
  const nested = config["text_config"];
  const text = isRecord(nested) ? { ...config, ...nested } : config;
  return numberField(text, "max_position_embeddings") ?? numberField(text, "n_positions") ?? numberField(text, "seq_length");
}

/** This machine's RAM now (no GPU is reported: the runtime here is CPU-only unless a caller knows better). */
export function currentMachineMemory(): MachineMemory {
  return { totalMemoryBytes: os.totalmem(), freeMemoryBytes: os.freemem() };
}

/**
 * The graph's biggest live tensors for one micro-batch (ggml-alloc reuses memory, so the logits and the attention
 * scores are never alive at once: take the larger), plus one layer's activations (hidden states, Q/K/V, FFN).
 */
function estimateComputeBytes(input: RunMemoryInput, ctx: number): number {
  const ubatch = Math.min(input.microBatchSize ?? DEFAULT_MICRO_BATCH, ctx);
  const logits = (input.vocabularySize ?? 32_000) * ubatch * F32_BYTES;
  const heads = input.heads ?? input.kvHeads ?? 1;
  const scores = heads * ubatch * ctx * F32_BYTES;
  const embedding = input.embeddingLength ?? (input.heads ?? 1) * (input.headDim ?? 64);
  const ffn = input.feedForwardLength ?? embedding * 4;
  const activations = (4 * embedding + 3 * ffn) * ubatch * F32_BYTES;
  return Math.max(logits, scores) + activations;
}

/** shared/reference/quantization.md: F16 ≈ 2.0×, Q8_0 ≈ 1.5×, Q4_0 ≈ 1.2× the file size (before KV cache). */
function ruleOfThumbFactor(bitsPerWeight: number | undefined): number {
  if (bitsPerWeight === undefined || !(bitsPerWeight > 0)) return 1.5;
  if (bitsPerWeight >= 12) return 2.0;
  if (bitsPerWeight >= 6.5) return 1.5;
  return 1.2;
}

function isPositive(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value) && value > 0;
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function numberField(record: Readonly<Record<string, unknown>>, key: string): number | undefined {
  const value = record[key];
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : undefined;
}
