// Compare Quantizations' data: the Pareto front, llama.cpp's typical losses, the comparison rows (latest bench,
// ΔPPL against the parent on the same text, stale benches), the family found on disk, and the table's sorting.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { paretoFrontIndices } from "../../src/core/bench/paretoFront";
import { buildQuantizationComparison } from "../../src/core/bench/quantizationComparison";
import { familyStem, findQuantizationFamily } from "../../src/core/bench/quantizationFamily";
import { typicalQuantizationLoss, typicalQuantizationLossTable } from "../../src/core/bench/typicalQuantizationLoss";
import { sidecarPathFor } from "../../src/core/store/modelSidecar";
import { niceTicks, linearScale } from "../../webview/chartScales";
import { formatLoss, formatMeasure, sortVariants, variantColumns } from "../../webview/variantColumns";
import { sampleComparison, sampleRecord, sampleSummary } from "./compareTestRecords";
import { writeTinyGguf } from "./storeTestFiles";

void test("the Pareto front keeps only variants nothing beats on both size and loss", () => {
  const points = [
    { cost: 100, loss: 0 }, // F16: biggest, lossless → on the front
    { cost: 50, loss: 0.01 }, // Q8_0 → on
    { cost: 60, loss: 0.02 }, // bigger and worse than Q8_0 → dominated
    { cost: 30, loss: 0.05 }, // Q4_K_M → on
    { cost: 28, loss: 0.2 }, // Q4_0: smaller → on
    { cost: 40, loss: 0.2 }, // dominated by Q4_K_M
    { cost: 10, loss: Number.NaN }, // not measured → never on it
  ];
  assert.deepEqual(paretoFrontIndices(points), [4, 3, 1, 0]);
  assert.deepEqual(paretoFrontIndices([]), []);
  // Exact duplicates are both on the front; a tie in size keeps only the lower loss.
  assert.deepEqual(paretoFrontIndices([{ cost: 1, loss: 1 }, { cost: 1, loss: 1 }, { cost: 1, loss: 2 }]), [0, 1]);
});

void test("typical losses are llama.cpp's published figures, looked up by type name or alias", () => {
  assert.deepEqual(typicalQuantizationLoss("Q4_0"), { type: "Q4_0", deltaPerplexity: 0.4685, meanKlDivergence: 0.0719 });
  assert.equal(typicalQuantizationLoss("q8_0")?.meanKlDivergence, 0.0014);
  assert.equal(typicalQuantizationLoss("Q4_K")?.type, "Q4_K_M");
  assert.equal(typicalQuantizationLoss("F16")?.deltaPerplexity, 0);
  assert.equal(typicalQuantizationLoss("IQ2_XXS"), undefined, "no figure is invented for a type llama.cpp gives none for");
  const table = typicalQuantizationLossTable();
  assert.equal(table.length, 10);
  // More bits, less loss: the published table is monotone.
  for (let i = 1; i < table.length; i++) {
    assert.ok((table[i]?.deltaPerplexity ?? 0) > (table[i - 1]?.deltaPerplexity ?? 0));
    assert.ok((table[i]?.meanKlDivergence ?? 0) > (table[i - 1]?.meanKlDivergence ?? 0));
  }
});

void test("the comparison puts the parent first, then by bits/weight, with ΔPPL against the parent's bench", () => {
  const comparison = sampleComparison();
  assert.equal(comparison.parentPath, "/models/tiny-F16.gguf");
  assert.deepEqual(comparison.variants.map((variant) => variant.fileType), ["F16", "Q8_0", "Q5_1", "Q4_0"]);
  const [f16, q8, q51, q4] = comparison.variants;
  assert.ok(f16 !== undefined && q8 !== undefined && q51 !== undefined && q4 !== undefined);
  assert.equal(f16.bench?.deltaPerplexity, 0);
  assert.ok(Math.abs((q8.bench?.deltaPerplexity ?? Number.NaN) - 0.01) < 1e-9);
  assert.ok(Math.abs((q4.bench?.deltaPerplexity ?? Number.NaN) - 1.5) < 1e-9);
  assert.equal(q4.bench?.meanKlDivergence, 0.09);
  assert.equal(q51.bench, undefined);
  assert.deepEqual(q51.typical, { deltaPerplexity: 0.1062, meanKlDivergence: 0.018 });
  assert.equal(q4.bench.stale, false);
  // Memory: estimated from the model's shape, and a 2 MB model fits in 8 GiB.
  assert.equal(f16.memory.method, "dimensions");
  assert.equal(f16.memory.fit, "fits");
  assert.ok(f16.memory.estimatedBytes > 2_000_000);
});

void test("the latest bench of a file wins; a bench of a file that changed since is marked stale; ΔPPL needs the same text", () => {
  const parent = sampleSummary("/m/a-F16.gguf", "F16", 2000, 16);
  const child = sampleSummary("/m/a-Q4_0.gguf", "Q4_0", 600, 4.5);
  const comparison = buildQuantizationComparison({
    familyName: "a",
    members: [{ summary: parent, isParent: true }, { summary: child, isParent: false }],
    history: [
      sampleRecord({ modelPath: parent.path, fileType: "F16", fileBytes: 2000, perplexity: 10, textSha256: "b".repeat(64) }),
      sampleRecord({ modelPath: child.path, fileType: "Q4_0", fileBytes: 600, pp: 1, finishedAt: "2026-01-01T00:00:00Z", perplexity: 11 }),
      sampleRecord({ modelPath: child.path, fileType: "Q4_0", fileBytes: 650, pp: 2, finishedAt: "2026-01-03T00:00:00Z", perplexity: 12 }),
      sampleRecord({ modelPath: "/elsewhere/other.gguf", fileType: "Q4_0", fileBytes: 1, pp: 3, finishedAt: "2027-01-01T00:00:00Z" }),
    ],
    machine: { totalMemoryBytes: 2 ** 30, cpuModel: "x", cpuCount: 1 },
    contextSize: 512,
  });
  const variant = comparison.variants[1];
  assert.ok(variant !== undefined);
  assert.equal(variant.bench?.promptTokensPerSecond.mean, 2, "the later record");
  assert.equal(variant.bench.stale, true, "600 bytes now, 650 when benchmarked");
  assert.equal(variant.bench.deltaPerplexity, undefined, "the parent's perplexity is on another text");

  // With the record's own baseline perplexity, ΔPPL does not need the parent's bench at all.
  const withBaseline = buildQuantizationComparison({
    familyName: "a",
    members: [{ summary: child, isParent: false }],
    history: [sampleRecord({ modelPath: child.path, fileType: "Q4_0", fileBytes: 600, perplexity: 12, baselinePerplexity: 11.5 })],
    machine: { totalMemoryBytes: 2 ** 30, cpuModel: "x", cpuCount: 1 },
    contextSize: 512,
  });
  assert.equal(withBaseline.variants[0]?.bench?.deltaPerplexity, 0.5);
  assert.equal(withBaseline.parentPath, undefined);
});

void test("a family is found from the parent or any variant: sidecars link it, and so do <stem>-<TYPE>.gguf neighbours", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "slm-compare-family-"));
  try {
    const f16Type = ["general.file_type", { type: "u32", value: 1 }] as const;
    const parent = await writeTinyGguf(path.join(dir, "tiny-F16.gguf"), { extraMetadata: [f16Type] });
    const q4 = await writeTinyGguf(path.join(dir, "tiny-Q4_0.gguf"), { extraMetadata: [["general.file_type", { type: "u32", value: 2 }]] });
    const q8elsewhere = await writeTinyGguf(path.join(dir, "other", "renamed.gguf"), { extraMetadata: [["general.file_type", { type: "u32", value: 7 }]] });
    await writeFile(sidecarPathFor(q8elsewhere), JSON.stringify({ kind: "quantized", parent: { path: parent } }));
    await writeTinyGguf(path.join(dir, "unrelated-Q4_0.gguf"));
    await writeTinyGguf(path.join(dir, "tinyish.gguf"));

    const fromParent = await findQuantizationFamily(parent, { candidates: [q8elsewhere] });
    assert.equal(fromParent.name, "tiny");
    assert.equal(fromParent.parentPath, parent);
    assert.deepEqual(fromParent.members.map((member) => path.basename(member.summary.path)).sort(), ["renamed.gguf", "tiny-F16.gguf", "tiny-Q4_0.gguf"]);
    assert.deepEqual(fromParent.members.filter((member) => member.isParent).map((member) => member.summary.fileType), ["F16"]);

    // From the variant with the sidecar: the same family, through its parent.
    const fromVariant = await findQuantizationFamily(q8elsewhere);
    assert.equal(fromVariant.parentPath, parent);
    assert.deepEqual(fromVariant.members.map((member) => path.basename(member.summary.path)).sort(), ["renamed.gguf", "tiny-F16.gguf", "tiny-Q4_0.gguf"]);
    assert.ok(q4.endsWith("tiny-Q4_0.gguf"));

    // A broken member is reported, not fatal.
    await writeFile(path.join(dir, "tiny-Q5_1.gguf"), "not a gguf");
    const withBroken = await findQuantizationFamily(parent);
    assert.equal(withBroken.members.length, 2);
    assert.equal(withBroken.problems.length, 1);
    assert.match(withBroken.problems[0] ?? "", /tiny-Q5_1\.gguf/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.equal(familyStem("/x/Qwen2.5-Coder-0.5B-BF16.gguf"), "Qwen2.5-Coder-0.5B");
  assert.equal(familyStem("model.f32.gguf"), "model");
});

void test("the table sorts by any column, unknown values last in both directions", () => {
  const comparison = sampleComparison();
  const columns = variantColumns(comparison.variants);
  const byId = (id: string) => {
    const column = columns.find((candidate) => candidate.id === id);
    assert.ok(column, id);
    return column;
  };
  const types = (id: string, direction: "ascending" | "descending"): string[] => sortVariants(comparison.variants, byId(id), direction).map((variant) => variant.fileType);
  assert.deepEqual(types("size", "ascending"), ["Q4_0", "Q5_1", "Q8_0", "F16"]);
  assert.deepEqual(types("tg", "descending"), ["Q4_0", "Q8_0", "F16", "Q5_1"]);
  assert.deepEqual(types("tg", "ascending"), ["F16", "Q8_0", "Q4_0", "Q5_1"]);
  assert.deepEqual(types("kld", "ascending"), ["Q8_0", "Q4_0", "F16", "Q5_1"]);
  assert.deepEqual(types("type", "ascending"), ["F16", "Q4_0", "Q5_1", "Q8_0"]);
  // Headers name llama-bench's test sizes when every bench used the same.
  assert.equal(byId("pp").header, "pp64 t/s");
  assert.equal(byId("tg").header, "tg16 t/s");
  // Cells: mean with ± sd beneath; measured loss with the typical figure beneath; "–" for not measured.
  const q4 = comparison.variants.find((variant) => variant.fileType === "Q4_0");
  assert.ok(q4);
  assert.deepEqual(byId("tg").cell(q4), { text: "30.0", note: "± 1.5" });
  assert.deepEqual(byId("kld").cell(q4), { text: "0.0900", note: "typical 0.0719" });
  const q51 = comparison.variants.find((variant) => variant.fileType === "Q5_1");
  assert.ok(q51);
  assert.deepEqual(byId("dppl").cell(q51), { text: "–", note: "typical 0.1062" });
});

void test("axis ticks land on 1-2-5 steps and the scale spans them", () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 0.09, 4), [0, 0.02, 0.04, 0.06, 0.08, 0.1]);
  const scale = linearScale(0, 95, 0, 100, 4);
  assert.deepEqual(scale.domain, [0, 100]);
  assert.equal(scale(50), 50);
  const flat = linearScale(0, 0, 10, 20);
  assert.ok(Number.isFinite(flat(0)), "an all-zero series still draws");
});

void test("cells stay narrow: large measurements lose decimals, tiny losses keep 3 significant digits", () => {
  assert.equal(formatMeasure(162538.488, 3), "162538");
  assert.equal(formatMeasure(1640.874, 3), "1640.9");
  assert.equal(formatMeasure(12.3456, 3), "12.346");
  assert.equal(formatLoss(0), "0");
  assert.equal(formatLoss(0.0719), "0.0719");
  assert.equal(formatLoss(0.0000213456), "2.13e-5");
  assert.equal(formatLoss(-11.33461), "-11.3346");
  assert.equal(formatLoss(1007.7241), "1008");
  // The parent's row shows no "typical" note (it is the reference itself).
  const comparison = sampleComparison();
  const kld = variantColumns(comparison.variants).find((column) => column.id === "kld");
  const parent = comparison.variants.find((variant) => variant.isParent);
  assert.ok(kld !== undefined && parent !== undefined);
  assert.deepEqual(kld.cell(parent), { text: "0" });
});
