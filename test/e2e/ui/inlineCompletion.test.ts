/**
 * Inline completions in a real VS Code (code-server + Chromium), as a person uses them: turn completions on from the
 * palette, see "no model" in the status bar, click it and pick the fixture model, open a TypeScript file, type, see
 * ghost text appear, press Tab, and read the accepted line back from the editor. The fixture model has random weights,
 * so what it suggests is junk: the test checks that the accepted text is exactly what the ghost text showed, not what
 * it means.
 * Run through `npm run test:e2e`, or alone (after `npm run build`):
 *   node --import tsx --test test/e2e/ui/inlineCompletion.test.ts
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, test, type TestContext } from "node:test";
import type { Page } from "playwright-core";
import { closeUiSession, runUiStep, startE2eSession, type E2eSession } from "../e2eSession";
import { pickQuickPickItem, runCommand, saveScreenshot } from "../workbench";

const FIXTURE = "tiny-qwen2-coder";
const FILE_NAME = "add.ts";
const LINE_BEFORE = "  return a";
const TYPED = " +";

let session: E2eSession | undefined;
let page: Page | undefined;
let modelStem = "";

/** Runs one step; on failure saves a screenshot and code-server's log, and names them in the error. */
function step<T>(t: TestContext, fn: (page: Page) => Promise<T>): Promise<T> {
  // The extension host's own logs (SLM Lab's output channel among them) say what the extension did.
  return runUiStep(session, page, t.name, fn, (failed) => {
    for (const log of extensionLogs(path.dirname(failed.modelsDirectory))) console.error(`# ${log.name}:\n${log.tail}`);
  });
}

before(async () => {
  session = await startE2eSession({ fixtures: [FIXTURE] });
  const [modelFile] = session.modelFiles;
  assert.ok(modelFile !== undefined);
  modelStem = path.parse(modelFile).name;
  // The session's workspace folder sits next to its models folder (e2eSession.ts).
  const workspace = path.join(path.dirname(session.modelsDirectory), "workspace");
  mkdirSync(workspace, { recursive: true });
  writeFileSync(path.join(workspace, FILE_NAME), `export function add(a: number, b: number): number {\n${LINE_BEFORE}\n}\n`);
  page = await session.openWindow();
}, { timeout: 180_000 });

after(async () => {
  await closeUiSession(session, page, "ui-inline-completion-last-state");
});

/** The last lines of the extension host's log and of SLM Lab's output channel in a session's user-data folder. */
function extensionLogs(root: string): { name: string; tail: string }[] {
  const found: { name: string; tail: string }[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/^(exthost|remoteexthost)\.log$|SLM Lab\.log$/.test(entry.name)) found.push({ name: full, tail: readFileSync(full, "utf8").split("\n").slice(-30).join("\n") });
    }
  };
  try {
    walk(path.join(root, "code-server"));
  } catch {
    // No logs yet.
  }
  return found;
}

/** The status bar entry of SLM Lab completions. */
function statusItem(p: Page): ReturnType<Page["locator"]> {
  return p.locator(".statusbar-item", { hasText: "SLM" }).first();
}

/** Text as the editor shows it, with its non-breaking spaces as spaces. */
function normalize(text: string): string {
  return text.replace(/\u00a0/g, " ");
}

void test("typing in an editor shows ghost text from the local model; Tab accepts exactly that text", { timeout: 240_000 }, async (t) => {
  await step(t, async (p) => {
    await statusItem(p).waitFor({ state: "visible" });
    assert.match(await statusItem(p).innerText(), /SLM/, "the status bar item is there, off");

    // On without a model: the status bar says so, and a click on it offers the models.
    await runCommand(p, "SLM Lab: Toggle Inline Completions");
    const noModel = p.locator(".statusbar-item", { hasText: "no model" }).first();
    await noModel.waitFor({ state: "visible" });
    await noModel.click();
    await pickQuickPickItem(p, modelStem);
    await p.locator(".statusbar-item", { hasText: modelStem }).first().waitFor({ state: "visible" });

    // Open the file through Quick Open.
    await p.keyboard.press("F1");
    const input = p.locator(".quick-input-widget .quick-input-box input");
    await input.fill(FILE_NAME);
    await p.locator(".quick-input-widget .monaco-list-row", { hasText: FILE_NAME }).first().click();
    const editor = p.locator(".editor-instance .monaco-editor").first();
    await editor.locator(".view-line", { hasText: "return a" }).waitFor({ state: "visible" });

    // Cursor at the end of `  return a`, then type as a person does.
    await editor.locator(".view-line", { hasText: "return a" }).click();
    await p.keyboard.press("End");
    await p.keyboard.type(TYPED, { delay: 60 });

    const ghost = editor.locator(".ghost-text-decoration, .ghost-text").first();
    await ghost.waitFor({ state: "visible", timeout: 180_000 });
    // Monaco may split the ghost text of one line over several decorations: all of them, in order.
    const parts = await editor.locator(".ghost-text-decoration, .ghost-text-decoration-preview, .ghost-text").allInnerTexts();
    const ghostText = normalize(parts.join(""));
    console.log(`# ghost text (${parts.length} part(s)): ${JSON.stringify(ghostText)}`);
    assert.ok(ghostText.trim() !== "", "the ghost text is not empty");
    console.log(`# screenshot: ${await saveScreenshot(p, "ui-inline-completion-ghost-text")}`);
    const status = await statusItem(p).innerText();
    console.log(`# status bar: ${JSON.stringify(status)}`);
    assert.ok(status.includes(modelStem), `the status bar names the model: ${status}`);

    await p.keyboard.press("Tab");
    await editor.locator(".ghost-text-decoration, .ghost-text").first().waitFor({ state: "detached", timeout: 10_000 }).catch(() => undefined);
    const line = editor.locator(".view-line", { hasText: "return a" }).first();
    const accepted = normalize(await line.innerText());
    console.log(`# accepted line: ${JSON.stringify(accepted)}`);
    assert.equal(accepted, `${LINE_BEFORE}${TYPED}${ghostText}`, "the line holds exactly what the ghost text showed");
    console.log(`# screenshot: ${await saveScreenshot(p, "ui-inline-completion-accepted")}`);
  });
});
