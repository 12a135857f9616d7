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
import { formatParameterCount } from "../../../src/core/format/humanUnits";
import { readGgufFile } from "../../../src/core/gguf/ggufReader";
import { fixtureVocabularyPath, vocabularySize } from "../../fixtures/fixtureModels";
import { fixtureModelSpecs, fixtureTensorPlan, planParameterCount } from "../../fixtures/fixtureModelSpecs";
import { closeUiSession, runUiStep, startE2eSession, type E2eSession } from "../e2eSession";
import { openViewContainer, pickQuickPickItem, runCommand, saveScreenshot, treeRows, treeRowText, waitForTreeRow, waitForWebviewText } from "../workbench";

const FIXTURE = "tiny-qwen2-coder";

let session: E2eSession | undefined;
let page: Page | undefined;
/** The model's file name without `.gguf`: what the My Models row and the quick pick show. */
let modelStem = "";
/** The parameter count the fixture generator built the model with (not read back through the extension's code). */
let parameterCount = 0;

async function fixtureParameterCount(): Promise<number> {
  const spec = fixtureModelSpecs[FIXTURE];
  const vocabulary = await readGgufFile(await fixtureVocabularyPath(spec));
  return planParameterCount(fixtureTensorPlan(spec, vocabularySize(vocabulary.metadata)));
}

/** Runs one step of a test; on failure saves a screenshot and code-server's log, and names them in the error. */
function step<T>(t: TestContext, fn: (page: Page) => Promise<T>): Promise<T> {
  return runUiStep(session, page, t.name, fn);
}

before(async () => {
  session = await startE2eSession({ fixtures: [FIXTURE] });
  const [modelFile] = session.modelFiles;
  assert.ok(modelFile !== undefined);
  modelStem = path.parse(modelFile).name;
  parameterCount = await fixtureParameterCount();
  page = await session.openWindow();
}, { timeout: 180_000 });

after(async () => {
  await closeUiSession(session, page, "ui-last-state");
});

void test("the SLM Lab container lists the fixture model in My Models", { timeout: 90_000 }, async (t) => {
  await step(t, async (p) => {
    await openViewContainer(p, "SLM Lab");
    const row = await waitForTreeRow(p, "My Models", modelStem, 60_000);
    const text = await treeRowText(row);
    // The row names the architecture, the parameter count (as model cards do: "40.1M") and the file type.
    assert.match(text, /\bqwen2\b/, `My Models row: "${text}"`);
    assert.ok(text.includes(formatParameterCount(parameterCount)), `My Models row "${text}" should show ${formatParameterCount(parameterCount)} parameters`);
    assert.match(text, /\bF16\b/, `My Models row: "${text}"`);
    const rows = await treeRows(p, "My Models");
    assert.equal(rows.filter((r) => r.includes(modelStem)).length, 1, `exactly one row for the model: ${JSON.stringify(rows)}`);
    console.log(`# screenshot: ${await saveScreenshot(p, "ui-my-models")}`);
  });
});

void test("Show Model Info from the command palette shows the model's metadata", { timeout: 90_000 }, async (t) => {
  await step(t, async (p) => {
    await openViewContainer(p, "SLM Lab");
    await waitForTreeRow(p, "My Models", modelStem);
    await runCommand(p, "SLM Lab: Show Model Info");
    // From the palette (no argument) the command asks which model.
    await pickQuickPickItem(p, modelStem);
    const exactCount = parameterCount.toLocaleString("en-US");
    const text = await waitForWebviewText(p, ["Architecture", "qwen2", "Parameters", exactCount], 60_000);
    assert.match(text, /Architecture\s+qwen2/, "the summary names the architecture");
    assert.ok(text.includes(`${formatParameterCount(parameterCount)} (${exactCount})`), `the summary shows ${formatParameterCount(parameterCount)} (${exactCount}) parameters`);
    // Real tokenizer metadata came through: Qwen2's BPE tokenizer with its pre-tokenizer.
    assert.match(text, /gpt2/, "the summary names the tokenizer model");
    console.log(`# screenshot: ${await saveScreenshot(p, "ui-model-info")}`);
  });
});
