// The Compare Quantizations message protocol: both directions accept exactly their messages and drop anything else
// (wrong type tag, missing or mistyped field, NaN), saved page state is narrowed, and the page's CSP is strict.
import assert from "node:assert/strict";
import { test } from "node:test";
import { compareContentSecurityPolicy, renderCompareHtml } from "../../src/vscode/compare/compareHtml";
import { isQuantizationComparison, parseHostMessage, parseWebviewMessage, parseWebviewState, PROTOCOL_VERSION } from "../../webview/protocol";
import { sampleComparison } from "./compareTestRecords";

/** What postMessage delivers: a structured clone, i.e. plain data (JSON round trip is close enough here). */
function cloned(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

void test("messages from the page: each kind is accepted, anything else is dropped", () => {
  assert.deepEqual(parseWebviewMessage({ type: "ready" }), { type: "ready" });
  assert.deepEqual(parseWebviewMessage({ type: "cancel", extra: 1 }), { type: "cancel" }, "extra fields are not passed on");
  assert.deepEqual(parseWebviewMessage({ type: "runBench", modelPaths: ["/a.gguf"] }), { type: "runBench", modelPaths: ["/a.gguf"] });
  assert.deepEqual(parseWebviewMessage({ type: "export", format: "markdown" }), { type: "export", format: "markdown" });
  for (const bad of [
    undefined,
    null,
    "ready",
    [],
    { type: "Ready" },
    { type: "runBench" },
    { type: "runBench", modelPaths: "/a.gguf" },
    { type: "runBench", modelPaths: [1] },
    { type: "export", format: "xlsx" },
    { type: "delete", path: "/" },
  ]) {
    assert.equal(parseWebviewMessage(bad), undefined, JSON.stringify(bad));
  }
});

void test("messages from the host: a comparison is checked field by field", () => {
  const comparison = sampleComparison();
  const message = parseHostMessage(cloned({ type: "comparison", comparison, problems: [] }));
  assert.ok(message?.type === "comparison");
  assert.equal(message.comparison.variants.length, 4);
  assert.ok(isQuantizationComparison(cloned(comparison)));

  const broken = cloned(comparison) as { variants: Record<string, unknown>[] };
  const variant = broken.variants[1];
  assert.ok(variant);
  variant["bitsPerWeight"] = "8.5";
  assert.equal(parseHostMessage({ type: "comparison", comparison: broken, problems: [] }), undefined, "a string where a number belongs");
  variant["bitsPerWeight"] = Number.NaN;
  assert.equal(parseHostMessage({ type: "comparison", comparison: broken, problems: [] }), undefined, "NaN is not a number here");
  variant["bitsPerWeight"] = 8.5;
  (variant["memory"] as Record<string, unknown>)["fit"] = "maybe";
  assert.equal(parseHostMessage({ type: "comparison", comparison: broken, problems: [] }), undefined, "an unknown fit label");
  assert.equal(parseHostMessage({ type: "comparison", comparison, problems: [1] }), undefined);

  assert.deepEqual(parseHostMessage({ type: "progress", task: null }), { type: "progress", task: null });
  assert.deepEqual(parseHostMessage({ type: "progress", task: { kind: "bench", message: "x", fraction: 0.5 } }), { type: "progress", task: { kind: "bench", message: "x", fraction: 0.5 } });
  assert.equal(parseHostMessage({ type: "progress", task: { kind: "bench", message: "x", fraction: 2 } }), undefined);
  assert.equal(parseHostMessage({ type: "progress" }), undefined);
  assert.deepEqual(parseHostMessage({ type: "notice", level: "error", message: "no" }), { type: "notice", level: "error", message: "no" });
  assert.equal(parseHostMessage({ type: "notice", level: "warning", message: "no" }), undefined);
});

void test("saved page state: kept when it fits, defaults for bad parts, dropped without a model path or of another version", () => {
  const comparison = sampleComparison();
  const state = parseWebviewState(cloned({ version: PROTOCOL_VERSION, modelPath: "/m/a.gguf", sort: { column: "tg", direction: "ascending" }, qualityMetric: "dppl", comparison }));
  assert.ok(state !== undefined);
  assert.equal(state.modelPath, "/m/a.gguf");
  assert.deepEqual(state.sort, { column: "tg", direction: "ascending" });
  assert.equal(state.qualityMetric, "dppl");
  assert.equal(state.comparison?.variants.length, 4);

  const defaulted = parseWebviewState({ version: PROTOCOL_VERSION, modelPath: "/m/a.gguf", sort: { column: "evil", direction: 1 }, qualityMetric: 3, comparison: { familyName: 1 } });
  assert.deepEqual(defaulted, { version: PROTOCOL_VERSION, modelPath: "/m/a.gguf", sort: { column: "bpw", direction: "descending" }, qualityMetric: "kld" });

  assert.equal(parseWebviewState(undefined), undefined);
  assert.equal(parseWebviewState({ version: PROTOCOL_VERSION + 1, modelPath: "/m/a.gguf" }), undefined);
  assert.equal(parseWebviewState({ version: PROTOCOL_VERSION, modelPath: "" }), undefined);
});

void test("the page: default-src 'none', script only with the nonce, styles only from the extension, nothing inline", () => {
  const csp = compareContentSecurityPolicy("https://file+.vscode-resource.vscode-cdn.net", "abc123");
  assert.equal(csp, "default-src 'none'; script-src 'nonce-abc123'; style-src https://file+.vscode-resource.vscode-cdn.net");
  assert.ok(!csp.includes("unsafe"));
  const html = renderCompareHtml({
    cspSource: "https://file+.vscode-resource.vscode-cdn.net",
    nonce: "abc123",
    scriptUri: "https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/main.js",
    styleUri: "https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/main.css",
    title: "Compare <x>",
  });
  assert.match(html, /<script type="module" nonce="abc123" src="https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\/ext\/dist\/webview\/main\.js"><\/script>/);
  assert.equal((html.match(/<script/g) ?? []).length, 1, "one script, no inline code");
  assert.ok(!html.includes("<style") && !html.includes(" style="), "no inline styles");
  assert.ok(html.includes("Compare &lt;x&gt;"));
});
