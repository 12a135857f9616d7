// `slm-lab quantize` end to end through the built CLI (bin/slm-lab.cjs → dist/cli.js: `npm run build` first), which
// quantizes in its own process: the output is the same as quantizeModel's in a child process, and Ctrl+C (SIGINT) mid-way ends the process
// at once, as a shell expects, leaving no output, temp or sidecar file.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { quantizeModel } from "../../src/core/quantize/quantizeModel";
import { ensureFixtureModel } from "../fixtures/fixtureModels";
import { fileSha256 } from "../../src/core/bench/fileSha256";

const root = path.resolve(__dirname, "..", "..");
const bin = path.join(root, "bin", "slm-lab.cjs");
let folder = "";
let f16 = "";

before(async () => {
  folder = await mkdtemp(path.join(tmpdir(), "slm-quantize-cli-"));
  f16 = await ensureFixtureModel("tiny-llama-spm");
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
});

function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { SLM_LAB_DEBUG: _ignored, ...env } = process.env;
  return { ...env, ...extra };
}

test("quantize: the CLI's output is byte for byte quantizeModel's (child process), reported as JSON", async () => {
  const dir = await mkdtemp(path.join(folder, "same-"));
  const cliOutput = path.join(dir, "cli.gguf");
  const run = spawnSync(process.execPath, [bin, "quantize", f16, cliOutput, "Q4_0", "--threads", "2", "--json"], { encoding: "utf8", env: cliEnv(), timeout: 120_000 });
  assert.equal(run.status, 0, run.stderr);
  const json = JSON.parse(run.stdout) as { output: string; type: string; outputSize: number; predictedSize: number; sidecar: string };
  assert.equal(json.output, cliOutput);
  assert.equal(json.type, "Q4_0");
  assert.equal(json.predictedSize, json.outputSize);

  const reference = path.join(dir, "reference.gguf");
  const result = await quantizeModel(f16, reference, { type: "Q4_0", threads: 2 });
  assert.equal(await fileSha256(cliOutput), await fileSha256(reference));
  assert.equal(json.outputSize, result.outputSize);
  assert.deepEqual((await readdir(dir)).sort(), ["cli.gguf", "cli.gguf.slm-lab.json", "reference.gguf", "reference.gguf.slm-lab.json"]);
});

test("quantize: Ctrl+C mid-way ends the CLI by SIGINT and leaves no file", async () => {
  const dir = await mkdtemp(path.join(folder, "cancel-"));
  // IQ4_XS on one thread takes a few seconds on this model: long enough to interrupt after its first tensor.
  // SLM_LAB_DEBUG=1 echoes llama.cpp's log on stderr, which tells when the first tensor is done.
  const child = spawn(process.execPath, [bin, "quantize", f16, path.join(dir, "cancelled.gguf"), "IQ4_XS", "--threads", "1"], {
    env: cliEnv({ SLM_LAB_DEBUG: "1" }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let interruptedAfter: string | undefined;
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => {
    stderr += text;
    const tensor = /llama\.cpp: \[\s*(\d+)\/\s*21\]/.exec(stderr);
    if (interruptedAfter === undefined && tensor !== null) {
      interruptedAfter = tensor[1];
      child.kill("SIGINT");
    }
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.on("exit", (exitCode, exitSignal) => { resolve([exitCode, exitSignal]); });
  });
  assert.ok(interruptedAfter !== undefined, `interrupted mid-way; stderr:\n${stderr}`);
  assert.equal(signal, "SIGINT", `ended by SIGINT (exit code ${code ?? "none"}); stderr:\n${stderr}`);
  assert.match(stderr, /slm-lab: Cancelled/);
  assert.deepEqual(await readdir(dir), [], "neither the output, nor its temp folder, nor a sidecar");
});
