/**
 * SLM Lab in a real VS Code (code-server + Chromium), driven as a person would: open the SLM Lab container, find
 * the fixture model in My Models, run "SLM Lab: Show Model Info" from the palette and read the webview.
 * Run through `npm run test:e2e` (which installs the tools first), or alone:
 *   node --import tsx --test test/e2e/ui/myModels.test.ts
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, test, type TestContext } from "node:test";
import type { Page } from "playwright-core";
import { startE2eSession, type E2eSession } from "../e2eSession";
import { openViewContainer, pickQuickPickItem, runCommand, saveScreenshot, treeRows, waitForTreeRow, waitForWebviewText } from "../workbench";

const FIXTURE = "tiny-qwen2-coder";

let session: E2eSession | undefined;
let page: Page | undefined;
let modelFileName = "";

/** Runs one step of a test; on failure saves a screenshot and code-server's log, and names them in the error. */
async function step<T>(t: TestContext, fn: (page: Page) => Promise<T>): Promise<T> {
  assert.ok(session !== undefined && page !== undefined, "the code-server session did not start");
  try {
    return await fn(page);
  } catch (error) {
    const saved = await session.saveDiagnostics(page, `ui-${t.name}`);
    console.error(`# failure artifacts:\n${saved.map((file) => `#   ${file}`).join("\n")}`);
    throw error;
  }
}

before(async () => {
  session = await startE2eSession({ fixtures: [FIXTURE] });
  const [modelFile] = session.modelFiles;
  assert.ok(modelFile !== undefined);
  modelFileName = path.basename(modelFile);
  page = await session.openWindow();
}, { timeout: 180_000 });

after(async () => {
  if (session !== undefined && page !== undefined) {
    const file = await saveScreenshot(page, "ui-last-state").catch(() => undefined);
    if (file !== undefined) console.log(`# screenshot of the final state: ${file}`);
  }
  await session?.close();
});

void test("the SLM Lab container lists the fixture model in My Models", { timeout: 90_000 }, async (t) => {
  await step(t, async (p) => {
    await openViewContainer(p, "SLM Lab");
    const row = await waitForTreeRow(p, "My Models", path.parse(modelFileName).name, 60_000);
    const text = (await row.innerText()).replace(/\s+/g, " ");
    assert.match(text, /qwen2/i, `the My Models row should name the architecture: "${text}"`);
    const rows = await treeRows(p, "My Models");
    assert.ok(rows.some((r) => r.includes(path.parse(modelFileName).name)), `rows: ${JSON.stringify(rows)}`);
    const file = await saveScreenshot(p, "ui-my-models");
    console.log(`# screenshot: ${file}`);
  });
});

void test("Show Model Info from the command palette shows the model's metadata", { timeout: 90_000 }, async (t) => {
  await step(t, async (p) => {
    // Select the model row, so that the command has a model whether it reads the selection or asks.
    await openViewContainer(p, "SLM Lab");
    const row = await waitForTreeRow(p, "My Models", path.parse(modelFileName).name);
    await row.click();
    await runCommand(p, "SLM Lab: Show Model Info");
    // Without an argument the command may ask which model: pick ours if a quick pick opens.
    const quickPick = p.locator(".quick-input-widget .monaco-list-row", { hasText: path.parse(modelFileName).name });
    if (await quickPick.first().isVisible({ timeout: 2000 }).catch(() => false)) {
      await pickQuickPickItem(p, path.parse(modelFileName).name);
    }
    const text = await waitForWebviewText(p, ["qwen2"], 60_000);
    assert.match(text, /qwen2/);
    const file = await saveScreenshot(p, "ui-model-info");
    console.log(`# screenshot: ${file}`);
  });
});
