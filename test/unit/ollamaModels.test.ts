// Ollama's store as `ollama pull` leaves it: manifests/<host>/<namespace>/<model>/<tag> (a Docker-style manifest JSON)
// and blobs/sha256-<hex>, the model layer being a real GGUF; listed read-only in the store scan.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { readGgufSummary } from "../../src/core/gguf/ggufModelSummary";
import { deleteModelFiles } from "../../src/core/store/modelDeletion";
import { GgufSummaryCache } from "../../src/core/store/ggufSummaryCache";
import { scanModelStore } from "../../src/core/store/modelStoreScan";
import { findOllamaModels, modelDigestOfManifest, ollamaModelName, resolveOllamaModelsDirectory } from "../../src/core/store/ollamaModels";
import { tinyGgufBytes } from "./storeTestFiles";

let root = "";
let store = "";

const sha256 = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex");

/** Writes a blob under its digest's name and returns the layer entry a manifest lists for it. */
async function blob(content: Uint8Array | string, mediaType: string): Promise<{ mediaType: string; digest: string; size: number }> {
  const hex = sha256(content);
  await mkdir(path.join(store, "blobs"), { recursive: true });
  await writeFile(path.join(store, "blobs", `sha256-${hex}`), content);
  return { mediaType, digest: `sha256:${hex}`, size: typeof content === "string" ? Buffer.byteLength(content) : content.length };
}

/** A manifest as Ollama writes it (schemaVersion 2, Docker distribution media type, config + layers). */
async function manifest(host: string, namespace: string, model: string, tag: string, layers: readonly object[]): Promise<void> {
  const config = await blob(JSON.stringify({ model_format: "gguf", model_family: "llama", file_type: "F32" }), "application/vnd.docker.container.image.v1+json");
  const folder = path.join(store, "manifests", host, namespace, model);
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, tag), JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.docker.distribution.manifest.v2+json", config, layers }));
}

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "slm-ollama-"));
  store = path.join(root, "ollama", "models");
  const model = await blob(tinyGgufBytes({ architecture: "qwen2", name: "Qwen2.5 Coder 0.5B", tensorElements: [16, 32] }), "application/vnd.ollama.image.model");
  const template = await blob("{{ .Prompt }}", "application/vnd.ollama.image.template");
  const license = await blob("Apache License 2.0", "application/vnd.ollama.image.license");
  const params = await blob(JSON.stringify({ stop: ["<|endoftext|>"] }), "application/vnd.ollama.image.params");
  await manifest("registry.ollama.ai", "library", "qwen2.5-coder", "0.5b", [model, template, license, params]);
  // A second tag of the same blob (as `ollama cp` makes), a user's model, and one pulled from Hugging Face.
  await manifest("registry.ollama.ai", "library", "qwen2.5-coder", "latest", [model, template]);
  const smol = await blob(tinyGgufBytes({ architecture: "llama", name: "SmolLM2", tensorElements: [8] }), "application/vnd.ollama.image.model");
  await manifest("hf.co", "bartowski", "SmolLM2-135M-Instruct-GGUF", "Q4_K_M", [smol]);
  // A manifest whose blob was removed, one that is not JSON, and one without a model layer (an adapter).
  await manifest("registry.ollama.ai", "someone", "gone", "latest", [{ mediaType: "application/vnd.ollama.image.model", digest: `sha256:${"0".repeat(64)}`, size: 10 }]);
  await writeFile(path.join(store, "manifests", "registry.ollama.ai", "library", "qwen2.5-coder", "broken"), "{not json");
  await manifest("registry.ollama.ai", "library", "adapter-only", "latest", [template]);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

test("the models folder: $OLLAMA_MODELS, else ~/.ollama/models", () => {
  assert.equal(resolveOllamaModelsDirectory({}, "/home/u"), "/home/u/.ollama/models");
  assert.equal(resolveOllamaModelsDirectory({ OLLAMA_MODELS: "/data/ollama" }, "/home/u"), "/data/ollama");
  assert.equal(resolveOllamaModelsDirectory({ OLLAMA_MODELS: "~/m" }, "/home/u"), "/home/u/m");
});

test("manifest parsing and names as `ollama run` takes them", () => {
  const digest = `sha256:${"a".repeat(64)}`;
  assert.equal(modelDigestOfManifest(JSON.stringify({ layers: [{ mediaType: "application/vnd.ollama.image.template", digest }, { mediaType: "application/vnd.ollama.image.model", digest }] })), digest);
  assert.equal(modelDigestOfManifest(JSON.stringify({ layers: [{ mediaType: "application/vnd.ollama.image.model", digest: "sha256:../../etc/passwd" }] })), undefined);
  assert.equal(modelDigestOfManifest("[]"), undefined);
  assert.equal(ollamaModelName("registry.ollama.ai", "library", "llama3.2", "1b"), "llama3.2:1b");
  assert.equal(ollamaModelName("registry.ollama.ai", "me", "m", "latest"), "me/m:latest");
  assert.equal(ollamaModelName("hf.co", "bartowski", "X-GGUF", "Q4_K_M"), "hf.co/bartowski/X-GGUF:Q4_K_M");
});

test("findOllamaModels: every tag with a model layer, its blob, and a clear error for a missing blob", async () => {
  const scan = await findOllamaModels(store);
  assert.deepEqual(scan.files.map((file) => file.name).sort(), ["hf.co/bartowski/SmolLM2-135M-Instruct-GGUF:Q4_K_M", "qwen2.5-coder:0.5b", "qwen2.5-coder:latest", "someone/gone:latest"]);
  const qwen = scan.files.find((file) => file.name === "qwen2.5-coder:0.5b");
  assert.ok(qwen);
  assert.match(path.basename(qwen.path), /^sha256-[0-9a-f]{64}$/);
  assert.equal(qwen.error, undefined);
  assert.match(scan.files.find((file) => file.name === "someone/gone:latest")?.error ?? "", /blob is missing/);
  assert.deepEqual((await findOllamaModels(path.join(root, "nowhere"))).files, []);
});

test("the store scan lists Ollama's models read-only, with their summaries, after the models folder", async () => {
  const modelsDirectory = path.join(root, "own");
  await mkdir(modelsDirectory, { recursive: true });
  await writeFile(path.join(modelsDirectory, "mine.gguf"), tinyGgufBytes());
  const cache = new GgufSummaryCache((file, signal) => readGgufSummary(file, signal === undefined ? {} : { signal }));
  const scan = await scanModelStore({ modelsDirectory, huggingFaceCacheDirectory: undefined, ollamaModelsDirectory: store, cache });
  assert.deepEqual(scan.models.map((model) => [model.source, model.label]), [
    ["models-folder", "mine.gguf"],
    ["ollama", "hf.co/bartowski/SmolLM2-135M-Instruct-GGUF:Q4_K_M"],
    ["ollama", "qwen2.5-coder:0.5b"],
    ["ollama", "qwen2.5-coder:latest"],
    ["ollama", "someone/gone:latest"],
  ]);
  const qwen = scan.models.find((model) => model.label === "qwen2.5-coder:0.5b");
  assert.deepEqual([qwen?.summary?.architecture, qwen?.summary?.name, qwen?.error], ["qwen2", "Qwen2.5 Coder 0.5B", undefined]);
  assert.match(scan.models.find((model) => model.label === "someone/gone:latest")?.error ?? "", /ollama pull/);
  assert.deepEqual(scan.otherStores, [{ source: "ollama", path: store, exists: true }]);
  // Read-only: deleting an Ollama blob is refused (it is outside the models folder and not a .gguf name).
  assert.ok(qwen);
  await assert.rejects(deleteModelFiles([qwen.path], { modelsDirectory, huggingFaceCacheDirectory: undefined }), /Not deleting/);
});
