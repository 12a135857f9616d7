/** `slm-lab convert` end to end through the built CLI (bin/slm-lab.cjs → dist/cli.js → dist/workers/convertWorker.js). */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { ensureHfCheckpoint } from "../fixtures/hfCheckpoints";

const root = path.resolve(__dirname, "..", "..");
const bin = path.join(root, "bin", "slm-lab.cjs");
let folder = "";
let checkpoint = "";

before(async () => {
  folder = mkdtempSync(path.join(os.tmpdir(), "slm-convert-cli-"));
  checkpoint = await ensureHfCheckpoint("tiny-qwen2");
});
after(() => {
  rmSync(folder, { recursive: true, force: true });
});

function slmLab(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const { SLM_LAB_DEBUG: _ignored, ...env } = process.env;
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: folder, encoding: "utf8", timeout: 120_000, env });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("convert: usage errors exit 2", () => {
  assert.equal(slmLab(["convert"]).status, 2);
  assert.equal(slmLab(["convert", checkpoint]).status, 2);
  const badType = slmLab(["convert", checkpoint, "--out", "x.gguf", "--outtype", "q4_0"]);
  assert.equal(badType.status, 2);
  assert.match(badType.stderr, /--outtype/);
});

test("convert: an unsupported architecture is one line on stderr listing the supported ones, exit 1, no output", () => {
  const copy = path.join(folder, "gpt2");
  cpSync(checkpoint, copy, { recursive: true });
  const config = JSON.parse(readFileSync(path.join(copy, "config.json"), "utf8")) as Record<string, unknown>;
  writeFileSync(path.join(copy, "config.json"), JSON.stringify({ ...config, architectures: ["GPT2LMHeadModel"] }));
  const run = slmLab(["convert", copy, "--out", "gpt2.gguf"]);
  assert.equal(run.status, 1, run.stderr);
  assert.equal(run.stderr.trim().split("\n").length, 1);
  assert.match(run.stderr, /^slm-lab: .*GPT2LMHeadModel.*LlamaForCausalLM.*Qwen2ForCausalLM/);
  assert.equal(existsSync(path.join(folder, "gpt2.gguf")), false);
});

test("convert: tiny-qwen2 to q8_0 writes the GGUF and reports it as JSON", () => {
  const run = slmLab(["convert", checkpoint, "--out", "qwen.gguf", "--outtype", "q8_0", "--json"]);
  assert.equal(run.status, 0, run.stderr);
  const result = JSON.parse(run.stdout) as { architecture: string; outType: string; outFile: string; outputSize: number };
  assert.equal(result.architecture, "qwen2");
  assert.equal(result.outType, "q8_0");
  assert.equal(result.outFile, path.join(folder, "qwen.gguf"));
  assert.ok(existsSync(result.outFile));
  const again = slmLab(["convert", checkpoint, "--out", "qwen.gguf"]);
  assert.equal(again.status, 1, "an existing output is refused without --force");
  assert.match(again.stderr, /already exists/);
});
