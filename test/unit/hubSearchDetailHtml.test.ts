// The Hub model detail and comparison pages: strict CSP without script, everything from the Hub escaped (a card's
// <script> shows as text), the facts, memory with fit labels, and files a person needs to choose a download.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { getHubModelDetails, type HubModelDetails } from "../../src/core/hub/hubModelDetails";
import { renderCardMarkdown, renderHubModelDetailHtml } from "../../src/vscode/hubModelDetailHtml";
import { renderModelComparisonHtml, smallestWeights } from "../../src/vscode/modelComparisonHtml";
import { searchFixtureHubRepoSources, SEARCH_FIXTURE_ORG, startLocalHub, type LocalHub } from "../fixtures/localHub";

const GiB = 1024 ** 3;
const machine = { totalMemoryBytes: 8 * GiB, freeMemoryBytes: 3 * GiB };
const security = { cspSource: "vscode-webview://test", nonce: "bm9uY2U=" };
let hub: LocalHub;
let qwen: HubModelDetails;
let phi: HubModelDetails;

before(async () => {
  hub = await startLocalHub({ repos: await searchFixtureHubRepoSources() });
  qwen = await getHubModelDetails({ endpoint: hub.endpoint, repo: `${SEARCH_FIXTURE_ORG}/Qwen2.5-Coder-0.5B-Instruct-GGUF`, machine });
  phi = await getHubModelDetails({ endpoint: hub.endpoint, repo: `${SEARCH_FIXTURE_ORG}/Phi-4-mini-instruct`, machine });
});
after(async () => {
  await hub.close();
});

/** The page's text without tags, whitespace collapsed. */
const text = (html: string): string => html.replace(/<style[\s\S]*?<\/style>/, "").replace(/<[^>]+>/g, " ").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&#39;/g, "'").replace(/\s+/g, " ");

test("detail page: CSP without scripts, the card's script escaped, facts, memory per quantization with fit, files", () => {
  const html = renderHubModelDetailHtml(qwen, machine, hub.endpoint, security);
  assert.match(html, /Content-Security-Policy" content="default-src &#39;none&#39;; style-src vscode-webview:\/\/test &#39;nonce-bm9uY2U=&#39;/);
  assert.ok(!/<script/i.test(html), "no script element");
  assert.ok(html.includes("&lt;script&gt;alert(&#39;card scripts must not run&#39;)&lt;/script&gt;"));
  const page = text(html);
  for (const needle of ["Parameters 494M (494,032,768, from the Hub's gguf metadata)", "License apache-2.0", "Context length 32,768 tokens (from config.json)", "Base model Qwen/Qwen2.5-Coder-0.5B-Instruct", "qwen2.5-coder-0.5b-instruct-q8_0.gguf", "fits", "Estimated for 4,096 tokens"]) {
    assert.ok(page.includes(needle), `page has "${needle}"`);
  }
  assert.match(page, /Q8_0 96\.0 KiB/);
  const quantizations = /Quantizations ([\w, ]+?) Base model/.exec(page)?.[1]?.split(", ").sort();
  assert.deepEqual(quantizations, ["F16", "Q4_0", "Q5_1", "Q8_0"]);
  // The card is rendered: its heading (demoted below the page's own) and its code block.
  assert.match(html, /<h3>Qwen2.5-Coder-0.5B-Instruct GGUF<\/h3>/);
  assert.match(html, /<pre><code>llama-cli -m qwen2.5-coder-0.5b-instruct-q4_0.gguf<\/code><\/pre>/);
});

test("detail page of a safetensors model too big for the machine says so and what to do", () => {
  const page = text(renderHubModelDetailHtml(phi, machine, hub.endpoint, security));
  assert.match(page, /safetensors, unquantized \(16-bit\).*too big/);
  assert.match(page, /pick a smaller quantization or a shorter context/);
  assert.match(page, /none published \(quantize the safetensors weights yourself\)/);
});

test("comparison page: one column per model, failures named, smallest weights and fit", () => {
  const html = renderModelComparisonHtml([qwen, phi, { id: "x/missing", error: "No such repo 'x/missing'" }], machine, security);
  assert.ok(!/<script/i.test(html));
  const page = text(html);
  assert.match(page, /Parameters 494M 3\.84B —/);
  assert.match(page, /License apache-2\.0 mit —/);
  assert.match(page, /Context length 32,768 tokens 131,072 tokens —/);
  assert.match(page, /Downloads 52,000 240,000 —/);
  assert.match(page, /No such repo 'x\/missing'/);
  assert.equal(smallestWeights(qwen)?.label, "GGUF Q4_0");
  assert.equal(smallestWeights(phi)?.label, "safetensors (16-bit)");
});

test("card Markdown subset: lists, emphasis, links as text, raw HTML escaped", () => {
  const html = renderCardMarkdown("Intro **bold** and *it* and `x<y`\n\n- one\n- [two](https://example.com)\n\n1. first\n\n<img src=x onerror=alert(1)>");
  assert.equal(
    html,
    [
      "<p>Intro <b>bold</b> and <i>it</i> and <code>x&lt;y</code></p>",
      '<ul><li>one</li><li>two <span class="muted">(https://example.com)</span></li></ul>',
      "<ol><li>first</li></ol>",
      "<p>&lt;img src=x onerror=alert(1)&gt;</p>",
    ].join("\n"),
  );
});
