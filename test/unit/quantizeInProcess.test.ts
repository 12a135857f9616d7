// quantizeModel with `process: "this-process"` (what the CLI uses): the same work as in the child process, so the
// same bytes; a cancel rejects at once and leaves no file although the native call cannot be stopped; a later run in
// the same process waits for that call and is correct. Real bundled libllama, real fixture model, 2 threads.
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { CancelledError } from "../../src/core/errors";
import { readGgufSummary } from "../../src/core/gguf/ggufModelSummary";
import { quantizeModel, type QuantizedModelSidecar } from "../../src/core/quantize/quantizeModel";
import { ensureFixtureModel } from "../fixtures/fixtureModels";
import { fileSha256 } from "../../src/core/bench/fileSha256";

let folder = "";
let f16 = "";

before(async () => {
  folder = await mkdtemp(path.join(tmpdir(), "slm-quantize-in-process-"));
  f16 = await ensureFixtureModel("tiny-llama-spm");
});

after(async () => {
  await rm(folder, { recursive: true, force: true });
});

test("in this process: the same output, tensors, size and sidecar as in the child process", async () => {
  const dir = await mkdtemp(path.join(folder, "same-"));
  const inChild = path.join(dir, "child.gguf");
  const inProcess = path.join(dir, "here.gguf");
  const child = await quantizeModel(f16, inChild, { type: "Q4_K_M", threads: 2 });
  const tensorsDone: number[] = [];
  const here = await quantizeModel(f16, inProcess, {
    type: "Q4_K_M",
    threads: 2,
    process: "this-process",
    onProgress: (event) => {
      if (event.phase === "quantizing") tensorsDone.push(event.tensorsDone);
    },
  });
  assert.equal(await fileSha256(inProcess), await fileSha256(inChild));
  assert.deepEqual(here.tensors, child.tensors);
  assert.deepEqual(tensorsDone, Array.from({ length: 21 }, (_, index) => index + 1));
  assert.equal(here.outputSize, child.outputSize);
  assert.equal(here.predictedSize, here.outputSize, "the size computed from the run's tensor lines is exact");
  assert.deepEqual(here.llamaCpp, child.llamaCpp);
  assert.equal((await readGgufSummary(inProcess)).fileType, "Q4_K_M");
  const sidecar = JSON.parse(await readFile(`${inProcess}.slm-lab.json`, "utf8")) as QuantizedModelSidecar;
  assert.equal(sidecar.parent.path, f16);
  assert.equal(sidecar.quantization.type, "Q4_K_M");
  assert.deepEqual((await readdir(dir)).sort(), ["child.gguf", "child.gguf.slm-lab.json", "here.gguf", "here.gguf.slm-lab.json"]);

  const dry = await quantizeModel(f16, path.join(dir, "dry.gguf"), { type: "Q4_K_M", threads: 2, process: "this-process", dryRun: true });
  assert.equal(dry.output, undefined);
  assert.equal(dry.predictedSize, here.outputSize, "the dry run in this process predicts the exact size");
});

test("in this process: cancel mid-way rejects at once and leaves no file; the next run waits for the native call and is correct", async () => {
  const dir = await mkdtemp(path.join(folder, "cancel-"));
  const controller = new AbortController();
  let tensorsSeen = 0;
  await assert.rejects(
    quantizeModel(f16, path.join(dir, "cancelled.gguf"), {
      type: "IQ4_XS",
      threads: 1,
      process: "this-process",
      signal: controller.signal,
      onProgress: (event) => {
        if (event.phase !== "quantizing") return;
        tensorsSeen = event.tensorsDone;
        controller.abort();
      },
    }),
    CancelledError,
  );
  assert.ok(tensorsSeen >= 1 && tensorsSeen < 21, `cancelled mid-way (after ${tensorsSeen} tensors)`);
  assert.deepEqual(await readdir(dir), [], "neither the output, nor its temp folder, nor a sidecar");

  // The cancelled call is still running on koffi's thread: this one waits for it, then gets only its own lines.
  const output = path.join(dir, "after.gguf");
  const result = await quantizeModel(f16, output, { type: "Q8_0", threads: 2, process: "this-process" });
  assert.equal(result.tensors.length, 21);
  assert.ok(result.tensors.every((tensor) => tensor.sourceType === "f32" || tensor.targetType === "q8_0"), "only this run's tensor lines");
  assert.equal((await readGgufSummary(output)).fileType, "Q8_0");
  assert.deepEqual((await readdir(dir)).sort(), ["after.gguf", "after.gguf.slm-lab.json"], "the cancelled call wrote nowhere visible");
});
