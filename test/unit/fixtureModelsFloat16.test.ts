import assert from "node:assert/strict";
import { test } from "node:test";
import { float16Bits, float16Value } from "../fixtures/float16";
import { hashSeed, randomTensorData } from "../fixtures/randomWeights";

test("float16Bits: known values", () => {
  assert.equal(float16Bits(0), 0x0000);
  assert.equal(float16Bits(-0), 0x8000);
  assert.equal(float16Bits(1), 0x3c00);
  assert.equal(float16Bits(-2), 0xc000);
  assert.equal(float16Bits(0.1), 0x2e66);
  assert.equal(float16Bits(65504), 0x7bff);
  assert.equal(float16Bits(65519.99), 0x7bff);
  assert.equal(float16Bits(65520), 0x7c00);
  assert.equal(float16Bits(-1e9), 0xfc00);
  assert.equal(float16Bits(Infinity), 0x7c00);
  assert.equal(float16Bits(NaN) & 0x7c00, 0x7c00);
  assert.notEqual(float16Bits(NaN) & 0x03ff, 0);
  assert.equal(float16Bits(2 ** -24), 0x0001);
  assert.equal(float16Bits(2 ** -25), 0x0000, "half of the smallest subnormal ties to even (zero)");
  assert.equal(float16Bits(3 * 2 ** -25), 0x0002, "1.5 × smallest subnormal ties to even (2)");
  assert.equal(float16Bits(2 ** -14), 0x0400);
  assert.equal(float16Bits(2 ** -14 - 2 ** -25), 0x0400, "the largest subnormal's upper midpoint ties up to the smallest normal");
  assert.equal(float16Bits(1 + 2 ** -11), 0x3c00, "midpoint above 1 ties to even (1)");
  assert.equal(float16Bits(1 + 3 * 2 ** -11), 0x3c02, "midpoint above 1 + 2^-10 ties to even");
  assert.equal(float16Bits(Math.fround(0.333333343267)), 0x3555);
});

test("float16Bits: every finite pattern round-trips and every midpoint rounds to even", () => {
  for (let bits = 0; bits < 0x7c00; bits += 1) {
    for (const sign of [0, 0x8000]) {
      const pattern = sign | bits;
      const value = float16Value(pattern);
      assert.equal(float16Bits(value), pattern);
      if (bits === 0x7bff) continue;
      const next = float16Value(pattern + 1);
      const midpoint = (value + next) / 2;
      const even = pattern % 2 === 0 ? pattern : pattern + 1;
      if (float16Bits(midpoint) !== even) assert.fail(`midpoint of ${pattern.toString(16)} and the next gave ${float16Bits(midpoint).toString(16)}`);
      const nearer = value + (next - value) * (0.5 - 1 / 1024);
      const farther = value + (next - value) * (0.5 + 1 / 1024);
      if (float16Bits(nearer) !== pattern || float16Bits(farther) !== pattern + 1) assert.fail(`rounding next to the midpoint after ${pattern.toString(16)}`);
    }
  }
});

async function collect(source: { chunks(): AsyncIterable<Uint8Array> }): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of source.chunks()) parts.push(chunk);
  return Buffer.concat(parts);
}

test("randomTensorData: deterministic, sized, normal-ish with the asked std", async () => {
  const options = { elementCount: 100_003, format: "f16", fill: { kind: "normal", std: 0.02 }, seed: hashSeed(7, "blk.0.attn_q.weight") } as const;
  const first = await collect(randomTensorData(options));
  const second = await collect(randomTensorData(options));
  assert.equal(first.byteLength, 200_006);
  assert.equal(randomTensorData(options).byteLength, 200_006);
  assert.ok(first.equals(second));
  const other = await collect(randomTensorData({ ...options, seed: hashSeed(7, "blk.0.attn_k.weight") }));
  assert.ok(!first.equals(other), "another tensor name gives other values");

  let sum = 0;
  let sumSquares = 0;
  for (let index = 0; index < options.elementCount; index += 1) {
    const value = float16Value(first.readUInt16LE(index * 2));
    sum += value;
    sumSquares += value * value;
  }
  const mean = sum / options.elementCount;
  const std = Math.sqrt(sumSquares / options.elementCount - mean * mean);
  assert.ok(Math.abs(mean) < 0.001, `mean ${mean}`);
  assert.ok(Math.abs(std - 0.02) < 0.001, `std ${std}`);

  const ones = await collect(randomTensorData({ elementCount: 5, format: "f32", fill: { kind: "constant", value: 1 }, seed: 0 }));
  assert.deepEqual([...new Float32Array(ones.buffer, ones.byteOffset, 5)], [1, 1, 1, 1, 1]);
});
