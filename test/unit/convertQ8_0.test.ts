/**
 * The converter's Q8_0 against llama.cpp's: the f32 conversion quantized to Q8_0 by llama.cpp's own quantizer (the
 * bundled libllama, `llama_model_quantize`) must give byte-identical blocks to our direct q8_0 conversion, tensor by
 * tensor, wherever both chose Q8_0 — the same reference routine (`quantize_row_q8_0_ref`) on the same values.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { GgmlType } from "../../src/core/gguf/ggmlTypes";
import { readGgufFile, readTensorData } from "../../src/core/gguf/ggufReader";
import { type GgufFile, type GgufMetadataEntry, type GgufTensorInfo } from "../../src/core/gguf/ggufTypes";
import { quantizeModel } from "../../src/core/quantize/quantizeModel";
import { convertFixture } from "./convertFixtureSupport";

let work: string;
before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "slm-convert-q8-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function bytesOf(file: GgufFile<GgufMetadataEntry>, info: GgufTensorInfo): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of readTensorData(file, info)) parts.push(chunk);
  return Buffer.concat(parts);
}

test("q8_0 conversion = llama.cpp's Q8_0 quantization of the f32 conversion, byte for byte", async () => {
  const f32 = await convertFixture("tiny-llama", "f32", work);
  const ours = await convertFixture("tiny-llama", "q8_0", work);
  const theirsPath = path.join(work, "tiny-llama-llamacpp-q8_0.gguf");
  await quantizeModel(f32.outFile, theirsPath, { type: "Q8_0", threads: 2 });
  const oursFile = await readGgufFile(ours.outFile, { maxArrayValues: 16 });
  const theirsFile = await readGgufFile(theirsPath, { maxArrayValues: 16 });
  let compared = 0;
  for (const theirs of theirsFile.tensors) {
    const mine = oursFile.tensors.find((info) => info.name === theirs.name);
    assert.ok(mine !== undefined, `${theirs.name} missing from our q8_0 file`);
    assert.deepEqual(mine.dims, theirs.dims, theirs.name);
    if (theirs.ggmlType !== GgmlType.Q8_0) continue;
    assert.equal(mine.ggmlType, GgmlType.Q8_0, `${theirs.name}: llama.cpp chose Q8_0`);
    assert.ok((await bytesOf(oursFile, mine)).equals(await bytesOf(theirsFile, theirs)), `${theirs.name}: Q8_0 bytes differ`);
    compared += 1;
  }
  // Every 2-D weight of both layers (7 each), the embedding and the output.
  assert.ok(compared >= 16, `only ${compared} Q8_0 tensors compared`);
});
