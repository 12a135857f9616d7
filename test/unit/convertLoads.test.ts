/**
 * Every fixture checkpoint, converted to f32, f16, bf16 and q8_0, loads in node-llama-cpp (the llama.cpp that SLM Lab
 * ships) and computes a next token. That the numbers are the right ones is convertEquivalence's job; this proves the
 * files are what llama.cpp's loader requires (names, shapes, types, hyper-parameters) for every architecture.
 */
import assert from "node:assert/strict";
import { cp, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { Llama } from "node-llama-cpp" with { "resolution-mode": "import" };
import { convertCheckpointInProcess, loadableModelName } from "../../src/core/convert/checkpointConversion";
import { type ConvertOutType } from "../../src/core/convert/outputType";
import { ensureHfCheckpoint } from "../fixtures/hfCheckpoints";
import { hfCheckpointNames } from "../fixtures/hfCheckpointSpecs";
import { loadTestLlama, TEST_LLAMA_THREADS } from "../fixtures/testLlama";
import { convertFixture, fixtureTokenCount } from "./convertFixtureSupport";

const OUT_TYPES: readonly ConvertOutType[] = ["f32", "f16", "bf16", "q8_0"];
let llama: Llama;
let work: string;

before(async () => {
  llama = await loadTestLlama();
  work = await mkdtemp(path.join(os.tmpdir(), "slm-convert-loads-"));
});
after(async () => {
  await llama.dispose();
  await rm(work, { recursive: true, force: true });
});

for (const name of hfCheckpointNames) {
  test(`${name}: the converted GGUF loads in llama.cpp and predicts a token, as ${OUT_TYPES.join(", ")}`, async () => {
    for (const outType of OUT_TYPES) {
      const result = await convertFixture(name, outType, work);
      const model = await llama.loadModel({ modelPath: result.outFile, gpuLayers: 0 });
      try {
        assert.equal(model.fileInfo.metadata.general.architecture, result.architecture);
        const context = await model.createContext({ contextSize: 64, threads: TEST_LLAMA_THREADS });
        try {
          const sequence = context.getSequence();
          let next: number | undefined;
          const prompt = model.tokenize("def add(a, b):\n    return");
          assert.ok(prompt.length > 0);
          for await (const token of sequence.evaluate(prompt)) {
            next = token;
            break;
          }
          assert.ok(next !== undefined && Number.isInteger(next) && next >= 0 && next < fixtureTokenCount(name), `${name} ${outType}: next token ${String(next)}`);
        } finally {
          await context.dispose();
        }
      } finally {
        await model.dispose();
        await rm(result.outFile, { force: true });
      }
    }
  });
}

test("a Phi-4-mini fine-tune in a folder named like phi3 still loads: llama.cpp's phi3 name rule needs </s>, which o200k lacks", async () => {
  const source = await ensureHfCheckpoint("tiny-phi4-mini");
  const folder = path.join(work, "my-phi3-finetune");
  await cp(source, folder, { recursive: true });
  const outFile = path.join(work, "my-phi3-finetune.gguf");
  await convertCheckpointInProcess({ checkpointDir: folder, outFile, outType: "f16" });
  const model = await llama.loadModel({ modelPath: outFile, gpuLayers: 0 });
  try {
    assert.equal(model.fileInfo.metadata.general.name, "my-phi 3-finetune");
  } finally {
    await model.dispose();
    await rm(outFile, { force: true });
  }
  assert.equal(loadableModelName("Phi-3-mini-4k-instruct", ["<s>", "</s>"]), "Phi-3-mini-4k-instruct", "a vocabulary with </s> keeps its name");
  assert.equal(loadableModelName("Phi-4-mini-instruct", ["<|endoftext|>"]), "Phi-4-mini-instruct");
});
