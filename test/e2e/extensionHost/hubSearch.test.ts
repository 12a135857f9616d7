// Hub search, model details, comparison and Ollama discovery in the real extension host, against a local hub
// (test/fixtures/localHub.ts, in this process) set as `slmLab.hubEndpoint`: the search command fills the Catalog
// view's "Hub search" node, "Load more…" pages, details and comparison read the repos, and an Ollama store written
// here shows up read-only in My Models.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as vscode from "vscode";
import type { HubModelDetails } from "../../../src/core/hub/hubModelDetails";
import type { CatalogViewNode, HubMessageNode, HubResultNode } from "../../../src/vscode/hubSearchTree";
import type { MyModelsModelNode } from "../../../src/vscode/myModelsTree";
import { SEARCH_FIXTURE_ORG, searchFixtureHubRepoSources, startLocalHub } from "../../fixtures/localHub";
import { activateSlmLab } from "./slmLabApi";
import { extensionHostTest } from "./harness";

extensionHostTest("Hub search fills the Catalog view with filters and paging; details, comparison and Ollama discovery work", async () => {
  const slm = await activateSlmLab();
  const scan = await slm.refreshModels();
  const fixture = scan.models.find((model) => model.error === undefined && model.summary !== undefined);
  assert.ok(fixture, "a fixture model is in the models folder");
  const hub = await startLocalHub({ repos: await searchFixtureHubRepoSources({ coderGguf: fixture.path }) });
  const ollama = await mkdtemp(path.join(os.tmpdir(), "slm-lab-ollama-"));
  const configuration = vscode.workspace.getConfiguration("slmLab");
  const previousEndpoint = configuration.inspect<string>("hubEndpoint")?.globalValue;
  const previousScan = configuration.inspect<boolean>("scanHuggingFaceCache")?.globalValue;
  const previousEnv = { OLLAMA_MODELS: process.env["OLLAMA_MODELS"], HF_HUB_CACHE: process.env["HF_HUB_CACHE"] };
  try {
    await configuration.update("hubEndpoint", hub.endpoint, vscode.ConfigurationTarget.Global);

    // A search for GGUF repos: the first page under "Hub search: coder", most downloaded first.
    const first = await vscode.commands.executeCommand<readonly HubResultNode[]>("slmLab.searchHub", { query: "coder", format: "gguf", sort: "downloads" });
    assert.equal(first.length, 8, JSON.stringify(first.map((node) => node.repo)));
    assert.equal(first[0]?.repo, `${SEARCH_FIXTURE_ORG}/Qwen2.5-Coder-0.5B-Instruct-GGUF`);
    const roots = await slm.catalogView.getChildren();
    const [searchRoot] = roots;
    assert.equal(searchRoot?.kind, "hub-search");
    assert.equal(slm.catalogView.getTreeItem(searchRoot).label, "Hub search: coder");
    assert.deepEqual(roots.slice(1).map((node) => slm.catalogView.getTreeItem(node).label), ["Micro", "Small", "Medium"]);
    const children = async (): Promise<CatalogViewNode[]> => slm.catalogView.getChildren(searchRoot);
    const rows = await children();
    const qwen = rows[0];
    assert.ok(qwen?.kind === "hub-result");
    assert.equal(slm.catalogView.getTreeItem(qwen).description, "494M · ↓52K · apache-2.0");
    assert.equal(slm.catalogView.getTreeItem(qwen).contextValue, "slmLab.hubResult");
    // The default page (20) holds all 8, so there is no "Load more…".
    assert.equal(rows.filter((node) => node.kind === "hub-result").length, 8);
    assert.ok(!rows.some((node) => node.kind === "hub-message"));

    // Paging: 5 per page, "Load more…" until the Hub has no next page; every model once.
    await vscode.commands.executeCommand("slmLab.searchHub", { query: "", sort: "likes", pageSize: 5 });
    const loadMore = async (): Promise<HubMessageNode | undefined> => (await children()).find((node): node is HubMessageNode => node.kind === "hub-message" && node.label === "Load more…");
    let pages = 1;
    for (let more = await loadMore(); more !== undefined; more = await loadMore()) {
      assert.equal(more.command?.command, "slmLab.loadMoreHubResults");
      await vscode.commands.executeCommand(more.command.command);
      pages++;
    }
    const all = (await children()).filter((node): node is HubResultNode => node.kind === "hub-result");
    assert.equal(pages, 3);
    assert.equal(new Set(all.map((node) => node.repo)).size, hub.repos.size);
    assert.deepEqual(all.map((node) => node.result.likes), all.map((node) => node.result.likes).sort((a, b) => b - a));
    const small = await vscode.commands.executeCommand<readonly HubResultNode[]>("slmLab.searchHub", { sizeClass: "small" });
    assert.ok(small.length === 8 && small.every((node) => node.result.sizeClass === "small"), JSON.stringify(small.map((node) => node.repo)));

    // Details of the search result, from the same command the tree's click runs.
    const details = await vscode.commands.executeCommand<HubModelDetails | undefined>("slmLab.showHubModelDetails", qwen);
    assert.ok(details, "details were read");
    assert.deepEqual(details.quantizations.map((quant) => quant.type).sort(), ["F16", "Q4_0", "Q5_1", "Q8_0"]);
    assert.equal(details.contextLength, 32_768);
    assert.ok(details.quantizations.every((quant) => quant.memory.fit !== undefined), "each quantization has a fit label");

    // Comparison of two models picked together.
    const compared = await vscode.commands.executeCommand<readonly (HubModelDetails | { id: string; error: string })[]>("slmLab.compareModels", { repos: [`${SEARCH_FIXTURE_ORG}/Phi-4-mini-instruct`, `${SEARCH_FIXTURE_ORG}/SmolLM2-135M-Instruct`] });
    assert.deepEqual(compared.map((model) => ("error" in model ? model.error : model.license)), ["mit", "apache-2.0"]);

    // An Ollama store (as `ollama pull` leaves it) appears read-only in My Models.
    const blobBytes = await readFile(fixture.path);
    const digest = createHash("sha256").update(blobBytes).digest("hex");
    await mkdir(path.join(ollama, "blobs"), { recursive: true });
    await writeFile(path.join(ollama, "blobs", `sha256-${digest}`), blobBytes);
    const manifestDir = path.join(ollama, "manifests", "registry.ollama.ai", "library", "tiny-coder");
    await mkdir(manifestDir, { recursive: true });
    await writeFile(path.join(manifestDir, "latest"), JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.docker.distribution.manifest.v2+json", config: { mediaType: "application/vnd.docker.container.image.v1+json", digest: `sha256:${"1".repeat(64)}`, size: 2 }, layers: [{ mediaType: "application/vnd.ollama.image.model", digest: `sha256:${digest}`, size: blobBytes.length }] }));
    process.env["OLLAMA_MODELS"] = ollama;
    process.env["HF_HUB_CACHE"] = path.join(ollama, "no-hf-cache");
    await configuration.update("scanHuggingFaceCache", true, vscode.ConfigurationTarget.Global);
    await slm.refreshModels();
    const groups = await slm.myModels.getChildren();
    const group = groups.find((node) => node.kind === "group" && node.source === "ollama");
    assert.ok(group, `My Models has an Ollama group: ${JSON.stringify(groups.map((node) => (node.kind === "group" ? node.source : node.kind)))}`);
    assert.equal(slm.myModels.getTreeItem(group).label, "Ollama (read-only)");
    const [model] = (await slm.myModels.getChildren(group)) as MyModelsModelNode[];
    assert.equal(model?.model.label, "tiny-coder:latest");
    assert.equal(slm.myModels.getTreeItem(model).contextValue, "slmLab.model", "not deletable");
    assert.equal(model.model.summary?.architecture, fixture.summary?.architecture);
  } finally {
    await vscode.commands.executeCommand("slmLab.clearHubSearch");
    if (previousEnv.OLLAMA_MODELS === undefined) delete process.env["OLLAMA_MODELS"];
    else process.env["OLLAMA_MODELS"] = previousEnv.OLLAMA_MODELS;
    if (previousEnv.HF_HUB_CACHE === undefined) delete process.env["HF_HUB_CACHE"];
    else process.env["HF_HUB_CACHE"] = previousEnv.HF_HUB_CACHE;
    await configuration.update("hubEndpoint", previousEndpoint, vscode.ConfigurationTarget.Global);
    await configuration.update("scanHuggingFaceCache", previousScan, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    await hub.close();
    await rm(ollama, { recursive: true, force: true });
    await slm.refreshModels();
  }
}, { timeoutMs: 60_000 });
