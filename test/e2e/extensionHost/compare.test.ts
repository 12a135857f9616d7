// Compare Quantizations in the real extension host: the command opens the panel for the fixture's family, the page
// (dist/webview/main.js under the strict CSP) says `ready` and gets the comparison; a Q4_0 quantized from the fixture
// joins the family through its sidecar; the CSV export writes what the table holds. No bench runs here (the UI test
// benches through the page's button).
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as vscode from "vscode";
import { CSV_COLUMNS } from "../../../src/core/bench/benchExport";
import { sidecarPathFor } from "../../../src/core/store/modelSidecar";
import type { ComparePanel } from "../../../src/vscode/compare/comparePanel";
import type { QuantizeVariantOutcome } from "../../../src/vscode/quantizeCommand";
import { activateSlmLab } from "./slmLabApi";
import { extensionHostTest } from "./harness";

async function fixturePath(): Promise<string> {
  const slm = await activateSlmLab();
  const scan = await slm.refreshModels();
  const model = scan.models.find((candidate) => candidate.label.startsWith("tiny-qwen2-coder") && candidate.summary?.fileType === "F16");
  assert.ok(model, "the F16 fixture model is not in My Models");
  return model.path;
}

extensionHostTest("Compare Quantizations opens a panel whose page says ready and shows the family, parent first", async () => {
  const parent = await fixturePath();
  const q4 = path.join(path.dirname(parent), "tiny-qwen2-coder-Q4_0.gguf");
  const exportDir = await mkdtemp(path.join(os.tmpdir(), "slm-compare-export-"));
  let compare: ComparePanel | undefined;
  try {
    const outcomes = await vscode.commands.executeCommand<QuantizeVariantOutcome[]>("slmLab.quantizeModel", parent, { types: ["Q4_0"], ifExists: "overwrite" });
    assert.equal(outcomes[0]?.status, "done", JSON.stringify(outcomes));

    // Opened from the variant: the panel finds the parent through the sidecar.
    compare = await vscode.commands.executeCommand<ComparePanel | undefined>("slmLab.compareQuantizations", q4);
    assert.ok(compare, "the command returned no panel");
    assert.equal(compare.panel.viewType, "slmLab.compareQuantizations");
    assert.equal(compare.panel.webview.options.enableScripts, true);
    assert.deepEqual(compare.panel.webview.options.localResourceRoots?.map((uri) => uri.path.split("/").slice(-2).join("/")), ["dist/webview"]);
    // The page loaded its script (nonce, CSP) and completed the handshake.
    await compare.whenReady();
    const comparison = compare.comparison;
    assert.ok(comparison);
    assert.equal(comparison.parentPath, parent);
    assert.deepEqual(comparison.variants.map((variant) => variant.fileType), ["F16", "Q4_0"]);
    assert.equal(comparison.variants[1]?.typical?.meanKlDivergence, 0.0719);
    assert.match(compare.panel.title, /tiny-qwen2-coder/);

    // Opening it again, from the parent, reveals the same panel.
    const again = await vscode.commands.executeCommand<ComparePanel | undefined>("slmLab.compareQuantizations", parent);
    assert.equal(again, compare);

    const csvFile = path.join(exportDir, "compare.csv");
    await compare.exportTo("csv", csvFile);
    const lines = (await readFile(csvFile, "utf8")).trimEnd().split("\r\n");
    assert.equal(lines[0], CSV_COLUMNS.join(","));
    assert.equal(lines.length, 3);
    assert.ok(lines[2]?.startsWith("tiny-qwen2-coder-Q4_0.gguf,Q4_0,no,"), lines[2]);
    const markdownFile = path.join(exportDir, "compare.md");
    await compare.exportTo("markdown", markdownFile);
    assert.match(await readFile(markdownFile, "utf8"), /^# Quantizations of tiny-qwen2-coder/);
  } finally {
    compare?.panel.dispose();
    await rm(exportDir, { recursive: true, force: true });
    await rm(q4, { force: true });
    await rm(sidecarPathFor(q4), { force: true });
  }
}, { timeoutMs: 90_000 });
