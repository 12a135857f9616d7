/**
 * The converter's ggml encodings (the bundled libggml-base through koffi) against the JavaScript path they replace:
 * every output byte must be the same, for BF16/F16/F32 sources into F32, F16 and Q8_0, on random weights, on values
 * at the edges (zeros, subnormals, infinities, NaNs with payloads, halfway cases), and on chunk lengths that do not
 * split evenly across threads. Also: a converted tensor big enough to take the ggml path equals the JavaScript one.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { ggmlRowEncoder } from "../../src/core/convert/ggmlRowEncoding";
import { plannedTensorSource } from "../../src/core/convert/tensorDataSource";
import { encodeFloat32 } from "../../src/core/convert/tensorEncoding";
import { GgmlType } from "../../src/core/gguf/ggmlTypes";
import { decodeToFloat32 } from "../../src/core/safetensors/safetensorsTensorData";
import { type SupportedSafetensorsDtype } from "../../src/core/safetensors/safetensorsDtypes";
import { type SafetensorsTensorInfo } from "../../src/core/safetensors/safetensorsHeader";
import { Random } from "../fixtures/seededRandom";

const ELEMENT_BYTES: Readonly<Record<"F32" | "F16" | "BF16", number>> = { F32: 4, F16: 2, BF16: 2 };

/** `count` elements of `dtype`: mostly weight-like values, plus every kind of edge value. */
function sampleBytes(dtype: "F32" | "F16" | "BF16", count: number, seed: number): Uint8Array {
  const random = new Random(seed);
  const floats = new Float32Array(count);
  const bits = new Uint32Array(floats.buffer);
  for (let index = 0; index < count; index += 1) {
    const kind = random.int(20);
    if (kind === 0) bits[index] = (random.int(0x10000) << 16) | random.int(0x10000); // any bit pattern: NaNs with payloads, infinities, subnormals
    else if (kind === 1) floats[index] = 0;
    else if (kind === 2) floats[index] = (random.next() - 0.5) * 1e-6; // F16 subnormals
    else if (kind === 3) floats[index] = (random.next() - 0.5) * 2e5; // beyond F16's range
    else floats[index] = (random.next() - 0.5) * 0.2;
  }
  if (dtype === "F32") return new Uint8Array(floats.buffer);
  // Halves: F16/BF16 bits of those values, with random bit patterns mixed in (NaN payloads, signalling NaNs).
  const halves = new Uint16Array(count);
  for (let index = 0; index < count; index += 1) {
    const word = bits[index] ?? 0;
    halves[index] = random.int(10) === 0 ? random.int(0x10000) : dtype === "BF16" ? word >>> 16 : float32ToHalfBitsTruncated(floats[index] ?? 0);
  }
  return new Uint8Array(halves.buffer);
}

/** Some F16 bit pattern near `value` (the tests only need varied valid halves, not a particular rounding). */
function float32ToHalfBitsTruncated(value: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value, true);
  const word = view.getUint32(0, true);
  const sign = (word >>> 16) & 0x8000;
  const exponent = ((word >>> 23) & 0xff) - 127 + 15;
  if (exponent <= 0) return sign;
  if (exponent >= 31) return sign | 0x7c00;
  return sign | (exponent << 10) | ((word >>> 13) & 0x3ff);
}

function javascriptEncoding(dtype: SupportedSafetensorsDtype, ggmlType: number, bytes: Uint8Array): Uint8Array {
  const values = new Float32Array(bytes.byteLength / ELEMENT_BYTES[dtype]);
  decodeToFloat32(dtype, bytes, values);
  return encodeFloat32(values, ggmlType);
}

test("ggml is loaded from the bundled binaries here (linux x64), and passes its self-check against JavaScript", async () => {
  assert.ok((await ggmlRowEncoder()) !== undefined, "libggml-base from @node-llama-cpp/linux-x64 should load and match the JavaScript rounding");
});

const PAIRS: readonly (readonly ["F32" | "F16" | "BF16", number, string])[] = [
  ["BF16", GgmlType.F16, "bf16 → f16"],
  ["F32", GgmlType.F16, "f32 → f16"],
  ["BF16", GgmlType.F32, "bf16 → f32"],
  ["F16", GgmlType.F32, "f16 → f32"],
  ["BF16", GgmlType.Q8_0, "bf16 → q8_0"],
  ["F16", GgmlType.Q8_0, "f16 → q8_0"],
  ["F32", GgmlType.Q8_0, "f32 → q8_0"],
];

for (const [dtype, ggmlType, label] of PAIRS) {
  test(`${label}: ggml's bytes equal the JavaScript path's, on odd chunk lengths and edge values`, async () => {
    const encoder = await ggmlRowEncoder();
    assert.ok(encoder !== undefined);
    // 32 · 4099 elements: whole Q8_0 blocks that do not split evenly across 2–4 threads; then a small chunk.
    for (const [count, seed] of [[32 * 4099, 1], [32 * 3, 2], [32 * 65536, 3]] as const) {
      const bytes = sampleBytes(dtype, count, seed);
      const expected = javascriptEncoding(dtype, ggmlType, bytes);
      const pending: Promise<Uint8Array> | undefined = encoder.encode(dtype, ggmlType, bytes);
      assert.ok(pending !== undefined, `${label} should be done by ggml`);
      const actual: Uint8Array = await pending;
      assert.equal(actual.byteLength, expected.byteLength);
      const firstDifference = actual.findIndex((byte: number, index: number) => byte !== expected[index]);
      assert.equal(firstDifference, -1, `${label}, ${count} elements: first different byte at ${firstDifference}`);
    }
  });
}

test("pairs ggml does not do are left to JavaScript (undefined), and a chunk that is not whole Q8_0 blocks too", async () => {
  const encoder = await ggmlRowEncoder();
  assert.ok(encoder !== undefined);
  assert.equal(encoder.encode("F16", GgmlType.BF16, new Uint8Array(64)), undefined);
  assert.equal(encoder.encode("F32", GgmlType.BF16, new Uint8Array(64)), undefined);
  assert.equal(encoder.encode("BF16", GgmlType.Q8_0, new Uint8Array(2 * 33)), undefined);
});

test("a converted tensor big enough for ggml (12 MiB, 3 chunks) gives the same bytes as encoding it in JavaScript; a chunk stays intact while the next is made", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "slm-ggml-encoding-"));
  try {
    const rows = 1024;
    const columns = 6144;
    const bytes = sampleBytes("BF16", rows * columns, 9);
    const file = path.join(dir, "weights.bin");
    await writeFile(file, bytes);
    const tensor: SafetensorsTensorInfo = { name: "w", dtype: "BF16", shape: [rows, columns], elementCount: rows * columns, begin: 0, end: bytes.byteLength, byteLength: bytes.byteLength, fileOffset: 0, file };
    for (const ggmlType of [GgmlType.F16, GgmlType.Q8_0, GgmlType.F32]) {
      const source = plannedTensorSource({ name: "w", shape: [rows, columns], source: { kind: "checkpoint", tensor: "w", transforms: [] } }, tensor, ggmlType);
      const parts: Uint8Array[] = [];
      let previous: Uint8Array | undefined;
      for await (const chunk of source.chunks()) {
        // The GGUF writer may still be writing the previous chunk while this one is encoded.
        if (previous !== undefined) assert.ok(Buffer.from(previous).equals(parts.at(-1) ?? new Uint8Array(0)), `ggml type ${ggmlType}: the previous chunk changed`);
        parts.push(Uint8Array.from(chunk));
        previous = chunk;
      }
      assert.ok(parts.length >= 3);
      const actual = Buffer.concat(parts);
      assert.ok(actual.equals(javascriptEncoding("BF16", ggmlType, bytes)), `ggml type ${ggmlType}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("bf16 → f16 of finite weights (ggml finds no NaN, so nothing is rescanned) equals the JavaScript path, infinities next to them too", async () => {
  const encoder = await ggmlRowEncoder();
  assert.ok(encoder !== undefined);
  const random = new Random(21);
  const count = 32 * 8192;
  const halves = new Uint16Array(count);
  const word = new Float32Array(1);
  const wordBits = new Uint32Array(word.buffer);
  for (let index = 0; index < count; index += 1) {
    word[0] = (random.next() - 0.5) * (random.int(4) === 0 ? 1e5 : 0.3);
    halves[index] = (wordBits[0] ?? 0) >>> 16;
  }
  const finite = new Uint8Array(halves.buffer);
  const withInfinity = Uint8Array.from(finite);
  new Uint16Array(withInfinity.buffer).set([0x7f80, 0xff80], 1000);
  for (const bytes of [finite, withInfinity]) {
    const pending: Promise<Uint8Array> | undefined = encoder.encode("BF16", GgmlType.F16, bytes);
    assert.ok(pending !== undefined);
    assert.ok(Buffer.from(await pending).equals(javascriptEncoding("BF16", GgmlType.F16, bytes)));
  }
});
