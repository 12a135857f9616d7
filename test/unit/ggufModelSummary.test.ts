import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { elementCount, GgmlType, ggmlTypeByName, ggmlTypeInfo, ggmlTypes, tensorByteLength } from "../../src/core/gguf/ggmlTypes";
import { readGgufSummary, summarizeGguf } from "../../src/core/gguf/ggufModelSummary";
import { parseGgufBytes } from "../../src/core/gguf/ggufReader";
import type { GgufValue } from "../../src/core/gguf/ggufTypes";
import { encodeGguf, writeGgufFile } from "../../src/core/gguf/ggufWriter";
import { LlamaFileType, llamaFileTypeByName, llamaFileTypeDescription, llamaFileTypeName } from "../../src/core/gguf/llamaFileTypes";
import { patternBytes, sampleInput } from "./ggufSamples";

let dir = "";
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "slm-gguf-summary-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("ggml type table: sizes of ggml-common.h, lookups by id and name, removed ids unknown", () => {
  assert.deepEqual(
    ["F32", "F16", "Q4_0", "Q8_0", "Q4_K", "Q6_K", "IQ2_XXS", "IQ4_XS", "BF16", "TQ1_0", "MXFP4", "NVFP4", "Q1_0"].map((name) => {
      const info = ggmlTypeByName(name);
      return [name, info?.blockSize, info?.typeSize];
    }),
    [
      ["F32", 1, 4],
      ["F16", 1, 2],
      ["Q4_0", 32, 18],
      ["Q8_0", 32, 34],
      ["Q4_K", 256, 144],
      ["Q6_K", 256, 210],
      ["IQ2_XXS", 256, 66],
      ["IQ4_XS", 256, 136],
      ["BF16", 1, 2],
      ["TQ1_0", 256, 54],
      ["MXFP4", 32, 17],
      ["NVFP4", 64, 36],
      ["Q1_0", 128, 18],
    ],
  );
  assert.equal(ggmlTypeByName("q4_k")?.id, GgmlType.Q4_K);
  assert.equal(ggmlTypeByName("GGML_TYPE_Q8_0")?.id, 8);
  for (const removed of [4, 5, 31, 32, 33, 36, 37, 38, 43, -1]) assert.equal(ggmlTypeInfo(removed), undefined);
  assert.equal(ggmlTypes.length, 35);
  assert.equal(new Set(ggmlTypes.map((t) => t.id)).size, ggmlTypes.length);
  assert.equal(tensorByteLength([4096, 4096], GgmlType.Q4_K), (4096 * 4096 * 144) / 256);
  assert.equal(tensorByteLength([], GgmlType.F32), 4);
  assert.equal(elementCount([3, 4, 5]), 60);
  assert.throws(() => tensorByteLength([100], GgmlType.Q4_0), /not a multiple of the block size 32/);
  assert.throws(() => tensorByteLength([32], 4), /unknown ggml type 4/);
  assert.throws(() => tensorByteLength([-1], GgmlType.F32), /invalid dimension/);
  assert.throws(() => tensorByteLength([2 ** 40, 2 ** 20], GgmlType.F32), /too large/);
});

test("llama file types: names, descriptions, lookups with and without prefixes", () => {
  assert.equal(llamaFileTypeName(15), "Q4_K_M");
  assert.equal(llamaFileTypeName(0), "F32");
  assert.equal(llamaFileTypeName(1), "F16");
  assert.equal(llamaFileTypeName(15 | 1024), "Q4_K_M", "the guessed bit is ignored");
  assert.equal(llamaFileTypeName(4), undefined);
  assert.equal(llamaFileTypeName(999), undefined);
  assert.equal(llamaFileTypeDescription(LlamaFileType.Q4_K_M), "Q4_K - Medium");
  assert.equal(llamaFileTypeDescription(LlamaFileType.IQ3_M), "IQ3_S mix - 3.66 bpw");
  assert.equal(llamaFileTypeByName("MOSTLY_Q4_0"), 2);
  assert.equal(llamaFileTypeByName("LLAMA_FTYPE_MOSTLY_Q5_K_S"), 16);
  assert.equal(llamaFileTypeByName("q8_0"), 7);
  assert.equal(llamaFileTypeByName("ALL_F32"), 0);
  assert.equal(llamaFileTypeByName("Q4_K"), undefined);
});

test("summary of a model: architecture, parameters, file type, shape, tokenizer, size", async () => {
  const input = sampleInput();
  const target = path.join(dir, "model.gguf");
  await writeGgufFile(target, input);
  const summary = await readGgufSummary(target);
  const parameterCount = input.tensors.reduce((sum, tensor) => sum + elementCount(tensor.dims), 0);
  const bytes = input.tensors.reduce((sum, tensor) => sum + tensor.data.byteLength, 0);
  assert.deepEqual(summary, {
    path: target,
    architecture: "llama",
    name: "Sample ünïcødé 模型 🦙",
    parameterCount,
    fileType: "Q8_0",
    tensorCount: 7,
    contextLength: 2048,
    vocabularySize: 100,
    tokenizerModel: "gpt2",
    tokenizerPre: "qwen2",
    embeddingLength: 64,
    blockCount: 1,
    headCount: 4,
    headCountKv: 2,
    feedForwardLength: 128,
    fileSize: encodeGguf(input).byteLength,
    bitsPerWeight: (bytes * 8) / parameterCount,
    ggufVersion: 3,
  });
  // The summary read (long arrays counted, not decoded) equals the summary of a full read.
  assert.deepEqual(summarizeGguf(parseGgufBytes(encodeGguf(input), target)), summary);
});

test("file type is inferred from the most common type of the 2-D weights when general.file_type is absent or unknown", () => {
  const tensors = (types: number[]) =>
    types.map((ggmlType, i) => ({ name: `blk.${i}.w`, dims: [256, 2], ggmlType, data: patternBytes(tensorByteLength([256, 2], ggmlType), i) }));
  const norms = Array.from({ length: 5 }, (_, i) => ({ name: `norm.${i}`, dims: [256], ggmlType: GgmlType.F32, data: new Uint8Array(1024) }));
  const summaryOf = (metadata: Map<string, GgufValue>, types: number[]) =>
    summarizeGguf(parseGgufBytes(encodeGguf({ metadata, tensors: [...tensors(types), ...norms] }), "m.gguf"));
  assert.equal(summaryOf(new Map(), [GgmlType.Q4_K, GgmlType.Q4_K, GgmlType.Q6_K]).fileType, "Q4_K_M");
  assert.equal(summaryOf(new Map(), [GgmlType.Q8_0, GgmlType.F16, GgmlType.Q8_0]).fileType, "Q8_0");
  assert.equal(summaryOf(new Map([["general.file_type", { type: "u32", value: 999 }]]), [GgmlType.F16]).fileType, "F16");
  assert.equal(summaryOf(new Map([["general.file_type", { type: "u32", value: 17 }]]), [GgmlType.F16]).fileType, "Q5_K_M");
  assert.equal(summaryOf(new Map(), [GgmlType.MXFP4]).fileType, "MXFP4");
  const empty = summarizeGguf(parseGgufBytes(encodeGguf({ metadata: new Map(), tensors: [] }), "e.gguf"));
  assert.equal(empty.fileType, "unknown");
  assert.equal(empty.parameterCount, 0);
  assert.equal(empty.bitsPerWeight, 0);
  assert.equal(empty.architecture, undefined);
  assert.equal(empty.vocabularySize, undefined);
});
