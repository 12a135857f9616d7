import assert from "node:assert/strict";
import { truncate } from "node:fs/promises";
import { test } from "node:test";
import { CancelledError } from "../../src/core/errors";
import { float16Bits, float16Value } from "../../src/core/numeric/float16";
import { requireSupportedDtype } from "../../src/core/safetensors/safetensorsDtypes";
import { SafetensorsFormatError, UnsupportedSafetensorsDtypeError, type SafetensorsFormatErrorCode } from "../../src/core/safetensors/safetensorsErrors";
import { SAFETENSORS_MAX_HEADER_BYTES, parseSafetensorsBytes, readSafetensorsHeader } from "../../src/core/safetensors/safetensorsHeader";
import { readSafetensorsTensorBytes, readSafetensorsTensorFloat32, tensorToFloat32 } from "../../src/core/safetensors/safetensorsTensorData";
import { encodeSafetensors, writeSafetensorsFile, type SafetensorsTensorToWrite } from "../../src/core/safetensors/safetensorsWriter";
import { countingBytes, float32Bytes, rawSafetensors, temporaryFolder, writeSample } from "../fixtures/safetensorsSamples";

function float16Bytes(values: readonly number[]): Uint8Array {
  return new Uint8Array(Uint16Array.from(values, float16Bits).buffer);
}
/** bfloat16 by truncation: exact for the values used here (they have at most 8 significant bits). */
function bfloat16Bytes(values: readonly number[]): Uint8Array {
  const bits = new Uint32Array(Float32Array.from(values).buffer);
  return new Uint8Array(Uint16Array.from(bits, (value) => value >>> 16).buffer);
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<{ bytes: Buffer; sizes: number[] }> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return { bytes: Buffer.concat(parts), sizes: parts.map((part) => part.byteLength) };
}

const f32Values = [0, 1, -2.5, 3.25, 1e-3, -65504, 7, 0.5, 1.5, -0.125, 1e20, -1e-20];
const f16Values = [0, 1, -2.5, 3.25, 0.099975586, 65504, -0, 2 ** -24];
const bf16Values = [0, 1, -2.5, 3.25, 1.5 * 2 ** 100, -3 * 2 ** -100, 0.0078125, 256];

const sampleTensors: (SafetensorsTensorToWrite & { readonly data: Uint8Array })[] = [
  { name: "model.embed.weight", dtype: "F32", shape: [3, 4], data: float32Bytes(f32Values) },
  { name: "model.norm.weight", dtype: "F16", shape: [8], data: float16Bytes(f16Values) },
  { name: "lm_head.weight", dtype: "BF16", shape: [2, 2, 2], data: bfloat16Bytes(bf16Values) },
  { name: "scalar", dtype: "F32", shape: [], data: float32Bytes([42]) },
  { name: "empty", dtype: "F16", shape: [0, 5], data: new Uint8Array(0) },
];

test("round trip: writer → reader for F32, F16 and BF16, with metadata, scalars and empty tensors", async () => {
  const { dir, cleanup } = await temporaryFolder();
  try {
    const file = `${dir}/model.safetensors`;
    await writeSafetensorsFile(file, sampleTensors, { metadata: { format: "pt", note: "ünïcode" } });
    const header = await readSafetensorsHeader(file);
    assert.equal(header.dataOffset % 8, 0, "the writer pads the header to 8 bytes");
    assert.equal(header.dataOffset, 8 + header.headerByteLength);
    assert.deepEqual([...header.metadata], [["format", "pt"], ["note", "ünïcode"]]);
    assert.deepEqual(
      header.tensors.map((tensor) => [tensor.name, tensor.dtype, tensor.shape, tensor.elementCount, tensor.byteLength]),
      [
        ["model.embed.weight", "F32", [3, 4], 12, 48],
        ["model.norm.weight", "F16", [8], 8, 16],
        ["lm_head.weight", "BF16", [2, 2, 2], 8, 16],
        ["scalar", "F32", [], 1, 4],
        ["empty", "F16", [0, 5], 0, 0],
      ],
    );
    let expectedOffset = header.dataOffset;
    for (const tensor of header.tensors) {
      assert.equal(tensor.fileOffset, expectedOffset);
      assert.equal(tensor.file, file);
      expectedOffset += tensor.byteLength;
    }
    assert.equal(expectedOffset, header.fileSize);

    const byName = new Map(header.tensors.map((tensor) => [tensor.name, tensor]));
    const get = (name: string) => byName.get(name) ?? assert.fail(name);
    assert.deepEqual([...(await tensorToFloat32(get("model.embed.weight")))], [...Float32Array.from(f32Values)]);
    assert.deepEqual([...(await tensorToFloat32(get("model.norm.weight")))], f16Values.map((value) => float16Value(float16Bits(value))));
    assert.deepEqual([...(await tensorToFloat32(get("lm_head.weight")))], [...Float32Array.from(bf16Values)]);
    assert.deepEqual([...(await tensorToFloat32(get("scalar")))], [42]);
    assert.deepEqual([...(await tensorToFloat32(get("empty")))], []);
    for (const written of sampleTensors) {
      const { bytes } = await collect(readSafetensorsTensorBytes(get(written.name)));
      assert.ok(bytes.equals(written.data), written.name);
    }

    // The in-memory encoder writes the same bytes, and the in-memory parser reads them the same way.
    const encoded = encodeSafetensors(sampleTensors, { format: "pt", note: "ünïcode" });
    const parsed = parseSafetensorsBytes(encoded, "memory");
    assert.deepEqual(parsed.tensors.map((tensor) => [tensor.name, tensor.fileOffset]), header.tensors.map((tensor) => [tensor.name, tensor.fileOffset]));
  } finally {
    await cleanup();
  }
});

test("writer: streamed data sources, temp + rename, and no file left when a source is short", async () => {
  const { dir, cleanup } = await temporaryFolder();
  try {
    const data = countingBytes(10_000);
    const source = {
      byteLength: data.byteLength,
      async *chunks(): AsyncGenerator<Uint8Array> {
        for (let start = 0; start < data.byteLength; start += 999) yield data.subarray(start, start + 999);
        await Promise.resolve();
      },
    };
    const file = `${dir}/streamed.safetensors`;
    await writeSafetensorsFile(file, [{ name: "w", dtype: "U8", shape: [100, 100], data: source }]);
    const header = await readSafetensorsHeader(file);
    const { bytes } = await collect(readSafetensorsTensorBytes(header.tensors[0] ?? assert.fail()));
    assert.ok(bytes.equals(data));

    const short = { byteLength: 16, async *chunks(): AsyncGenerator<Uint8Array> { yield new Uint8Array(8); await Promise.resolve(); } };
    await assert.rejects(writeSafetensorsFile(`${dir}/short.safetensors`, [{ name: "w", dtype: "F32", shape: [4], data: short }]), /yielded 8 of 16 bytes/);
    assert.throws(() => encodeSafetensors([{ name: "w", dtype: "F32", shape: [3], data: new Uint8Array(8) }]), /needs 12 bytes/);
    const { readdir } = await import("node:fs/promises");
    assert.deepEqual((await readdir(dir)).sort(), ["streamed.safetensors"], "no temp or partial file is left");

    const controller = new AbortController();
    controller.abort();
    await assert.rejects(writeSafetensorsFile(`${dir}/aborted.safetensors`, [], { signal: controller.signal }), CancelledError);
  } finally {
    await cleanup();
  }
});

test("streaming a tensor in chunks gives its bytes, whole elements per chunk, and stops on abort", async () => {
  const { dir, cleanup } = await temporaryFolder();
  try {
    const data = countingBytes(4 * 1001);
    const file = await writeSample(dir, "one.safetensors", encodeSafetensors([{ name: "t", dtype: "F32", shape: [1001], data }]));
    const tensor = (await readSafetensorsHeader(file)).tensors[0] ?? assert.fail();
    for (const chunkBytes of [1, 8, 12, 1000, 4004, 1 << 20]) {
      const { bytes, sizes } = await collect(readSafetensorsTensorBytes(tensor, { chunkBytes }));
      assert.ok(bytes.equals(data), `chunkBytes ${chunkBytes}`);
      const limit = Math.max(8, Math.floor(chunkBytes / 8) * 8);
      assert.ok(sizes.every((size) => size <= limit && size % 4 === 0), `chunk sizes ${sizes.slice(0, 5).join(",")}`);
    }
    const floats: number[] = [];
    for await (const chunk of readSafetensorsTensorFloat32(tensor, { chunkBytes: 64 })) floats.push(...chunk);
    assert.deepEqual(floats, [...new Float32Array(data.buffer)]);

    const controller = new AbortController();
    const chunks = readSafetensorsTensorBytes(tensor, { chunkBytes: 8, signal: controller.signal });
    await chunks.next();
    controller.abort();
    await assert.rejects(chunks.next(), CancelledError);

    await truncate(file, tensor.fileOffset + 100);
    await assert.rejects(collect(readSafetensorsTensorBytes(tensor)), (error: unknown) => error instanceof SafetensorsFormatError && error.code === "truncated" && error.offset === tensor.fileOffset + 100);
  } finally {
    await cleanup();
  }
});

/** For errors whose offset comes from JSON.parse's message, which not every Node version gives: any header byte. */
const ANY_HEADER_OFFSET = -1;

interface BadCase {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly code: SafetensorsFormatErrorCode;
  readonly offset: number;
  readonly message?: RegExp;
}

const f32x2 = { dtype: "F32", shape: [2], data_offsets: [0, 8] };
/** Byte offset in the file of the first occurrence of `text` in the header (ASCII headers only). */
function at(header: string, text: string, occurrence = 1): number {
  let index = -1;
  for (let count = 0; count < occurrence; count += 1) index = header.indexOf(text, index + 1);
  assert.ok(index >= 0, `${text} in ${header}`);
  return 8 + index;
}

function badCases(): BadCase[] {
  const cases: BadCase[] = [];
  const add = (name: string, header: string, data: Uint8Array, code: SafetensorsFormatErrorCode, offset: number, message?: RegExp): void => {
    cases.push({ name, bytes: rawSafetensors(header, data), code, offset, ...(message === undefined ? {} : { message }) });
  };
  cases.push({ name: "shorter than the length field", bytes: new Uint8Array(5), code: "truncated", offset: 5 });
  cases.push({ name: "header length over 100 MB", bytes: rawSafetensors("{}", new Uint8Array(0), BigInt(SAFETENSORS_MAX_HEADER_BYTES + 1)), code: "header-too-large", offset: 0 });
  cases.push({ name: "header length 2^64-1", bytes: rawSafetensors("{}", new Uint8Array(0), 2n ** 64n - 1n), code: "header-too-large", offset: 0 });
  cases.push({ name: "header length past the end of the file", bytes: rawSafetensors("{}", new Uint8Array(0), 1000n), code: "truncated", offset: 10 });
  cases.push({ name: "header not UTF-8", bytes: (() => { const bytes = rawSafetensors('{"a":1}'); bytes[10] = 0xff; return bytes; })(), code: "invalid-header", offset: 8, message: /UTF-8/ });
  add("invalid JSON", '{"a": }', new Uint8Array(0), "invalid-header", ANY_HEADER_OFFSET, /not valid JSON/);
  add("text after the JSON object", '{"a": 1} x', new Uint8Array(0), "invalid-header", 8 + 9, /not valid JSON/);
  add("JSON array", "[1, 2]", new Uint8Array(0), "invalid-header", 8, /not a JSON object/);
  add("JSON string", '"model"', new Uint8Array(0), "invalid-header", 8);
  add("leading space before the object", ' {"a":1}', new Uint8Array(0), "invalid-header", 8);
  add("empty header", "", new Uint8Array(0), "invalid-header", 8);
  let header = JSON.stringify({ a: f32x2, b: 5 });
  add("entry not an object", header, new Uint8Array(8), "invalid-entry", at(header, '"b"'), /tensor "b"/);
  header = JSON.stringify({ a: { shape: [2], data_offsets: [0, 8] } });
  add("no dtype", header, new Uint8Array(8), "invalid-entry", 8 + 1);
  header = JSON.stringify({ w: f32x2, "x.weight": { dtype: "F17", shape: [2], data_offsets: [8, 16] } });
  add("unknown dtype", header, new Uint8Array(16), "unknown-dtype", at(header, '"x.weight"'), /unknown dtype "F17"/);
  header = JSON.stringify({ a: { dtype: "F32", shape: [2.5], data_offsets: [0, 8] } });
  add("fractional shape", header, new Uint8Array(8), "invalid-entry", 9, /invalid shape/);
  header = JSON.stringify({ a: { dtype: "F32", shape: [2], data_offsets: [-8, 0] } });
  add("negative offset", header, new Uint8Array(8), "invalid-entry", 9, /invalid data_offsets/);
  header = JSON.stringify({ a: { dtype: "F32", shape: [2], data_offsets: [8] } });
  add("one offset", header, new Uint8Array(8), "invalid-entry", 9);
  header = JSON.stringify({ a: { dtype: "F32", shape: [0], data_offsets: [8, 0] } });
  add("end before begin", header, new Uint8Array(8), "invalid-entry", 9, /end before they begin/);
  header = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,9007199254740993]}}';
  add("offset above 2^53", header, new Uint8Array(8), "invalid-entry", 9);
  header = JSON.stringify({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } });
  add("shape × dtype ≠ byte range", header, new Uint8Array(8), "size-mismatch", 9, /\[3\] × F32 = 12 bytes/);
  header = JSON.stringify({ a: { dtype: "F16", shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } });
  add("shape overflow", header, new Uint8Array(8), "size-mismatch", 9);
  header = JSON.stringify({ a: { dtype: "F4", shape: [3], data_offsets: [0, 1] } });
  add("F4 with an odd element count", header, new Uint8Array(1), "size-mismatch", 9, /whole number of bytes/);
  header = JSON.stringify({ a: f32x2, b: { dtype: "F32", shape: [2], data_offsets: [8, 16] } });
  add("data past the end of the file", header, new Uint8Array(12), "truncated", 8 + header.length + 12, /tensor "b" up to byte/);
  header = JSON.stringify({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } });
  add("overlapping tensors", header, new Uint8Array(12), "overlap", 8 + header.length + 4, /"b" overlaps tensor "a"/);
  header = JSON.stringify({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [1], data_offsets: [12, 16] } });
  add("gap between tensors", header, new Uint8Array(16), "gap", 8 + header.length + 8, /4 bytes belong to no tensor/);
  header = JSON.stringify({ b: { dtype: "F32", shape: [1], data_offsets: [4, 8] } });
  add("gap at the start", header, new Uint8Array(8), "gap", 8 + header.length);
  header = JSON.stringify({ a: f32x2 });
  add("trailing bytes", header, new Uint8Array(11), "gap", 8 + header.length + 8, /3 trailing bytes/);
  header = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}';
  add("duplicate tensor names", header, new Uint8Array(16), "duplicate-key", at(header, '"a"', 2), /duplicate key "a"/);
  header = '{"a":{"dtype":"F32","shape":[2],"dtype":"F16","data_offsets":[0,8]}}';
  add("duplicate key inside an entry", header, new Uint8Array(8), "duplicate-key", at(header, '"dtype"', 2));
  header = '{"\\u0061":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}';
  add("duplicate names spelled differently", header, new Uint8Array(16), "duplicate-key", at(header, '"a"'));
  header = JSON.stringify({ __metadata__: { format: 1 }, a: f32x2 });
  add("metadata value not a string", header, new Uint8Array(8), "invalid-entry", 9, /metadata value "format"/);
  header = JSON.stringify({ __metadata__: ["pt"], a: f32x2 });
  add("metadata not an object", header, new Uint8Array(8), "invalid-entry", 9);
  header = JSON.stringify({ "ä": f32x2, b: 7 });
  add("offsets count UTF-8 bytes", header, new Uint8Array(8), "invalid-entry", 8 + Buffer.byteLength('{"ä":') + Buffer.byteLength(JSON.stringify(f32x2)) + 1);
  return cases;
}

test("bad input: every broken rule gives a SafetensorsFormatError with its code and byte offset (memory and file)", async () => {
  const { dir, cleanup } = await temporaryFolder();
  try {
    for (const [index, bad] of badCases().entries()) {
      const check = (error: unknown): boolean => {
        assert.ok(error instanceof SafetensorsFormatError, `${bad.name}: ${String(error)}`);
        assert.equal(error.code, bad.code, `${bad.name}: ${error.message}`);
        if (bad.offset === ANY_HEADER_OFFSET) assert.ok(error.offset >= 8 && error.offset < bad.bytes.byteLength, `${bad.name}: ${error.message}`);
        else assert.equal(error.offset, bad.offset, `${bad.name}: ${error.message}`);
        if (bad.message !== undefined) assert.match(error.message, bad.message, bad.name);
        assert.match(error.message, new RegExp(`^case-${index}\\.safetensors: .* at byte ${error.offset}: expected `), bad.name);
        assert.ok(error.toOneLine().length > error.message.length, "an action follows");
        return true;
      };
      assert.throws(() => parseSafetensorsBytes(bad.bytes, `/x/case-${index}.safetensors`), check);
      const file = await writeSample(dir, `case-${index}.safetensors`, bad.bytes);
      await assert.rejects(readSafetensorsHeader(file), check);
    }
  } finally {
    await cleanup();
  }
});

test("dtypes the format allows but SLM Lab does not convert are read, then refused by requireSupportedDtype", async () => {
  const bytes = encodeSafetensors([
    { name: "q", dtype: "I8", shape: [4], data: new Uint8Array(4) },
    { name: "f8", dtype: "F8_E4M3", shape: [2], data: new Uint8Array(2) },
    { name: "ok", dtype: "BF16", shape: [1], data: new Uint8Array(2) },
  ]);
  const header = parseSafetensorsBytes(bytes, "/models/q/model.safetensors");
  const [q, f8, ok] = header.tensors;
  assert.equal(requireSupportedDtype(ok ?? assert.fail()), "BF16");
  assert.throws(() => requireSupportedDtype(q ?? assert.fail()), (error: unknown) => {
    assert.ok(error instanceof UnsupportedSafetensorsDtypeError);
    assert.equal(error.message, 'model.safetensors: tensor "q" uses dtype I8; SLM Lab converts F32, F16 and BF16 checkpoints');
    assert.equal(error.dtype, "I8");
    return true;
  });
  assert.throws(() => requireSupportedDtype(f8 ?? assert.fail()), /uses dtype F8_E4M3/);
  await assert.rejects(tensorToFloat32(q ?? assert.fail()), UnsupportedSafetensorsDtypeError);
});

test("writer: byte-identical to the reference implementation's own test vectors (safetensors tensor.rs tests)", () => {
  const ascii = (text: string): number[] => [...Buffer.from(text, "latin1")];
  const lengthBytes = (length: number): number[] => [length, 0, 0, 0, 0, 0, 0, 0];
  const data = float32Bytes([0, 1, 2, 3, 4, 5]);
  // test_serialization: a 64-byte header needs no padding.
  assert.deepEqual(
    [...encodeSafetensors([{ name: "attn.0", dtype: "F32", shape: [1, 2, 3], data }])],
    [...lengthBytes(64), ...ascii('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}'), ...data],
  );
  // test_serialization_forced_alignement: 65 bytes of JSON padded with spaces to 72.
  assert.deepEqual(
    [...encodeSafetensors([{ name: "attn0", dtype: "F32", shape: [1, 1, 2, 3], data }])],
    [...lengthBytes(72), ...ascii('{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}'), ...ascii(" ".repeat(7)), ...data],
  );
  // test_empty, without and with metadata.
  assert.deepEqual([...encodeSafetensors([])], [...lengthBytes(8), ...ascii("{}      ")]);
  assert.deepEqual([...encodeSafetensors([], { framework: "pt" })], [...lengthBytes(40), ...ascii('{"__metadata__":{"framework":"pt"}}     ')]);
  assert.equal(parseSafetensorsBytes(encodeSafetensors([]), "empty").tensors.length, 0);
});
