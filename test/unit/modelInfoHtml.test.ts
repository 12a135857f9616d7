// The Show Model Info page (pure HTML rendering) on a real fixture model and on hostile metadata.
import assert from "node:assert/strict";
import { test } from "node:test";
import { summarizeGguf } from "../../src/core/gguf/ggufModelSummary";
import { parseGgufBytes, readGgufFile } from "../../src/core/gguf/ggufReader";
import { escapeHtml, renderModelInfoHtml } from "../../src/vscode/modelInfoHtml";
import { ensureFixtureModel } from "../fixtures/fixtureModels";
import { tinyGgufBytes } from "./storeTestFiles";

const security = { cspSource: "https://webview.example", nonce: "bm9uY2U=" };

test("the fixture model's page: summary, hyper-parameters, long arrays cut, tensors, strict CSP", async () => {
  const file = await readGgufFile(await ensureFixtureModel("tiny-qwen2-coder"));
  const summary = summarizeGguf(file);
  const html = renderModelInfoHtml({ title: "tiny", location: "Models folder · x", summary, parts: [file], displayPaths: [file.path] }, security);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src https:\/\/webview\.example &#39;nonce-bm9uY2U=&#39;/);
  assert.doesNotMatch(html, /<script/i, "the page needs no script");
  assert.match(html, /<style nonce="bm9uY2U=">/);
  assert.match(html, /<th scope="row">Architecture<\/th><td>qwen2<\/td>/);
  assert.match(html, /<th scope="row">Vocabulary<\/th><td>151,\d{3}<\/td>/);
  // {arch}.* keys without the prefix under Hyper-parameters.
  assert.match(html, /<th scope="row">context_length<\/th>/);
  // tokenizer.ggml.tokens: count first, then only a few values.
  assert.match(html, /<span class="count">\[151,\d{3} strings\]<\/span> first: /);
  assert.ok(html.length < 2_000_000, `page is ${html.length} characters: long arrays must not be written out in full`);
  for (const tensor of file.tensors) assert.ok(html.includes(`<code>${tensor.name}</code>`), tensor.name);
  const embedding = file.tensors.find((tensor) => tensor.name === "token_embd.weight");
  assert.ok(embedding);
  assert.ok(html.includes(`<code>token_embd.weight</code></td><td class="num">${embedding.dims.join(" × ")}</td>`), "shape in ggml order");
});

test("metadata from the file is escaped, long strings fold without script", () => {
  const hostile = "<img src=x onerror=alert(1)>&\"'";
  const bytes = tinyGgufBytes({
    name: hostile,
    extraMetadata: [
      ["tokenizer.chat_template", { type: "string", value: `{% for m in messages %}<script>alert(1)</script>\n${"x".repeat(500)}` }],
      [`evil.<b>key</b>`, { type: "array", itemType: "string", values: ["<i>a</i>", "b"] }],
    ],
  });
  const file = parseGgufBytes(bytes, "/models/evil.gguf");
  const summary = summarizeGguf(file);
  const html = renderModelInfoHtml({ title: summary.name ?? "x", location: "<loc>", summary, parts: [file], displayPaths: ["/models/<evil>.gguf"] }, security);
  assert.ok(!html.includes(hostile), "raw metadata never reaches the page");
  assert.ok(!html.includes("<script>"));
  assert.ok(!html.includes("<b>key</b>"));
  assert.ok(!html.includes("<i>a</i>"));
  assert.ok(!html.includes("<loc>"));
  assert.ok(html.includes(escapeHtml(hostile)));
  assert.match(html, /<details><summary>/);
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
});
