// My Models and its commands in the real extension host: the tree shows the fixture model from the models folder set
// in settings and follows setting changes and new files; Show Model Info opens a webview panel (or explains a corrupt
// file); Delete refuses files outside the models folder and in the Hugging Face cache.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as vscode from "vscode";
import { GgmlType } from "../../../src/core/gguf/ggmlTypes";
import type { GgufValue } from "../../../src/core/gguf/ggufTypes";
import { encodeGguf } from "../../../src/core/gguf/ggufWriter";
import type { DeleteModelOutcome } from "../../../src/vscode/modelCommands";
import { UNAVAILABLE_COMMANDS } from "../../../src/vscode/unavailableCommands";
import { activateSlmLab, myModelsNodes } from "./slmLabApi";
import { extensionHostTest, recordMeasurement } from "./harness";

const MODEL_INFO_VIEW_TYPE = "slmLab.modelInfo";

/** The model nodes of one group ("models-folder" / "huggingface-cache") as the view would show them. */
function modelInfoTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all
    .flatMap((group) => group.tabs)
    .filter((tab) => tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith(MODEL_INFO_VIEW_TYPE));
}

async function closeModelInfoTabs(): Promise<void> {
  await vscode.window.tabGroups.close(modelInfoTabs());
}

/** Waits (polling, up to `timeoutMs`) until `check` returns a value; fails with `what` otherwise. Not a timing assertion. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function tinyGguf(name: string): Uint8Array {
  const metadata = new Map<string, GgufValue>([
    ["general.architecture", { type: "string", value: "llama" }],
    ["general.name", { type: "string", value: name }],
    ["general.file_type", { type: "u32", value: 0 }],
  ]);
  return encodeGguf({ metadata, tensors: [{ name: "t.weight", dims: [16], ggmlType: GgmlType.F32, data: new Uint8Array(64) }] });
}

extensionHostTest("activation is logged and returns the API", async () => {
  const slm = await activateSlmLab();
  assert.ok(slm.activationMs >= 0);
  recordMeasurement("SLM Lab activate()", slm.activationMs, "ms");
  assert.ok(slm.bundleLoadMs !== undefined, "dist/extension.js carries the load-time banner and footer");
  recordMeasurement("SLM Lab bundle load (evaluation of dist/extension.js)", slm.bundleLoadMs, "ms");
  recordMeasurement("SLM Lab load + activate()", slm.bundleLoadMs + slm.activationMs, "ms");
});

extensionHostTest("My Models lists the fixture model from the models folder set in settings", async () => {
  const slm = await activateSlmLab();
  const configured = vscode.workspace.getConfiguration("slmLab").get<string>("modelsDirectory");
  assert.ok(configured !== undefined && configured !== "", "the e2e session sets slmLab.modelsDirectory");
  assert.equal(slm.modelLocations().modelsDirectory, path.resolve(configured));
  await slm.refreshModels();
  const nodes = await myModelsNodes(slm, "models-folder");
  const fixture = nodes.find((node) => node.model.label.startsWith("tiny-qwen2-coder"));
  assert.ok(fixture, `fixture model not in the tree; it shows: ${nodes.map((node) => node.model.label).join(", ")}`);
  const item = slm.myModels.getTreeItem(fixture);
  assert.equal(item.label, path.basename(fixture.model.path, ".gguf"));
  assert.match(String(item.description), /^qwen2 · [\d.]+[KMB] · F16 · [\d.]+ MiB$/);
  assert.equal(item.contextValue, "slmLab.model.deletable");
  assert.ok(fixture.model.path.startsWith(path.resolve(configured)));
});

extensionHostTest("My Models follows a change of slmLab.modelsDirectory and picks up new files", async () => {
  const slm = await activateSlmLab();
  const configuration = vscode.workspace.getConfiguration("slmLab");
  const original = configuration.inspect<string>("modelsDirectory");
  const dir = await mkdtemp(path.join(os.tmpdir(), "slm-lab-ext-host-"));
  await writeFile(path.join(dir, "first.gguf"), tinyGguf("first"));
  try {
    await configuration.update("modelsDirectory", dir, vscode.ConfigurationTarget.Global);
    await eventually("the new models folder to be used", () => Promise.resolve(slm.modelLocations().modelsDirectory === dir ? true : undefined));
    await eventually("first.gguf in the tree", async () => ((await myModelsNodes(slm, "models-folder")).some((node) => node.model.label === "first.gguf") ? true : undefined));

    // A file that appears later is noticed by the file watcher: getChildren only returns the last scan, and nothing
    // here asks for a new one. VS Code's watcher takes a moment to start on a new folder and events before that are
    // lost, so a new file is written every few seconds until one shows up (then all of them are there).
    await mkdir(path.join(dir, "pub", "repo"), { recursive: true });
    let written = 0;
    let lastWrite = 0;
    await eventually("the watcher to notice a new model file", async () => {
      const nodes = await myModelsNodes(slm, "models-folder");
      if (nodes.some((node) => node.model.label.startsWith("second"))) return true;
      if (Date.now() - lastWrite > 3000) {
        written++;
        lastWrite = Date.now();
        await writeFile(path.join(dir, "pub", "repo", written === 1 ? "second.gguf" : `second-${written}.gguf`), tinyGguf("second"));
      }
      return undefined;
    }, 30_000);
    const second = (await myModelsNodes(slm, "models-folder")).find((node) => node.model.label === "second.gguf");
    assert.ok(second);
    assert.equal(second.model.repoId, "pub/repo");
    assert.equal(second.model.summary?.name, "second");
  } finally {
    await configuration.update("modelsDirectory", original?.globalValue, vscode.ConfigurationTarget.Global);
    await rm(dir, { recursive: true, force: true });
  }
  await eventually("the original models folder again", () => Promise.resolve(slm.modelLocations().modelsDirectory !== dir ? true : undefined));
  await eventually("the fixture model in the tree again", async () => ((await myModelsNodes(slm, "models-folder")).some((node) => node.model.label.startsWith("tiny-qwen2-coder")) ? true : undefined));
}, { timeoutMs: 60_000 });

extensionHostTest("Show Model Info opens a webview panel for a tree item and for a file path", async () => {
  const slm = await activateSlmLab();
  await closeModelInfoTabs();
  const node = (await myModelsNodes(slm, "models-folder")).find((candidate) => candidate.model.label.startsWith("tiny-qwen2-coder"));
  assert.ok(node, "the fixture model is not in the tree");
  const shown = await vscode.commands.executeCommand<boolean>("slmLab.showModelInfo", node);
  assert.equal(shown, true);
  // The tab model reaches the extension host asynchronously.
  const tabs = await eventually("the model info tab", () => Promise.resolve(modelInfoTabs().length > 0 ? modelInfoTabs() : undefined));
  assert.equal(tabs.length, 1);
  assert.equal(tabs[0]?.label, path.basename(node.model.path));
  // The same model again (as a Uri) reuses the panel.
  assert.equal(await vscode.commands.executeCommand<boolean>("slmLab.showModelInfo", vscode.Uri.file(node.model.path)), true);
  assert.equal(modelInfoTabs().length, 1);
  await closeModelInfoTabs();
});

extensionHostTest("Show Model Info on a corrupt file opens no panel (it shows the GGUF error instead)", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "slm-lab-ext-host-"));
  try {
    const corrupt = path.join(dir, "corrupt.gguf");
    const bytes = tinyGguf("corrupt");
    await writeFile(corrupt, bytes.subarray(0, 40));
    await closeModelInfoTabs();
    assert.equal(await vscode.commands.executeCommand<boolean>("slmLab.showModelInfo", corrupt), false);
    assert.equal(modelInfoTabs().length, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

extensionHostTest("Delete refuses files outside the models folder and in the Hugging Face cache", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "slm-lab-ext-host-"));
  try {
    const outside = path.join(dir, "outside.gguf");
    await writeFile(outside, tinyGguf("outside"));
    assert.equal(await vscode.commands.executeCommand<DeleteModelOutcome>("slmLab.deleteModel", vscode.Uri.file(outside)), "refused");
    assert.ok(existsSync(outside), "the outside file is still there");

    const snapshot = path.join(dir, "hub", "models--org--tiny", "snapshots", "abc123");
    await mkdir(snapshot, { recursive: true });
    const hubFile = path.join(snapshot, "tiny.gguf");
    await writeFile(hubFile, tinyGguf("hub"));
    assert.equal(await vscode.commands.executeCommand<DeleteModelOutcome>("slmLab.deleteModel", hubFile), "refused");
    assert.ok(existsSync(hubFile), "the HF cache file is still there");

    // A file of the models folder reached through ".." from inside it is still outside.
    const slm = await activateSlmLab();
    const modelsDirectory = slm.modelLocations().modelsDirectory;
    const sneaky = `${modelsDirectory}${path.sep}${path.relative(modelsDirectory, outside)}`;
    assert.ok(sneaky.startsWith(modelsDirectory) && sneaky.includes(".."));
    assert.equal(await vscode.commands.executeCommand<DeleteModelOutcome>("slmLab.deleteModel", sneaky), "refused");
    assert.ok(existsSync(outside));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

extensionHostTest("commands not built yet answer honestly instead of failing", async () => {
  // The list itself, so a command that gets built (and may open a picker) leaves this test with it.
  for (const [command] of UNAVAILABLE_COMMANDS) {
    await vscode.commands.executeCommand(command);
  }
});

