// The local hub speaks the Hub API as the real client (@huggingface/hub) reads it: search paging, model info, the
// tree with LFS sha256s (paged), resolve's 302 + headers, Range, and the Hub's error headers.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import { fileDownloadInfo, listFiles, listModels, modelInfo } from "@huggingface/hub";
import { listHubRepoFiles } from "../../src/core/hub/hubRepoFiles";
import { HubAccessError, HubNotFoundError } from "../../src/core/hub/hubErrors";
import { fixtureHubRepoSources, startLocalHub, type LocalHub } from "../fixtures/localHub";

const REPO = "slm-lab-fixtures/small-GGUF";
let hub: LocalHub;

before(async () => {
  hub = await startLocalHub({ repos: await fixtureHubRepoSources(["tiny-llama-spm"]), treePageSize: 2, tokens: { hf_reader: { access: ["slm-lab-fixtures/private-GGUF"] } } });
});

after(async () => {
  await hub.close();
});

test("search pages with Link: rel=\"next\" and the cursor, sorted and filtered like the Hub", async () => {
  const ids: string[] = [];
  let url: string | undefined = `${hub.endpoint}/api/models?search=filler&sort=downloads&direction=-1&limit=5`;
  let pages = 0;
  while (url !== undefined) {
    const response: Response = await fetch(url);
    assert.equal(response.status, 200);
    const page = (await response.json()) as { id: string; downloads: number }[];
    ids.push(...page.map((model) => model.id));
    pages++;
    url = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get("link") ?? "")?.[1];
  }
  assert.equal(pages, 3);
  assert.equal(ids.length, 12);
  assert.equal(ids[0], "slm-lab-fixtures/filler-11-GGUF");
  assert.equal(ids.at(-1), "slm-lab-fixtures/filler-00-GGUF");

  // The real client: owner, tags (filter) and a private repo hidden without a token.
  const names: string[] = [];
  for await (const model of listModels({ hubUrl: hub.endpoint, search: { owner: "slm-lab-fixtures", tags: ["gguf"] }, sort: "downloads" })) names.push(model.name);
  assert.ok(names.includes("slm-lab-fixtures/tiny-llama-spm-GGUF"));
  assert.ok(names.includes("slm-lab-fixtures/gated-GGUF"));
  assert.ok(!names.includes("slm-lab-fixtures/private-GGUF"));
  const withToken: string[] = [];
  for await (const model of listModels({ hubUrl: hub.endpoint, search: { query: "private" }, accessToken: "hf_reader" })) withToken.push(model.name);
  assert.deepEqual(withToken, ["slm-lab-fixtures/private-GGUF"]);
});

test("model info and the tree (paged) through @huggingface/hub, with lfs.oid = sha256", async () => {
  const info = await modelInfo({ hubUrl: hub.endpoint, name: REPO, additionalFields: ["sha", "tags", "library_name"] });
  assert.equal(info.name, REPO);
  assert.equal(info.sha, hub.repos.get(REPO)?.commit);
  assert.equal(info.gated, false);

  const entries = [];
  for await (const entry of listFiles({ hubUrl: hub.endpoint, repo: REPO, recursive: true, expand: true })) entries.push(entry);
  assert.deepEqual(
    entries.filter((entry) => entry.type === "directory").map((entry) => entry.path),
    ["sub", "sub/dir"],
  );
  const gguf = entries.find((entry) => entry.path === "small-Q4_0.gguf");
  const served = hub.file(REPO, "small-Q4_0.gguf");
  assert.deepEqual(gguf?.lfs, { oid: served.sha256, size: served.size, pointerSize: served.pointerSize });
  const config = entries.find((entry) => entry.path === "config.json");
  assert.equal(config?.lfs, undefined);
  const configBytes = Buffer.from(hub.file(REPO, "config.json").content ?? new Uint8Array());
  assert.equal(config?.oid, createHash("sha1").update(`blob ${configBytes.length}\0`).update(configBytes).digest("hex"));

  // Not recursive: the top level only.
  const top = [];
  for await (const entry of listFiles({ hubUrl: hub.endpoint, repo: REPO })) top.push(entry.path);
  assert.ok(top.includes("sub") && !top.includes("sub/dir/extra-Q5_1.gguf"));

  const files = await listHubRepoFiles({ endpoint: hub.endpoint, repo: REPO });
  assert.equal(files.find((file) => file.path === "sub/dir/extra-Q5_1.gguf")?.sha256, hub.file(REPO, "sub/dir/extra-Q5_1.gguf").sha256);
});

test("resolve: HEAD answers 302 with X-Linked-Size/X-Linked-ETag/X-Repo-Commit; the CDN honours Range", async () => {
  const served = hub.file(REPO, "small-Q4_0.gguf");
  const head = await fetch(`${hub.endpoint}/${REPO}/resolve/main/small-Q4_0.gguf`, { method: "HEAD", redirect: "manual" });
  assert.equal(head.status, 302);
  assert.equal(head.headers.get("x-linked-size"), String(served.size));
  assert.equal(head.headers.get("x-linked-etag"), `"${served.sha256}"`);
  assert.equal(head.headers.get("x-repo-commit"), hub.repos.get(REPO)?.commit);
  const cdn = head.headers.get("location") ?? "";

  const partial = await fetch(cdn, { headers: { Range: "bytes=100-199" } });
  assert.equal(partial.status, 206);
  assert.equal(partial.headers.get("content-range"), `bytes 100-199/${served.size}`);
  assert.equal(partial.headers.get("accept-ranges"), "bytes");
  assert.deepEqual(Buffer.from(await partial.arrayBuffer()), Buffer.from(served.content?.subarray(100, 200) ?? new Uint8Array()));

  const beyond = await fetch(cdn, { headers: { Range: `bytes=${served.size}-` } });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers.get("content-range"), `bytes */${served.size}`);

  // The real client's file info (it asks bytes=0-0 and follows the redirect).
  const info = await fileDownloadInfo({ hubUrl: hub.endpoint, repo: REPO, path: "small-Q4_0.gguf" });
  assert.ok(info);
  assert.equal(info.size, served.size);
  assert.equal(info.etag, `"${served.sha256}"`);

  // A regular file comes directly, its ETag the git blob id.
  const config = await fetch(`${hub.endpoint}/${REPO}/resolve/main/config.json`, { method: "HEAD", redirect: "manual" });
  assert.equal(config.status, 200);
  assert.equal(config.headers.get("etag"), `"${hub.file(REPO, "config.json").gitOid}"`);
});

test("errors carry the Hub's X-Error-Code and X-Error-Message and a JSON body", async () => {
  const cases: [string, number, string][] = [
    [`/${REPO}/resolve/main/missing.gguf`, 404, "EntryNotFound"],
    [`/slm-lab-fixtures/none/resolve/main/a.gguf`, 401, "RepoNotFound"],
    [`/slm-lab-fixtures/gated-GGUF/resolve/main/small-Q4_0.gguf`, 401, "GatedRepo"],
    [`/slm-lab-fixtures/private-GGUF/resolve/main/small-Q4_0.gguf`, 401, "RepoNotFound"],
    [`/${REPO}/resolve/nobranch/config.json`, 404, "RevisionNotFound"],
  ];
  for (const [requestPath, status, code] of cases) {
    const response = await fetch(`${hub.endpoint}${requestPath}`, { redirect: "manual" });
    assert.equal(response.status, status, requestPath);
    assert.equal(response.headers.get("x-error-code"), code, requestPath);
    assert.ok((response.headers.get("x-error-message") ?? "") !== "");
    assert.equal(typeof ((await response.json()) as { error?: unknown }).error, "string");
  }
  const limited = hub.addFault({ stage: "api", status: 429, retryAfterSeconds: 7, times: 1 });
  const response = await fetch(`${hub.endpoint}/api/models`);
  assert.equal(response.status, 429);
  assert.equal(response.headers.get("retry-after"), "7");
  assert.equal(limited.times, 0);
});

test("listing a missing, private or refused repo gives our typed errors", async () => {
  await assert.rejects(listHubRepoFiles({ endpoint: hub.endpoint, repo: "slm-lab-fixtures/none" }), HubNotFoundError);
  await assert.rejects(listHubRepoFiles({ endpoint: hub.endpoint, repo: "slm-lab-fixtures/private-GGUF" }), HubNotFoundError);
  await assert.rejects(listHubRepoFiles({ endpoint: hub.endpoint, repo: REPO, token: "hf_bad" }), HubAccessError);
  const files = await listHubRepoFiles({ endpoint: hub.endpoint, repo: "slm-lab-fixtures/private-GGUF", token: "hf_reader" });
  assert.ok(files.some((file) => file.path === "small-Q4_0.gguf"));
});
