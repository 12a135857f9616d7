// quantizeModel with the real bundled libllama on a real fixture model (tiny-llama-spm, F16), 2 threads: outputs that
// our reader and node-llama-cpp read, dry-run sizes equal to the real ones, refusals before any work, cancellation.
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat, writeFile, copyFile, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runCli } from "../../src/cli/runCli";
import { CancelledError, UserError } from "../../src/core/errors";
import { GgmlType } from "../../src/core/gguf/ggmlTypes";
import { readGgufSummary } from "../../src/core/gguf/ggufModelSummary";
import { readGgufFile, readTensorData } from "../../src/core/gguf/ggufReader";
import { writeGgufFile } from "../../src/core/gguf/ggufWriter";
import { GgufFormatError } from "../../src/core/gguf/ggufErrors";
import { quantizeModel, type QuantizedModelSidecar, type QuantizeProgress } from "../../src/core/quantize/quantizeModel";
import { ensureFixtureModel } from "../fixtures/fixtureModels";
import { llamaCppBundleCommit } from "../fixtures/llamaCppSource";
import type { Llama } from "node-llama-cpp" with { "resolution-mode": "import" };
import { loadTestLlama } from "../fixtures/testLlama";

let folder = "";
let f16 = "";
let llama: Llama;

before(async () => {
  folder = await mkdtemp(path.join(tmpdir(), "slm-quantize-"));
  f16 = await ensureFixtureModel("tiny-llama-spm");
  llama = await loadTestLlama();
});

after(async () => {
  await llama.dispose();
  await rm(folder, { recursive: true, force: true });
});

/** Generates a few tokens with node-llama-cpp from the model at `file`. */
async function generateTokens(file: string, count: number): Promise<number[]> {
  const model = await llama.loadModel({ modelPath: file });
  try {
    const context = await model.createContext({ contextSize: 256, threads: 2 });
    try {
      const generated: number[] = [];
      for await (const token of context.getSequence().evaluate(model.tokenize("The quick brown fox"))) {
        generated.push(token);
        if (generated.length === count) break;
      }
      return generated;
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}

describe("F16 → each preset type", () => {
  for (const [type, ggmlName] of [["Q8_0", "q8_0"], ["Q4_0", "q4_0"], ["Q5_1", "q5_1"], ["Q4_K_M", "q4_K"]] as const) {
    test(type, async () => {
      const dir = await mkdtemp(path.join(folder, `${type}-`));
      const output = path.join(dir, `model-${type}.gguf`);
      const dry = await quantizeModel(f16, output, { type, threads: 2, dryRun: true });
      assert.equal(dry.output, undefined);
      assert.deepEqual(await readdir(dir), [], "a dry run writes nothing");

      const progress: QuantizeProgress[] = [];
      const result = await quantizeModel(f16, output, { type, threads: 2, onProgress: (event) => progress.push(event) });
      assert.equal(result.output, output);
      assert.deepEqual((await readdir(dir)).sort(), [`model-${type}.gguf`, `model-${type}.gguf.slm-lab.json`], "only the final name and its sidecar");
      const size = (await stat(output)).size;
      assert.equal(result.outputSize, size);
      assert.equal(dry.predictedSize, size, "the dry run predicts the exact size");
      assert.equal(result.predictedSize, size);

      const summary = await readGgufSummary(output);
      assert.equal(summary.fileType, type);
      assert.equal(summary.tensorCount, 21);
      assert.ok(result.tensors.some((tensor) => tensor.targetType === ggmlName));

      const quantizing = progress.filter((event) => event.phase === "quantizing");
      assert.equal(quantizing.length, 21);
      assert.deepEqual(quantizing.map((event) => event.tensorsDone), Array.from({ length: 21 }, (_, index) => index + 1));
      assert.equal(quantizing.at(-1)?.fraction, 1);

      const sidecar = JSON.parse(await readFile(`${output}.slm-lab.json`, "utf8")) as QuantizedModelSidecar;
      assert.equal(sidecar.kind, "quantized");
      assert.equal(sidecar.parent.path, f16);
      assert.equal(sidecar.parent.fileType, "F16");
      assert.equal(sidecar.quantization.type, type);
      assert.equal(sidecar.quantization.threads, 2);
      assert.equal(sidecar.llamaCpp.version, "0.5.0-dev");
      assert.equal(sidecar.llamaCpp.release, "v0.5.0");
      assert.equal(sidecar.llamaCpp.commit, await llamaCppBundleCommit());
      assert.equal(sidecar.output.size, size);

      const tokens = await generateTokens(output, 4);
      assert.equal(tokens.length, 4);
    });
  }
});

test("dry-run size is exact also when llama.cpp adds header keys (input without general.file_type/quantization_version)", async () => {
  const source = await readGgufFile(f16);
  const metadata = new Map(source.metadata);
  metadata.delete("general.file_type");
  metadata.delete("general.quantization_version");
  const bare = path.join(folder, "bare-f16.gguf");
  await writeGgufFile(bare, {
    metadata,
    alignment: source.alignment,
    tensors: source.tensors.map((tensor) => ({
      name: tensor.name,
      dims: tensor.dims,
      ggmlType: tensor.ggmlType,
      data: { byteLength: tensor.byteLength, chunks: () => readTensorData(source, tensor) },
    })),
  });
  for (const type of ["Q4_0", "Q6_K"]) {
    const output = path.join(folder, `bare-${type}.gguf`);
    const result = await quantizeModel(bare, output, { type, threads: 2 });
    assert.equal(result.predictedSize, (await stat(output)).size, type);
    assert.equal((await readGgufSummary(output)).fileType, type);
  }
});

test("options: pure, output/token-embedding tensor types (IQ3_XS pure needs no importance matrix)", async () => {
  const output = path.join(folder, "pure-iq3_xs.gguf");
  const result = await quantizeModel(f16, output, { type: "IQ3_XS", threads: 2, pure: true, outputTensorType: "q8_0", tokenEmbeddingType: "Q6_K" });
  assert.equal(result.outputSize, result.predictedSize);
  const written = await readGgufFile(output);
  const typeOf = (name: string): number | undefined => written.tensors.find((tensor) => tensor.name === name)?.ggmlType;
  assert.equal(typeOf("output.weight"), GgmlType.Q8_0);
  assert.equal(typeOf("token_embd.weight"), GgmlType.Q6_K);
  assert.equal(typeOf("blk.0.attn_q.weight"), GgmlType.IQ3_S, "pure: no IQ3_XXS mix");
  await assert.rejects(quantizeModel(f16, output, { type: "IQ3_XS", threads: 2 }), /needs an importance matrix/);
  await assert.rejects(quantizeModel(f16, output, { type: "Q4_0", threads: 2, outputTensorType: "q7_0" }), /Unknown tensor type 'q7_0'/);
});

test("an already-quantized input is refused unless requantizing is allowed", async () => {
  const q8 = path.join(folder, "requant-src-q8.gguf");
  await quantizeModel(f16, q8, { type: "production", threads: 2 });
  const output = path.join(folder, "requant-q4.gguf");
  await assert.rejects(quantizeModel(q8, output, { type: "Q4_0", threads: 2 }), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.match(error.toOneLine(), /already quantized \(Q8_0/);
    assert.match(error.toOneLine(), /--allow-requantize/);
    return true;
  });
  const requantized = await quantizeModel(q8, output, { type: "Q4_0", threads: 2, allowRequantize: true });
  assert.equal((await readGgufSummary(output)).fileType, "Q4_0");
  assert.equal(requantized.outputSize, requantized.predictedSize);
});

test("an IQ type without an importance matrix is refused, saying what to do", async () => {
  const output = path.join(folder, "iq2.gguf");
  for (const type of ["IQ2_XS", "iq1_s", "Q2_K_S"]) {
    await assert.rejects(quantizeModel(f16, output, { type, threads: 2 }), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(error.toOneLine(), /needs an importance matrix.*llama-imatrix/);
      return true;
    });
  }
  await assert.rejects(quantizeModel(f16, output, { type: "IQ2_XS", threads: 2, imatrix: path.join(folder, "missing.imatrix") }), /Cannot read the importance matrix/);
  await assert.rejects(stat(output), { code: "ENOENT" });
});

test("bad input: not a GGUF, truncated, unknown type — the reader's error before any work", async () => {
  const text = path.join(folder, "notes.gguf");
  await writeFile(text, "hello, not a model\n");
  await assert.rejects(quantizeModel(text, path.join(folder, "a.gguf"), { type: "Q4_0", threads: 2 }), GgufFormatError);
  const truncated = path.join(folder, "truncated.gguf");
  await copyFile(f16, truncated);
  await truncate(truncated, 1_000_000);
  await assert.rejects(quantizeModel(truncated, path.join(folder, "b.gguf"), { type: "Q4_0", threads: 2 }), (error: unknown) => {
    assert.ok(error instanceof GgufFormatError);
    assert.equal(error.code, "tensor-data-out-of-bounds");
    return true;
  });
  await assert.rejects(quantizeModel(f16, path.join(folder, "c.gguf"), { type: "Q9_9", threads: 2 }), /Unknown quantization type 'Q9_9'/);
  await assert.rejects(quantizeModel(f16, f16, { type: "Q4_0", threads: 2 }), /overwrite the input/);
  await assert.rejects(quantizeModel(f16, path.join(folder, "missing-dir", "d.gguf"), { type: "Q4_0", threads: 2 }), /does not exist/);
  for (const name of ["a.gguf", "b.gguf", "c.gguf"]) await assert.rejects(stat(path.join(folder, name)), { code: "ENOENT" });
});

test("cancel mid-way leaves neither the output nor a temp file", async () => {
  const dir = await mkdtemp(path.join(folder, "cancel-"));
  const output = path.join(dir, "cancelled.gguf");
  const controller = new AbortController();
  let tensorsSeen = 0;
  await assert.rejects(
    quantizeModel(f16, output, {
      type: "Q4_K_M",
      threads: 2,
      signal: controller.signal,
      onProgress: (event) => {
        if (event.phase !== "quantizing") return;
        tensorsSeen = event.tensorsDone;
        controller.abort();
      },
    }),
    CancelledError,
  );
  assert.ok(tensorsSeen >= 1 && tensorsSeen < 21, `cancelled mid-way (after ${tensorsSeen} tensors)`);
  assert.deepEqual(await readdir(dir), []);
});

test("CLI: quantize a preset, dry run, JSON, one-line errors", async () => {
  const out: string[] = [];
  const err: string[] = [];
  const context = { stdout: (text: string) => out.push(text), stderr: (text: string) => err.push(text), signal: new AbortController().signal, env: {} };
  const output = path.join(folder, "cli-edge.gguf");
  assert.equal(await runCli(["quantize", f16, output, "edge", "--threads", "2"], context), 0, err.join(""));
  assert.match(out.join(""), /^Wrote .*cli-edge\.gguf: Q5_1, [\d.]+ MiB/);
  assert.equal((await readGgufSummary(output)).fileType, "Q5_1");

  out.length = 0;
  assert.equal(await runCli(["quantize", f16, path.join(folder, "cli-dry.gguf"), "q8_0", "--threads=2", "--dry-run", "--json"], context), 0, err.join(""));
  const json = JSON.parse(out.join("")) as { type: string; dryRun: boolean; predictedSize: number; outputSize: number | null };
  assert.equal(json.type, "Q8_0");
  assert.equal(json.dryRun, true);
  assert.equal(json.outputSize, null);
  assert.ok(json.predictedSize > 0);
  await assert.rejects(stat(path.join(folder, "cli-dry.gguf")), { code: "ENOENT" });

  err.length = 0;
  assert.equal(await runCli(["quantize", f16, path.join(folder, "x.gguf"), "IQ2_XXS", "--threads", "2"], context), 1);
  assert.equal(err.length, 1);
  assert.match(err[0] ?? "", /^slm-lab: IQ2_XXS needs an importance matrix/);
  err.length = 0;
  assert.equal(await runCli(["quantize", f16, path.join(folder, "x.gguf")], context), 2);
  assert.match(err.join(""), /needs <in\.gguf> <out\.gguf> <TYPE>/);
});
