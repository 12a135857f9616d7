/**
 * What the converter writes, checked against the facts of llama.cpp's convert_hf_to_gguf.py for each architecture:
 * hyper-parameter keys and values, tensor names, ggml types and shapes, and the transformations (Llama's Q/K
 * permutation, Gemma's norm +1 and embedding cut, Phi-3's fused tensors and LongRoPE factors, Llama 3's rope_freqs).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { convertCheckpointInProcess, sizeLabel } from "../../src/core/convert/checkpointConversion";
import { quantizeQ8_0 } from "../../src/core/convert/q8_0Quantization";
import { permuteRopeRows } from "../../src/core/convert/tensorDataSource";
import { encodeFloat32, transcodeHalves } from "../../src/core/convert/tensorEncoding";
import { GgmlType } from "../../src/core/gguf/ggmlTypes";
import { readGgufFile, readTensorData } from "../../src/core/gguf/ggufReader";
import { type GgufFile, type GgufMetadataEntry } from "../../src/core/gguf/ggufTypes";
import { openSafetensorsCheckpoint } from "../../src/core/safetensors/safetensorsCheckpoint";
import { decodeToFloat32, readSafetensorsTensorBytes, tensorToFloat32 } from "../../src/core/safetensors/safetensorsTensorData";
import { ensureHfCheckpoint } from "../fixtures/hfCheckpoints";
import { GEMMA3_SLIDING_WINDOW, hfCheckpointSpecs, type HfCheckpointName } from "../fixtures/hfCheckpointSpecs";
import { convertFixture } from "./convertFixtureSupport";
import { placeholderExport } from "./convertPlaceholderTokenizer";

let work: string;
before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "slm-convert-meta-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function converted(name: HfCheckpointName, outType: "f32" | "f16" | "bf16" | "q8_0"): Promise<GgufFile<GgufMetadataEntry>> {
  const result = await convertFixture(name, outType, work);
  return readGgufFile(result.outFile, { maxArrayValues: 16 });
}

function value(file: GgufFile<GgufMetadataEntry>, key: string): unknown {
  const entry = file.metadata.get(key);
  return entry === undefined || entry.type === "array" || entry.type === "array-summary" ? entry : entry.value;
}

function tensor(file: GgufFile<GgufMetadataEntry>, name: string): { dims: readonly number[]; ggmlType: number } {
  const found = file.tensors.find((info) => info.name === name);
  assert.ok(found !== undefined, `tensor ${name} is missing`);
  return found;
}

async function tensorValues(file: GgufFile<GgufMetadataEntry>, name: string): Promise<Float32Array> {
  const info = file.tensors.find((candidate) => candidate.name === name);
  assert.ok(info?.ggmlType === GgmlType.F32, `${name} must be F32`);
  const parts: Uint8Array[] = [];
  for await (const chunk of readTensorData(file, info)) parts.push(chunk);
  const bytes = Buffer.concat(parts);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

async function hfValues(name: HfCheckpointName, tensorName: string): Promise<Float32Array> {
  const checkpoint = await openSafetensorsCheckpoint(await ensureHfCheckpoint(name));
  const info = checkpoint.byName.get(tensorName);
  assert.ok(info !== undefined);
  return tensorToFloat32(info);
}

const f32 = (x: number): number => Math.fround(x);

test("llama (Llama 3.2 shape): hyper-parameters, llama3 rope_freqs, untied output, and the Q/K row permutation", async () => {
  const file = await converted("tiny-llama", "f32");
  const expected: Record<string, unknown> = {
    "general.architecture": "llama",
    "general.type": "model",
    "general.file_type": 0,
    "general.quantization_version": 2,
    "llama.block_count": 2,
    "llama.context_length": 131072,
    "llama.embedding_length": 64,
    "llama.feed_forward_length": 128,
    "llama.attention.head_count": 4,
    "llama.attention.head_count_kv": 2,
    "llama.attention.key_length": 16,
    "llama.attention.value_length": 16,
    "llama.attention.layer_norm_rms_epsilon": f32(1e-5),
    "llama.rope.freq_base": 500000,
    "llama.vocab_size": 128256,
    "llama.rope.dimension_count": 16,
  };
  for (const [key, want] of Object.entries(expected)) assert.equal(value(file, key), want, key);
  assert.equal(file.metadata.has("llama.rope.scaling.type"), false, "llama3 scaling is the rope_freqs tensor, not a scaling type");
  assert.deepEqual(tensor(file, "output.weight").dims, [64, 128256]);

  // rope_freqs: per rotary frequency, 1 above the high-frequency wavelength, `factor` below the low one.
  const factors = await tensorValues(file, "rope_freqs.weight");
  assert.equal(factors.length, 8);
  for (let index = 0; index < 8; index += 1) {
    const wavelen = (2 * Math.PI) / (1 / 500000 ** ((2 * index) / 16));
    const smooth = (8192 / wavelen - 1) / (4 - 1);
    const want = wavelen < 8192 / 4 ? 1 : wavelen > 8192 ? 32 : 1 / ((1 - smooth) / 32 + smooth);
    assert.ok(Math.abs((factors[index] ?? 0) - want) <= 1e-5 * want, `rope factor ${index}: ${factors[index]} vs ${want}`);
  }

  // HF q_proj rows per head are [first halves | second halves]; llama.cpp wants them interleaved.
  for (const [hfName, ggufName, heads] of [["model.layers.1.self_attn.q_proj.weight", "blk.1.attn_q.weight", 4], ["model.layers.1.self_attn.k_proj.weight", "blk.1.attn_k.weight", 2]] as const) {
    const hf = await hfValues("tiny-llama", hfName);
    const gguf = await tensorValues(file, ggufName);
    const rowsPerHead = 16;
    for (let head = 0; head < heads; head += 1) {
      for (let pair = 0; pair < rowsPerHead / 2; pair += 1) {
        for (const half of [0, 1]) {
          const out = head * rowsPerHead + 2 * pair + half;
          const source = head * rowsPerHead + half * (rowsPerHead / 2) + pair;
          assert.deepEqual(gguf.subarray(out * 64, out * 64 + 64), hf.subarray(source * 64, source * 64 + 64), `${ggufName} row ${out}`);
        }
      }
    }
  }
  // Other weights are copied as they are (BF16 → F32 is exact).
  assert.deepEqual(await tensorValues(file, "blk.0.ffn_down.weight"), await hfValues("tiny-llama", "model.layers.0.mlp.down_proj.weight"));
});

test("qwen2 as f16: no permutation (an F16 weight is copied byte for byte), biases and norms F32, tied output not written", async () => {
  const file = await converted("tiny-qwen2", "f16");
  assert.equal(value(file, "general.architecture"), "qwen2");
  assert.equal(value(file, "general.file_type"), 1);
  assert.equal(value(file, "qwen2.rope.freq_base"), 1_000_000);
  assert.equal(file.metadata.has("qwen2.vocab_size"), false);
  assert.equal(file.tensors.some((info) => info.name === "output.weight"), false);
  assert.equal(tensor(file, "blk.0.attn_q.weight").ggmlType, GgmlType.F16);
  assert.equal(tensor(file, "blk.0.attn_q.bias").ggmlType, GgmlType.F32);
  assert.equal(tensor(file, "blk.0.attn_norm.weight").ggmlType, GgmlType.F32);
  assert.equal(tensor(file, "token_embd.weight").ggmlType, GgmlType.F16);
  assert.deepEqual(tensor(file, "token_embd.weight").dims, [64, 151936]);
  const checkpoint = await openSafetensorsCheckpoint(await ensureHfCheckpoint("tiny-qwen2"));
  const hf = checkpoint.byName.get("model.layers.0.self_attn.q_proj.weight");
  const info = file.tensors.find((candidate) => candidate.name === "blk.0.attn_q.weight");
  assert.ok(hf !== undefined && info !== undefined);
  const ours: Uint8Array[] = [];
  for await (const chunk of readTensorData(file, info)) ours.push(chunk);
  const theirs: Uint8Array[] = [];
  for await (const chunk of readSafetensorsTensorBytes(hf)) theirs.push(chunk);
  assert.ok(Buffer.concat(ours).equals(Buffer.concat(theirs)));
});

test("qwen3 as bf16: head_dim as key/value length, per-head q/k norms", async () => {
  const file = await converted("tiny-qwen3", "bf16");
  assert.equal(value(file, "general.file_type"), 32);
  assert.equal(value(file, "qwen3.attention.key_length"), 32);
  assert.deepEqual(tensor(file, "blk.0.attn_q_norm.weight").dims, [32]);
  assert.equal(tensor(file, "blk.0.attn_q_norm.weight").ggmlType, GgmlType.F32);
  assert.deepEqual(tensor(file, "blk.0.attn_q.weight").dims, [64, 128]);
  assert.equal(tensor(file, "blk.0.attn_q.weight").ggmlType, GgmlType.BF16);
});

test("gemma3: sandwich norms stored +1, embedding rows = tokens, sliding window and local RoPE base", async () => {
  const file = await converted("tiny-gemma3", "f32");
  assert.equal(value(file, "gemma3.attention.sliding_window"), GEMMA3_SLIDING_WINDOW);
  assert.equal(file.metadata.has("gemma3.attention.sliding_window_pattern"), false, "pattern 6 is llama.cpp's default");
  assert.equal(value(file, "gemma3.rope.freq_base_swa"), 10000);
  assert.equal(value(file, "gemma3.rope.freq_base"), 1_000_000);
  assert.equal(value(file, "gemma3.attention.key_length"), 32);
  assert.equal(value(file, "gemma3.attention.head_count_kv"), 1);
  assert.equal(file.metadata.has("gemma3.final_logit_softcapping"), false);
  const tokens = file.metadata.get("tokenizer.ggml.tokens");
  const tokenCount = tokens?.type === "array-summary" ? tokens.length : tokens?.type === "array" ? tokens.values.length : 0;
  assert.deepEqual(tensor(file, "token_embd.weight").dims, [64, tokenCount]);
  assert.ok(tokenCount <= hfCheckpointSpecs["tiny-gemma3"].vocabSize);
  for (const name of ["post_attention_norm", "ffn_norm", "post_ffw_norm", "attn_q_norm"]) tensor(file, `blk.5.${name}.weight`);
  const hfNorm = await hfValues("tiny-gemma3", "model.layers.0.pre_feedforward_layernorm.weight");
  const norm = await tensorValues(file, "blk.0.ffn_norm.weight");
  assert.deepEqual(norm, hfNorm.map((weight) => f32(weight + 1)));
  const outputNorm = await tensorValues(file, "output_norm.weight");
  assert.deepEqual(outputNorm, (await hfValues("tiny-gemma3", "model.norm.weight")).map((weight) => f32(weight + 1)));
});

test("gemma3 with a tokenizer smaller than the padded embedding: token_embd keeps the first rows, unchanged", async () => {
  const result = await convertCheckpointInProcess({
    checkpointDir: await ensureHfCheckpoint("tiny-gemma3"),
    outFile: path.join(work, "gemma3-cut.gguf"),
    outType: "f32",
    overwrite: true,
    exportTokenizer: placeholderExport(262144),
  });
  const file = await readGgufFile(result.outFile, { maxArrayValues: 16 });
  assert.deepEqual(tensor(file, "token_embd.weight").dims, [64, 262144]);
  const embedding = await tensorValues(file, "token_embd.weight");
  const hf = await hfValues("tiny-gemma3", "model.embed_tokens.weight");
  assert.deepEqual(embedding, hf.subarray(0, 262144 * 64));
});

test("phi3 (Phi-4-mini shape): its own key set, partial rotary dimensions, LongRoPE factors, fused qkv and gate_up", async () => {
  const file = await converted("tiny-phi4-mini", "q8_0");
  assert.equal(value(file, "general.architecture"), "phi3");
  assert.equal(value(file, "general.file_type"), 7);
  assert.equal(value(file, "phi3.rope.dimension_count"), 12);
  assert.equal(value(file, "phi3.rope.scaling.original_context_length"), 4096);
  assert.equal(value(file, "phi3.attention.sliding_window"), 262144);
  assert.ok(Math.abs((value(file, "phi3.rope.scaling.attn_factor") as number) - Math.sqrt(1 + Math.log(131072 / 4096) / Math.log(4096))) < 1e-6);
  assert.equal(file.metadata.has("phi3.vocab_size"), false);
  assert.deepEqual(tensor(file, "rope_factors_long.weight").dims, [6]);
  assert.equal(tensor(file, "rope_factors_long.weight").ggmlType, GgmlType.F32);
  assert.deepEqual(tensor(file, "blk.0.attn_qkv.weight").dims, [64, 128]);
  assert.equal(tensor(file, "blk.0.attn_qkv.weight").ggmlType, GgmlType.Q8_0);
  assert.deepEqual(tensor(file, "blk.0.ffn_up.weight").dims, [64, 256]);
  assert.equal(file.tensors.some((info) => info.name === "blk.0.ffn_gate.weight"), false);
});

test("auto picks bf16 for a BF16 checkpoint and f16 for F16 and F32 ones", async () => {
  for (const [name, want] of [["tiny-llama", "bf16"], ["tiny-qwen2", "f16"], ["tiny-qwen2-sharded", "f16"]] as const) {
    const result = await convertCheckpointInProcess({
      checkpointDir: await ensureHfCheckpoint(name),
      outFile: path.join(work, `${name}-auto.gguf`),
      exportTokenizer: placeholderExport(hfCheckpointSpecs[name].vocabSize),
    });
    assert.equal(result.outType, want, name);
  }
});

test("Q8_0 blocks: scale max|x|/127 as f16, round half away from zero, zero blocks stay zero", () => {
  const values = new Float32Array(64);
  values[0] = 127;
  values[1] = 2.5;
  values[2] = -2.5;
  values[3] = -127;
  values[4] = 0.49;
  const blocks = quantizeQ8_0(values);
  assert.equal(blocks.length, 68);
  const view = Buffer.from(blocks);
  assert.equal(view.readUInt16LE(0), 0x3c00, "d = 1.0 in f16");
  assert.deepEqual([...new Int8Array(blocks.buffer, 2, 5)], [127, 3, -3, -127, 0]);
  assert.equal(view.readUInt16LE(34), 0);
  assert.ok(new Int8Array(blocks.buffer, 36, 32).every((q) => q === 0));
});

test("F16 ↔ BF16 by table gives the same bits as decoding to float32 and rounding, for every 16-bit pattern", () => {
  const patterns = new Uint8Array(new Uint16Array(65536).map((_, index) => index).buffer);
  for (const [dtype, ggmlType] of [["BF16", GgmlType.F16], ["F16", GgmlType.BF16]] as const) {
    const values = new Float32Array(65536);
    decodeToFloat32(dtype, patterns, values);
    const fast = transcodeHalves(dtype, ggmlType, patterns);
    assert.ok(fast !== undefined);
    assert.ok(Buffer.from(fast).equals(Buffer.from(encodeFloat32(values, ggmlType))), `${dtype} → ${ggmlType}`);
  }
});

test("the RoPE permutation interleaves each head's two halves; sizes follow gguf-py's size labels", () => {
  // 1 head of 4 rows (two rotary pairs), 1 byte per row: rows [a0 a1 | b0 b1] → [a0 b0 a1 b1].
  assert.deepEqual([...permuteRopeRows(Uint8Array.from([10, 11, 20, 21]), 4, 1)], [10, 20, 11, 21]);
  assert.deepEqual([...permuteRopeRows(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 8, 2)], [1, 3, 2, 4, 5, 7, 6, 8]);
  assert.equal(sizeLabel(134_515_008), "135M");
  assert.equal(sizeLabel(494_032_768), "494M");
  assert.equal(sizeLabel(1_543_714_304), "1.5B");
  assert.equal(sizeLabel(9_798_208), "10M");
  assert.equal(sizeLabel(3_836_021_760), "3.8B");
});
