// Inline completions in the real extension host: with no model the status bar says so; Select Completion Model with
// the fixture model (tiny-qwen2-coder-f16.gguf in the e2e models folder) makes the real local engine (node-llama-cpp in
// a child process) answer a request; cancelling the CancellationToken ends a request at once; a corrupt model and an
// endpoint that is down or answers garbage end in a clear status, never an exception.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import * as vscode from "vscode";
import type { SlmLabApi } from "../../../src/extension";
import type { MyModelsModelNode, MyModelsNode } from "../../../src/vscode/myModelsTree";
import { activateSlmLab } from "./slmLabApi";
import { extensionHostTest, recordMeasurement } from "./harness";

/** Settings this file changes; each test puts them back. */
const TOUCHED = ["completion.enabled", "completion.model", "completion.engine", "completion.endpoint", "completion.maxTokens", "completion.debounceMs"] as const;

/** The test writes user settings directly (as a person would in settings.json); the extension reads them its own way. */
async function setSetting(key: (typeof TOUCHED)[number], value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration("slmLab").update(key, value, vscode.ConfigurationTarget.Global);
}

async function resetSettings(): Promise<void> {
  for (const key of TOUCHED) await setSetting(key, undefined);
}

async function fixtureModelPath(slm: SlmLabApi): Promise<string> {
  await slm.refreshModels();
  const roots = await slm.myModels.getChildren();
  const group = roots.find((node) => node.kind === "group" && node.source === "models-folder");
  assert.ok(group, "no models-folder group in My Models");
  const models = (await slm.myModels.getChildren(group)).filter((node: MyModelsNode): node is MyModelsModelNode => node.kind === "model");
  const fixture = models.find((node) => path.basename(node.model.path) === "tiny-qwen2-coder-f16.gguf");
  assert.ok(fixture, `the fixture model is not in My Models: ${models.map((node) => node.model.label).join(", ")}`);
  return fixture.model.path;
}

/** A TypeScript document with the cursor mid-line after `return a`. */
async function sampleDocument(): Promise<{ document: vscode.TextDocument; position: vscode.Position }> {
  const content = "export function add(a: number, b: number): number {\n  return a\n}\n";
  const document = await vscode.workspace.openTextDocument({ language: "typescript", content });
  return { document, position: new vscode.Position(1, "  return a".length) };
}

extensionHostTest("completions on without a model: the status bar says so, nothing is asked", async () => {
  const slm = await activateSlmLab();
  try {
    await setSetting("completion.enabled", true);
    await setSetting("completion.model", "");
    const { document, position } = await sampleDocument();
    const attempt = await slm.completion.complete(document, position);
    assert.equal(attempt.outcome, "unavailable", JSON.stringify(attempt));
    assert.equal(slm.completion.status().state, "no-model");
    assert.match(slm.completion.statusText().text, /no model/);
    assert.match(slm.completion.statusText().tooltip, /pick one/i);
  } finally {
    await resetSettings();
  }
  assert.equal(slm.completion.status().state, "off", "turned off again");
});

extensionHostTest("Select Completion Model picks the fixture model and the real local engine answers", async () => {
  const slm = await activateSlmLab();
  const model = await fixtureModelPath(slm);
  try {
    await setSetting("completion.maxTokens", 4);
    const chosen = await vscode.commands.executeCommand<string | undefined>("slmLab.selectCompletionModel", model);
    assert.equal(chosen, model);
    assert.equal(vscode.workspace.getConfiguration("slmLab").inspect("completion.model")?.globalValue, model, "stored in the user setting");
    assert.equal(vscode.workspace.getConfiguration("slmLab").get("completion.enabled"), true, "choosing a model turns completions on");

    const { document, position } = await sampleDocument();
    const cold = await slm.completion.complete(document, position);
    assert.ok(cold.outcome === "suggested" || cold.outcome === "empty", JSON.stringify(cold));
    assert.ok(cold.result !== undefined && cold.result.timings.generatedTokens > 0, "the engine generated tokens");
    assert.equal(cold.request?.mode, "single-line");
    assert.ok(cold.request.prefix.endsWith("  return a"));
    recordMeasurement("completion: cold request (model load + 4 tokens, fixture model)", cold.result.timings.totalMs, "ms");
    const status = slm.completion.status();
    assert.equal(status.state, "ready", JSON.stringify(status));
    assert.match(slm.completion.statusText().text, /tiny-qwen2-coder-f16/);

    // The next keystroke: one more character of prefix.
    const edited = await vscode.workspace.openTextDocument({ language: "typescript", content: "export function add(a: number, b: number): number {\n  return a \n}\n" });
    const warm = await slm.completion.complete(edited, new vscode.Position(1, "  return a ".length));
    assert.ok(warm.outcome === "suggested" || warm.outcome === "empty", JSON.stringify(warm));
    if (warm.result !== undefined) recordMeasurement("completion: next keystroke (4 tokens, fixture model)", warm.result.timings.totalMs, "ms");
    if (cold.outcome === "suggested") {
      assert.ok((cold.suggestion ?? "").trim() !== "", "a suggestion is never whitespace only");
      assert.ok(!(cold.suggestion ?? "").includes("\n"), "single-line mode");
    }
  } finally {
    await resetSettings();
  }
}, { timeoutMs: 90_000 });

extensionHostTest("cancelling the CancellationToken ends a request as cancelled, and the engine still answers afterwards", async () => {
  const slm = await activateSlmLab();
  const model = await fixtureModelPath(slm);
  try {
    await setSetting("completion.maxTokens", 256);
    await vscode.commands.executeCommand("slmLab.selectCompletionModel", model);
    const { document } = await sampleDocument();
    const source = new vscode.CancellationTokenSource();
    // A prefix no earlier request used (no cache hit), and many tokens to generate: it is still running when cancelled.
    const running = slm.completion.complete(document, new vscode.Position(1, 4), { token: source.token });
    setTimeout(() => { source.cancel(); }, 300);
    const attempt = await running;
    assert.equal(attempt.outcome, "cancelled", JSON.stringify(attempt));
    source.dispose();
    await setSetting("completion.maxTokens", 2);
    const after = await slm.completion.complete(document, new vscode.Position(1, 5));
    assert.ok(after.outcome === "suggested" || after.outcome === "empty", JSON.stringify(after));
  } finally {
    await resetSettings();
  }
}, { timeoutMs: 90_000 });

extensionHostTest("a corrupt model: a clear error in the status bar, and the provider stays off for it", async () => {
  const slm = await activateSlmLab();
  const folder = await mkdtemp(path.join(os.tmpdir(), "slm-lab-corrupt-"));
  const corrupt = path.join(folder, "corrupt-coder.gguf");
  await writeFile(corrupt, Buffer.from("GGUF this is not really a model at all"));
  try {
    await vscode.commands.executeCommand("slmLab.selectCompletionModel", corrupt);
    const { document, position } = await sampleDocument();
    const first = await slm.completion.complete(document, position);
    assert.ok(first.outcome === "unavailable" || first.outcome === "error", JSON.stringify(first));
    const status = slm.completion.status();
    assert.equal(status.state, "error", JSON.stringify(status));
    assert.match(slm.completion.statusText().text, /model unreadable|error/);
    assert.match(slm.completion.statusText().tooltip, /corrupt-coder\.gguf/);
    assert.match(slm.completion.statusText().tooltip, /Select Completion Model/);
    const second = await slm.completion.complete(document, position);
    assert.equal(second.outcome, "unavailable", "not asked again until the model changes");
  } finally {
    await resetSettings();
    await rm(folder, { recursive: true, force: true });
  }
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => { server.listen(0, "127.0.0.1", resolve); });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

extensionHostTest("a remote endpoint that is down, or answers garbage: no exception, the status bar shows it", async () => {
  const slm = await activateSlmLab();
  // A port that was just free: nothing listens there.
  const probe = createServer();
  const downUrl = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  const garbage = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "application/json" });
    response.end("{ this is not json ]");
  });
  const garbageUrl = await listen(garbage);
  try {
    await setSetting("completion.enabled", true);
    await setSetting("completion.engine", "llama-server");
    await setSetting("completion.endpoint", downUrl);
    const { document, position } = await sampleDocument();
    const down = await slm.completion.complete(document, position);
    assert.equal(down.outcome, "error", JSON.stringify(down));
    const status = slm.completion.status();
    assert.equal(status.state, "error", JSON.stringify(status));
    assert.match(slm.completion.statusText().text, /SLM: /);
    assert.match(slm.completion.statusText().tooltip, /llama-server/);

    await setSetting("completion.endpoint", garbageUrl);
    const bad = await slm.completion.complete(document, position);
    assert.equal(bad.outcome, "error", JSON.stringify(bad));
    assert.equal(slm.completion.status().state, "error");
  } finally {
    await resetSettings();
    await new Promise((resolve) => garbage.close(resolve));
  }
});

extensionHostTest("Is This Quant Good Enough: the fixture model completes held-out lines, scored, and the history gets the scores", async () => {
  const slm = await activateSlmLab();
  const model = await fixtureModelPath(slm);
  const folder = await mkdtemp(path.join(os.tmpdir(), "slm-lab-quality-"));
  const source = path.join(folder, "math.ts");
  await writeFile(source, "export function add(a: number, b: number): number {\n  return a + b;\n}\n\nexport const twice = (x: number): number => add(x, x);\n");
  try {
    const outcome = await vscode.commands.executeCommand<{ results: { label: string; samples: number; failures: number; meanEditSimilarity: number }[]; report: string; historyFile: string } | undefined>(
      "slmLab.evaluateCompletionQuality",
      { modelPaths: [model], files: [source], lines: 2, seed: 3, maxTokens: 2, quiet: true },
    );
    assert.ok(outcome, "the command returned its results");
    assert.equal(outcome.results.length, 1);
    const [row] = outcome.results;
    assert.equal(row?.samples, 2);
    assert.equal(row.failures, 0, outcome.report);
    assert.ok(row.meanEditSimilarity >= 0 && row.meanEditSimilarity <= 1);
    assert.match(row.label, /F16/);
    assert.match(outcome.report, /\| Exact match \| Edit similarity \|/);
    assert.ok(outcome.historyFile.startsWith(slm.modelLocations().modelsDirectory), outcome.historyFile);
    const history = await readFile(outcome.historyFile, "utf8");
    assert.match(history, /"kind":"completion-quality"/);
    assert.doesNotMatch(history, /return a \+ b/, "scores only, never the code");
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}, { timeoutMs: 90_000 });
