// Benchmark Model in the real extension host: the command, given a My Models node and tiny settings, runs the bundled
// bench worker (dist/workers/benchWorker.js, found from dist/extension.js) on the F16 fixture, measures speed and
// perplexity, and appends the record to the store's bench history; a second run is cancelled through its signal.
import assert from "node:assert/strict";
import path from "node:path";
import * as vscode from "vscode";
import type { SlmLabApi } from "../../../src/extension";
import { benchHistoryPath, readBenchHistory } from "../../../src/core/bench/benchHistory";
import type { MyModelsModelNode, MyModelsNode } from "../../../src/vscode/myModelsTree";
import type { BenchmarkOutcome } from "../../../src/vscode/benchmarkCommand";
import { activateSlmLab } from "./slmLabApi";
import { extensionHostTest, recordMeasurement } from "./harness";

const TEXT = [
  "The lighthouse stood on a narrow spit of rock at the mouth of the harbour, and for forty years the same family had kept it.",
  "Every evening the keeper climbed the stair, trimmed the wick, polished the great lens and wrote a line in the notebook.",
  "export function median(values: readonly number[]): number | undefined {",
  "  if (values.length === 0) return undefined;",
  "  const sorted = [...values].sort((a, b) => a - b);",
  "  return sorted[Math.floor(sorted.length / 2)];",
  "}",
  "In early spring the garden is mostly bare earth and promise; by midsummer the same ground is crowded with beans and squash.",
].join("\n");

async function fixtureNode(slm: SlmLabApi): Promise<MyModelsModelNode> {
  await slm.refreshModels();
  const roots = await slm.myModels.getChildren();
  const group = roots.find((node) => node.kind === "group" && node.source === "models-folder");
  assert.ok(group, "the models folder group is shown");
  const node = (await slm.myModels.getChildren(group)).find(
    (candidate: MyModelsNode): candidate is MyModelsModelNode => candidate.kind === "model" && candidate.model.label.startsWith("tiny-qwen2-coder") && candidate.model.summary?.fileType === "F16",
  );
  assert.ok(node, "the F16 fixture model is in My Models");
  return node;
}

extensionHostTest("Benchmark Model measures the fixture (speed and perplexity) and appends the record to the bench history", async () => {
  const slm = await activateSlmLab();
  const node = await fixtureNode(slm);
  const historyFile = benchHistoryPath(slm.modelLocations().modelsDirectory);
  const before = (await readBenchHistory(historyFile)).length;
  const outcome = await vscode.commands.executeCommand<BenchmarkOutcome>("slmLab.benchmarkModel", node, {
    quality: true,
    promptTokens: 16,
    generatedTokens: 4,
    repetitions: 1,
    contextSize: 32,
    text: { name: "e2e", text: TEXT },
  });
  assert.equal(outcome.status, "done", JSON.stringify(outcome));
  const { record } = outcome;
  assert.equal(record.modelPath, node.model.path);
  assert.equal(record.fileType, "F16");
  assert.equal(record.settings.threads, 2, "slmLab.threads (2 in the e2e settings) is passed on");
  assert.ok((record.promptTokensPerSecond.samples[0] ?? 0) > 0 && (record.generationTokensPerSecond.samples[0] ?? 0) > 0);
  assert.ok(record.quality !== undefined && Number.isFinite(record.quality.perplexity) && record.quality.perplexity > 1);
  assert.equal(record.quality.textSource, "inline:e2e");
  assert.equal(outcome.historyFile, historyFile);
  const history = await readBenchHistory(historyFile);
  assert.equal(history.length, before + 1);
  assert.equal(history.at(-1)?.modelSha256, record.modelSha256);
  recordMeasurement("bench fixture pp16", record.promptTokensPerSecond.mean, "tok/s");
  recordMeasurement("bench fixture tg4", record.generationTokensPerSecond.mean, "tok/s");
  assert.equal(path.dirname(path.dirname(historyFile)), slm.modelLocations().modelsDirectory);
}, { timeoutMs: 120_000 });

extensionHostTest("Benchmark Model cancelled through its signal reports 'cancelled' and appends nothing", async () => {
  const slm = await activateSlmLab();
  const node = await fixtureNode(slm);
  const historyFile = benchHistoryPath(slm.modelLocations().modelsDirectory);
  const before = (await readBenchHistory(historyFile)).length;
  const abort = new AbortController();
  setTimeout(() => { abort.abort(); }, 1500);
  const outcome = await vscode.commands.executeCommand<BenchmarkOutcome>("slmLab.benchmarkModel", node.model.path, {
    quality: false,
    promptTokens: 512,
    generatedTokens: 4096,
    repetitions: 10,
    signal: abort.signal,
  });
  assert.equal(outcome.status, "cancelled", JSON.stringify(outcome));
  assert.equal((await readBenchHistory(historyFile)).length, before);
}, { timeoutMs: 60_000 });
