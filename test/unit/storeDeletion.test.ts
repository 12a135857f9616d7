// Deleting models: only inside the models folder (with sidecars and emptied folders), never the HF cache or
// anything else, and nothing at all when any file of the request is refused.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { checkModelDeletion, deleteModelFiles } from "../../src/core/store/modelDeletion";
import { sidecarPathFor } from "../../src/core/store/modelSidecar";
import { ModelDeletionRefusedError } from "../../src/core/store/storeErrors";
import { tinyGgufBytes, writeHubRepo, writeTinyGguf } from "./storeTestFiles";

let root: string;
let modelsDir: string;
let hubDir: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "slm-lab-delete-"));
  modelsDir = path.join(root, "models");
  hubDir = path.join(root, "hub");
  await mkdir(modelsDir, { recursive: true });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function refusedWith(pattern: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof ModelDeletionRefusedError, `expected ModelDeletionRefusedError, got ${String(error)}`);
    assert.match(error.toOneLine(), pattern);
    return true;
  };
}

describe("deleteModelFiles", () => {
  test("deletes a model, its sidecar and the publisher/repo folders it leaves empty", async () => {
    const file = await writeTinyGguf(path.join(modelsDir, "pub", "repo", "m.gguf"));
    await writeFile(sidecarPathFor(file), JSON.stringify({ source: "test" }));
    const keep = await writeTinyGguf(path.join(modelsDir, "pub", "other", "keep.gguf"));
    const result = await deleteModelFiles([file], { modelsDirectory: modelsDir, huggingFaceCacheDirectory: hubDir });
    assert.equal(existsSync(file), false);
    assert.equal(existsSync(sidecarPathFor(file)), false);
    assert.equal(existsSync(path.join(modelsDir, "pub", "repo")), false);
    assert.equal(existsSync(keep), true, "other models stay");
    assert.equal(existsSync(modelsDir), true, "the models folder itself stays");
    assert.equal(result.freedBytes, tinyGgufBytes().byteLength);
    assert.deepEqual(result.deleted, [file, sidecarPathFor(file), path.join(modelsDir, "pub", "repo")]);
  });

  test("refuses a file outside the models folder, also through .. and through a symlinked folder", async () => {
    const outside = await writeTinyGguf(path.join(root, "elsewhere", "x.gguf"));
    const options = { modelsDirectory: modelsDir, huggingFaceCacheDirectory: hubDir };
    await assert.rejects(deleteModelFiles([outside], options), refusedWith(/outside the models folder/));
    await assert.rejects(deleteModelFiles([path.join(modelsDir, "..", "elsewhere", "x.gguf")], options), refusedWith(/outside the models folder/));
    await symlink(path.join(root, "elsewhere"), path.join(modelsDir, "linked-folder"));
    await assert.rejects(deleteModelFiles([path.join(modelsDir, "linked-folder", "x.gguf")], options), refusedWith(/outside the models folder/));
    assert.equal(existsSync(outside), true);
  });

  test("refuses the Hugging Face cache and says to use huggingface-cli delete-cache", async () => {
    const repo = await writeHubRepo(hubDir, "Org/Tiny-GGUF", { abc: tinyGgufBytes() }, { rev1: { "t.gguf": "abc" } }, "rev1");
    const snapshotFile = path.join(repo, "snapshots", "rev1", "t.gguf");
    const blob = path.join(repo, "blobs", "abc");
    for (const options of [{ modelsDirectory: modelsDir, huggingFaceCacheDirectory: hubDir }, { modelsDirectory: modelsDir }]) {
      await assert.rejects(deleteModelFiles([snapshotFile], options), refusedWith(/Hugging Face cache.*huggingface-cli delete-cache/));
    }
    // Even when someone points the models folder at the HF cache itself.
    await assert.rejects(deleteModelFiles([snapshotFile], { modelsDirectory: hubDir, huggingFaceCacheDirectory: hubDir }), refusedWith(/huggingface-cli delete-cache/));
    assert.equal(existsSync(snapshotFile), true);
    assert.equal(existsSync(blob), true);
  });

  test("a symlink in the models folder is removed, never what it points to", async () => {
    const target = await writeTinyGguf(path.join(root, "elsewhere", "real.gguf"));
    const link = path.join(modelsDir, "link.gguf");
    await symlink(target, link);
    const result = await deleteModelFiles([link], { modelsDirectory: modelsDir });
    assert.equal(existsSync(link), false);
    assert.equal(existsSync(target), true);
    assert.equal(result.freedBytes, 0);
  });

  test("all parts of a split model go; if one part is refused, none is deleted", async () => {
    const parts = [1, 2, 3].map((index) => path.join(modelsDir, "split", `m-0000${index}-of-00003.gguf`));
    for (const part of parts) await writeTinyGguf(part);
    const outside = await writeTinyGguf(path.join(root, "elsewhere", "m-00004-of-00004.gguf"));
    await assert.rejects(deleteModelFiles([...parts, outside], { modelsDirectory: modelsDir }), ModelDeletionRefusedError);
    for (const part of parts) assert.equal(existsSync(part), true, "nothing deleted when one file is refused");
    const result = await deleteModelFiles(parts, { modelsDirectory: modelsDir });
    for (const part of parts) assert.equal(existsSync(part), false);
    assert.equal(result.freedBytes, 3 * tinyGgufBytes().byteLength);
    assert.equal(existsSync(path.join(modelsDir, "split")), false);
  });

  test("refuses non-model files, relative paths, missing files and an empty request", async () => {
    const options = { modelsDirectory: modelsDir };
    const text = path.join(modelsDir, "notes.txt");
    await writeFile(text, "keep me");
    await assert.rejects(checkModelDeletion([text], options), refusedWith(/only deletes \.gguf/));
    await assert.rejects(checkModelDeletion(["models/m.gguf"], options), refusedWith(/not an absolute path/));
    await assert.rejects(checkModelDeletion([path.join(modelsDir, "gone.gguf")], options), refusedWith(/does not exist/));
    await assert.rejects(checkModelDeletion([path.join(modelsDir, "no-such-folder", "gone.gguf")], options), refusedWith(/does not exist/));
    await assert.rejects(checkModelDeletion([], options), refusedWith(/No model file/));
    await mkdir(path.join(modelsDir, "folder.gguf"));
    await assert.rejects(checkModelDeletion([path.join(modelsDir, "folder.gguf")], options), refusedWith(/not a file/));
    assert.equal(existsSync(text), true);
  });
});
