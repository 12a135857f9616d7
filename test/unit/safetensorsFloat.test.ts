import assert from "node:assert/strict";
import { test } from "node:test";
import { bfloat16ToFloat32Bits, float32BitsToBfloat16Bits } from "../../src/core/numeric/bfloat16";
import { float16Bits, float16Value, float32BitsToFloat16Bits } from "../../src/core/numeric/float16";
import { decodeToFloat32 } from "../../src/core/safetensors/safetensorsTensorData";

const allPatterns = Uint16Array.from({ length: 65536 }, (_, index) => index);
const f32Bits = (value: number): number => new Uint32Array(Float32Array.of(value).buffer)[0] ?? 0;
const bitsToF32 = (bits: number): number => new Float32Array(Uint32Array.of(bits).buffer)[0] ?? 0;

test("decodeToFloat32: every F16 bit pattern equals the reference value (exactly, signed zeros and NaNs included)", () => {
  const out = new Float32Array(65536);
  assert.equal(decodeToFloat32("F16", new Uint8Array(allPatterns.buffer), out), 65536);
  for (let bits = 0; bits < 65536; bits += 1) {
    const expected = float16Value(bits);
    if (!Object.is(out[bits], expected)) assert.fail(`F16 ${bits.toString(16)}: ${out[bits]} ≠ ${expected}`);
  }
  // NaNs keep sign and payload, as a hardware F16 → F32 conversion does.
  const outBits = new Uint32Array(out.buffer);
  assert.equal(outBits[0x7c01], 0x7f802000);
  assert.equal(outBits[0xfe00], 0xffc00000);
});

test("decodeToFloat32: every BF16 bit pattern is the float32 with those upper 16 bits; F32 passes through", () => {
  const out = new Float32Array(65536 + 3);
  // An odd byte offset and a non-zero output index exercise the copy and offset paths.
  const misaligned = new Uint8Array(2 * 65536 + 1).subarray(1);
  misaligned.set(new Uint8Array(allPatterns.buffer));
  decodeToFloat32("BF16", misaligned, out, 3);
  const view = new DataView(new ArrayBuffer(4));
  for (let bits = 0; bits < 65536; bits += 1) {
    view.setUint32(0, bits * 65536, true);
    const expected = view.getFloat32(0, true);
    const actual = out[bits + 3] ?? 0;
    if (Number.isNaN(expected) ? !Number.isNaN(actual) : !Object.is(actual, expected)) assert.fail(`BF16 ${bits.toString(16)}: ${actual} ≠ ${expected}`);
  }
  const values = Float32Array.of(1, -2, 3.5, 1e-40, Infinity);
  const f32 = new Float32Array(5);
  decodeToFloat32("F32", new Uint8Array(values.buffer), f32);
  assert.deepEqual([...f32], [...values]);
  assert.throws(() => decodeToFloat32("F16", new Uint8Array(3), f32), RangeError);
  assert.throws(() => decodeToFloat32("F32", new Uint8Array(24), f32), RangeError);
});

test("float32BitsToFloat16Bits agrees with float16Bits: all F16 values, all midpoints, random float32s", () => {
  for (let bits = 0; bits < 65536; bits += 1) {
    const value = float16Value(bits);
    if (Number.isNaN(value)) {
      const half = float32BitsToFloat16Bits(f32Bits(value));
      assert.ok((half & 0x7c00) === 0x7c00 && (half & 0x3ff) !== 0, "NaN stays NaN");
      continue;
    }
    assert.equal(float32BitsToFloat16Bits(f32Bits(value)), bits);
    if ((bits & 0x7fff) < 0x7bff) {
      // The midpoint to the next pattern (exact in float32) and its float32 neighbours.
      const midpoint = (value + float16Value(bits + 1)) / 2;
      const midBits = f32Bits(midpoint);
      for (const probe of [midBits - 1, midBits, midBits + 1]) {
        const expected = float16Bits(bitsToF32(probe));
        if (float32BitsToFloat16Bits(probe) !== expected) assert.fail(`f32 ${probe.toString(16)} → ${float32BitsToFloat16Bits(probe).toString(16)}, expected ${expected.toString(16)}`);
      }
    }
  }
  let state = 12345;
  for (let round = 0; round < 200_000; round += 1) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const bits = (state ^ (round << 13)) >>> 0;
    const value = bitsToF32(bits);
    if (Number.isNaN(value)) continue;
    if (float32BitsToFloat16Bits(bits) !== float16Bits(value)) assert.fail(`f32 ${bits.toString(16)} (${value})`);
  }
  assert.equal(float32BitsToFloat16Bits(f32Bits(65520)), 0x7c00);
  assert.equal(float32BitsToFloat16Bits(f32Bits(-1e-10)), 0x8000);
});

test("float32BitsToBfloat16Bits: round to nearest even, exact values kept, NaN quiet", () => {
  for (let bits = 0; bits < 65536; bits += 1) {
    const f32 = bfloat16ToFloat32Bits(bits);
    if (Number.isNaN(bitsToF32(f32))) {
      const quiet = float32BitsToBfloat16Bits(f32);
      assert.ok((quiet & 0x7f80) === 0x7f80 && (quiet & 0x40) !== 0);
      continue;
    }
    assert.equal(float32BitsToBfloat16Bits(f32), bits);
    if ((bits & 0x7fff) >= 0x7f7f) continue;
    // Exactly halfway to the next bfloat16: ties to the even one; one float32 step either side goes to the nearer.
    const half = f32 + 0x8000;
    assert.equal(float32BitsToBfloat16Bits(half), bits % 2 === 0 ? bits : bits + 1);
    assert.equal(float32BitsToBfloat16Bits(half - 1), bits);
    assert.equal(float32BitsToBfloat16Bits(half + 1), bits + 1);
  }
  assert.equal(float32BitsToBfloat16Bits(f32Bits(1 + 2 ** -8)), 0x3f80, "tie to even (down)");
  assert.equal(float32BitsToBfloat16Bits(f32Bits(1 + 3 * 2 ** -8)), 0x3f82, "tie to even (up)");
  assert.equal(float32BitsToBfloat16Bits(0x7f7fffff), 0x7f80, "the largest float32 rounds to infinity");
});
