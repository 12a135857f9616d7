// The pure parts of the inline completion provider (src/vscode/completion/*, those without a `vscode` import):
// request building within budgets, language switches, status bar words, engine configuration from settings, the
// model picker's order, and that the settings which decide where code goes are user-only and machine-scoped.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { estimateTokens } from "../../src/core/completion/contextWindow";
import { ExtraContextRing } from "../../src/core/completion/extraContext";
import type { StoredModel } from "../../src/core/store/storedModel";
import { engineConfigFor, engineConfigKey, type CompletionEngineSettings } from "../../src/vscode/completion/completionEngineConfig";
import { completionModelCandidates } from "../../src/vscode/completion/completionModelChoice";
import { buildCompletionRequest, completionBudgets, maxCharsAround } from "../../src/vscode/completion/completionRequestBuilder";
import { completionStatusView, errorSummary, tokensPerSecond } from "../../src/vscode/completion/completionStatus";
import { isLanguageEnabled, withLanguage } from "../../src/vscode/completion/languageEnablement";
import { SETTINGS_SECTION, SettingKey } from "../../src/vscode/contributionIds";
import { SETTING_SPECS, USER_ONLY_SETTINGS, validateSetting } from "../../src/vscode/settingsSchema";

const root = path.resolve(__dirname, "..", "..");

describe("request building", () => {
  test("budgets share the context: generation first, then prefix > extra context > suffix, within the context", () => {
    const budgets = completionBudgets(4096, 64);
    assert.ok(budgets.prefixTokens > budgets.extraContextTokens && budgets.extraContextTokens > budgets.suffixTokens);
    assert.ok(budgets.prefixTokens + budgets.suffixTokens + budgets.extraContextTokens + 64 <= 4096);
    assert.deepEqual(completionBudgets(100, 200), { prefixTokens: 0, suffixTokens: 0, extraContextTokens: 0 });
  });

  test("a cursor in a huge file gets windows within budget, prefix ending and suffix starting at the cursor", () => {
    const lines = Array.from({ length: 20_000 }, (_, index) => `  const value${index} = compute(${index}, "text");`);
    const text = lines.join("\n");
    const cursorOffset = text.indexOf("const value10000") + "const value10000 = ".length;
    const { request, window } = buildCompletionRequest({ text, cursorOffset, languageId: "typescript", filePath: "src/a.ts", contextSize: 2048, maxTokens: 64 });
    const budgets = completionBudgets(2048, 64);
    assert.ok(estimateTokens(request.prefix) <= budgets.prefixTokens, `prefix ${estimateTokens(request.prefix)} tokens`);
    assert.ok(estimateTokens(request.suffix) <= budgets.suffixTokens, `suffix ${estimateTokens(request.suffix)} tokens`);
    assert.ok(text.slice(0, cursorOffset).endsWith(request.prefix));
    assert.ok(text.slice(cursorOffset).startsWith(request.suffix));
    assert.equal(window.prefixStart + request.prefix.length, cursorOffset);
    assert.equal(request.mode, "single-line", "mid-line: finish the line");
    assert.equal(request.maxTokens, 64);
  });

  test("a minified line longer than the budget is cut, and the budget holds", () => {
    const minified = `var a=${"f(1,2),".repeat(200_000)}0;`;
    const cursorOffset = Math.floor(minified.length / 2);
    const { request } = buildCompletionRequest({ text: minified, cursorOffset, languageId: "javascript", filePath: "min.js", contextSize: 4096, maxTokens: 64 });
    const budgets = completionBudgets(4096, 64);
    assert.ok(request.prefix.length > 0 && estimateTokens(request.prefix) <= budgets.prefixTokens);
    assert.ok(estimateTokens(request.suffix) <= budgets.suffixTokens);
    assert.ok(maxCharsAround(4096, 64) >= request.prefix.length, "the reach a caller slices to covers the window");
  });

  test("multi-line at an empty line inside a block; a slice of the document with its first line gives the same request", () => {
    const text = "function add(a, b) {\n  \n}\n";
    const cursorOffset = text.indexOf("  \n") + 2;
    const whole = buildCompletionRequest({ text, cursorOffset, languageId: "javascript", filePath: "add.js", contextSize: 4096, maxTokens: 32, timeBudgetMs: 500, repoName: "demo" });
    assert.equal(whole.request.mode, "multi-line");
    assert.equal(whole.request.timeBudgetMs, 500);
    assert.equal(whole.request.repoName, "demo");
    const sliceStart = text.indexOf("\n") + 1;
    const slice = buildCompletionRequest({ text: text.slice(sliceStart), cursorOffset: cursorOffset - sliceStart, firstLine: 1, languageId: "javascript", filePath: "add.js", contextSize: 4096, maxTokens: 32 });
    assert.equal(slice.request.suffix, whole.request.suffix);
    assert.equal(slice.mode, "multi-line");
  });

  test("extra context: most recent last, without chunks overlapping the current window, within its budget", () => {
    const ring = new ExtraContextRing({ maxChunks: 8 });
    ring.add({ filePath: "src/old.ts", startLine: 0, endLine: 2, text: "export const old = 1;\nexport const older = 2;" });
    ring.add({ filePath: "src/a.ts", startLine: 0, endLine: 3, text: "line one\nline two\nline three" });
    ring.add({ filePath: "src/new.ts", startLine: 10, endLine: 12, text: "export function recent() {}\n" });
    ring.add({ filePath: "src/huge.ts", startLine: 0, endLine: 1, text: "x".repeat(100_000) });
    const text = "line one\nline two\nline three\n";
    const { request } = buildCompletionRequest({ text, cursorOffset: 4, languageId: "typescript", filePath: "src/a.ts", contextSize: 4096, maxTokens: 64, extraContext: ring });
    assert.deepEqual(request.extraContext.map((file) => file.filePath), ["src/old.ts", "src/new.ts"]);
  });
});

describe("language switches", () => {
  test("own entry, else \"*\", else on", () => {
    const switches = { "*": true, markdown: false };
    assert.equal(isLanguageEnabled(switches, "typescript"), true);
    assert.equal(isLanguageEnabled(switches, "markdown"), false);
    assert.equal(isLanguageEnabled({ "*": false, python: true }, "python"), true);
    assert.equal(isLanguageEnabled({ "*": false, python: true }, "go"), false);
    assert.equal(isLanguageEnabled({}, "go"), true);
    assert.equal(isLanguageEnabled(withLanguage(switches, "typescript", false), "typescript"), false);
    // Names that are Object.prototype members are ordinary language ids.
    assert.equal(isLanguageEnabled({ "*": true }, "constructor"), true);
  });

  test("the setting validates to booleans only, reporting the rest", () => {
    const spec = SETTING_SPECS.completionLanguages;
    assert.deepEqual(validateSetting(spec, { "*": true, go: false }), { value: { "*": true, go: false } });
    const mixed = validateSetting(spec, { "*": true, go: "no" });
    assert.deepEqual(mixed.value, { "*": true });
    assert.match(mixed.problem ?? "", /"go" must be true or false/);
    assert.deepEqual(validateSetting(spec, ["go"]).value, spec.default);
    assert.deepEqual(validateSetting(spec, "go").value, spec.default);
  });
});

describe("status bar words", () => {
  test("each state says what is going on and what a click does", () => {
    assert.match(completionStatusView({ state: "off" }).text, /SLM/);
    const noModel = completionStatusView({ state: "no-model" });
    assert.equal(noModel.text, "$(warning) SLM: no model");
    assert.match(noModel.tooltip, /pick one/i);
    assert.equal(noModel.severity, "warning");
    assert.match(completionStatusView({ state: "no-endpoint", engine: "ollama" }).tooltip, /slmLab\.completion\.endpoint/);
    assert.match(completionStatusView({ state: "loading", engine: "local", model: "coder-q4_0" }).text, /loading~spin.*coder-q4_0/);
    const ready = completionStatusView({ state: "ready", engine: "local", model: "coder-q4_0", lastLatencyMs: 231.4, tokensPerSecond: 48.6 });
    assert.equal(ready.text, "$(sparkle) SLM coder-q4_0 · 231 ms · 49 tok/s");
    assert.equal(completionStatusView({ state: "ready", engine: "local", model: "m", lastLatencyMs: 2, fromCache: true, tokensPerSecond: 5 }).text, "$(sparkle) SLM m · cached");
    assert.match(completionStatusView({ state: "ready", engine: "local", model: "m" }).tooltip, /No suggestion yet/);
    const error = completionStatusView({ state: "error", engine: "llama-server", model: "h:1", summary: "endpoint down", message: "connect ECONNREFUSED", action: "Start llama-server." });
    assert.equal(error.text, "$(error) SLM: endpoint down");
    assert.match(error.tooltip, /ECONNREFUSED\nStart llama-server\./);
    assert.equal(error.severity, "error");
  });

  test("error summaries and tok/s", () => {
    assert.equal(errorSummary("fetch failed: connect ECONNREFUSED 127.0.0.1:9"), "endpoint down");
    assert.equal(errorSummary("Cannot reach the llama-server at http://127.0.0.1:9: fetch failed."), "endpoint down");
    assert.equal(errorSummary("The Ollama completion engine needs a model name."), "no model name");
    assert.equal(errorSummary("no answer within 8.0 s (timed out)"), "endpoint slow");
    assert.equal(errorSummary("Cannot use /m.gguf for completions: not a GGUF file (bad magic)"), "model unreadable");
    assert.equal(errorSummary("The server answered with something that is not JSON"), "bad answer");
    assert.equal(errorSummary("something else"), "error");
    assert.equal(tokensPerSecond(11, 600, 100), 20);
    assert.equal(completionStatusView({ state: "ready", engine: "local", model: "m", lastLatencyMs: 24_200, tokensPerSecond: 0.29 }).text, "$(sparkle) SLM m · 24.2 s · 0.29 tok/s");
    assert.equal(tokensPerSecond(10, 1000, undefined), 10);
    assert.equal(tokensPerSecond(1, 50, 50), undefined);
    assert.equal(tokensPerSecond(0, 0, undefined), undefined);
  });
});

describe("engine configuration", () => {
  const base: CompletionEngineSettings = { engine: "local", model: "", endpoint: "", endpointModel: "", contextSize: 4096, threads: 2, gpuLayers: "auto" };

  test("local: no model → no-model; a model → its config with explicit threads", () => {
    assert.deepEqual(engineConfigFor(base), { kind: "no-model" });
    const outcome = engineConfigFor({ ...base, model: "/models/a/qwen2.5-coder-0.5b-Q4_0.gguf", gpuLayers: 0 });
    assert.equal(outcome.kind, "ok");
    assert.deepEqual(outcome.config, { kind: "local", modelPath: "/models/a/qwen2.5-coder-0.5b-Q4_0.gguf", threads: 2, contextSize: 4096, gpuLayers: 0 });
    assert.equal(outcome.modelLabel, "qwen2.5-coder-0.5b-Q4_0");
  });

  test("remote: no endpoint → no-endpoint; the API key goes in the config but not in the key's clear text", () => {
    assert.deepEqual(engineConfigFor({ ...base, engine: "ollama" }), { kind: "no-endpoint", engineLabel: "ollama" });
    const outcome = engineConfigFor({ ...base, engine: "openai", endpoint: "http://127.0.0.1:8000", endpointModel: "coder", apiKey: "sk-secret" });
    assert.equal(outcome.kind, "ok");
    assert.deepEqual(outcome.config, { kind: "openai", endpoint: "http://127.0.0.1:8000", model: "coder", apiKey: "sk-secret" });
    assert.doesNotMatch(engineConfigKey(outcome.config), /sk-secret/);
    const other = engineConfigFor({ ...base, engine: "openai", endpoint: "http://127.0.0.1:8000", endpointModel: "coder", apiKey: "sk-other" });
    assert.ok(other.kind === "ok" && engineConfigKey(other.config) !== engineConfigKey(outcome.config), "a new key means a new engine");
    const hostOnly = engineConfigFor({ ...base, engine: "llama-server", endpoint: "http://10.0.0.2:8012" });
    assert.ok(hostOnly.kind === "ok" && hostOnly.modelLabel === "10.0.0.2:8012");
  });
});

describe("settings that decide where code goes", () => {
  test("are read from user settings only and are machine- or application-scoped in package.json", () => {
    const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
      contributes: { configuration: { properties: Record<string, { scope?: string }> } };
    };
    for (const name of ["completionEngine", "completionEndpoint", "completionModel", "completionEndpointModel"] as const) {
      assert.ok(USER_ONLY_SETTINGS.includes(name), `${name} is user-only`);
      const scope = manifest.contributes.configuration.properties[`${SETTINGS_SECTION}.${SettingKey[name]}`]?.scope;
      assert.ok(scope === "machine" || scope === "application", `slmLab.${SettingKey[name]} has scope ${String(scope)}`);
    }
  });
});

describe("completion model picker", () => {
  function model(label: string, sizeBytes: number, extra: Partial<StoredModel> = {}): StoredModel {
    return {
      id: label, source: "models-folder", label, path: `/m/${label}`, files: [], partCount: 0, sizeBytes, relativePath: label,
      repoId: undefined, revision: undefined, summary: undefined, error: undefined, ...extra,
    };
  }

  test("coder models first, smallest first; unreadable models left out", () => {
    const { coder, other } = completionModelCandidates([
      model("llama-3.2-1b-Q4_0.gguf", 700),
      model("qwen2.5-coder-1.5b-Q4_0.gguf", 900),
      model("qwen2.5-coder-0.5b-Q8_0.gguf", 500),
      model("broken-coder.gguf", 10, { error: "truncated" }),
      model("model.gguf", 300, { repoId: "bigcode/starcoder2-3b" }),
    ]);
    assert.deepEqual(coder.map((entry) => entry.label), ["model.gguf", "qwen2.5-coder-0.5b-Q8_0.gguf", "qwen2.5-coder-1.5b-Q4_0.gguf"]);
    assert.deepEqual(other.map((entry) => entry.label), ["llama-3.2-1b-Q4_0.gguf"]);
  });
});
