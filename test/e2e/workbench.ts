/**
 * Drives the code-server workbench in Debian's Chromium with playwright-core, as a person would: activity bar,
 * tree views, command palette, webviews (shared/recipes/real-vscode-tests.md lists what has been driven here).
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type FrameLocator, type Locator, type Page } from "playwright-core";
import { testResultsDir } from "./projectPaths";

/** Flags for a headless Chromium on a machine with no GPU and no internet (nothing phones home, no sandbox as root). */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
];

const DEFAULT_TIMEOUT_MS = 30_000;

export async function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

export interface OpenWorkbenchOptions {
  /** Called when the workbench's smoke-test driver reports the end of an extension-host test run. */
  readonly onAutomationExit?: (code: number) => void;
  /** Every browser console line (the extension host's console is forwarded there too). */
  readonly onConsole?: (line: string) => void;
}

/** Opens a workbench window at `url` and waits until the workbench is on screen. */
export async function openWorkbench(browser: Browser, url: string, options: OpenWorkbenchOptions = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(DEFAULT_TIMEOUT_MS);
  if (options.onAutomationExit !== undefined) {
    const onExit = options.onAutomationExit;
    await page.exposeFunction("codeAutomationExit", (code: unknown) => { onExit(typeof code === "number" ? code : 1); });
  }
  if (options.onConsole !== undefined) {
    const onConsole = options.onConsole;
    page.on("console", (message) => { onConsole(`[${message.type()}] ${message.text()}`); });
  }
  await page.goto(url);
  await page.locator(".monaco-workbench").waitFor({ state: "visible", timeout: 60_000 });
  return page;
}

/** Clicks a view container's icon in the activity bar (e.g. "SLM Lab") unless it is already open. */
export async function openViewContainer(page: Page, title: string): Promise<void> {
  const item = page.locator(".activitybar").getByRole("tab", { name: title, exact: false }).first();
  await item.waitFor({ state: "visible" });
  if ((await item.getAttribute("aria-selected")) !== "true") await item.click();
  await page.locator(".sidebar .composite.title").getByText(title, { exact: false }).first().waitFor({ state: "visible" });
}

/** The pane of a view in the side bar, by its name ("My Models"); expanded if it was collapsed. */
export async function viewPane(page: Page, name: string): Promise<Locator> {
  const pane = page.locator(".sidebar .pane").filter({ has: page.locator(".pane-header", { hasText: name }) }).first();
  await pane.waitFor({ state: "visible" });
  const header = pane.locator(".pane-header").first();
  if ((await header.getAttribute("aria-expanded")) === "false") await header.click();
  return pane;
}

/** The visible rows of a tree view, as a person reads each: label, then description, separated by a space. */
export async function treeRows(page: Page, viewName: string): Promise<string[]> {
  const pane = await viewPane(page, viewName);
  const rows = await pane.locator(".monaco-list-row").all();
  return Promise.all(rows.map((row) => treeRowText(row)));
}

/**
 * Polls a view's rows until `accept` holds, then returns them. A tree refresh renders the children and the
 * parent's new description in separate passes, so a single read can see half of an update.
 */
export async function waitForTreeRows(page: Page, viewName: string, accept: (rows: readonly string[]) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let rows = await treeRows(page, viewName);
  while (!accept(rows)) {
    if (Date.now() > deadline) throw new Error(`the ${viewName} view never showed the expected rows within ${timeoutMs} ms; last rows: ${JSON.stringify(rows)}`);
    await page.waitForTimeout(200);
    rows = await treeRows(page, viewName);
  }
  return rows;
}

/** The part of a DOM element that `treeRowText` reads (the test code is compiled without the DOM library). */
interface TextElement {
  readonly textContent: string | null;
  querySelectorAll(selector: string): Iterable<TextElement>;
}

/** The text of one tree row (label and description are separate elements with no space between them). */
export async function treeRowText(row: Locator): Promise<string> {
  return row.evaluate((element: TextElement) => {
    const parts = Array.from(element.querySelectorAll(".label-name, .label-description"), (part) => (part.textContent ?? "").trim());
    const text = parts.length > 0 ? parts.join(" ") : (element.textContent ?? "");
    return text.replace(/\s+/g, " ").trim();
  });
}

/** Waits until a row of the tree view contains `text`, and returns that row. */
export async function waitForTreeRow(page: Page, viewName: string, text: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Locator> {
  const pane = await viewPane(page, viewName);
  const row = pane.locator(".monaco-list-row", { hasText: text }).first();
  await row.waitFor({ state: "visible", timeout: timeoutMs });
  return row;
}

/** Runs a command from the palette: F1, type its title ("SLM Lab: Show Model Info"), pick the exact entry. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.locator(".monaco-workbench").click({ position: { x: 5, y: 5 }, force: true }).catch(() => undefined);
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget .quick-input-box input");
  await input.waitFor({ state: "visible" });
  await input.fill(`>${title}`);
  const entry = page.locator(".quick-input-widget .monaco-list-row", { hasText: title }).first();
  await entry.waitFor({ state: "visible" });
  await entry.click();
}

/** Picks an entry in an open quick pick (e.g. the model that a command asks for). */
export async function pickQuickPickItem(page: Page, text: string): Promise<void> {
  const entry = page.locator(".quick-input-widget .monaco-list-row", { hasText: text }).first();
  await entry.waitFor({ state: "visible" });
  await entry.click();
}

/** The content frame of the visible webview (an extension's page lives in `iframe.webview` → `iframe#active-frame`). */
export function activeWebview(page: Page): FrameLocator {
  return page.locator("iframe.webview.ready").last().contentFrame().locator("iframe#active-frame").contentFrame();
}

/**
 * Waits until a webview's text contains every one of `needles`, then returns that text. Every open webview is looked
 * at (newest first): when several are open, DOM order says nothing about which one is in front.
 */
export async function waitForWebviewText(page: Page, needles: readonly string[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = "";
  while (Date.now() < deadline) {
    const count = await page.locator("iframe.webview.ready").count();
    for (let index = count - 1; index >= 0; index--) {
      try {
        const frame = page.locator("iframe.webview.ready").nth(index).contentFrame().locator("iframe#active-frame").contentFrame();
        const candidate = await frame.locator("body").innerText({ timeout: 2000 });
        if (needles.every((needle) => candidate.includes(needle))) return candidate;
        if (index === count - 1) text = candidate;
      } catch {
        // The webview is still being created.
      }
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`the webview never showed ${needles.map((needle) => JSON.stringify(needle)).join(", ")}; it showed:\n${text || "(nothing)"}`);
}

/**
 * Runs `action` from the context menu of `row`. A click on a menu item that is still being laid out is sometimes lost
 * (the menu stays open), so the item is clicked, then chosen with the keyboard, until the menu closes.
 */
export async function runContextMenuAction(page: Page, row: Locator, action: string): Promise<void> {
  const menu = page.locator(".context-view .monaco-menu");
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.keyboard.press("Escape");
    await row.click({ button: "right" });
    const item = menu.locator(".action-item", { hasText: action }).first();
    await item.waitFor({ state: "visible", timeout: DEFAULT_TIMEOUT_MS });
    await page.waitForTimeout(200);
    await item.click();
    if (await menu.first().waitFor({ state: "hidden", timeout: 2000 }).then(() => true, () => false)) return;
    await item.hover();
    await page.keyboard.press("Enter");
    if (await menu.first().waitFor({ state: "hidden", timeout: 2000 }).then(() => true, () => false)) return;
  }
  throw new Error(`the context menu action "${action}" did not run`);
}

/** Saves a full-page screenshot under test-results/ and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(testResultsDir, { recursive: true });
  const file = path.join(testResultsDir, `${name.replace(/[^\w.-]+/g, "-")}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
