/**
 * The converter on bad input: every case ends in a typed, user-facing error that names what is wrong, and no file
 * under the output's name (nor a leftover temp file).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { convertCheckpointInProcess, type ConvertInProcessOptions } from "../../src/core/convert/checkpointConversion";
import { convertCheckpoint } from "../../src/core/convert/convertCheckpoint";
import { ConvertError } from "../../src/core/convert/convertErrors";
import { CancelledError, UserError } from "../../src/core/errors";
import { SafetensorsCheckpointError, SafetensorsFormatError, UnsupportedSafetensorsDtypeError } from "../../src/core/safetensors/safetensorsErrors";
import { writeSafetensorsFile } from "../../src/core/safetensors/safetensorsWriter";
import { ensureHfCheckpoint } from "../fixtures/hfCheckpoints";
import { placeholderExport } from "./convertPlaceholderTokenizer";

const QWEN_VOCAB = 151936;
let work: string;
let qwen: string;
let sharded: string;

before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "slm-convert-bad-"));
  qwen = await ensureHfCheckpoint("tiny-qwen2");
  sharded = await ensureHfCheckpoint("tiny-qwen2-sharded");
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A writable copy of a checkpoint folder. */
async function copyOf(dir: string, name: string): Promise<string> {
  const target = path.join(work, name);
  await cp(dir, target, { recursive: true });
  return target;
}

async function editConfig(dir: string, edit: (config: Record<string, unknown>) => void): Promise<void> {
  const file = path.join(dir, "config.json");
  const config = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
  edit(config);
  await writeFile(file, JSON.stringify(config));
}

/** Runs a conversion that must fail; returns the error after checking that nothing is left under the output's name. */
async function failingConversion(checkpointDir: string, overrides: Partial<ConvertInProcessOptions> = {}): Promise<unknown> {
  const outDir = await mkdtemp(path.join(work, "out-"));
  const outFile = overrides.outFile ?? path.join(outDir, "model.gguf");
  let caught: unknown;
  try {
    await convertCheckpointInProcess({ checkpointDir, outFile, outType: "f16", exportTokenizer: placeholderExport(QWEN_VOCAB), ...overrides });
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, "the conversion should have failed");
  assert.equal(existsSync(outFile), false, "no output under the final name");
  assert.deepEqual((await readdir(path.dirname(outFile))).filter((entry) => entry.includes(".tmp-")), [], "no temp file left");
  return caught;
}

test("a folder without config.json is refused naming config.json", async () => {
  const dir = path.join(work, "empty");
  await mkdir(dir);
  const error = await failingConversion(dir);
  assert.ok(error instanceof ConvertError);
  assert.equal(error.code, "missing-config");
  assert.match(error.message, /config\.json/);
});

test("config.json that is not JSON, or lacks a field, or has one of the wrong type, is refused naming the field", async () => {
  const dir = await copyOf(qwen, "bad-config");
  await writeFile(path.join(dir, "config.json"), "{ not json");
  const notJson = await failingConversion(dir);
  assert.ok(notJson instanceof ConvertError && notJson.code === "invalid-config");

  await cp(path.join(qwen, "config.json"), path.join(dir, "config.json"));
  await editConfig(dir, (config) => delete config["hidden_size"]);
  const missing = await failingConversion(dir);
  assert.ok(missing instanceof ConvertError && missing.code === "invalid-config");
  assert.match(missing.message, /"hidden_size" is missing/);

  await editConfig(dir, (config) => (config["hidden_size"] = "64"));
  const wrongType = await failingConversion(dir);
  assert.ok(wrongType instanceof ConvertError);
  assert.match(wrongType.message, /"hidden_size" must be a positive whole number/);

  await editConfig(dir, (config) => {
    config["hidden_size"] = 64;
    delete config["architectures"];
  });
  const noArchitecture = await failingConversion(dir);
  assert.ok(noArchitecture instanceof ConvertError);
  assert.match(noArchitecture.message, /"architectures"/);
});

test("an unsupported architecture is refused with the list of supported ones", async () => {
  const dir = await copyOf(qwen, "mamba");
  await editConfig(dir, (config) => (config["architectures"] = ["MambaForCausalLM"]));
  const error = await failingConversion(dir);
  assert.ok(error instanceof ConvertError);
  assert.equal(error.code, "unsupported-architecture");
  for (const name of ["MambaForCausalLM", "LlamaForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM", "Phi3ForCausalLM", "Gemma3ForCausalLM"]) assert.match(error.message, new RegExp(name));
});

test("a missing shard is refused naming the shard", async () => {
  const dir = await copyOf(sharded, "missing-shard");
  const shard = (await readdir(dir)).filter((entry) => entry.endsWith(".safetensors")).sort()[1] ?? "";
  await rm(path.join(dir, shard));
  const error = await failingConversion(dir);
  assert.ok(error instanceof SafetensorsCheckpointError);
  assert.equal(error.code, "missing-shard");
  assert.match(error.message, new RegExp(shard.replace(/\./g, "\\.")));
});

test("a truncated safetensors file is refused as truncated", async () => {
  const dir = await copyOf(qwen, "truncated");
  const file = path.join(dir, "model.safetensors");
  await truncate(file, 1_000_000);
  const error = await failingConversion(dir);
  assert.ok(error instanceof SafetensorsFormatError);
  assert.equal(error.code, "truncated");
});

test("a tensor in a dtype the converter cannot read (I8) is refused naming the tensor and dtype, before writing", async () => {
  const dir = await copyOf(qwen, "int8");
  await rm(path.join(dir, "model.safetensors"));
  const config = JSON.parse(await readFile(path.join(dir, "config.json"), "utf8")) as Record<string, unknown>;
  config["num_hidden_layers"] = 1;
  config["vocab_size"] = 256;
  await writeFile(path.join(dir, "config.json"), JSON.stringify(config));
  const f16 = (count: number): Uint8Array => new Uint8Array(count * 2);
  await writeSafetensorsFile(path.join(dir, "model.safetensors"), [
    { name: "model.embed_tokens.weight", dtype: "F16", shape: [256, 64], data: f16(256 * 64) },
    { name: "model.norm.weight", dtype: "F16", shape: [64], data: f16(64) },
    { name: "model.layers.0.input_layernorm.weight", dtype: "F16", shape: [64], data: f16(64) },
    { name: "model.layers.0.post_attention_layernorm.weight", dtype: "F16", shape: [64], data: f16(64) },
    { name: "model.layers.0.self_attn.q_proj.weight", dtype: "I8", shape: [64, 64], data: new Uint8Array(64 * 64) },
    { name: "model.layers.0.self_attn.k_proj.weight", dtype: "F16", shape: [32, 64], data: f16(32 * 64) },
    { name: "model.layers.0.self_attn.v_proj.weight", dtype: "F16", shape: [32, 64], data: f16(32 * 64) },
    { name: "model.layers.0.self_attn.o_proj.weight", dtype: "F16", shape: [64, 64], data: f16(64 * 64) },
    { name: "model.layers.0.mlp.gate_proj.weight", dtype: "F16", shape: [128, 64], data: f16(128 * 64) },
    { name: "model.layers.0.mlp.up_proj.weight", dtype: "F16", shape: [128, 64], data: f16(128 * 64) },
    { name: "model.layers.0.mlp.down_proj.weight", dtype: "F16", shape: [64, 128], data: f16(64 * 128) },
  ]);
  const error = await failingConversion(dir, { exportTokenizer: placeholderExport(256) });
  assert.ok(error instanceof UnsupportedSafetensorsDtypeError);
  assert.equal(error.tensor, "model.layers.0.self_attn.q_proj.weight");
  assert.equal(error.dtype, "I8");
});

test("weights whose shapes do not match config.json are refused naming the tensor and both shapes", async () => {
  const dir = await copyOf(qwen, "shape-mismatch");
  await editConfig(dir, (config) => (config["intermediate_size"] = 256));
  const error = await failingConversion(dir);
  assert.ok(error instanceof ConvertError);
  assert.equal(error.code, "tensor-mismatch");
  assert.match(error.message, /mlp\.(gate|up|down)_proj\.weight" has shape \[\d+, \d+\], but config\.json implies/);
});

test("a tokenizer whose vocabulary does not fit the embedding is refused", async () => {
  const error = await failingConversion(qwen, { exportTokenizer: placeholderExport(1000) });
  assert.ok(error instanceof ConvertError);
  assert.equal(error.code, "vocabulary-mismatch");
});

test("not enough disk: refused before writing, on a real 1 MiB tmpfs when mounting works, else with the free space injected", async () => {
  const mountPoint = path.join(work, "tiny-disk");
  await mkdir(mountPoint);
  let mounted = false;
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint], { stdio: "ignore" });
    mounted = true;
  } catch {
    // Not root, or no mount in this container: inject the free space instead.
  }
  try {
    const error = await failingConversion(qwen, mounted ? { outFile: path.join(mountPoint, "model.gguf") } : { freeBytes: 1024 * 1024 });
    assert.ok(error instanceof ConvertError);
    assert.equal(error.code, "not-enough-disk");
    assert.match(error.message, /Not enough disk space/);
  } finally {
    if (mounted) execFileSync("umount", [mountPoint], { stdio: "ignore" });
  }
});

test("an existing output is kept unless overwriting is asked for; a bad output name is refused", async () => {
  const outDir = await mkdtemp(path.join(work, "existing-"));
  const outFile = path.join(outDir, "model.gguf");
  await writeFile(outFile, "keep me");
  await assert.rejects(
    convertCheckpointInProcess({ checkpointDir: qwen, outFile, exportTokenizer: placeholderExport(QWEN_VOCAB) }),
    (error: unknown) => error instanceof ConvertError && error.code === "invalid-output",
  );
  assert.equal(await readFile(outFile, "utf8"), "keep me");
  await assert.rejects(
    convertCheckpointInProcess({ checkpointDir: qwen, outFile: path.join(outDir, "model.bin"), exportTokenizer: placeholderExport(QWEN_VOCAB) }),
    (error: unknown) => error instanceof ConvertError && error.code === "invalid-output",
  );
});

test("cancelling mid-way stops with CancelledError and leaves no output and no temp file", async () => {
  const controller = new AbortController();
  const error = await failingConversion(sharded, {
    signal: controller.signal,
    onProgress: (progress) => {
      if (progress.phase === "converting" && progress.tensorsDone >= 3) controller.abort();
    },
  });
  assert.ok(error instanceof CancelledError);
});

test("through the worker process: errors arrive typed and user-facing, and cancel leaves nothing", async () => {
  const dir = await copyOf(qwen, "worker-unsupported");
  await editConfig(dir, (config) => (config["architectures"] = ["GPT2LMHeadModel"]));
  const outDir = await mkdtemp(path.join(work, "worker-"));
  const outFile = path.join(outDir, "model.gguf");
  await assert.rejects(convertCheckpoint({ checkpointDir: dir, outFile }), (error: unknown) => {
    assert.ok(error instanceof ConvertError, String(error));
    assert.equal(error.code, "unsupported-architecture");
    assert.match(error.message, /GPT2LMHeadModel/);
    return true;
  });
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(convertCheckpoint({ checkpointDir: qwen, outFile, signal: controller.signal }), CancelledError);
  const truncated = await copyOf(qwen, "worker-truncated");
  await truncate(path.join(truncated, "model.safetensors"), 1_000_000);
  await assert.rejects(convertCheckpoint({ checkpointDir: truncated, outFile }), (error: unknown) => error instanceof UserError && error.message.includes('truncated'));
  assert.deepEqual(await readdir(outDir), []);
});
