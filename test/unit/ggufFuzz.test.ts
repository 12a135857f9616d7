import assert from "node:assert/strict";
import { mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import v8 from "node:v8";
import { GgufFormatError } from "../../src/core/gguf/ggufErrors";
import { readGgufFile } from "../../src/core/gguf/ggufReader";
import { runFuzz } from "./ggufFuzzer";
import { RawGguf } from "./ggufSamples";

/** Far above any real case (they take well under a millisecond): only a hang or a runaway loop gets here. */
const HANG_GUARD_MS = 2_000;
/** Far above what parsing a few-KB file may allocate: only an allocation sized by a corrupt count gets here. */
const HEAP_GROWTH_LIMIT_BYTES = 256 * 1024 * 1024;

test("fuzz: 1,500 mutated and truncated GGUF files either parse or throw GgufFormatError", { timeout: 120_000 }, async () => {
  const report = await runFuzz({ seed: 20_241_124, cases: 1_500, streamEvery: 10 });
  const summary = JSON.stringify({ ...report, crashes: report.crashes.length });
  assert.deepEqual(report.crashes.slice(0, 3), [], summary);
  assert.ok(report.maxCaseMs < HANG_GUARD_MS, `slowest case took ${report.maxCaseMs} ms: ${report.slowestCase}`);
  assert.ok(report.peakHeapBytes - report.baselineHeapBytes < HEAP_GROWTH_LIMIT_BYTES, summary);
  // The mutations reach the interesting places: some files still parse, and most error kinds occur.
  assert.ok((report.outcomes["parsed"] ?? 0) > 0, summary);
  for (const code of ["truncated", "limit-exceeded", "invalid-value", "unknown-ggml-type", "bad-magic", "unsupported-version", "tensor-data-out-of-bounds"]) {
    assert.ok((report.outcomes[code] ?? 0) > 0, `no case ended in ${code}: ${summary}`);
  }
  assert.equal(report.streamedCases, 150);
});

test("huge counts in a 4 GiB sparse file: memory stays bounded by maxHeaderBytes, not by the counts", { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "slm-gguf-huge-"));
  try {
    const file = path.join(dir, "huge.gguf");
    const write = async (count: bigint, itemTag: number): Promise<void> => {
      await writeFile(file, new RawGguf().header(0, 1).str("tokenizer.ggml.tokens").u32(9).u32(itemTag).u64(count).build());
      await truncate(file, 4 * 1024 ** 3); // a hole: zeros all the way
    };
    const memory = (): number => v8.getHeapStatistics().total_heap_size + process.memoryUsage().arrayBuffers;
    const before = memory();
    let peak = before;
    const sample = setInterval(() => (peak = Math.max(peak, memory())), 5);
    try {
      // 2^28 strings could fit in the file but not in 64 MiB of header: rejected before reading them.
      await write(1n << 28n, 8);
      await assert.rejects(readGgufFile(file), (error: unknown) => error instanceof GgufFormatError && error.code === "limit-exceeded" && error.offset === 24);
      // Past gguf.cpp's array cap.
      await write(1n << 40n, 0);
      await assert.rejects(readGgufFile(file), (error: unknown) => error instanceof GgufFormatError && error.code === "limit-exceeded");
      // 4M empty strings fit in 32 MB: a summary read walks them without keeping any.
      await write(4n << 20n, 8);
      const summary = await readGgufFile(file, { maxArrayValues: 64, maxHeaderBytes: 48 * 1024 * 1024 });
      assert.deepEqual(summary.metadata.get("tokenizer.ggml.tokens"), { type: "array-summary", itemType: "string", length: 4 << 20 });
      peak = Math.max(peak, memory());
    } finally {
      clearInterval(sample);
    }
    assert.ok(peak - before < 160 * 1024 * 1024, `memory grew by ${((peak - before) / 1024 / 1024).toFixed(0)} MiB`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
