// runBench with the real bundled libllama on a real fixture model (tiny-llama-spm, F16, and its Q8_0 / Q4_0 made by
// quantizeModel), 2 threads, tiny token counts: the record's fields, perplexity, KL divergence against itself (≈ 0,
// top-1 = 1) and against the F16 parent (Q4_0 > Q8_0 ≥ 0, the parent's log-probs stored once and reused), refusals
// before any work, and cancellation.
import assert from "node:assert/strict";
import { copyFile, mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { bundledEvalTextPath } from "../../src/core/bench/benchEvalText";
import { runBench, type BenchProgress, type BenchRequest } from "../../src/core/bench/runBench";
import { CancelledError, UserError } from "../../src/core/errors";
import { GgufFormatError } from "../../src/core/gguf/ggufErrors";
import { quantizeModel } from "../../src/core/quantize/quantizeModel";
import { ensureFixtureModel } from "../fixtures/fixtureModels";

let folder = "";
let cacheDir = "";
let f16 = "";
let q8 = "";
let q4 = "";
let text = "";

before(async () => {
  folder = await mkdtemp(path.join(tmpdir(), "slm-bench-"));
  cacheDir = path.join(folder, "baselines");
  const fixture = await ensureFixtureModel("tiny-llama-spm");
  // A copy, so that the quantize sidecars name a parent inside this test's folder.
  f16 = path.join(folder, "tiny-F16.gguf");
  await copyFile(fixture, f16);
  q8 = path.join(folder, "tiny-Q8_0.gguf");
  q4 = path.join(folder, "tiny-Q4_0.gguf");
  await quantizeModel(f16, q8, { type: "Q8_0", threads: 2 });
  await quantizeModel(f16, q4, { type: "Q4_0", threads: 2 });
  // About 700 tokens: 10 chunks of 64.
  text = (await readFile(bundledEvalTextPath(), "utf8")).slice(0, 3000);
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
});

function request(modelPath: string, overrides: Partial<BenchRequest> = {}): BenchRequest {
  return { modelPath, threads: 2, promptTokens: 32, generatedTokens: 8, repetitions: 2, ...overrides };
}

const quality = (extra: object = {}): NonNullable<BenchRequest["quality"]> => ({ text: { kind: "inline", name: "eval-head", text }, contextSize: 64, cacheDir, ...extra });

describe("runBench on tiny-llama-spm", () => {
  test("speed and perplexity of the F16 model: the record's fields; KLD against itself is ≈ 0 with top-1 = 1", async () => {
    const phases = new Set<string>();
    const record = await runBench(request(f16, { quality: quality({ baselineModelPath: f16 }) }), { onProgress: (progress: BenchProgress) => { phases.add(progress.phase); } });
    assert.equal(record.version, 1);
    assert.equal(record.modelPath, f16);
    assert.match(record.modelSha256, /^[0-9a-f]{64}$/);
    assert.equal(record.fileType, "F16");
    assert.equal(record.architecture, "llama");
    assert.ok(record.parameters > 1_000_000);
    assert.ok(record.bitsPerWeight > 15.9 && record.bitsPerWeight < 17, String(record.bitsPerWeight));
    assert.match(record.engine, /node-llama-cpp 3\.\d+\.\d+ \(llama\.cpp /);
    assert.equal(record.settings.threads, 2);
    assert.equal(record.settings.batchSize, 2048);
    assert.equal(record.settings.ubatchSize, 512);
    assert.equal(typeof record.settings.flashAttention, "boolean");
    for (const metric of [record.loadMs, record.promptTokensPerSecond, record.generationTokensPerSecond]) {
      assert.equal(metric.samples.length, 2);
      assert.ok(metric.samples.every((value) => Number.isFinite(value) && value > 0));
      assert.ok(metric.stddev >= 0 && Number.isFinite(metric.mean));
    }
    assert.ok(record.peakRssBytes > record.modelFileBytes / 2, "the worker's peak RSS includes the model");
    assert.ok((record.estimatedMemoryBytes ?? 0) > record.modelFileBytes);
    const q = record.quality;
    assert.ok(q !== undefined);
    assert.ok(Number.isFinite(q.perplexity) && q.perplexity > 1, String(q.perplexity));
    assert.ok(q.perplexityError > 0);
    assert.ok(q.chunks >= 4, String(q.chunks));
    assert.equal(q.contextSize, 64);
    assert.equal(q.textSource, "inline:eval-head");
    assert.ok(q.meanKlDivergence !== undefined && q.meanKlDivergence < 1e-6, String(q.meanKlDivergence));
    assert.equal(q.top1Agreement, 1);
    assert.equal(q.baselinePerplexity, q.perplexity);
    for (const phase of ["checking", "baseline", "loading", "prompt", "generation", "perplexity", "done"]) assert.ok(phases.has(phase), phase);
    JSON.parse(JSON.stringify(record));
  });

  test("KLD against the F16 parent from the sidecar: Q4_0 loses more than Q8_0; the parent's log-probs are computed once", async () => {
    const quick = { promptTokens: 0, generatedTokens: 0, repetitions: 1 };
    const r8 = await runBench(request(q8, { ...quick, quality: quality() }));
    const r4 = await runBench(request(q4, { ...quick, quality: quality() }));
    assert.equal(r8.fileType, "Q8_0");
    assert.equal(r4.fileType, "Q4_0");
    assert.equal(r8.parentModelPath, f16);
    assert.equal(r8.quality?.baselineModel, f16);
    const kld8 = r8.quality.meanKlDivergence;
    const kld4 = r4.quality?.meanKlDivergence;
    assert.ok(kld8 !== undefined && kld4 !== undefined);
    assert.ok(kld8 >= 0 && kld4 > kld8, `KLD Q4_0 ${kld4} > Q8_0 ${kld8}`);
    assert.ok((r8.quality.top1Agreement ?? 0) > 0.5);
    assert.equal(r8.promptTokensPerSecond.samples.length, 0, "-p 0 skips pp");
    assert.equal(r8.quality.baselinePerplexity, r4.quality?.baselinePerplexity);
    assert.equal((await readdir(cacheDir)).filter((name) => name.endsWith(".topk")).length, 1, "one stored baseline for the parent, text and context");
  });

  test("refuses before any work: not a GGUF, a truncated GGUF, bad settings, a text too short for the context", async () => {
    const notGguf = path.join(folder, "notes.gguf");
    await writeFile(notGguf, "hello, this is not a model");
    await assert.rejects(runBench(request(notGguf)), GgufFormatError);
    const truncated = path.join(folder, "truncated.gguf");
    await copyFile(q4, truncated);
    await truncate(truncated, 100_000);
    await assert.rejects(runBench(request(truncated)), GgufFormatError);
    await assert.rejects(runBench(request(q4, { threads: 0 })), (error: unknown) => error instanceof UserError && error.message.includes('thread count'));
    await assert.rejects(runBench(request(q4, { repetitions: 1.5 })), UserError);
    await assert.rejects(runBench(request(q4, { promptTokens: 0, generatedTokens: 0 })), /Nothing to measure/);
    await assert.rejects(
      runBench(request(q4, { promptTokens: 0, generatedTokens: 0, quality: { ...quality({ klDivergence: false }), text: { kind: "inline", name: "short", text: "Too short." } } })),
      (error: unknown) => error instanceof UserError && error.message.includes('too short'),
    );
    await assert.rejects(runBench(request(q4, { quality: { ...quality(), text: { kind: "file", path: path.join(folder, "missing.txt") } } })), UserError);
  });

  test("cancelling mid-run kills the worker and rejects with CancelledError", async () => {
    const abort = new AbortController();
    const started = Date.now();
    const run = runBench(request(q4, { promptTokens: 512, generatedTokens: 4096, repetitions: 5 }), {
      signal: abort.signal,
      onProgress: (progress) => { if (progress.phase === "generation") abort.abort(); },
    });
    await assert.rejects(run, CancelledError);
    assert.ok(Date.now() - started < 60_000);
    const already = new AbortController();
    already.abort();
    await assert.rejects(runBench(request(q4), { signal: already.signal }), CancelledError);
  });
});
