// The fixture models, checked against the real components: our GGUF reader reads back what the spec says, and
// node-llama-cpp (the bundled llama.cpp) loads them, tokenizes like llama.cpp's own tokenizer test vectors,
// generates, and sees the FIM tokens of the coder ones.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { CancelledError } from "../../src/core/errors";
import { GgmlType } from "../../src/core/gguf/ggmlTypes";
import { readGgufFile, readTensorData } from "../../src/core/gguf/ggufReader";
import { type GgufValue } from "../../src/core/gguf/ggufTypes";
import {
  type FixtureModelName,
  TokenType,
  ensureFixtureModel,
  fixtureModelNames,
  fixtureModelSpecs,
  fixtureTensorPlan,
  fixtureVocabularyPath,
  planParameterCount,
} from "../fixtures/fixtureModels";
import { llamaCppSourceFile } from "../fixtures/llamaCppSource";
import { hashSeed, randomTensorData } from "../fixtures/randomWeights";
import type { Llama, LlamaCompletion } from "node-llama-cpp" with { "resolution-mode": "import" };
import { loadTestLlama } from "../fixtures/testLlama";


const tinyModels = fixtureModelNames.filter((name) => fixtureModelSpecs[name].tiny);

/** llama.cpp's tokenizer test vectors (`tests/test-tokenizer-0.cpp` `read_tests`): input texts and expected ids. */
async function tokenizerTestVectors(vocabulary: string): Promise<{ text: string; ids: number[] }[]> {
  const inputs = await readFile(await llamaCppSourceFile(`models/ggml-vocab-${vocabulary}.gguf.inp`), "utf8");
  const outputs = await readFile(await llamaCppSourceFile(`models/ggml-vocab-${vocabulary}.gguf.out`), "utf8");
  const separator = "\n__ggml_vocab_test__\n";
  const texts: string[] = [];
  for (let position = 0; position < inputs.length; ) {
    const next = inputs.indexOf(separator, position);
    if (next < 0) {
      texts.push(inputs.slice(position));
      break;
    }
    texts.push(inputs.slice(position, next));
    position = next + separator.length;
  }
  const lines = outputs.split("\n");
  if (lines.at(-1) === "") lines.pop();
  assert.equal(texts.length, lines.length, `${vocabulary}: .inp and .out have as many tests`);
  return texts.map((text, index) => ({
    text,
    ids: (lines[index] ?? "").trim().split(" ").filter((id) => id !== "").map(Number),
  }));
}

async function sha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

function scalar(value: GgufValue | undefined): unknown {
  return value === undefined || value.type === "array" ? undefined : value.value;
}

let llama: Llama;
let LlamaCompletionClass: typeof LlamaCompletion;
const llamaLogs: string[] = [];

before(async () => {
  const nodeLlamaCpp = await import("node-llama-cpp");
  LlamaCompletionClass = nodeLlamaCpp.LlamaCompletion;
  llama = await loadTestLlama({ logLevel: nodeLlamaCpp.LlamaLogLevel.warn, logger: (_level, message) => llamaLogs.push(message) });
});

after(async () => {
  await llama.dispose();
});

for (const name of tinyModels) {
  const spec = fixtureModelSpecs[name];

  describe(name, () => {
    let modelPath: string;
    before(async () => {
      modelPath = await ensureFixtureModel(name);
    });

    test("our reader reads back the spec's metadata and tensors", async () => {
      const file = await readGgufFile(modelPath);
      const vocabulary = await readGgufFile(await fixtureVocabularyPath(spec));
      const meta = file.metadata;
      const arch = spec.architecture;
      assert.equal(file.version, 3);
      assert.equal(scalar(meta.get("general.architecture")), arch);
      assert.equal(scalar(meta.get("general.name")), name);
      assert.deepEqual(meta.get("general.file_type"), { type: "u32", value: 1 });
      assert.deepEqual(meta.get(`${arch}.block_count`), { type: "u32", value: spec.blockCount });
      assert.deepEqual(meta.get(`${arch}.context_length`), { type: "u32", value: spec.contextLength });
      assert.deepEqual(meta.get(`${arch}.embedding_length`), { type: "u32", value: spec.embeddingLength });
      assert.deepEqual(meta.get(`${arch}.feed_forward_length`), { type: "u32", value: spec.feedForwardLength });
      assert.deepEqual(meta.get(`${arch}.attention.head_count`), { type: "u32", value: spec.headCount });
      assert.deepEqual(meta.get(`${arch}.attention.head_count_kv`), { type: "u32", value: spec.headCountKv });
      assert.deepEqual(meta.get(`${arch}.attention.layer_norm_rms_epsilon`), { type: "f32", value: Math.fround(spec.rmsNormEpsilon) });
      assert.deepEqual(meta.get(`${arch}.rope.freq_base`), spec.ropeFreqBase === undefined ? undefined : { type: "f32", value: Math.fround(spec.ropeFreqBase) });

      // Every tokenizer key of the vocabulary is there, unchanged except for the spec's overrides.
      const overridden = new Map(spec.tokenOverrides.map((override) => [override.id, override]));
      for (const [key, value] of vocabulary.metadata) {
        if (!key.startsWith("tokenizer.")) continue;
        const copied = meta.get(key);
        assert.ok(copied !== undefined, `${key} copied`);
        if (spec.tokenizerFlags.some(([flag]) => flag === key)) continue;
        if (overridden.size > 0 && (key === "tokenizer.ggml.tokens" || key === "tokenizer.ggml.token_type")) {
          assert.ok(copied.type === "array" && value.type === "array");
          assert.equal(copied.values.length, value.values.length);
          copied.values.forEach((item, id) => {
            const override = overridden.get(id);
            const expected = override === undefined ? value.values[id] : key === "tokenizer.ggml.tokens" ? override.text : override.type;
            if (item !== expected) assert.fail(`${key}[${id}] is ${JSON.stringify(item)}, expected ${JSON.stringify(expected)}`);
          });
          continue;
        }
        assert.deepEqual(copied, value, `${key} equal to the vocabulary's`);
      }
      for (const [key, flag] of spec.tokenizerFlags) assert.deepEqual(meta.get(key), { type: "bool", value: flag });

      const tokens = meta.get("tokenizer.ggml.tokens");
      assert.ok(tokens?.type === "array");
      const plan = fixtureTensorPlan(spec, tokens.values.length);
      assert.deepEqual(
        file.tensors.map((tensor) => ({ name: tensor.name, dims: tensor.dims, ggmlType: tensor.ggmlType })),
        plan.map((tensor) => ({ name: tensor.name, dims: tensor.dims, ggmlType: tensor.ggmlType })),
      );
      assert.equal(file.tensors.some((tensor) => tensor.name === "output.weight"), !spec.tiedEmbeddings);
      assert.equal(file.tensors.some((tensor) => tensor.name.endsWith("attn_q.bias")), spec.attentionBias);
      for (const tensor of file.tensors) {
        assert.ok(tensor.ggmlType === (tensor.dims.length === 2 ? GgmlType.F16 : GgmlType.F32), `${tensor.name}: F16 matrices, F32 vectors`);
        assert.equal(tensor.offset % file.alignment, 0, `${tensor.name} aligned`);
      }
      const last = file.tensors.at(-1);
      assert.ok(last !== undefined);
      assert.ok(file.fileSize >= file.dataOffset + last.offset + last.byteLength);

      // The data of a matrix and of a norm are what the generator draws.
      for (const tensorName of ["blk.0.attn_k.weight", "output_norm.weight"]) {
        const info = file.tensors.find((tensor) => tensor.name === tensorName);
        const planned = plan.find((tensor) => tensor.name === tensorName);
        assert.ok(info !== undefined && planned !== undefined);
        const parts: Uint8Array[] = [];
        for await (const chunk of readTensorData(file, info)) parts.push(chunk);
        const expected: Uint8Array[] = [];
        const elements = planned.dims.reduce((product, dim) => product * dim, 1);
        const format = planned.ggmlType === GgmlType.F16 ? "f16" : "f32";
        for await (const chunk of randomTensorData({ elementCount: elements, format, fill: planned.fill, seed: hashSeed(spec.seed, tensorName) }).chunks()) expected.push(chunk);
        assert.ok(Buffer.concat(parts).equals(Buffer.concat(expected)), `${tensorName} data`);
      }
    });

    test("node-llama-cpp loads it, tokenizes as llama.cpp's test vectors say, and generates", async () => {
      const model = await llama.loadModel({ modelPath });
      try {
        assert.equal(model.fileInfo.metadata.general.architecture, spec.architecture);
        assert.equal(model.trainContextSize, spec.contextLength);

        const vocabularySize = model.fileInfo.metadata.tokenizer.ggml.tokens.length;
        assert.ok(vocabularySize >= 32000);
        const vectors = await tokenizerTestVectors(spec.vocabulary);
        assert.ok(vectors.length >= 30);
        for (const { text, ids } of vectors) assert.deepEqual(Array.from(model.tokenize(text, false)), ids, `tokenize ${JSON.stringify(text)}`);

        const context = await model.createContext({ contextSize: 256, threads: 2 });
        try {
          const sequence = context.getSequence();
          const generated: number[] = [];
          for await (const token of sequence.evaluate(model.tokenize("The quick brown fox"))) {
            generated.push(token);
            if (generated.length === 4) break;
          }
          assert.equal(generated.length, 4);
          for (const token of generated) assert.ok(Number.isInteger(token) && token >= 0 && token < vocabularySize, `token ${token}`);
        } finally {
          await context.dispose();
        }
      } finally {
        await model.dispose();
      }
    });
  });
}

describe("FIM (infill) fixtures", () => {
  const expectedInfill: Partial<Record<FixtureModelName, { prefix: string; middle: string; suffix: string }>> = {
    "tiny-qwen2-coder": { prefix: "<|fim_prefix|>", middle: "<|fim_middle|>", suffix: "<|fim_suffix|>" },
    "tiny-deepseek-coder": { prefix: "<｜fim▁begin｜>", middle: "<｜fim▁end｜>", suffix: "<｜fim▁hole｜>" },
  };

  test("tiny-qwen2-coder has Qwen2.5-Coder's FIM and repo tokens at their real ids, as control tokens", async () => {
    const file = await readGgufFile(await ensureFixtureModel("tiny-qwen2-coder"));
    const tokens = file.metadata.get("tokenizer.ggml.tokens");
    const types = file.metadata.get("tokenizer.ggml.token_type");
    assert.ok(tokens?.type === "array" && types?.type === "array");
    const expected = ["<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"];
    assert.deepEqual(tokens.values.slice(151659, 151665), expected);
    assert.deepEqual(types.values.slice(151659, 151665), expected.map(() => TokenType.CONTROL));
    assert.equal(tokens.values[151643], "<|endoftext|>");
    assert.equal(tokens.values[151665], "[PAD151665]");
  });

  for (const [name, infill] of Object.entries(expectedInfill) as [FixtureModelName, { prefix: string; middle: string; suffix: string }][]) {
    test(`${name}: node-llama-cpp sees the infill tokens and generates an infill completion`, async () => {
      const model = await llama.loadModel({ modelPath: await ensureFixtureModel(name) });
      try {
        assert.equal(model.tokens.infill.prefixString, infill.prefix);
        assert.equal(model.tokens.infill.middleString, infill.middle);
        assert.equal(model.tokens.infill.suffixString, infill.suffix);
        if (name === "tiny-qwen2-coder") {
          assert.equal(model.tokens.infill.prefix, 151659);
          assert.equal(model.tokens.infill.middle, 151660);
          assert.equal(model.tokens.infill.suffix, 151661);
          // Qwen2.5-Coder's text forms of the FIM tokens are single special tokens when special tokens are parsed.
          assert.deepEqual(Array.from(model.tokenize("<|fim_prefix|>def f():<|fim_suffix|>", true)).filter((token) => token >= 151643), [151659, 151661]);
        }
        const context = await model.createContext({ contextSize: 256, threads: 2 });
        try {
          const completion = new LlamaCompletionClass({ contextSequence: context.getSequence() });
          assert.equal(completion.infillSupported, true);
          const result = await completion.generateInfillCompletionWithMeta("def add(a, b):\n    return ", "\n\nprint(add(1, 2))\n", { maxTokens: 8 });
          assert.equal(typeof result.response, "string");
          assert.ok(["maxTokens", "eogToken", "stopGenerationTrigger"].includes(result.metadata.stopReason), result.metadata.stopReason);
          const text = await completion.generateInfillCompletion("function hello() {\n  ", "\n}\n", { maxTokens: 8 });
          assert.equal(typeof text, "string");
          completion.dispose();
          if (name === "tiny-qwen2-coder") {
            // Our FIM tokens are control tokens already: llama.cpp has no type to override (it warns when it does).
            assert.doesNotMatch(llamaLogs.join("\n"), /control-looking token: +1516(59|6[0-4]) /);
          }
        } finally {
          await context.dispose();
        }
      } finally {
        await model.dispose();
      }
    });
  }

  test("a model without FIM tokens reports no infill support", async () => {
    const model = await llama.loadModel({ modelPath: await ensureFixtureModel("tiny-llama-spm") });
    try {
      const context = await model.createContext({ contextSize: 128, threads: 2 });
      const completion = new LlamaCompletionClass({ contextSequence: context.getSequence() });
      assert.equal(completion.infillSupported, false);
      completion.dispose();
      await context.dispose();
    } finally {
      await model.dispose();
    }
  });
});

describe("generation", () => {
  test("the same name and seed give byte-identical files in different folders; a cached file is reused", async () => {
    const first = await mkdtemp(path.join(tmpdir(), "slm-fixture-a-"));
    const second = await mkdtemp(path.join(tmpdir(), "slm-fixture-b-"));
    try {
      const [a, b] = await Promise.all([ensureFixtureModel("tiny-llama-spm", { cacheDir: first }), ensureFixtureModel("tiny-llama-spm", { cacheDir: second })]);
      assert.notEqual(a, b);
      assert.equal(path.basename(a), path.basename(b));
      const hashA = await sha256(a);
      assert.equal(hashA, await sha256(b));
      assert.equal(hashA, await sha256(await ensureFixtureModel("tiny-llama-spm")), "same bytes as the default cache's copy");
      const before = await stat(a);
      assert.equal(await ensureFixtureModel("tiny-llama-spm", { cacheDir: first }), a);
      assert.equal((await stat(a)).mtimeMs, before.mtimeMs, "not regenerated");
    } finally {
      await rm(first, { recursive: true, force: true });
      await rm(second, { recursive: true, force: true });
    }
  });

  test("qwen2.5-coder-0.5b-shape plans Qwen2.5-Coder-0.5B's tensors (not generated here: 1 GB)", () => {
    const spec = fixtureModelSpecs["qwen2.5-coder-0.5b-shape"];
    const plan = fixtureTensorPlan(spec, 151936);
    // 494,032,768: the parameter count of Qwen2.5(-Coder)-0.5B with tied embeddings.
    assert.equal(planParameterCount(plan), 494_032_768);
    assert.equal(plan.length, 2 + 24 * 12);
    assert.deepEqual(plan.find((tensor) => tensor.name === "blk.23.attn_k.weight")?.dims, [896, 128]);
    assert.deepEqual(plan.find((tensor) => tensor.name === "blk.0.ffn_down.weight")?.dims, [4864, 896]);
    assert.equal(plan.some((tensor) => tensor.name === "output.weight"), false);
  });

  test("a new generation removes older cached versions of the same fixture only", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "slm-fixture-stale-"));
    try {
      await writeFile(path.join(dir, "tiny-llama-spm-v0-s1-0123456789.gguf"), "old");
      await writeFile(path.join(dir, "tiny-llama-spm-extra.gguf"), "not ours");
      await writeFile(path.join(dir, "tiny-llama-bpe-v0-s2-0123456789.gguf"), "other fixture");
      const fresh = await ensureFixtureModel("tiny-llama-spm", { cacheDir: dir });
      assert.deepEqual((await readdir(dir)).sort(), [path.basename(fresh), "tiny-llama-bpe-v0-s2-0123456789.gguf", "tiny-llama-spm-extra.gguf"].sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("another seed gives another file name and other weights", () => {
    const seeds = new Set(fixtureModelNames.map((name) => fixtureModelSpecs[name].seed));
    assert.equal(seeds.size, fixtureModelNames.length);
    assert.notEqual(hashSeed(1, "token_embd.weight"), hashSeed(2, "token_embd.weight"));
  });

  test("an aborted generation stops with CancelledError and leaves no model behind", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "slm-fixture-abort-"));
    try {
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(ensureFixtureModel("tiny-llama-bpe", { cacheDir: dir, signal: controller.signal }), CancelledError);
      assert.deepEqual((await readdir(dir)).filter((file) => file.endsWith(".gguf")), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
