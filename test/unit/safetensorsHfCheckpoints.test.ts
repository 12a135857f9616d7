import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { float16Bits, float16Value } from "../../src/core/numeric/float16";
import { openSafetensorsCheckpoint } from "../../src/core/safetensors/safetensorsCheckpoint";
import { tensorToFloat32 } from "../../src/core/safetensors/safetensorsTensorData";
import { ensureHfCheckpoint, hfCheckpointNames, hfCheckpointSpecs, hfShardPlan, hfTensorData, hfTensorPlan } from "../fixtures/hfCheckpoints";

async function bytesOf(source: { chunks(): AsyncIterable<Uint8Array> }): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of source.chunks()) parts.push(chunk);
  return Buffer.concat(parts);
}

function meanAndStd(values: Float32Array): { mean: number; std: number } {
  let sum = 0;
  let squares = 0;
  for (const value of values) {
    sum += value;
    squares += value * value;
  }
  const mean = sum / values.length;
  return { mean, std: Math.sqrt(squares / values.length - mean * mean) };
}

test("HF checkpoint fixtures: config.json, tensors, dtypes and shards as the spec says, read back by the reader", async () => {
  for (const name of hfCheckpointNames) {
    const spec = hfCheckpointSpecs[name];
    const dir = await ensureHfCheckpoint(name);
    assert.equal(await ensureHfCheckpoint(name), dir, "cached");
    const config = JSON.parse(await readFile(path.join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual(config["architectures"], [spec.architecture]);
    assert.equal(config["model_type"], spec.modelType);
    assert.equal(config["hidden_size"], spec.hiddenSize);
    assert.equal(config["vocab_size"], spec.vocabSize);
    // gemma-3-1b's config.json leaves tie_word_embeddings to its default (true), as the fixture does.
    if (spec.modelType === "gemma3_text") assert.ok(!("tie_word_embeddings" in config));
    else assert.equal(config["tie_word_embeddings"], spec.tieWordEmbeddings);
    const tokenizer = JSON.parse(await readFile(path.join(dir, "tokenizer.json"), "utf8")) as { model: { type: string; vocab: Record<string, number> }; added_tokens: { id: number; content: string }[] };
    assert.equal(tokenizer.model.type, "BPE");
    const maxId = [...Object.values(tokenizer.model.vocab), ...tokenizer.added_tokens.map((token) => token.id)].reduce((max, id) => Math.max(max, id), 0);
    assert.ok(maxId < spec.vocabSize, `${name}: token ids up to ${maxId} fit the embedding of ${spec.vocabSize}`);
    const eos = tokenizer.added_tokens.find((token) => token.id === spec.eosTokenId);
    assert.ok(eos !== undefined, `${name}: eos_token_id ${spec.eosTokenId} is a special token of the tokenizer`);
    const tokenizerConfig = JSON.parse(await readFile(path.join(dir, "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
    assert.equal(typeof tokenizerConfig["chat_template"], "string");

    const checkpoint = await openSafetensorsCheckpoint(dir);
    const plan = hfTensorPlan(spec);
    assert.deepEqual([...checkpoint.byName.keys()].sort(), plan.map((tensor) => tensor.name).sort(), name);
    for (const tensor of plan) {
      const stored = checkpoint.byName.get(tensor.name) ?? assert.fail(tensor.name);
      assert.deepEqual(stored.shape, tensor.shape, tensor.name);
      assert.equal(stored.dtype, spec.dtype, tensor.name);
    }
    assert.equal(checkpoint.shards.length, spec.shardCount, name);
    assert.ok(checkpoint.shards.every((shard) => shard.metadata.get("format") === "pt" && shard.tensors.length > 0));
    if (spec.shardCount > 1) {
      const index = JSON.parse(await readFile(checkpoint.indexFile ?? assert.fail("no index"), "utf8")) as { metadata: { total_size: number } };
      assert.equal(index.metadata.total_size, checkpoint.totalTensorBytes);
    }
    assert.equal(spec.tieWordEmbeddings, !checkpoint.byName.has("lm_head.weight"));

    const embedding = meanAndStd(await tensorToFloat32(checkpoint.byName.get("model.embed_tokens.weight") ?? assert.fail()));
    assert.ok(Math.abs(embedding.mean) < 0.01 && Math.abs(embedding.std - 0.5) < 0.01, `${name} embedding ${JSON.stringify(embedding)}`);
    const norm = await tensorToFloat32(checkpoint.byName.get("model.layers.1.post_attention_layernorm.weight") ?? assert.fail());
    const normStats = meanAndStd(norm);
    // Gemma stores norm weights as offsets from 1; the others store the scale itself.
    const normMean = spec.modelType === "gemma3_text" ? 0 : 1;
    assert.ok(Math.abs(normStats.mean - normMean) < 0.05 && normStats.std > 0.05 && normStats.std < 0.15, `${name} norm ${JSON.stringify(normStats)}`);
    if (spec.headDim !== spec.hiddenSize / spec.numAttentionHeads) {
      assert.deepEqual(checkpoint.byName.get("model.layers.0.self_attn.q_proj.weight")?.shape, [spec.numAttentionHeads * spec.headDim, spec.hiddenSize]);
      assert.deepEqual(checkpoint.byName.get("model.layers.0.self_attn.k_norm.weight")?.shape, [spec.headDim]);
      assert.equal(config["head_dim"], spec.headDim);
    }
  }
});

test("HF checkpoint fixtures: deterministic data, F16/BF16 the correctly rounded F32 values, every shard non-empty", async () => {
  const spec = hfCheckpointSpecs["tiny-qwen2"];
  const tensor = hfTensorPlan(spec).find((entry) => entry.name === "model.layers.0.self_attn.q_proj.weight") ?? assert.fail();
  const first = await bytesOf(hfTensorData(spec, tensor));
  assert.ok(first.equals(await bytesOf(hfTensorData(spec, tensor))), "same seed, same bytes");
  const f32 = await bytesOf(hfTensorData({ ...spec, dtype: "F32" }, tensor));
  const wide = new Float32Array(f32.buffer, f32.byteOffset, f32.byteLength / 4);
  const halves = new Uint16Array(first.buffer, first.byteOffset, first.byteLength / 2);
  for (let index = 0; index < wide.length; index += 1) assert.equal(halves[index], float16Bits(wide[index] ?? 0));
  const bf16 = await bytesOf(hfTensorData({ ...spec, dtype: "BF16" }, tensor));
  const bfHalves = new Uint16Array(bf16.buffer, bf16.byteOffset, bf16.byteLength / 2);
  for (let index = 0; index < wide.length; index += 1) {
    const value = wide[index] ?? 0;
    const rounded = new Float32Array(Uint32Array.of((bfHalves[index] ?? 0) << 16).buffer)[0] ?? 0;
    // The bfloat16 value is within half a bfloat16 step (2^-8 relative) of the float32 one.
    assert.ok(Math.abs(rounded - value) <= Math.abs(value) * 2 ** -8, `${value} → ${rounded}`);
  }
  assert.ok(Math.abs(float16Value(halves[0] ?? 0) - (wide[0] ?? 0)) < 1e-3);

  const plan = hfTensorPlan(spec);
  for (const count of [2, 3, 5]) {
    const shards = hfShardPlan(plan, count, 2);
    assert.equal(shards.length, count);
    assert.ok(shards.every((shard) => shard.length > 0));
    assert.deepEqual(shards.flat(), plan, "contiguous, in model order");
  }
});
