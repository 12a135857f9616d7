import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { HubNetworkError, HubNotFoundError } from "../../src/core/hub/hubErrors";
import { getHubModelDetails, quantizationOfFileName, stripFrontMatter } from "../../src/core/hub/hubModelDetails";
import { HubSearchCursorError, parameterCountFromName, searchHub, type HubSearchPage, type HubSearchRequest } from "../../src/core/hub/hubSearch";
import { searchFixtureHubRepoSources, SEARCH_FIXTURE_ORG, startLocalHub, type LocalHub } from "../fixtures/localHub";
import type { LocalHubRepoSource } from "../fixtures/localHubRepos";

let hub: LocalHub;
let sources: LocalHubRepoSource[] = [];
const GiB = 1024 ** 3;

before(async () => {
  sources = await searchFixtureHubRepoSources();
  hub = await startLocalHub({ repos: sources });
});
after(async () => {
  await hub.close();
});

const search = (request: Omit<HubSearchRequest, "endpoint">): Promise<HubSearchPage> => searchHub({ endpoint: hub.endpoint, ...request });
const ids = (page: HubSearchPage): string[] => page.results.map((result) => result.id.slice(SEARCH_FIXTURE_ORG.length + 1));

/** Every page of a search, following the cursors. */
async function allPages(request: Omit<HubSearchRequest, "endpoint">): Promise<HubSearchPage[]> {
  const pages: HubSearchPage[] = [];
  let cursor: string | undefined;
  do {
    const page = await search({ ...request, ...(cursor === undefined ? {} : { cursor }) });
    pages.push(page);
    cursor = page.nextCursor;
  } while (cursor !== undefined && pages.length < 20);
  return pages;
}

test("query, default sort by downloads (descending), fields from the Hub's metadata", async () => {
  const page = await search({ query: "coder" });
  assert.deepEqual(ids(page).slice(0, 2), ["Qwen2.5-Coder-0.5B-Instruct-GGUF", "coder-6-1.5B-GGUF"]);
  assert.equal(page.results.length, 8);
  const qwen = page.results[0];
  assert.ok(qwen !== undefined);
  assert.deepEqual(
    [qwen.downloads, qwen.likes, qwen.license, qwen.task, qwen.library, qwen.parameterCount, qwen.parameterSource, qwen.sizeClass, qwen.formats, qwen.contextLength],
    [52_000, 140, "apache-2.0", "text-generation", "gguf", 494_032_768, "gguf", "micro", ["gguf"], 32_768],
  );
  assert.equal(qwen.lastModified, "2025-02-10T08:00:00.000Z");
  // The request asked for the extra fields (and gguf, which listModels' types lack).
  const request = hub.requests.find((entry) => entry.path.startsWith("/api/models?"));
  assert.ok(request !== undefined);
  for (const field of ["safetensors", "tags", "library_name", "gguf"]) assert.ok(request.path.includes(`expand=${field}`), request.path);
});

test("filters: format, license, task, library; parameters from safetensors", async () => {
  assert.deepEqual(ids(await search({ format: "safetensors", sort: "likes" })), ["all-MiniLM-L6-v2", "Llama-3.2-1B-Instruct", "Phi-4-mini-instruct", "SmolLM2-135M-Instruct"]);
  const mit = await search({ license: "MIT" });
  assert.deepEqual(ids(mit), ["Phi-4-mini-instruct"]);
  assert.deepEqual([mit.results[0]?.parameterCount, mit.results[0]?.parameterSource, mit.results[0]?.sizeClass], [3_836_021_760, "safetensors", "small"]);
  assert.deepEqual(ids(await search({ task: "sentence-similarity" })), ["all-MiniLM-L6-v2"]);
  assert.deepEqual(ids(await search({ library: "transformers", format: "safetensors", license: "llama3.2" })), ["Llama-3.2-1B-Instruct"]);
  const gated = (await search({ query: "Llama" })).results[0];
  assert.equal(gated?.gated, "manual");
  assert.deepEqual(ids(await search({ query: "no-such-model-anywhere" })), []);
});

test("sorts: likes and recently updated, both descending", async () => {
  const byLikes = await search({ sort: "likes", pageSize: 100 });
  const likes = byLikes.results.map((result) => result.likes);
  assert.deepEqual(likes, [...likes].sort((a, b) => b - a));
  const byDate = await search({ sort: "lastModified", pageSize: 100 });
  assert.equal(byDate.results[0]?.id, `${SEARCH_FIXTURE_ORG}/gemma-3-27b-it-GGUF`);
  const dates = byDate.results.map((result) => result.lastModified);
  assert.deepEqual(dates, [...dates].sort().reverse());
});

test("paging follows the Hub's Link cursor: every model once, the last page has no cursor", async () => {
  const before = hub.requests.length;
  const pages = await allPages({ pageSize: 5 });
  assert.deepEqual(pages.map((page) => page.results.length), [5, 5, 3]);
  const seen = pages.flatMap((page) => page.results.map((result) => result.id));
  assert.equal(new Set(seen).size, sources.length);
  assert.deepEqual([...seen].sort(), sources.map((source) => source.id).sort());
  assert.equal(pages.at(-1)?.nextCursor, undefined);
  const paths = hub.requests.slice(before).map((entry) => entry.path);
  assert.equal(paths.length, 3, "one request per page");
  assert.ok(paths[1]?.includes("cursor=5") === true && paths[2]?.includes("cursor=10") === true, paths.join("\n"));
  assert.ok(paths.every((entry) => entry.includes("limit=5")), "the next pages keep the query");
});

test("size class filter: applied to the Hub's parameter counts (or the name), reading more Hub pages to fill a page", async () => {
  const micro = await allPages({ sizeClass: "micro", pageSize: 3 });
  assert.deepEqual(micro.flatMap(ids).sort(), ["Llama-3.2-1B-Instruct", "Qwen2.5-Coder-0.5B-Instruct-GGUF", "SmolLM2-135M-Instruct"]);
  const small = await allPages({ sizeClass: "small", format: "gguf", pageSize: 4 });
  const smallIds = small.flatMap(ids);
  assert.equal(smallIds.length, 7);
  assert.ok(smallIds.every((id) => id.startsWith("coder-")));
  const fromName = small.flatMap((page) => page.results).find((result) => result.id.endsWith("coder-5-1.5B-GGUF"));
  assert.deepEqual([fromName?.parameterCount, fromName?.parameterSource], [1.5e9, "name"]);
  assert.deepEqual(ids(await search({ sizeClass: "medium" })), ["gemma-3-27b-it-GGUF"]);
  // all-MiniLM (22.7M) is below every class.
  assert.ok(!(await allPages({ sizeClass: "micro", pageSize: 50 })).flatMap(ids).includes("all-MiniLM-L6-v2"));
});

test("parameter counts named in repo ids", () => {
  assert.deepEqual(
    ["Qwen/Qwen2.5-0.5B-Instruct", "HuggingFaceTB/SmolLM2-135M", "x/Llama-3.1-8B", "x/phi-2", "x/model-v2"].map(parameterCountFromName),
    [0.5e9, 135e6, 8e9, undefined, undefined],
  );
});

test("a cursor pointing elsewhere is refused; Hub errors are typed", async () => {
  await assert.rejects(search({ cursor: "http://evil.example/api/models?cursor=5" }), HubSearchCursorError);
  await assert.rejects(search({ cursor: `${hub.endpoint}/api/whoami` }), HubSearchCursorError);
  hub.addFault({ stage: "api", status: 429, retryAfterSeconds: 1, times: 1 });
  await assert.rejects(search({ query: "coder" }), (error: unknown) => error instanceof HubNetworkError && error.message.includes("429"));
  hub.clearFaults();
  const invalid = searchHub({ endpoint: hub.endpoint, token: "hf_not_a_valid_token" });
  await assert.rejects(invalid, /token was refused/);
});

test("file names to quantizations", () => {
  assert.deepEqual(
    ["qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "gemma-3-27b-it-Q8_0-00001-of-00002.gguf", "Model.IQ2_XXS.gguf", "model-bf16.gguf", "sub/x-F16.gguf", "model.gguf"].map(quantizationOfFileName),
    ["Q4_K_M", "Q8_0", "IQ2_XXS", "BF16", "F16", undefined],
  );
  assert.equal(stripFrontMatter("---\nlicense: mit\n---\n\n# Title\n"), "# Title\n");
});

test("model details: card, files, quantizations, context, memory and fit on a given machine", async () => {
  const repo = `${SEARCH_FIXTURE_ORG}/Qwen2.5-Coder-0.5B-Instruct-GGUF`;
  const details = await getHubModelDetails({ endpoint: hub.endpoint, repo, machine: { totalMemoryBytes: 16 * GiB }, contextSize: 4096 });
  assert.deepEqual([details.license, details.task, details.library, details.parameterCount, details.architecture], ["apache-2.0", "text-generation", "gguf", 494_032_768, "qwen2"]);
  assert.deepEqual([details.contextLength, details.contextSource, details.memoryContextSize, details.baseModel], [32_768, "config.json", 4096, "Qwen/Qwen2.5-Coder-0.5B-Instruct"]);
  assert.match(details.card ?? "", /^# Qwen2.5-Coder-0.5B-Instruct GGUF/);
  assert.equal(details.cardProblem, undefined);
  assert.deepEqual(details.quantizations.map((quant) => quant.type).sort(), ["F16", "Q4_0", "Q5_1", "Q8_0"]);
  const q8 = details.quantizations.find((quant) => quant.type === "Q8_0");
  assert.equal(q8?.sizeBytes, hub.file(repo, "qwen2.5-coder-0.5b-instruct-q8_0.gguf").size);
  // Qwen2.5-0.5B's shape at 4096 tokens: 2 × 24 layers × 2 KV heads × 64 × 4096 × 2 bytes = 48 MiB of KV cache.
  assert.equal(q8.memory.estimate.kvCacheBytes, 48 * 1024 ** 2);
  assert.equal(q8.memory.fit?.label, "fits");
  assert.equal(details.files.length, 7);
  assert.equal(details.totalBytes, details.files.reduce((sum, file) => sum + file.size, 0));
  assert.deepEqual(details.formats, ["gguf"]);
});

test("model details: split GGUF quantizations, a gated repo's card explains what to do, a safetensors repo's unquantized need", async () => {
  const gemma = await getHubModelDetails({ endpoint: hub.endpoint, repo: `${SEARCH_FIXTURE_ORG}/gemma-3-27b-it-GGUF`, machine: { totalMemoryBytes: 8 * GiB } });
  const q8 = gemma.quantizations.find((quant) => quant.type === "Q8_0");
  assert.equal(q8?.files.length, 2);
  assert.equal(gemma.gated, "manual");
  assert.match(gemma.cardProblem ?? "", /gated.*accept the license/is);
  assert.deepEqual([gemma.contextLength, gemma.contextSource, gemma.sizeClass], [131_072, "gguf", "medium"]);

  const phi = await getHubModelDetails({ endpoint: hub.endpoint, repo: `${SEARCH_FIXTURE_ORG}/Phi-4-mini-instruct`, machine: { totalMemoryBytes: 8 * GiB } });
  assert.deepEqual([phi.license, phi.contextLength, phi.formats, phi.quantizations.length], ["mit", 131_072, ["safetensors"], 0]);
  // 3.84B parameters at 16 bits are 7.7 GB of weights: too big for 8 GiB of RAM.
  assert.equal(phi.safetensors?.memory.estimate.weightsBytes, 3_836_021_760 * 2);
  assert.equal(phi.safetensors.memory.fit?.label, "too-big");
  await assert.rejects(getHubModelDetails({ endpoint: hub.endpoint, repo: `${SEARCH_FIXTURE_ORG}/missing` }), HubNotFoundError);
});
