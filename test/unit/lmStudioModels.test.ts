// LM Studio's models folders (~/.lmstudio/models and the older ~/.cache/lm-studio/models, both
// <publisher>/<repo>/<file>.gguf), listed read-only in the store scan.
import assert from "node:assert/strict";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { readGgufSummary } from "../../src/core/gguf/ggufModelSummary";
import { GgufSummaryCache } from "../../src/core/store/ggufSummaryCache";
import { findLmStudioModels, lmStudioModelsDirectories } from "../../src/core/store/lmStudioModels";
import { deleteModelFiles } from "../../src/core/store/modelDeletion";
import { scanModelStore } from "../../src/core/store/modelStoreScan";
import { writeTinyGguf } from "./storeTestFiles";

let home = "";
let current = "";
let legacy = "";

before(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), "slm-lmstudio-"));
  [current, legacy] = lmStudioModelsDirectories(home) as [string, string];
  await writeTinyGguf(path.join(current, "lmstudio-community", "Qwen2.5-Coder-0.5B-Instruct-GGUF", "Qwen2.5-Coder-0.5B-Instruct-Q4_K_M.gguf"), { architecture: "qwen2", name: "Qwen2.5 Coder" });
  await writeTinyGguf(path.join(current, "lmstudio-community", "gemma-3-4b-it-GGUF", "gemma-3-4b-it-Q4_K_M.gguf"), { architecture: "gemma3" });
  // A vision projector next to its model is not a model of its own.
  await writeTinyGguf(path.join(current, "lmstudio-community", "gemma-3-4b-it-GGUF", "mmproj-model-f16.gguf"), { architecture: "clip" });
  await writeTinyGguf(path.join(legacy, "TheBloke", "TinyLlama-1.1B-GGUF", "tinyllama-1.1b.Q4_0.gguf"));
});
after(async () => {
  await rm(home, { recursive: true, force: true });
});

test("both folders, newest layout first", () => {
  assert.deepEqual(lmStudioModelsDirectories("/home/u"), ["/home/u/.lmstudio/models", "/home/u/.cache/lm-studio/models"]);
});

test("findLmStudioModels: models with their publisher/repo, projectors skipped, missing folders ignored", async () => {
  const scan = await findLmStudioModels([current, legacy, path.join(home, "missing")]);
  assert.deepEqual(scan.files.map((file) => [file.repoId, path.basename(file.path)]), [
    ["lmstudio-community/Qwen2.5-Coder-0.5B-Instruct-GGUF", "Qwen2.5-Coder-0.5B-Instruct-Q4_K_M.gguf"],
    ["lmstudio-community/gemma-3-4b-it-GGUF", "gemma-3-4b-it-Q4_K_M.gguf"],
    ["TheBloke/TinyLlama-1.1B-GGUF", "tinyllama-1.1b.Q4_0.gguf"],
  ]);
  assert.deepEqual(scan.problems, []);
});

test("the store scan lists LM Studio's models read-only; a models-folder link to one is listed once, as the user's", async () => {
  const modelsDirectory = path.join(home, "own");
  const linked = path.join(current, "lmstudio-community", "gemma-3-4b-it-GGUF", "gemma-3-4b-it-Q4_K_M.gguf");
  await writeTinyGguf(path.join(modelsDirectory, "placeholder.gguf"));
  await symlink(linked, path.join(modelsDirectory, "gemma-link.gguf"));
  const cache = new GgufSummaryCache((file, signal) => readGgufSummary(file, signal === undefined ? {} : { signal }));
  const scan = await scanModelStore({ modelsDirectory, huggingFaceCacheDirectory: undefined, lmStudioModelsDirectories: [current, legacy], cache });
  assert.deepEqual(scan.models.map((model) => [model.source, model.label]), [
    ["models-folder", "gemma-link.gguf"],
    ["models-folder", "placeholder.gguf"],
    ["lm-studio", "lmstudio-community/Qwen2.5-Coder-0.5B-Instruct-GGUF/Qwen2.5-Coder-0.5B-Instruct-Q4_K_M.gguf"],
    ["lm-studio", "TheBloke/TinyLlama-1.1B-GGUF/tinyllama-1.1b.Q4_0.gguf"],
  ]);
  const qwen = scan.models.find((model) => model.source === "lm-studio");
  assert.deepEqual([qwen?.repoId, qwen?.summary?.architecture], ["lmstudio-community/Qwen2.5-Coder-0.5B-Instruct-GGUF", "qwen2"]);
  assert.deepEqual(scan.otherStores?.map((store) => [store.source, store.exists]), [["lm-studio", true], ["lm-studio", true]]);
  assert.ok(qwen);
  await assert.rejects(deleteModelFiles([qwen.path], { modelsDirectory }), /outside the models folder/);
});
