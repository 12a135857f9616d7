/**
 * Hub search in a real VS Code (code-server + Chromium), as a person does it: the Catalog view's search action, a
 * query and a format filter in the quick pick, results in the Catalog tree, the detail page, a side-by-side
 * comparison, then Download Model from the result's context menu with its progress notification, and the model in
 * My Models. The hub is a local one (test/fixtures/localHub.ts) in this process, set as `slmLab.hubEndpoint`.
 *   node --import tsx --test test/e2e/ui/hubSearch.test.ts   (after `npm run build`)
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test, type TestContext } from "node:test";
import type { Page } from "playwright-core";
import { SEARCH_FIXTURE_ORG, searchFixtureHubRepoSources, startLocalHub, type LocalHub } from "../../fixtures/localHub";
import { closeUiSession, runUiStep, startE2eSession, type E2eSession } from "../e2eSession";
import { openViewContainer, pickQuickPickItem, runContextMenuAction, saveScreenshot, viewPane, waitForTreeRow, waitForTreeRows, waitForWebviewText } from "../workbench";

const QWEN = `${SEARCH_FIXTURE_ORG}/Qwen2.5-Coder-0.5B-Instruct-GGUF`;
const QWEN_FILE = "qwen2.5-coder-0.5b-instruct-f16.gguf";

let hub: LocalHub | undefined;
let session: E2eSession | undefined;
let page: Page | undefined;
let scratch = "";

function step<T>(t: TestContext, fn: (page: Page) => Promise<T>): Promise<T> {
  return runUiStep(session, page, t.name, fn);
}

before(async () => {
  hub = await startLocalHub({ repos: await searchFixtureHubRepoSources() });
  scratch = mkdtempSync(path.join(os.tmpdir(), "slm-lab-ui-hub-"));
  session = await startE2eSession({
    fixtures: [],
    // A fresh HF cache to download into, and no Ollama store of this machine's user.
    env: { HF_HUB_CACHE: path.join(scratch, "hf-cache"), OLLAMA_MODELS: path.join(scratch, "ollama") },
    settings: { "slmLab.hubEndpoint": hub.endpoint, "slmLab.scanHuggingFaceCache": true },
  });
  page = await session.openWindow();
}, { timeout: 180_000 });

after(async () => {
  await closeUiSession(session, page, "ui-hub-last-state");
  await hub?.close();
  if (scratch !== "") rmSync(scratch, { recursive: true, force: true });
});

void test("searching from the Catalog view with a format filter lists Hub models with params · ↓downloads · license", { timeout: 120_000 }, async (t) => {
  await step(t, async (p) => {
    await openViewContainer(p, "SLM Lab");
    const catalog = await viewPane(p, "Catalog");
    await catalog.hover();
    await catalog.locator(".pane-header .actions-container .action-label[aria-label^='Search Hugging Face Hub']").click();
    const input = p.locator(".quick-input-widget .quick-input-box input");
    await input.waitFor({ state: "visible" });
    await input.fill("coder");
    await input.press("Enter");
    // The filter menu: Format → GGUF, then Search.
    await pickQuickPickItem(p, "Format");
    await pickQuickPickItem(p, "GGUF");
    await p.locator(".quick-input-widget .monaco-list-row", { hasText: "Format" }).filter({ hasText: "gguf" }).first().waitFor({ state: "visible" });
    await pickQuickPickItem(p, "Search");
    await waitForTreeRow(p, "Catalog", "Hub search: coder", 30_000);
    const row = await waitForTreeRow(p, "Catalog", QWEN, 30_000);
    const rows = await waitForTreeRows(p, "Catalog", (shown) => shown.some((text) => text.startsWith("Hub search: coder 8 models · GGUF · by downloads")), 30_000);
    const qwenRow = rows.find((text) => text.includes(QWEN));
    assert.equal(qwenRow, `${QWEN} 494M · ↓52K · apache-2.0`);
    // Only GGUF repos: the safetensors ones of the fixture hub are filtered out by the Hub query.
    assert.ok(!rows.some((text) => text.startsWith(`${SEARCH_FIXTURE_ORG}/`) && (text.includes("SmolLM2") || text.includes("Phi-4"))), JSON.stringify(rows));
    await row.hover();
    console.log(`# screenshot: ${await saveScreenshot(p, "ui-hub-search-results")}`);
  });
});

void test("clicking a result shows its detail page: facts, memory with a fit label, files, the card", { timeout: 90_000 }, async (t) => {
  await step(t, async (p) => {
    const row = await waitForTreeRow(p, "Catalog", QWEN);
    await row.click();
    const text = await waitForWebviewText(p, ["Memory on this machine", "Q8_0", "fits", "Model card", "Qwen2.5-Coder-0.5B-Instruct GGUF"], 60_000);
    assert.match(text, /Context length\s+32,768 tokens/);
    assert.match(text, /License\s+apache-2.0/);
    assert.ok(text.includes(QWEN_FILE), "the files table lists the F16 file");
    assert.ok(text.includes("<script>alert('card scripts must not run')</script>"), "the card's script shows as text");
    console.log(`# screenshot: ${await saveScreenshot(p, "ui-hub-model-details")}`);
  });
});

void test("Add to Comparison on one result and Compare on another opens the side-by-side comparison", { timeout: 90_000 }, async (t) => {
  await step(t, async (p) => {
    // Right-clicks only (a left click opens a result's details, which takes the focus and closes menus):
    // "Add to Comparison" on one result, "Compare Models Side by Side" on another.
    const menuItem = async (row: string, action: string): Promise<void> => {
      await runContextMenuAction(p, await waitForTreeRow(p, "Catalog", row), action);
    };
    await menuItem(QWEN, "Add to Comparison");
    await menuItem(`${SEARCH_FIXTURE_ORG}/coder-6-1.5B-GGUF`, "Compare Models Side by Side");
    const text = await waitForWebviewText(p, ["Model comparison", QWEN, "coder-6-1.5B-GGUF", "Memory to run it"], 60_000);
    assert.match(text, /Parameters\s+494M\s+1\.54B/);
    console.log(`# screenshot: ${await saveScreenshot(p, "ui-hub-comparison")}`);
  });
});

void test("Download Model from the result's context menu shows progress, then the model is in My Models", { timeout: 150_000 }, async (t) => {
  await step(t, async (p) => {
    // Slow enough (86 MB at 8 MB/s) for the progress notification to be seen.
    hub?.addFault({ stage: "cdn", file: QWEN_FILE, throttleBytesPerSecond: 8 * 1024 * 1024 });
    const row = await waitForTreeRow(p, "Catalog", QWEN);
    // Right-click only: a left click would open the detail page, which takes the focus (and the menu) away.
    await runContextMenuAction(p, row, "Download Model");
    // The file picker lists the repo's GGUF files with sizes (multi-select: tick one, then OK).
    await pickQuickPickItem(p, QWEN_FILE);
    await p.locator(".quick-input-widget .quick-input-action .monaco-button", { hasText: "OK" }).first().click();
    // Toasts do not show in this headless workbench, so the progress is read where VS Code keeps every
    // notification: the notification center (the status bar bell).
    await p.locator(".statusbar-item", { has: p.locator(".codicon-bell, .codicon-bell-dot") }).first().click();
    const center = p.locator(".notifications-center");
    await center.getByText("Downloading from", { exact: false }).first().waitFor({ state: "visible", timeout: 30_000 });
    await center.getByText(/MiB \/ [\d.]+ MiB \(\d+%\)/).first().waitFor({ state: "visible", timeout: 30_000 });
    console.log(`# screenshot: ${await saveScreenshot(p, "ui-hub-download-progress")}`);
    const modelRow = await waitForTreeRow(p, "My Models", `${QWEN}/qwen2.5-coder-0.5b-instruct-f16`, 90_000);
    await modelRow.hover();
    await waitForTreeRows(p, "My Models", (rows) => rows.some((text) => text.startsWith("Hugging Face cache")) && rows.some((text) => text.includes(`${QWEN}/qwen2.5-coder-0.5b-instruct-f16 qwen2`)), 30_000);
    console.log(`# screenshot: ${await saveScreenshot(p, "ui-hub-downloaded-in-my-models")}`);
  });
});
