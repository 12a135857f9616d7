// The Catalog view and Download Model in the real extension host: the catalog tree shows the Micro / Small / Medium
// groups with the curated entries; Download Model, pointed at a local hub (test/fixtures/localHub.ts, plain Node http
// in this process) through `slmLab.hubEndpoint`, fetches a real fixture GGUF into a temporary Hugging Face cache
// ($HF_HUB_CACHE), verified by sha256, and the model shows up in My Models; a gated repo fails with a clear error,
// and succeeds after "Sign in to Hugging Face" stored a token the hub accepts.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, realpathSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as vscode from "vscode";
import type { CatalogEntryNode, CatalogGroupNode } from "../../../src/vscode/catalogTree";
import type { DownloadModelOutcome } from "../../../src/vscode/downloadCommand";
import type { MyModelsModelNode, MyModelsNode } from "../../../src/vscode/myModelsTree";
import { fixtureHubRepoSources, startLocalHub } from "../../fixtures/localHub";
import { activateSlmLab } from "./slmLabApi";
import { extensionHostTest } from "./harness";

const TOKEN = "hf_e2eDownloadTestToken";

extensionHostTest("the Catalog view groups the curated models Micro / Small / Medium, with descriptions and a download action", async () => {
  const slm = await activateSlmLab();
  const groups = (await slm.catalog.getChildren()) as CatalogGroupNode[];
  assert.deepEqual(groups.map((group) => slm.catalog.getTreeItem(group).label), ["Micro", "Small", "Medium"]);
  assert.deepEqual(groups.map((group) => String(slm.catalog.getTreeItem(group).description).split(" · ")[0]), ["0.1–1.4B", "1.5–13.9B", "14–30B"]);
  const [micro, small, medium] = groups;
  const entriesOf = async (group: CatalogGroupNode | undefined): Promise<CatalogEntryNode[]> =>
    group === undefined ? [] : ((await slm.catalog.getChildren(group)) as CatalogEntryNode[]);
  const idsByGroup = new Map<CatalogGroupNode | undefined, string[]>();
  for (const group of [micro, small, medium]) idsByGroup.set(group, (await entriesOf(group)).map((node) => node.entry.id));
  const idsOf = (group: CatalogGroupNode | undefined): string[] => idsByGroup.get(group) ?? [];
  for (const id of ["qwen3-0.6b", "gemma-3-1b", "llama-3.2-1b", "smollm2-135m", "qwen2.5-coder-0.5b", "deepseek-coder-1.3b"]) assert.ok(idsOf(micro).includes(id), `Micro has ${id}`);
  for (const id of ["qwen3-1.7b", "qwen3-4b", "qwen3-8b", "phi-4-mini", "gemma-3-4b", "gemma-3-12b", "llama-3.2-3b", "llama-3.1-8b", "bitnet-b1.58-2b-4t", "qwen2.5-coder-1.5b", "qwen2.5-coder-3b", "qwen2.5-coder-7b", "starcoder2-3b", "codegemma-2b"]) {
    assert.ok(idsOf(small).includes(id), `Small has ${id}`);
  }
  assert.ok(idsOf(medium).includes("gemma-3-27b"), "Medium has Gemma 3 27B");

  const qwen = (await entriesOf(micro)).find((node) => node.entry.id === "qwen3-0.6b");
  assert.ok(qwen);
  const item = slm.catalog.getTreeItem(qwen);
  assert.equal(item.label, "Qwen3 0.6B");
  assert.equal(item.description, "0.6B · Apache-2.0 · 32K ctx");
  assert.equal(item.contextValue, "slmLab.catalogEntry.downloadable");
  assert.ok(item.tooltip instanceof vscode.MarkdownString);
  for (const part of ["Good for:", "Tags:", "License:", "Repos:", "Recommended quantizations:", "Q4_0", "Foundry Local:"]) assert.ok(item.tooltip.value.includes(part), `tooltip has ${part}`);
  // An entry with facts not confirmed from a primary source says so in its tooltip.
  const unconfirmed = (await Promise.all(groups.map(entriesOf)))
    .flat()
    .find((node) => Object.values(node.entry.verification).some((check) => check.status !== "verified"));
  assert.ok(unconfirmed, "the curated data has facts not confirmed from a primary source");
  assert.match((slm.catalog.getTreeItem(unconfirmed).tooltip as vscode.MarkdownString).value, /unverified: /);
});

extensionHostTest("Download Model fetches a GGUF from the hub endpoint into the HF cache, verified, and My Models lists it", async () => {
  const slm = await activateSlmLab();
  const scan = await slm.refreshModels();
  const fixture = scan.models.find((model) => model.error === undefined && model.summary !== undefined);
  assert.ok(fixture, "a fixture model is in the models folder");
  const repo = "slm-lab-fixtures/e2e-download-GGUF";
  const fileName = "tiny-F16.gguf";
  const hub = await startLocalHub({
    repos: [
      ...(await fixtureHubRepoSources([])),
      { id: repo, files: [{ path: "README.md", content: "# e2e\n" }, { path: fileName, diskPath: fixture.path }], tags: ["gguf"] },
    ],
    tokens: { [TOKEN]: { access: ["slm-lab-fixtures/gated-GGUF"] } },
  });
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), "slm-lab-hf-cache-"));
  const configuration = vscode.workspace.getConfiguration("slmLab");
  const previousEndpoint = configuration.inspect<string>("hubEndpoint")?.globalValue;
  const previousScan = configuration.inspect<boolean>("scanHuggingFaceCache")?.globalValue;
  const previousEnv = process.env["HF_HUB_CACHE"];
  try {
    // resolveHuggingFaceHubCache() reads process.env at each call; this test runs in the extension's own process.
    process.env["HF_HUB_CACHE"] = cacheDir;
    await configuration.update("hubEndpoint", hub.endpoint, vscode.ConfigurationTarget.Global);
    await configuration.update("scanHuggingFaceCache", true, vscode.ConfigurationTarget.Global);

    const outcomes = await vscode.commands.executeCommand<DownloadModelOutcome[]>("slmLab.downloadModel", { repo, files: [fileName] });
    assert.equal(outcomes.length, 1, JSON.stringify(outcomes));
    const [outcome] = outcomes;
    assert.equal(outcome?.status, "done", JSON.stringify(outcome));
    const served = hub.file(repo, fileName);
    const repoFolder = path.join(cacheDir, "models--slm-lab-fixtures--e2e-download-GGUF");
    const blob = path.join(repoFolder, "blobs", served.sha256);
    const snapshot = path.join(repoFolder, "snapshots", hub.repos.get(repo)?.commit ?? "?", fileName);
    assert.equal(outcome.blobPath, blob);
    assert.equal(outcome.localPath, snapshot);
    assert.ok(existsSync(blob) && existsSync(snapshot), "blob and snapshot exist");
    assert.equal(realpathSync(snapshot), realpathSync(blob));
    assert.equal(createHash("sha256").update(await readFile(blob)).digest("hex"), served.sha256);
    assert.equal(outcome.sha256, served.sha256);
    assert.ok(hub.requests.some((request) => request.path.includes("/resolve/")), "the download went to the configured endpoint");

    const roots = await slm.myModels.getChildren();
    const group = roots.find((node) => node.kind === "group" && node.source === "huggingface-cache");
    assert.ok(group, `My Models has a Hugging Face cache group: ${JSON.stringify(roots.map((node) => node.kind))}`);
    const models = (await slm.myModels.getChildren(group)).filter((node: MyModelsNode): node is MyModelsModelNode => node.kind === "model");
    assert.ok(
      models.some((node) => node.model.files.some((file) => file.path === snapshot || file.realPath === blob)),
      `the download is in My Models: ${JSON.stringify(models.map((node) => node.model.path))}`,
    );

    // A gated repo without access: a failed outcome with a one-line error, nothing under the final name.
    const gated = await vscode.commands.executeCommand<DownloadModelOutcome[]>("slmLab.downloadModel", { repo: "slm-lab-fixtures/gated-GGUF", files: ["small-Q8_0.gguf"] });
    assert.equal(gated[0]?.status, "failed", JSON.stringify(gated));
    assert.match(gated[0].error ?? "", /gated|accept|sign in/i);
    assert.ok(!existsSync(path.join(cacheDir, "models--slm-lab-fixtures--gated-GGUF", "snapshots")), "no snapshot for the gated repo");

    // Signed in (the token goes to SecretStorage), the same download succeeds: the token is sent to the endpoint.
    assert.equal(await vscode.commands.executeCommand("slmLab.signInToHuggingFace", { token: TOKEN }), "signed-in");
    const allowed = await vscode.commands.executeCommand<DownloadModelOutcome[]>("slmLab.downloadModel", { repo: "slm-lab-fixtures/gated-GGUF", files: ["small-Q8_0.gguf"] });
    assert.equal(allowed[0]?.status, "done", JSON.stringify(allowed));
    assert.equal(allowed[0].sha256, hub.file("slm-lab-fixtures/gated-GGUF", "small-Q8_0.gguf").sha256);
    assert.ok(hub.requests.some((request) => request.authorized), "an authorized request reached the hub");
  } finally {
    await vscode.commands.executeCommand("slmLab.signInToHuggingFace", { token: "" });
    if (previousEnv === undefined) delete process.env["HF_HUB_CACHE"];
    else process.env["HF_HUB_CACHE"] = previousEnv;
    await configuration.update("hubEndpoint", previousEndpoint, vscode.ConfigurationTarget.Global);
    await configuration.update("scanHuggingFaceCache", previousScan, vscode.ConfigurationTarget.Global);
    await hub.close();
    await rm(cacheDir, { recursive: true, force: true });
    await slm.refreshModels();
  }
}, { timeoutMs: 60_000 });
