// Quantize Model in the real extension host: the command, given a My Models node (or a path) and a type, runs the
// bundled quantize worker (dist/workers/quantizeWorker.js, found from dist/extension.js), writes `<stem>-Q4_0.gguf`
// and its sidecar next to the fixture, and the new model shows up in My Models; existing outputs are skipped on request.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import * as vscode from "vscode";
import type { SlmLabApi } from "../../../src/extension";
import { readGgufSummary } from "../../../src/core/gguf/ggufModelSummary";
import type { QuantizedModelSidecar } from "../../../src/core/quantize/quantizeModel";
import { sidecarPathFor } from "../../../src/core/store/modelSidecar";
import type { MyModelsModelNode } from "../../../src/vscode/myModelsTree";
import type { QuantizeVariantOutcome } from "../../../src/vscode/quantizeCommand";
import { activateSlmLab, myModelsNodes } from "./slmLabApi";
import { extensionHostTest } from "./harness";

async function fixtureNode(slm: SlmLabApi): Promise<MyModelsModelNode> {
  await slm.refreshModels();
  const node = (await myModelsNodes(slm)).find((candidate) => candidate.model.label.startsWith("tiny-qwen2-coder") && candidate.model.summary?.fileType === "F16");
  assert.ok(node, "the F16 fixture model is not in My Models");
  return node;
}

async function removeOutput(file: string): Promise<void> {
  await rm(file, { force: true });
  await rm(sidecarPathFor(file), { force: true });
}

extensionHostTest("Quantize Model writes <stem>-Q4_0.gguf and its sidecar next to the fixture, and My Models lists it", async () => {
  const slm = await activateSlmLab();
  const node = await fixtureNode(slm);
  const expected = path.join(path.dirname(node.model.path), "tiny-qwen2-coder-Q4_0.gguf");
  await removeOutput(expected);
  try {
    const outcomes = await vscode.commands.executeCommand<QuantizeVariantOutcome[]>("slmLab.quantizeModel", node, { types: ["Q4_0"], ifExists: "overwrite" });
    assert.equal(outcomes.length, 1, JSON.stringify(outcomes));
    const [outcome] = outcomes;
    assert.equal(outcome?.status, "done", JSON.stringify(outcome));
    assert.equal(outcome.output, expected);
    assert.ok(existsSync(expected), "the output file exists");

    const summary = await readGgufSummary(expected);
    assert.equal(summary.fileType, "Q4_0");
    assert.equal(outcome.size, (await readFile(expected)).byteLength);

    const sidecar = JSON.parse(await readFile(sidecarPathFor(expected), "utf8")) as QuantizedModelSidecar;
    assert.equal(sidecar.kind, "quantized");
    assert.equal(sidecar.quantization.type, "Q4_0");
    assert.equal(sidecar.parent.path, node.model.path);
    assert.equal(sidecar.quantization.threads, 2, "slmLab.threads (2 in the e2e settings) is passed on");

    // The command refreshed My Models before returning.
    const listed = (await myModelsNodes(slm)).find((candidate) => candidate.model.path === expected);
    assert.ok(listed, "the quantized model is in My Models");
    assert.match(String(slm.myModels.getTreeItem(listed).description), / · Q4_0 · /);

    // Again, by path this time, with "skip" for the existing output: nothing is redone.
    const again = await vscode.commands.executeCommand<QuantizeVariantOutcome[]>("slmLab.quantizeModel", node.model.path, { types: ["mobile"], ifExists: "skip" });
    assert.deepEqual(again.map((entry) => [entry.type, entry.status]), [["Q4_0", "skipped"]]);
  } finally {
    await removeOutput(expected);
  }
}, { timeoutMs: 90_000 });

extensionHostTest("Quantize Model refuses a type that needs an importance matrix and an already-quantized input", async () => {
  const slm = await activateSlmLab();
  const node = await fixtureNode(slm);
  const imatrix = await vscode.commands.executeCommand<QuantizeVariantOutcome[]>("slmLab.quantizeModel", node, { types: ["IQ2_XXS"], ifExists: "overwrite" });
  assert.deepEqual(imatrix.map((entry) => [entry.type, entry.status]), [["IQ2_XXS", "refused"]]);
  assert.match(imatrix[0]?.error ?? "", /importance matrix/);
  assert.ok(!existsSync(imatrix[0]?.output ?? ""), "no output for a refused type");

  const q80 = path.join(path.dirname(node.model.path), "tiny-qwen2-coder-Q8_0.gguf");
  const requantized = path.join(path.dirname(node.model.path), "tiny-qwen2-coder-Q8_0-Q4_0.gguf");
  try {
    const first = await vscode.commands.executeCommand<QuantizeVariantOutcome[]>("slmLab.quantizeModel", node, { types: ["Q8_0"], ifExists: "overwrite" });
    assert.equal(first[0]?.status, "done", JSON.stringify(first));
    const again = await vscode.commands.executeCommand<QuantizeVariantOutcome[]>("slmLab.quantizeModel", q80, { types: ["Q4_0"], ifExists: "overwrite" });
    assert.equal(again[0]?.status, "failed", JSON.stringify(again));
    assert.match(again[0].error ?? "", /already quantized/);
    assert.ok(!existsSync(requantized));
  } finally {
    await removeOutput(q80);
    await removeOutput(requantized);
    await slm.refreshModels();
  }
}, { timeoutMs: 90_000 });

extensionHostTest("cancelling Quantize Model mid-way leaves no output, temp file or sidecar", async () => {
  const slm = await activateSlmLab();
  const node = await fixtureNode(slm);
  const folder = path.dirname(node.model.path);
  const types = ["Q8_0", "Q5_1", "Q4_0"];
  const outputs = types.map((type) => path.join(folder, `tiny-qwen2-coder-${type}.gguf`));
  for (const output of outputs) await removeOutput(output);
  const abort = new AbortController();
  // Cancel as soon as llama.cpp's temp output appears (the real run has started); polled, not timed.
  let sawTemp = false;
  const watching = (async () => {
    while (!abort.signal.aborted) {
      if ((await readdir(folder)).some((name) => name.includes(".gguf.tmp-"))) {
        sawTemp = true;
        abort.abort();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  try {
    const outcomes = await vscode.commands.executeCommand<QuantizeVariantOutcome[]>("slmLab.quantizeModel", node, { types, ifExists: "overwrite", signal: abort.signal });
    abort.abort();
    await watching;
    assert.ok(sawTemp, `the temp output was never seen: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.some((outcome) => outcome.status === "cancelled"), JSON.stringify(outcomes));
    // Everything after the cancelled variant is cancelled too; what finished before it is complete.
    const firstCancelled = outcomes.findIndex((outcome) => outcome.status === "cancelled");
    assert.ok(outcomes.slice(firstCancelled).every((outcome) => outcome.status === "cancelled"), JSON.stringify(outcomes));
    for (const outcome of outcomes.slice(firstCancelled)) {
      assert.ok(!existsSync(outcome.output), `${outcome.output} exists after cancel`);
      assert.ok(!existsSync(sidecarPathFor(outcome.output)), "no sidecar after cancel");
    }
    assert.deepEqual((await readdir(folder)).filter((name) => name.includes(".tmp-")), [], "no temp files left");
  } finally {
    abort.abort();
    for (const output of outputs) await removeOutput(output);
    await slm.refreshModels();
  }
}, { timeoutMs: 90_000 });
