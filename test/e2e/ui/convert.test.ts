/**
 * Convert to GGUF in a real VS Code (code-server + Chromium), driven as a person would: "SLM Lab: Convert to GGUF"
 * from the palette lists the checkpoint folders of the models folder, asks for the output type, reports the end in a
 * notification with "Quantize now" and "Show Model Info", and the GGUF appears in My Models. A checkpoint whose
 * safetensors file was cut short fails with an error that says what is wrong and what to do, and leaves no file.
 * Run through `npm run test:e2e` (which installs the tools first), or alone:
 *   node --import tsx --test test/e2e/ui/convert.test.ts
 */
import assert from "node:assert/strict";
import { cpSync, readdirSync, statSync, truncateSync } from "node:fs";
import path from "node:path";
import { after, before, test, type TestContext } from "node:test";
import type { Locator, Page } from "playwright-core";
import { ensureHfCheckpoint } from "../../fixtures/hfCheckpoints";
import { closeUiSession, runUiStep, startE2eSession, type E2eSession } from "../e2eSession";
import { openViewContainer, pickQuickPickItem, runCommand, saveScreenshot, waitForTreeRow, waitForWebviewText } from "../workbench";

const CHECKPOINT = "tiny-llama";
const BROKEN = "tiny-llama-cut-short";

let session: E2eSession | undefined;
let page: Page | undefined;

function step<T>(t: TestContext, fn: (page: Page) => Promise<T>): Promise<T> {
  return runUiStep(session, page, t.name, fn);
}

/**
 * A notification, read in the notification center: toasts do not show in this headless workbench, and VS Code closes
 * the center when its last notification goes (the progress one, at the end), so it is reopened until the one wanted is there.
 */
async function waitForNotification(p: Page, text: string, timeoutMs: number): Promise<Locator> {
  const center = p.locator(".notifications-center");
  const item = center.locator(".notification-list-item", { hasText: text }).first();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!(await center.isVisible())) {
      await p.locator(".statusbar-item", { has: p.locator(".codicon-bell, .codicon-bell-dot") }).first().click();
      // Away from the bell, whose hover ("Hide Notifications") would cover the notification's buttons.
      await p.mouse.move(600, 300);
    }
    if (await item.isVisible()) return item;
    if (Date.now() > deadline) throw new Error(`no notification with "${text}" within ${timeoutMs} ms`);
    await p.waitForTimeout(500);
  }
}

before(async () => {
  session = await startE2eSession({ fixtures: [] });
  // Two checkpoint folders inside the models folder, where the command looks for them (as a Hub download puts them).
  const source = await ensureHfCheckpoint(CHECKPOINT);
  const checkpoints = path.join(session.modelsDirectory, "checkpoints");
  cpSync(source, path.join(checkpoints, CHECKPOINT), { recursive: true });
  cpSync(source, path.join(checkpoints, BROKEN), { recursive: true });
  const weights = path.join(checkpoints, BROKEN, "model.safetensors");
  truncateSync(weights, Math.floor(statSync(weights).size * 0.6));
  page = await session.openWindow();
}, { timeout: 180_000 });

after(async () => {
  await closeUiSession(session, page, "ui-convert-last-state");
});

void test("Convert to GGUF from the palette: pick the checkpoint and q8_0, then the model is in My Models and its info opens", { timeout: 150_000 }, async (t) => {
  await step(t, async (p) => {
    await openViewContainer(p, "SLM Lab");
    await runCommand(p, "SLM Lab: Convert to GGUF");
    // Both checkpoint folders are offered, with "Browse…" for any other folder.
    await p.locator(".quick-input-widget .monaco-list-row", { hasText: BROKEN }).first().waitFor({ state: "visible" });
    await p.locator(".quick-input-widget .monaco-list-row", { hasText: "Browse…" }).first().waitFor({ state: "visible" });
    console.log(`# screenshot: ${await saveScreenshot(p, "ui-convert-pick-checkpoint")}`);
    await p.locator(".quick-input-widget .monaco-list-row", { hasText: new RegExp(`^${CHECKPOINT}\\b(?!-cut)`) }).first().click();
    await pickQuickPickItem(p, "8-bit (llama.cpp Q8_0)");
    const done = await waitForNotification(p, `Converted to ${CHECKPOINT}-Q8_0.gguf`, 90_000);
    assert.match(await done.innerText(), /q8_0, [\d.]+ (KiB|MiB)/, "the notification gives the output type and size");
    await done.getByRole("button", { name: "Quantize now" }).waitFor({ state: "visible" });
    console.log(`# screenshot: ${await saveScreenshot(p, "ui-convert-done")}`);
    await waitForTreeRow(p, "My Models", `${CHECKPOINT}-Q8_0`, 30_000);
    await done.getByRole("button", { name: "Show Model Info" }).click();
    const text = await waitForWebviewText(p, ["Architecture", "llama", "Q8_0"], 60_000);
    assert.match(text, /Architecture\s+llama/);
    console.log(`# screenshot: ${await saveScreenshot(p, "ui-convert-model-info")}`);
  });
});

void test("a checkpoint whose safetensors file is cut short fails with an actionable error and leaves no file", { timeout: 120_000 }, async (t) => {
  await step(t, async (p) => {
    await runCommand(p, "SLM Lab: Convert to GGUF");
    await pickQuickPickItem(p, BROKEN);
    await pickQuickPickItem(p, "8-bit (llama.cpp Q8_0)");
    const error = await waitForNotification(p, "model.safetensors", 60_000);
    const message = await error.innerText();
    assert.ok(message.includes(`Cannot convert ${BROKEN}: model.safetensors`), `the error names the checkpoint and its file: ${message}`);
    assert.match(message, /incomplete|truncated/i, `the error says what is wrong: ${message}`);
    assert.match(message, /download it again/i, `the error says what to do: ${message}`);
    console.log(`# error notification: ${message.replace(/\s+/g, " ")}`);
    // The progress notification is gone once the error is shown; expand the error to read all of it.
    await p.locator(".notifications-center .notification-list-item", { hasText: `Converting ${BROKEN} to GGUF` }).waitFor({ state: "hidden", timeout: 15_000 });
    await error.locator(".codicon-notifications-expand").click().catch(() => undefined);
    console.log(`# screenshot: ${await saveScreenshot(p, "ui-convert-error")}`);
    const left = readdirSync(session?.modelsDirectory ?? "").filter((name) => name.startsWith(BROKEN));
    assert.deepEqual(left, [], "no GGUF or temp file of the failed conversion");
  });
});
