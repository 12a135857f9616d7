import assert from "node:assert/strict";
import { test } from "node:test";
import type { GgufModelSummary } from "../../src/core/gguf/ggufTypes";
import {
  contextLengthFromHfConfig,
  estimateRunMemory,
  memoryFitLabel,
  runMemoryInputFromGguf,
  runMemoryInputFromHfConfig,
} from "../../src/core/runtime/memoryFit";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

// Qwen2.5-0.5B's shape (config.json): 24 layers, 14 heads, 2 KV heads, hidden 896, FFN 4864, vocab 151936.
const qwen05 = {
  layers: 24,
  heads: 14,
  kvHeads: 2,
  headDim: 64,
  embeddingLength: 896,
  feedForwardLength: 4864,
  vocabularySize: 151_936,
};

test("KV cache matches llama.cpp's own figure for Qwen2.5-0.5B at 32768 tokens (384 MiB, F16)", () => {
  const estimate = estimateRunMemory({ ...qwen05, weightsBytes: 400 * MiB, contextSize: 32_768 });
  assert.equal(estimate.method, "dimensions");
  assert.equal(estimate.kvCacheBytes, 384 * MiB);
  assert.equal(estimate.totalBytes, estimate.weightsBytes + estimate.kvCacheBytes + estimate.computeBytes);
  // The compute buffer is dominated by the logits of one 512-token micro-batch (151936 × 512 × 4 ≈ 297 MiB) or
  // the attention scores (14 × 512 × 32768 × 4 = 896 MiB), whichever is larger.
  assert.ok(estimate.computeBytes >= 896 * MiB && estimate.computeBytes < 1100 * MiB, String(estimate.computeBytes));
});

test("KV cache scales with context and cache type; the compute buffer with context", () => {
  const short = estimateRunMemory({ ...qwen05, weightsBytes: 1, contextSize: 2048 });
  const long = estimateRunMemory({ ...qwen05, weightsBytes: 1, contextSize: 4096 });
  const q8 = estimateRunMemory({ ...qwen05, weightsBytes: 1, contextSize: 4096, kvTypeBytes: 1 });
  assert.equal(long.kvCacheBytes, 2 * short.kvCacheBytes);
  assert.equal(q8.kvCacheBytes, long.kvCacheBytes / 2);
  assert.ok(long.computeBytes >= short.computeBytes);
});

test("unknown dimensions fall back to the reference's rule of thumb by bits per weight", () => {
  const f16 = estimateRunMemory({ weightsBytes: 1000, contextSize: 4096, bitsPerWeight: 16 });
  const q8 = estimateRunMemory({ weightsBytes: 1000, contextSize: 4096, bitsPerWeight: 8.5 });
  const q4 = estimateRunMemory({ weightsBytes: 1000, contextSize: 4096, bitsPerWeight: 4.5 });
  const unknown = estimateRunMemory({ weightsBytes: 1000, contextSize: 4096, layers: 24 });
  assert.deepEqual([f16.totalBytes, q8.totalBytes, q4.totalBytes, unknown.totalBytes], [2000, 1500, 1200, 1500]);
  assert.equal(f16.method, "rule-of-thumb");
  assert.equal(f16.kvCacheBytes, 0);
});

test("fit label: fits in RAM, fits on GPU, splits across GPU and RAM, too big", () => {
  const estimate = (totalBytes: number) =>
    ({ weightsBytes: totalBytes, kvCacheBytes: 0, computeBytes: 0, totalBytes, method: "dimensions" }) as const;
  const laptop = { totalMemoryBytes: 16 * GiB, freeMemoryBytes: 8 * GiB };
  assert.equal(memoryFitLabel(estimate(4 * GiB), laptop).label, "fits");
  assert.equal(memoryFitLabel(estimate(15.5 * GiB), laptop).label, "too-big");
  const busy = memoryFitLabel(estimate(10 * GiB), laptop);
  assert.equal(busy.label, "fits");
  assert.match(busy.explanation, /8\.00 GiB is free/);
  const gpuBox = { totalMemoryBytes: 32 * GiB, gpuMemoryBytes: 8 * GiB };
  assert.equal(memoryFitLabel(estimate(6 * GiB), gpuBox).label, "fits");
  assert.match(memoryFitLabel(estimate(6 * GiB), gpuBox).explanation, /GPU/);
  const split = memoryFitLabel(estimate(20 * GiB), gpuBox);
  assert.equal(split.label, "fits-partly-on-gpu");
  assert.match(split.explanation, /36% of the layers/);
  const huge = memoryFitLabel(estimate(60 * GiB), gpuBox);
  assert.equal(huge.label, "too-big");
  assert.match(huge.explanation, /smaller quantization/);
});

test("dimensions from a GGUF summary: head size = embedding / heads, KV heads default to heads", () => {
  const summary: GgufModelSummary = {
    path: "/m.gguf",
    architecture: "llama",
    name: "m",
    parameterCount: 1000,
    fileType: "Q8_0",
    tensorCount: 3,
    contextLength: 2048,
    vocabularySize: 32_000,
    tokenizerModel: "llama",
    tokenizerPre: undefined,
    embeddingLength: 2048,
    blockCount: 22,
    headCount: 32,
    headCountKv: undefined,
    feedForwardLength: 5632,
    fileSize: 1_200_000_000,
    bitsPerWeight: 8.5,
    ggufVersion: 3,
  };
  const input = runMemoryInputFromGguf(summary);
  assert.deepEqual([input.layers, input.kvHeads, input.headDim, input.contextSize, input.weightsBytes], [22, 32, 64, 2048, 1_200_000_000]);
  assert.equal(estimateRunMemory(input).kvCacheBytes, 2 * 22 * 32 * 64 * 2048 * 2);
  assert.equal(runMemoryInputFromGguf(summary, 512).contextSize, 512);
});

test("dimensions from config.json, including head_dim and a multimodal text_config", () => {
  const qwen3 = { num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, hidden_size: 1024, max_position_embeddings: 40_960, vocab_size: 151_936 };
  const input = runMemoryInputFromHfConfig(qwen3, 1_500_000_000);
  assert.deepEqual([input.layers, input.kvHeads, input.headDim, input.contextSize], [28, 8, 128, 40_960]);
  const gemma3 = { model_type: "gemma3", text_config: { num_hidden_layers: 34, num_attention_heads: 8, num_key_value_heads: 4, head_dim: 256, hidden_size: 2560, max_position_embeddings: 131_072 } };
  assert.equal(contextLengthFromHfConfig(gemma3), 131_072);
  assert.deepEqual(runMemoryInputFromHfConfig(gemma3, 1, 1024).layers, 34);
  assert.equal(contextLengthFromHfConfig({ n_positions: 1024 }), 1024);
  assert.equal(contextLengthFromHfConfig({ max_position_embeddings: "big" }), undefined);
});
