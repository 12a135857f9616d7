// Convert to GGUF in the real extension host: the command, given the tiny-qwen2 checkpoint folder and an output type,
// runs the bundled convert worker (dist/workers/convertWorker.js, found from dist/extension.js), writes the GGUF into
// the models folder, and the new model shows up in My Models as a qwen2 Q8_0 model.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import * as vscode from "vscode";
import type { ConvertCommandOutcome } from "../../../src/vscode/convertCommand";
import { ensureHfCheckpoint } from "../../fixtures/hfCheckpoints";
import { activateSlmLab, myModelsNodes } from "./slmLabApi";
import { extensionHostTest } from "./harness";

extensionHostTest("Convert to GGUF converts the tiny-qwen2 checkpoint into the models folder, and My Models lists it", async () => {
  const slm = await activateSlmLab();
  const checkpoint = await ensureHfCheckpoint("tiny-qwen2");
  const outcome = await vscode.commands.executeCommand<ConvertCommandOutcome | undefined>("slmLab.convertToGguf", checkpoint, { outType: "q8_0", ifExists: "overwrite", noFollowUp: true });
  assert.equal(outcome?.status, "done", JSON.stringify(outcome));
  const output = outcome.output ?? "";
  try {
    assert.ok(existsSync(output), "the GGUF exists");
    assert.equal(path.basename(output), `${path.basename(checkpoint)}-Q8_0.gguf`);
    assert.equal(outcome.result?.architecture, "qwen2");
    // The command refreshed My Models before returning.
    const listed = (await myModelsNodes(slm)).find((candidate) => candidate.model.path === output);
    assert.ok(listed, "the converted model is in My Models");
    const summary = listed.model.summary;
    assert.ok(summary, "My Models read the converted file");
    assert.equal(summary.architecture, "qwen2");
    assert.equal(summary.fileType, "Q8_0");

    // A second run with "skip" keeps the existing file.
    const again = await vscode.commands.executeCommand<ConvertCommandOutcome | undefined>("slmLab.convertToGguf", checkpoint, { outType: "q8_0", ifExists: "skip" });
    assert.equal(again?.status, "skipped");
  } finally {
    await rm(output, { force: true });
  }
}, { timeoutMs: 120_000 });
