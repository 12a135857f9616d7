// "Is this quant good enough for my code?" (src/core/completion/quantQuality.ts): seeded sampling of held-out lines,
// the scores, the report and the history; and a real evaluation on fixture models with the local engine.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import {
  appendCompletionQualityRecord,
  editSimilarity,
  evaluateCompletionQuality,
  formatQualityReport,
  levenshtein,
  qualityRecord,
  readCompletionQualityHistory,
  sampleHeldOutLines,
  summarize,
  type QualitySourceFile,
} from "../../src/core/completion/quantQuality";
import { CancelledError } from "../../src/core/errors";
import { createCompletionEngine } from "../../src/core/runtime/engineFactory";
import { ensureFixtureModel } from "../fixtures/fixtureModels";

const files: QualitySourceFile[] = [
  {
    filePath: "src/math.ts",
    languageId: "typescript",
    text: [
      "// Small math helpers.",
      "export function add(a: number, b: number): number {",
      "  return a + b;",
      "}",
      "",
      "export function multiply(a: number, b: number): number {",
      "  const product = a * b;",
      "  return product;",
      "}",
      "",
    ].join("\n"),
  },
  {
    filePath: "tools/greet.py",
    languageId: "python",
    text: ["import sys", "", "def greet(name):", "    message = f'hello {name}'", "    # say it", "    print(message)", "", "greet(sys.argv[1])", ""].join("\n"),
  },
];

describe("held-out lines", () => {
  test("the same files and seed give the same lines; the line is held out of prefix and suffix", () => {
    const first = sampleHeldOutLines(files, { count: 5, seed: 7 });
    assert.deepEqual(sampleHeldOutLines(files, { count: 5, seed: 7 }), first);
    assert.equal(first.length, 5);
    for (const held of first) {
      const source = files.find((file) => file.filePath === held.filePath);
      assert.ok(source);
      const lineText = source.text.split("\n")[held.line] ?? "";
      assert.equal(held.expected, lineText.trim());
      const indent = /^\s*/.exec(lineText)?.[0] ?? "";
      const before = source.text.split("\n").slice(0, held.line).join("\n");
      assert.equal(held.prefix, `${before}\n${indent}`, "the prefix ends at the line's indentation");
      assert.ok(held.suffix.startsWith("\n") || held.suffix === "", "the suffix starts after the line");
      assert.ok(!held.suffix.split("\n").includes(lineText), "the held-out line is not in the suffix");
      assert.doesNotMatch(held.expected, /^(\/\/|#)/, "no comment lines");
      assert.ok(held.expected.length >= 8, "no short lines");
    }
    const all = sampleHeldOutLines(files, { count: 100, seed: 1 });
    assert.deepEqual(all.map((held) => held.expected), [
      "export function add(a: number, b: number): number {",
      "return a + b;",
      "export function multiply(a: number, b: number): number {",
      "const product = a * b;",
      "return product;",
      "def greet(name):",
      "message = f'hello {name}'",
      "print(message)",
      "greet(sys.argv[1])",
    ]);
    assert.notDeepEqual(sampleHeldOutLines(files, { count: 3, seed: 1 }), sampleHeldOutLines(files, { count: 3, seed: 2 }));
  });

  test("a minified file's long lines are not asked, and windows hold to their budgets", () => {
    const minified: QualitySourceFile = { filePath: "min.js", languageId: "javascript", text: `var x = 1;\n${"a=b+c;".repeat(50_000)}\nvar y = x + 1;\n` };
    const lines = sampleHeldOutLines([minified], { count: 10, seed: 3, prefixTokens: 100, suffixTokens: 50 });
    assert.deepEqual(lines.map((held) => held.expected), ["var y = x + 1;"]);
    assert.ok((lines[0]?.prefix.length ?? 0) <= 100 * 32);
  });
});

describe("scores", () => {
  test("Levenshtein distance and edit similarity", () => {
    assert.equal(levenshtein("kitten", "sitting"), 3);
    assert.equal(levenshtein("", "abc"), 3);
    assert.equal(levenshtein("same", "same"), 0);
    assert.equal(editSimilarity("return a + b;", "return a + b;"), 1);
    assert.equal(editSimilarity("", ""), 1);
    assert.equal(editSimilarity("", "abcd"), 0);
    assert.equal(editSimilarity("return a - b;", "return a + b;"), 1 - 1 / 13);
  });

  test("summary, report and history (scores only, never the code)", async () => {
    const lines = [
      { filePath: "a.ts", line: 1, expected: "return a + b;", predicted: "return a + b;", exact: true, similarity: 1, latencyMs: 100 },
      { filePath: "a.ts", line: 5, expected: "const x = 1;", predicted: "", exact: false, similarity: 0, latencyMs: 0, error: "engine crashed" },
    ];
    const q8 = summarize({ label: "Q8_0", modelPath: "/m/q8.gguf" }, lines);
    assert.equal(q8.exactMatchRate, 0.5);
    assert.equal(q8.meanEditSimilarity, 0.5);
    assert.equal(q8.meanLatencyMs, 100, "failed lines do not count in the latency");
    assert.equal(q8.failures, 1);
    const [hit, failed] = lines;
    assert.ok(hit !== undefined && failed !== undefined);
    const q4 = summarize({ label: "Q4_0", modelPath: "/m/q4.gguf" }, [{ ...hit, predicted: "return a+b;", exact: false, similarity: 0.8 }, failed]);
    const report = formatQualityReport([q4, q8], { files: 1, seed: 1, maxTokens: 32 });
    assert.match(report, /\| Q8_0 \| 50\.0 % \(1\/2\) \| 0\.500 \| 100 ms \| 1 \|/);
    assert.ok(report.indexOf("| Q8_0") < report.indexOf("| Q4_0"), "best first");
    assert.match(report, /Q8_0: engine crashed/);

    const folder = await mkdtemp(path.join(os.tmpdir(), "slm-quality-"));
    try {
      const history = path.join(folder, ".slm-lab", "completion-quality-history.jsonl");
      await appendCompletionQualityRecord(history, qualityRecord([q8], { files: 1, seed: 1, maxTokens: 32 }, new Date(0)));
      await writeFile(history, `${await readFile(history, "utf8")}{"version":1,"kind":"completion-qu`);
      await appendCompletionQualityRecord(history, qualityRecord([q4, q8], { files: 1, seed: 2, maxTokens: 32 }));
      const records = await readCompletionQualityHistory(history);
      assert.deepEqual(records.map((record) => record.variants.map((variant) => variant.label)), [["Q8_0"], ["Q4_0", "Q8_0"]]);
      assert.equal(records[0]?.finishedAt, "1970-01-01T00:00:00.000Z");
      assert.doesNotMatch(await readFile(history, "utf8"), /return a/, "the history holds no code");
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe("evaluation with the real local engine", () => {
  test("each variant completes the same lines; the same model gives the same predictions; cancel stops it", { timeout: 300_000 }, async () => {
    const model = await ensureFixtureModel("tiny-qwen2-coder");
    const lines = sampleHeldOutLines(files, { count: 2, seed: 5 });
    const createEngine = (variant: { modelPath: string }): ReturnType<typeof createCompletionEngine> =>
      createCompletionEngine({ kind: "local", modelPath: variant.modelPath, threads: 2, contextSize: 512 });
    const progress: string[] = [];
    const results = await evaluateCompletionQuality(
      [
        { label: "first", modelPath: model },
        { label: "again", modelPath: model },
      ],
      lines,
      { maxTokens: 3, createEngine, onProgress: (step) => { progress.push(`${step.variant} ${step.linesDone}/${step.lineCount}`); } },
    );
    assert.deepEqual(results.map((row) => [row.label, row.samples, row.failures]), [["first", 2, 0], ["again", 2, 0]]);
    assert.deepEqual(results[0]?.lines.map((line) => line.predicted), results[1]?.lines.map((line) => line.predicted), "greedy decoding: same prompt, same prediction");
    for (const row of results) assert.ok(row.meanEditSimilarity >= 0 && row.meanEditSimilarity <= 1);
    assert.ok(progress.includes("again 2/2"), progress.join(", "));

    const abort = new AbortController();
    abort.abort();
    await assert.rejects(evaluateCompletionQuality([{ label: "x", modelPath: model }], lines, { maxTokens: 3, createEngine, signal: abort.signal }), CancelledError);
  });

  test("a model that cannot be loaded scores as failures, and the variant is given up after a few", { timeout: 120_000 }, async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), "slm-quality-bad-"));
    try {
      const bad = path.join(folder, "bad.gguf");
      await writeFile(bad, "not a model");
      const lines = sampleHeldOutLines(files, { count: 5, seed: 5 });
      const [row] = await evaluateCompletionQuality([{ label: "bad", modelPath: bad }], lines, {
        maxTokens: 2,
        maxConsecutiveFailures: 2,
        createEngine: (variant) => createCompletionEngine({ kind: "local", modelPath: variant.modelPath, threads: 2, contextSize: 512 }),
      });
      assert.equal(row?.failures, 5);
      assert.equal(row.exactMatches, 0);
      assert.match(row.lines[4]?.error ?? "", /skipped after repeated failures/);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
