// Importance matrices: both llama-imatrix formats read and normalized as llama-quantize does, the IQ types that need
// one quantized with it through the real bundled libllama, the output's quantize.imatrix.* keys, and bad files refused
// before any work. Byte identity with llama-quantize --imatrix is checked by bench/quantize.ts (it builds the tool).
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { Llama } from "node-llama-cpp" with { "resolution-mode": "import" };
import { runCli } from "../../src/cli/runCli";
import { UserError } from "../../src/core/errors";
import { GgmlType } from "../../src/core/gguf/ggmlTypes";
import { metadataInteger, metadataString } from "../../src/core/gguf/ggufMetadata";
import { readGgufFile, readTensorData } from "../../src/core/gguf/ggufReader";
import { importanceMatrixOverrides, readImportanceMatrix } from "../../src/core/quantize/importanceMatrix";
import { quantizeModel, type QuantizedModelSidecar } from "../../src/core/quantize/quantizeModel";
import { ensureFixtureModel } from "../fixtures/fixtureModels";
import { writeImportanceMatrixFixture } from "../fixtures/importanceMatrixFixture";
import { loadTestLlama } from "../fixtures/testLlama";
import { readFile } from "node:fs/promises";

let folder = "";
let f16 = "";
let ggufMatrix = "";
let legacyMatrix = "";
let otherMatrix = "";
let llama: Llama;

before(async () => {
  folder = await mkdtemp(path.join(tmpdir(), "slm-imatrix-"));
  f16 = await ensureFixtureModel("tiny-llama-spm");
  ggufMatrix = path.join(folder, "fixture.imatrix.gguf");
  legacyMatrix = path.join(folder, "fixture.imatrix.dat");
  otherMatrix = path.join(folder, "other.imatrix.gguf");
  await writeImportanceMatrixFixture(f16, ggufMatrix, { format: "gguf", seed: 7, tokens: 512, chunkCount: 4, dataset: "wiki.train.raw" });
  await writeImportanceMatrixFixture(f16, legacyMatrix, { format: "legacy", seed: 7, tokens: 512, chunkCount: 4 });
  await writeImportanceMatrixFixture(f16, otherMatrix, { format: "gguf", seed: 8 });
  llama = await loadTestLlama();
});

after(async () => {
  await llama.dispose();
  await rm(folder, { recursive: true, force: true });
});

async function tensorBytes(file: string, name: string): Promise<Buffer> {
  const gguf = await readGgufFile(file, { maxArrayValues: 0 });
  const tensor = gguf.tensors.find((entry) => entry.name === name);
  assert.ok(tensor, `${name} in ${file}`);
  const chunks: Uint8Array[] = [];
  for await (const chunk of readTensorData(gguf, tensor)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

test("both formats read to the same normalized values, with the metadata llama-quantize records", async () => {
  const fromGguf = await readImportanceMatrix(ggufMatrix);
  const fromLegacy = await readImportanceMatrix(legacyMatrix);
  assert.equal(fromGguf.format, "gguf");
  assert.equal(fromLegacy.format, "legacy");
  const model = await readGgufFile(f16, { maxArrayValues: 0 });
  const weights = model.tensors.filter((tensor) => tensor.dims.length >= 2 && tensor.name !== "token_embd.weight");
  assert.equal(fromGguf.entries.size, weights.length);
  assert.deepEqual([...fromGguf.entries.keys()].sort(), [...fromLegacy.entries.keys()].sort());
  for (const tensor of weights) {
    const a = fromGguf.entries.get(tensor.name);
    const b = fromLegacy.entries.get(tensor.name);
    assert.ok(a && b);
    assert.equal(a.length, tensor.dims[0]);
    // GGUF: sum / tokens; legacy: (sum / tokens × calls) / calls — equal up to f32 rounding.
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs((a[i] ?? 0) - (b[i] ?? 0)) <= 1e-6 * Math.abs(a[i] ?? 0), `${tensor.name}[${i}]`);
    assert.ok(a.every((value) => value > 0));
  }
  assert.deepEqual(fromGguf.datasets, ["wiki.train.raw"]);
  assert.equal(fromGguf.chunkCount, 4);
  assert.deepEqual(importanceMatrixOverrides(fromGguf, "imatrix.gguf"), [
    { key: "quantize.imatrix.file", kind: "str", value: "imatrix.gguf" },
    { key: "quantize.imatrix.dataset", kind: "str", value: "wiki.train.raw" },
    { key: "quantize.imatrix.entries_count", kind: "int", value: weights.length },
    { key: "quantize.imatrix.chunks_count", kind: "int", value: 4 },
  ]);
});

test("IQ2_XXS with an importance matrix: quantized, recorded, exact size, loads and generates", async () => {
  const output = path.join(folder, "model-IQ2_XXS.gguf");
  const result = await quantizeModel(f16, output, { type: "IQ2_XXS", threads: 2, imatrix: ggufMatrix });
  assert.equal(result.outputSize, result.predictedSize, "the dry-run prediction includes the imatrix keys");
  const out = await readGgufFile(output, { maxArrayValues: 4 });
  assert.equal(out.tensors.find((tensor) => tensor.name === "blk.0.attn_q.weight")?.ggmlType, GgmlType.IQ2_XXS);
  assert.equal(metadataString(out.metadata, "quantize.imatrix.file"), ggufMatrix);
  assert.equal(metadataString(out.metadata, "quantize.imatrix.dataset"), "wiki.train.raw");
  assert.equal(metadataInteger(out.metadata, "quantize.imatrix.chunks_count"), 4);
  assert.ok((metadataInteger(out.metadata, "quantize.imatrix.entries_count") ?? 0) > 0);
  const sidecar = JSON.parse(await readFile(`${output}.slm-lab.json`, "utf8")) as QuantizedModelSidecar;
  assert.equal(sidecar.quantization.imatrix, ggufMatrix);

  const model = await llama.loadModel({ modelPath: output });
  try {
    const context = await model.createContext({ contextSize: 128, threads: 2 });
    const tokens: number[] = [];
    for await (const token of context.getSequence().evaluate(model.tokenize("Once upon a time"))) {
      tokens.push(token);
      if (tokens.length === 4) break;
    }
    assert.equal(tokens.length, 4);
    await context.dispose();
  } finally {
    await model.dispose();
  }
});

test("the importance matrix changes the result: other values, other bytes; legacy and GGUF give the same bytes", async () => {
  const fromGguf = path.join(folder, "q4km-gguf.gguf");
  const fromLegacy = path.join(folder, "q4km-legacy.gguf");
  const fromOther = path.join(folder, "q4km-other.gguf");
  await quantizeModel(f16, fromGguf, { type: "IQ3_XXS", threads: 2, imatrix: ggufMatrix });
  await quantizeModel(f16, fromLegacy, { type: "IQ3_XXS", threads: 2, imatrix: legacyMatrix });
  await quantizeModel(f16, fromOther, { type: "IQ3_XXS", threads: 2, imatrix: otherMatrix });
  const name = "blk.1.ffn_up.weight";
  const a = await tensorBytes(fromGguf, name);
  assert.ok(a.equals(await tensorBytes(fromLegacy, name)), "same normalized values → same quantization");
  assert.ok(!a.equals(await tensorBytes(fromOther, name)), "other importance values → other quantization");
});

test("bad importance matrices are refused before any work, naming the file", async () => {
  const output = path.join(folder, "bad.gguf");
  const cases: [string, RegExp][] = [];
  // A model is a GGUF but not an imatrix.
  cases.push([f16, /not a usable importance matrix: it has no imatrix\.datasets/]);
  const cut = path.join(folder, "cut.dat");
  await writeFile(cut, (await readFile(legacyMatrix)).subarray(0, 300));
  cases.push([cut, /cut\.dat is not a usable importance matrix: it ends at byte 300/]);
  const cutGguf = path.join(folder, "cut.imatrix.gguf");
  await writeFile(cutGguf, await readFile(ggufMatrix));
  await truncate(cutGguf, 2000);
  cases.push([cutGguf, /cut\.imatrix\.gguf: truncated/]);
  const empty = path.join(folder, "empty.dat");
  await writeFile(empty, Buffer.alloc(4));
  cases.push([empty, /holds no entries/]);
  for (const [file, pattern] of cases) {
    await assert.rejects(quantizeModel(f16, output, { type: "IQ2_XXS", threads: 2, imatrix: file }), (error: unknown) => {
      assert.ok(error instanceof UserError, String(error));
      assert.match(error.toOneLine(), pattern);
      return true;
    });
  }
  await assert.rejects(stat(output), { code: "ENOENT" });
  assert.deepEqual((await readdir(folder)).filter((entry) => entry.startsWith("bad.gguf")), []);
});

test("slm-lab quantize --imatrix", async () => {
  const out: string[] = [];
  const err: string[] = [];
  const context = { stdout: (text: string) => out.push(text), stderr: (text: string) => err.push(text), signal: new AbortController().signal, env: {} };
  const output = path.join(folder, "cli-IQ2_XS.gguf");
  const code = await runCli(["quantize", f16, output, "IQ2_XS", "--threads", "2", "--imatrix", legacyMatrix], context);
  assert.equal(code, 0, err.join(""));
  assert.equal((await readGgufFile(output, { maxArrayValues: 0 })).tensors.find((tensor) => tensor.name === "blk.0.attn_k.weight")?.ggmlType, GgmlType.IQ2_XS);
});
