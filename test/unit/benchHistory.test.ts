// The bench history (JSONL): records round-trip, a truncated last line (a crash mid-append) is skipped and the next
// append starts on a fresh line, a missing file is an empty history; the baseline log-probs file round-trips and a
// damaged one is a clear error.
import assert from "node:assert/strict";
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { readBaselineLogProbs, writeBaselineLogProbs } from "../../src/core/bench/baselineLogProbs";
import { appendBenchRecord, benchHistoryPath, readBenchHistory } from "../../src/core/bench/benchHistory";
import { type BenchRecord } from "../../src/core/bench/benchRecord";
import { formatBenchTable } from "../../src/cli/commands/benchCommand";
import { UserError } from "../../src/core/errors";

let folder = "";

before(async () => {
  folder = await mkdtemp(path.join(tmpdir(), "slm-bench-history-"));
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
});

function sampleRecord(fileType: string, pp: number): BenchRecord {
  return {
    version: 1,
    finishedAt: "2026-11-24T22:00:00.000Z",
    modelPath: `/models/m-${fileType}.gguf`,
    modelSha256: "ab".repeat(32),
    modelFileBytes: 1_000_000,
    fileType,
    bitsPerWeight: 4.5,
    parameters: 1_777_777,
    architecture: "qwen2",
    engine: "node-llama-cpp 3.22.1 (llama.cpp v0.5.0)",
    machine: { hostname: "h", cpuModel: "cpu", cpuCount: 2, totalMemoryBytes: 8e9, platform: "linux-x64" },
    settings: { threads: 2, promptTokens: 512, generatedTokens: 128, repetitions: 3, batchSize: 2048, ubatchSize: 512, contextSize: 640, flashAttention: true },
    loadMs: { mean: 120, stddev: 3, samples: [117, 120, 123] },
    promptTokensPerSecond: { mean: pp, stddev: 1.5, samples: [pp - 1.5, pp, pp + 1.5] },
    generationTokensPerSecond: { mean: 35.25, stddev: 0.5, samples: [34.75, 35.25, 35.75] },
    peakRssBytes: 400 * 1024 * 1024,
    quality: { textSource: "bundled:slm-lab-eval", textSha256: "cd".repeat(32), contextSize: 512, chunks: 4, perplexity: 12.5, perplexityError: 0.4, meanKlDivergence: 0.0123, top1Agreement: 0.95, baselineModel: "/models/m-F16.gguf", baselinePerplexity: 12.1 },
  };
}

test("records round-trip through the history; a missing history is empty", async () => {
  const file = benchHistoryPath(path.join(folder, "store-a"));
  assert.deepEqual(await readBenchHistory(file), []);
  const first = sampleRecord("Q4_0", 231.1);
  const second = sampleRecord("Q8_0", 180.2);
  await appendBenchRecord(file, first);
  await appendBenchRecord(file, second);
  assert.deepEqual(await readBenchHistory(file), [first, second]);
  assert.equal((await readFile(file, "utf8")).split("\n").length, 3, "one line per record, newline-terminated");
});

test("a truncated last line is skipped, and the next record starts on a fresh line", async () => {
  const file = benchHistoryPath(path.join(folder, "store-b"));
  const first = sampleRecord("Q4_0", 100);
  await appendBenchRecord(file, first);
  const cut = JSON.stringify(sampleRecord("Q5_1", 90)).slice(0, 57);
  await appendFile(file, cut);
  assert.deepEqual(await readBenchHistory(file), [first]);
  const third = sampleRecord("Q8_0", 80);
  await appendBenchRecord(file, third);
  assert.deepEqual(await readBenchHistory(file), [first, third]);
  // Garbage and foreign JSON lines are skipped too.
  await appendFile(file, "not json\n{\"version\":2}\n[]\n");
  assert.deepEqual(await readBenchHistory(file), [first, third]);
});

test("the table has llama-bench's columns and one row per test, then load, memory and quality", () => {
  const table = formatBenchTable([sampleRecord("Q4_0", 231.1)]);
  const lines = table.split("\n");
  assert.match(lines[0] ?? "", /^\| model +\| +size \| +params \| backend \| threads \| fa \| test +\| +t\/s \|$/);
  assert.match(table, /\| qwen2 Q4_0 \|.*\| pp512 \| 231\.10 ± 1\.50 \|/);
  assert.match(table, /\| tg128 \| +35\.25 ± 0\.50 \|/);
  assert.match(table, /load 120 ± 3 ms; peak RSS 400 MiB/);
  assert.match(table, /PPL 12\.5000 ± 0\.4000 \(ctx 512, 4 chunks/);
  assert.match(table, /KLD 0\.012300, top-1 95\.00% vs m-F16\.gguf, baseline PPL 12\.1000/);
});

test("baseline log-probs round-trip; a damaged file is a UserError", async () => {
  const file = path.join(folder, "baseline.topk");
  const ids = Int32Array.from([5, 3, 9, 1, 7, 2]);
  const logProbs = Float32Array.from([-0.1, -2, -3.5, -0.2, -1.5, -4]);
  const header = { version: 1, modelSha256: "a", textSha256: "b", contextSize: 8, topK: 3, vocabSize: 10, positions: 2, chunks: 1, tokensSha256: "c", perplexity: 3.5, perplexityError: 0.1 } as const;
  await writeBaselineLogProbs(file, { header, ids, logProbs });
  const read = await readBaselineLogProbs(file);
  assert.deepEqual(read.header, header);
  assert.deepEqual(Array.from(read.ids), Array.from(ids));
  assert.deepEqual(Array.from(read.logProbs), Array.from(logProbs));
  const bytes = await readFile(file);
  await writeFile(file, bytes.subarray(0, bytes.length - 4));
  await assert.rejects(readBaselineLogProbs(file), (error: unknown) => error instanceof UserError && error.message.includes('damaged'));
  await writeFile(file, "hello");
  await assert.rejects(readBaselineLogProbs(file), UserError);
});
