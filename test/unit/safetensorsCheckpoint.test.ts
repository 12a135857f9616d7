import assert from "node:assert/strict";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { checkpointTensor, openSafetensorsCheckpoint, readSafetensorsTensor } from "../../src/core/safetensors/safetensorsCheckpoint";
import { SafetensorsCheckpointError, SafetensorsFormatError, type SafetensorsCheckpointErrorCode } from "../../src/core/safetensors/safetensorsErrors";
import { encodeSafetensors } from "../../src/core/safetensors/safetensorsWriter";
import { countingBytes, temporaryFolder } from "../fixtures/safetensorsSamples";

const shardA = encodeSafetensors([
  { name: "model.embed_tokens.weight", dtype: "F32", shape: [4, 2], data: countingBytes(32) },
  { name: "model.layers.0.mlp.up_proj.weight", dtype: "BF16", shape: [2, 2], data: countingBytes(8) },
]);
const shardB = encodeSafetensors([{ name: "model.norm.weight", dtype: "F16", shape: [2], data: countingBytes(4) }]);
const names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"] as const;
const weightMap = {
  "model.embed_tokens.weight": names[0],
  "model.layers.0.mlp.up_proj.weight": names[0],
  "model.norm.weight": names[1],
};

async function writeSharded(dir: string, options: { readonly index?: object | string | false; readonly skip?: string } = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (options.skip !== names[0]) await writeFile(path.join(dir, names[0]), shardA);
  if (options.skip !== names[1]) await writeFile(path.join(dir, names[1]), shardB);
  const index = options.index ?? { metadata: { total_size: 44 }, weight_map: weightMap };
  if (index !== false) await writeFile(path.join(dir, "model.safetensors.index.json"), typeof index === "string" ? index : JSON.stringify(index));
}

async function expectCheckpointError(dir: string, code: SafetensorsCheckpointErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(openSafetensorsCheckpoint(dir), (error: unknown) => {
    assert.ok(error instanceof SafetensorsCheckpointError, String(error));
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return true;
  });
}

test("sharded checkpoint: the index joins the shards into one tensor list; tensors stream from their shard", async () => {
  const { dir, cleanup } = await temporaryFolder();
  try {
    await writeSharded(dir);
    const checkpoint = await openSafetensorsCheckpoint(dir);
    assert.equal(checkpoint.indexFile, path.join(dir, "model.safetensors.index.json"));
    assert.deepEqual(checkpoint.shards.map((shard) => path.basename(shard.file)), [...names]);
    assert.deepEqual(checkpoint.tensors.map((tensor) => tensor.name), Object.keys(weightMap));
    assert.equal(checkpoint.totalTensorBytes, 44);
    const chunks: Uint8Array[] = [];
    for await (const chunk of readSafetensorsTensor(checkpoint, "model.embed_tokens.weight", { chunkBytes: 8 })) chunks.push(chunk);
    assert.equal(chunks.length, 4);
    assert.ok(Buffer.concat(chunks).equals(countingBytes(32)));
    assert.equal(path.basename(checkpointTensor(checkpoint, "model.norm.weight").file), names[1]);
    assert.throws(() => checkpointTensor(checkpoint, "lm_head.weight"), (error: unknown) => error instanceof SafetensorsCheckpointError && error.code === "unknown-tensor");

    // The same shards without an index are found by their numbering.
    await rm(path.join(dir, "model.safetensors.index.json"));
    assert.deepEqual((await openSafetensorsCheckpoint(dir)).tensors.map((tensor) => tensor.name), Object.keys(weightMap));
  } finally {
    await cleanup();
  }
});

test("single-file checkpoint", async () => {
  const { dir, cleanup } = await temporaryFolder();
  try {
    await writeFile(path.join(dir, "model.safetensors"), shardA);
    await writeFile(path.join(dir, "config.json"), "{}");
    const checkpoint = await openSafetensorsCheckpoint(dir);
    assert.equal(checkpoint.indexFile, undefined);
    assert.equal(checkpoint.tensors.length, 2);
  } finally {
    await cleanup();
  }
});

test("bad checkpoints: missing shard, tensor absent from its shard, duplicates, bad index, no weights", async () => {
  const { dir, cleanup } = await temporaryFolder();
  try {
    const sub = (name: string): string => path.join(dir, name);
    await writeSharded(sub("missing"), { skip: names[1] });
    await expectCheckpointError(sub("missing"), "missing-shard", /shard model-00002-of-00002\.safetensors is missing \(the index puts 1 tensors in it\)/);
    await writeSharded(sub("missing-no-index"), { index: false, skip: names[0] });
    await expectCheckpointError(sub("missing-no-index"), "missing-shard", /model-00001-of-00002\.safetensors is missing/);
    await writeSharded(sub("absent"), { index: { weight_map: { ...weightMap, "lm_head.weight": names[1] } } });
    await expectCheckpointError(sub("absent"), "tensor-missing-from-shard", /puts tensor "lm_head\.weight" in model-00002-of-00002\.safetensors, but that file does not hold it/);
    await writeSharded(sub("moved"), { index: { weight_map: { ...weightMap, "model.layers.0.mlp.up_proj.weight": names[1] } } });
    await expectCheckpointError(sub("moved"), "tensor-missing-from-shard", /"model\.layers\.0\.mlp\.up_proj\.weight" in model-00002-of-00002\.safetensors, but that file does not hold it \(it is in model-00001-of-00002\.safetensors\)/);
    await writeSharded(sub("duplicate"));
    await writeFile(path.join(sub("duplicate"), names[1]), shardA);
    await expectCheckpointError(sub("duplicate"), "duplicate-tensor", /"model\.embed_tokens\.weight" is in both/);
    await writeSharded(sub("bad-json"), { index: "{ not json" });
    await expectCheckpointError(sub("bad-json"), "invalid-index", /not valid JSON/);
    await writeSharded(sub("no-map"), { index: { metadata: {} } });
    await expectCheckpointError(sub("no-map"), "invalid-index", /no "weight_map"/);
    await writeSharded(sub("escape"), { index: { weight_map: { a: "../missing/model-00001-of-00002.safetensors" } } });
    await expectCheckpointError(sub("escape"), "invalid-index", /outside the model folder/);
    await mkdir(sub("bin"));
    await writeFile(path.join(sub("bin"), "pytorch_model.bin"), "x");
    await expectCheckpointError(sub("bin"), "no-weights", /no model\.safetensors\.index\.json or model\.safetensors \(found only pytorch_model\.bin\)/);

    // A shard that is itself broken gives the reader's format error, naming that shard.
    await writeSharded(sub("truncated"));
    await writeFile(path.join(sub("truncated"), names[1]), shardB.subarray(0, shardB.byteLength - 1));
    await assert.rejects(openSafetensorsCheckpoint(sub("truncated")), (error: unknown) => error instanceof SafetensorsFormatError && error.code === "truncated" && error.file.endsWith(names[1]));
  } finally {
    await cleanup();
  }
});
