import assert from "node:assert/strict";
import { test } from "node:test";
import { SafetensorsFormatError } from "../../src/core/safetensors/safetensorsErrors";
import { parseSafetensorsBytes, readSafetensorsHeader } from "../../src/core/safetensors/safetensorsHeader";
import { encodeSafetensors } from "../../src/core/safetensors/safetensorsWriter";
import { countingBytes, temporaryFolder, writeSample } from "../fixtures/safetensorsSamples";
import { Random } from "../fixtures/seededRandom";

/** A valid file with a few tensors of every supported dtype, metadata, and names needing JSON escapes. */
function validSample(): Uint8Array {
  return encodeSafetensors(
    [
      { name: "model.layers.0.self_attn.q_proj.weight", dtype: "BF16", shape: [4, 6], data: countingBytes(48) },
      { name: "model.norm.weight", dtype: "F32", shape: [6], data: countingBytes(24) },
      { name: 'we"ird\\name ü', dtype: "F16", shape: [3], data: countingBytes(6) },
      { name: "ids", dtype: "I64", shape: [2], data: countingBytes(16) },
    ],
    { format: "pt" },
  );
}

/** mulberry32: a seeded PRNG, so a failing case can be replayed. */
function prng(seed: number): () => number {
  const generator = new Random(seed);
  return () => generator.next();
}

function expectFormatErrorOrValid(bytes: Uint8Array, label: string): "valid" | "error" {
  try {
    const header = parseSafetensorsBytes(bytes, "fuzz.safetensors");
    // Whatever was accepted obeys the format: ranges tile the data exactly and lie inside the file.
    let expected = header.dataOffset;
    for (const tensor of header.tensors) {
      assert.equal(tensor.fileOffset, expected, label);
      expected += tensor.byteLength;
    }
    assert.equal(expected, bytes.byteLength, label);
    return "valid";
  } catch (error) {
    if (!(error instanceof SafetensorsFormatError)) assert.fail(`${label}: ${String(error)}`);
    assert.ok(error.offset >= 0 && error.offset <= bytes.byteLength, `${label}: offset ${error.offset}`);
    return "error";
  }
}

test("fuzz: every truncation of a valid file is a SafetensorsFormatError (memory and file)", async () => {
  const sample = validSample();
  assert.equal(expectFormatErrorOrValid(sample, "whole file"), "valid");
  for (let length = 0; length < sample.byteLength; length += 1) {
    assert.equal(expectFormatErrorOrValid(sample.subarray(0, length), `truncated to ${length}`), "error", `truncated to ${length}`);
  }
  const { dir, cleanup } = await temporaryFolder();
  try {
    for (let length = 0; length < sample.byteLength; length += 7) {
      const file = await writeSample(dir, `t${length}.safetensors`, sample.subarray(0, length));
      await assert.rejects(readSafetensorsHeader(file), SafetensorsFormatError, `file truncated to ${length}`);
    }
  } finally {
    await cleanup();
  }
});

test("fuzz: random byte mutations and header lengths never crash, hang or allocate by a corrupt length", () => {
  const sample = validSample();
  const random = prng(20261124);
  let errors = 0;
  for (let round = 0; round < 600; round += 1) {
    const bytes = sample.slice();
    const mutations = 1 + Math.floor(random() * 4);
    for (let count = 0; count < mutations; count += 1) {
      const position = Math.floor(random() * (round % 3 === 0 ? 8 : bytes.byteLength));
      bytes[position] = Math.floor(random() * 256);
    }
    const cut = round % 5 === 0 ? Math.floor(random() * bytes.byteLength) : bytes.byteLength;
    if (expectFormatErrorOrValid(bytes.subarray(0, cut), `round ${round}`) === "error") errors += 1;
  }
  assert.ok(errors > 300, `most mutations are caught (${errors} of 600)`);

  // A corrupt length field is checked against the limit and the file size before anything is allocated for it.
  const before = process.memoryUsage().arrayBuffers;
  for (const length of [2n ** 64n - 1n, 2n ** 53n, 99_999_999n, 100_000_000n, 100_000_001n]) {
    const bytes = sample.slice();
    new DataView(bytes.buffer).setBigUint64(0, length, true);
    assert.equal(expectFormatErrorOrValid(bytes, `length ${length}`), "error");
  }
  assert.ok(process.memoryUsage().arrayBuffers - before < 50_000_000, "no allocation of the claimed header size");
});
