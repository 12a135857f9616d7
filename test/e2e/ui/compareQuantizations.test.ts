/**
 * Compare Quantizations in a real VS Code (code-server + Chromium), as a person would use it: open the view for the
 * fixture model from the palette, quantize it to Q8_0 and Q4_0 from the view's button (the type quick pick), run the
 * bench from the view's button (real node-llama-cpp runs, tiny settings), then read the table rows and the charts'
 * marks from inside the webview's iframe; sort by a column; switch to a light theme; reload the window and find the
 * panel restored. Screenshots: test-results/e2e/ui-compare-*.png.
 *   node --import tsx --test test/e2e/ui/compareQuantizations.test.ts
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, test, type TestContext } from "node:test";
import type { FrameLocator, Page } from "playwright-core";
import { closeUiSession, runUiStep, startE2eSession, type E2eSession } from "../e2eSession";
import { activeWebview, openViewContainer, pickQuickPickItem, runCommand, saveScreenshot, waitForTreeRow, waitForWebviewText } from "../workbench";

const FIXTURE = "tiny-qwen2-coder";
/** Small bench settings: the point is that the real bench runs end to end, not the numbers. */
const BENCH_SETTINGS = { "slmLab.bench.promptTokens": 32, "slmLab.bench.generateTokens": 8, "slmLab.bench.repetitions": 2 };
const BENCH_TIMEOUT_MS = 420_000;

let session: E2eSession | undefined;
let page: Page | undefined;
let modelStem = "";

function step<T>(t: TestContext, fn: (page: Page) => Promise<T>): Promise<T> {
  return runUiStep(session, page, t.name, fn);
}

/** The text of every cell of one column, row by row, as the page shows it. */
async function columnTexts(frame: FrameLocator, column: string): Promise<string[]> {
  const cells = await frame.locator(`table.variants tbody [data-column="${column}"] .value`).all();
  return Promise.all(cells.map(async (cell) => (await cell.innerText()).trim()));
}

/** Polls the page until `check` returns true (the webview re-renders as messages arrive). */
async function waitFor(p: Page, what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await p.waitForTimeout(500);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Ticks an entry of a multi-select quick pick, and checks that it stuck: Quantize Model's picker re-renders its items
 * as background dry runs report sizes, and a click landing during a re-render is lost.
 */
async function checkQuickPickItem(p: Page, label: string): Promise<void> {
  const row = p.locator(".quick-input-widget .monaco-list-row", { hasText: label }).first();
  // The row carries aria-checked (the list's accessibility provider), or its checkbox does.
  const checked = async (): Promise<string | null> => (await row.getAttribute("aria-checked")) ?? (await row.locator('[role="checkbox"]').first().getAttribute("aria-checked", { timeout: 1000 }).catch(() => null));
  for (let attempt = 0; attempt < 10; attempt++) {
    await row.waitFor({ state: "visible" });
    const state = await checked();
    if (state === "true") return;
    await row.click();
    if (state === null) return; // No checked state to read: one click, as a person would.
    await p.waitForTimeout(300);
  }
  throw new Error(`could not tick "${label}" in the quick pick (aria-checked: ${String(await checked())})`);
}

before(async () => {
  session = await startE2eSession({ fixtures: [FIXTURE], settings: { ...BENCH_SETTINGS, "workbench.colorTheme": "Default Dark Modern" } });
  const [modelFile] = session.modelFiles;
  assert.ok(modelFile !== undefined);
  modelStem = path.parse(modelFile).name;
  page = await session.openWindow();
}, { timeout: 180_000 });

after(async () => {
  await closeUiSession(session, page, "ui-compare-last-state");
});

void test("quantize from the Compare view, bench from it, and read the table and the charts", { timeout: BENCH_TIMEOUT_MS + 180_000 }, async (t) => {
  await step(t, async (p) => {
    await openViewContainer(p, "SLM Lab");
    await waitForTreeRow(p, "My Models", modelStem, 60_000);
    await runCommand(p, "SLM Lab: Compare Quantizations");
    await pickQuickPickItem(p, modelStem);
    await waitForWebviewText(p, ["Quantizations of tiny-qwen2-coder", "No quantized variants yet", "No benchmark yet"], 60_000);
    const frame = activeWebview(p);
    assert.equal(await frame.locator("table.variants tbody tr").count(), 1, "only the parent before quantizing");

    // Quantize more variants → Quantize Model's type picker (multi-select): Production (Q8_0) and Mobile (Q4_0).
    await frame.locator("vscode-button#quantize-more").click();
    await checkQuickPickItem(p, "Production (Q8_0)");
    await checkQuickPickItem(p, "Mobile (Q4_0)");
    await p.locator(".quick-input-widget").getByRole("button", { name: "OK" }).click();
    await waitFor(p, "three rows in the table", async () => (await frame.locator("table.variants tbody tr").count()) === 3, 180_000);
    assert.deepEqual(await columnTexts(frame, "type"), ["F16", "Q8_0", "Q4_0"], "parent first, then by bits/weight");
    // Before any bench: llama.cpp's typical values are already there, in the table and as diamonds in the chart.
    assert.match(await frame.locator('table.variants tbody tr[data-type="Q4_0"] [data-column="kld"]').innerText(), /typical 0\.0719/);
    assert.equal(await frame.locator("figure.size-quality path.mark.typical").count(), 2);

    // Run bench: the parent first (its log-probs are the KLD baseline), then each variant; progress in the page.
    await frame.locator("vscode-button#run-bench").click();
    await waitFor(p, "the bench to start", async () => (await frame.locator("section.progress").count()) === 1, 30_000);
    await waitFor(
      p,
      "every variant to be benchmarked",
      async () => (await frame.locator("section.progress").count()) === 0 && (await frame.locator("table.variants tbody tr.unbenched").count()) === 0,
      BENCH_TIMEOUT_MS,
    );
    await waitFor(p, "the bench's closing notice", async () => (await frame.locator(".notice").allInnerTexts()).some((text) => text.includes("Benchmarked 3 variants")), 30_000);

    // The table: numbers in every measured column.
    const rows = await frame.locator("table.variants tbody tr").allInnerTexts();
    console.log(`# table rows:\n${rows.map((row) => `#   ${row.replace(/\s+/g, " ")}`).join("\n")}`);
    for (const column of ["pp", "tg", "load", "ppl"]) {
      const texts = await columnTexts(frame, column);
      assert.ok(texts.every((text) => /^\d+(\.\d+)?$/.test(text)), `${column}: ${JSON.stringify(texts)}`);
    }
    const kld = await columnTexts(frame, "kld");
    assert.ok(kld.every((text) => Number.isFinite(Number(text)) && Number(text) >= 0), `KLD measured for every variant (parent 0): ${JSON.stringify(kld)}`);
    assert.equal(kld[0], "0");
    const top1 = await columnTexts(frame, "top1");
    assert.ok(top1.slice(1).every((text) => /^\d+(\.\d)?%$/.test(text)), `top-1: ${JSON.stringify(top1)}`);
    assert.match(await frame.locator("thead").innerText(), /pp32 t\/s[\s\S]*tg8 t\/s/);

    // The charts: three measured dots (the front is drawn through the undominated ones), six speed bars.
    assert.equal(await frame.locator("figure.size-quality circle.mark.measured").count(), 3);
    assert.ok((await frame.locator("figure.size-quality circle.mark.pareto").count()) >= 1);
    assert.deepEqual((await frame.locator("figure.size-quality text.point-label").allTextContents()).sort(), ["F16", "Q4_0", "Q8_0"]);
    assert.equal(await frame.locator("figure.speed rect.mark.bar.pp").count(), 3);
    assert.equal(await frame.locator("figure.speed rect.mark.bar.tg").count(), 3);
    // The strict CSP blocked nothing the page needs (vscode-elements included).
    assert.equal(await frame.locator("body").getAttribute("data-csp-violations"), "0");
    console.log(`# screenshot (dark): ${await saveScreenshot(p, "ui-compare-dark")}`);

    // Sorting: Size ascending puts the smallest first; again reverses.
    await frame.locator('th[data-column="size"] button').click();
    assert.deepEqual(await columnTexts(frame, "type"), ["Q4_0", "Q8_0", "F16"]);
    assert.equal(await frame.locator('th[data-column="size"]').getAttribute("aria-sort"), "ascending");
    await frame.locator('th[data-column="size"] button').click();
    assert.deepEqual(await columnTexts(frame, "type"), ["F16", "Q8_0", "Q4_0"]);
  });
});

void test("the view follows a light theme", { timeout: 90_000 }, async (t) => {
  await step(t, async (p) => {
    await runCommand(p, "Preferences: Color Theme");
    await pickQuickPickItem(p, "Light Modern");
    await p.waitForTimeout(1500);
    const frame = activeWebview(p);
    const background = await frame.locator("body").evaluate((body: unknown) => {
      // The test code has no DOM types: reach getComputedStyle through globalThis.
      const view = globalThis as unknown as { getComputedStyle(element: unknown): { backgroundColor: string } };
      return view.getComputedStyle(body).backgroundColor;
    });
    assert.equal(background, "rgb(255, 255, 255)", "Light Modern's editor background");
    console.log(`# screenshot (light): ${await saveScreenshot(p, "ui-compare-light")}`);
  });
});

void test("after a window reload the panel comes back with its rows and sort", { timeout: 150_000 }, async (t) => {
  await step(t, async (p) => {
    const frame = activeWebview(p);
    await frame.locator('th[data-column="tg"] button').click();
    const sorted = await columnTexts(frame, "type");
    await runCommand(p, "Developer: Reload Window");
    await p.locator(".monaco-workbench").waitFor({ state: "visible", timeout: 60_000 });
    await waitForWebviewText(p, ["Quantizations of tiny-qwen2-coder", "Q8_0", "Q4_0"], 90_000);
    const restored = activeWebview(p);
    await waitFor(p, "three benchmarked rows", async () => (await restored.locator("table.variants tbody tr").count()) === 3 && (await restored.locator("tr.unbenched").count()) === 0, 60_000);
    assert.deepEqual(await columnTexts(restored, "type"), sorted, "the sort survived the reload");
    assert.equal(await restored.locator('th[data-column="tg"]').getAttribute("aria-sort"), "descending");
  });
});
