import assert from "node:assert/strict";
import { mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { UserError } from "../../src/core/errors";
import { GgmlType } from "../../src/core/gguf/ggmlTypes";
import { GgufFormatError, type GgufFormatErrorCode } from "../../src/core/gguf/ggufErrors";
import { parseGgufBytes, readGgufFile, readTensorData } from "../../src/core/gguf/ggufReader";
import { encodeGguf } from "../../src/core/gguf/ggufWriter";
import { RawGguf, sampleInput } from "./ggufSamples";

let dir = "";
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "slm-gguf-errors-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const NAME = "bad-model.gguf";

function parseError(bytes: Uint8Array): GgufFormatError {
  try {
    parseGgufBytes(bytes, `/models/x/${NAME}`);
  } catch (error) {
    if (error instanceof GgufFormatError) return error;
    throw error;
  }
  assert.fail("parsed without error");
}

let fileCounter = 0;

/**
 * Asserts the error of a bad file: its code, offset and expectation, a message naming the file and the offset, an
 * action for the user; and that the streaming reader (with tiny reads) reports exactly the same from disk.
 */
async function assertRejects(bytes: Uint8Array, code: GgufFormatErrorCode, offset: number, expected?: RegExp): Promise<GgufFormatError> {
  const error = parseError(bytes);
  assert.ok(error instanceof UserError);
  assert.equal(error.code, code, error.message);
  assert.equal(error.offset, offset, error.message);
  assert.equal(error.file, `/models/x/${NAME}`);
  assert.ok(error.message.startsWith(`${NAME}: `), error.message);
  assert.ok(error.message.includes(` at byte ${offset}: expected `), error.message);
  if (expected !== undefined) assert.match(error.expected, expected);
  assert.ok((error.action ?? "").length > 10);

  const sub = path.join(dir, String(fileCounter++));
  const file = path.join(sub, NAME);
  await rm(sub, { recursive: true, force: true });
  await import("node:fs/promises").then((fs) => fs.mkdir(sub));
  await writeFile(file, bytes);
  for (const readAheadBytes of [3, 1 << 16]) {
    await assert.rejects(readGgufFile(file, { readAheadBytes }), (streamed: unknown) => {
      assert.ok(streamed instanceof GgufFormatError);
      assert.equal(streamed.code, error.code);
      assert.equal(streamed.offset, error.offset);
      assert.equal(streamed.message, error.message);
      return true;
    });
  }
  return error;
}

const magic = (): RawGguf => new RawGguf();

test("wrong magic: bad-magic at byte 0, also for short and empty files", async () => {
  await assertRejects(magic().bytes(Buffer.from("GGML")).u32(3).u64(0).u64(0).build(), "bad-magic", 0, /GGUF/);
  const text = await assertRejects(new Uint8Array(Buffer.from("hello, I am a text file\n")), "bad-magic", 0);
  assert.match(text.message, /not a GGUF file \(starts with "hell"/);
  await assertRejects(new Uint8Array(Buffer.from("PK")), "bad-magic", 0);
  // A prefix of "GGUF" is a truncated GGUF file, as is an empty one.
  await assertRejects(new Uint8Array(Buffer.from("GG")), "truncated", 0, /magic/);
  await assertRejects(new Uint8Array(0), "truncated", 0);
});

test("unsupported versions: v1, v0, future versions, other endianness", async () => {
  const v1 = await assertRejects(magic().header(0, 0, 1).build(), "unsupported-version", 4);
  assert.match(v1.message, /version 1 is no longer supported/);
  await assertRejects(magic().header(0, 0, 0).build(), "unsupported-version", 4);
  await assertRejects(magic().header(0, 0, 4).build(), "unsupported-version", 4);
  const bigEndian = await assertRejects(magic().header(0, 0, 0x03000000).build(), "unsupported-version", 4);
  assert.match(bigEndian.message, /big-endian/);
});

test("truncation anywhere: every cut of a valid file is reported at or before the cut", async () => {
  const bytes = encodeGguf(sampleInput());
  const file = parseGgufBytes(bytes, NAME);
  const headerEnd = file.dataOffset;
  for (let cut = 0; cut < bytes.byteLength; cut += cut < headerEnd ? 1 : 97) {
    const error = parseError(bytes.subarray(0, cut));
    if (cut < headerEnd) {
      assert.equal(error.code, "truncated", `cut at ${cut}: ${error.message}`);
      assert.ok(error.offset <= cut, `cut at ${cut}: error at ${error.offset}`);
      assert.match(error.message, /^bad-model\.gguf: truncated/);
    } else {
      assert.equal(error.code, "tensor-data-out-of-bounds", `cut at ${cut}: ${error.message}`);
      // The first tensor that does not fit starts before the cut, or right after it when the cut is in padding.
      assert.ok(error.offset >= headerEnd && error.offset < cut + file.alignment, `cut at ${cut}: error at ${error.offset}`);
    }
  }
  // A few through the streaming reader too.
  for (const cut of [3, 23, 100, 1000, headerEnd - 1, headerEnd + 1]) {
    await assertRejects(bytes.subarray(0, cut), parseError(bytes.subarray(0, cut)).code, parseError(bytes.subarray(0, cut)).offset);
  }
  // The message says what was expected where, e.g. a key's string length.
  assert.equal(
    parseError(bytes.subarray(0, 1000)).message,
    `${NAME}: truncated at byte 994: expected 8-byte array length of metadata key #27 'array.i16'`,
  );
  assert.equal(
    parseError(bytes.subarray(0, 30)).message,
    `${NAME}: truncated (file too short for 7 tensor infos) at byte 8: expected a tensor count that fits in the remaining 6 bytes`,
  );
});

test("absurd counts: rejected before allocating (limit-exceeded past gguf.cpp's caps, truncated past the file)", async () => {
  await assertRejects(magic().header((1n << 64n) - 1n, 0).build(), "limit-exceeded", 8, /tensor count/);
  await assertRejects(magic().header(0, 1n << 62n).build(), "limit-exceeded", 16, /key-value count/);
  await assertRejects(magic().header(1000, 0).zeros(100).build(), "truncated", 8);
  await assertRejects(magic().header(0, 50).zeros(100).build(), "truncated", 16);
  // String lengths: past GGUF_MAX_STRING_LENGTH, past our key cap, past the end of the file.
  await assertRejects(magic().header(0, 1).u64(1n << 63n).zeros(16).build(), "limit-exceeded", 24, /key length/);
  await assertRejects(magic().header(0, 1).u64(100_000).zeros(100_000).build(), "limit-exceeded", 24, /at most 65536 bytes/);
  await assertRejects(magic().header(0, 1).u64(1000).zeros(20).build(), "truncated", 24);
  const value = magic().header(0, 1).str("general.name").u32(8);
  await assertRejects(value.u64(2 ** 31).zeros(16).build(), "limit-exceeded", 24 + 8 + 12 + 4, /string value length/);
  // Array lengths: past GGUF_MAX_ARRAY_ELEMENTS, or more items than bytes left.
  const array = magic().header(0, 1).str("a").u32(9).u32(4);
  const lengthAt = array.offset;
  await assertRejects(array.u64(1n << 40n).zeros(8).build(), "limit-exceeded", lengthAt, /array length/);
  const array2 = magic().header(0, 1).str("a").u32(9).u32(4);
  await assertRejects(array2.u64(1_000_000).zeros(64).build(), "truncated", lengthAt);
  const strings = magic().header(0, 1).str("a").u32(9).u32(8);
  await assertRejects(strings.u64(1_000_000).zeros(64).build(), "truncated", lengthAt);
});

test("bad keys and values: empty or duplicate key, unknown value type, arrays nested too deep", async () => {
  await assertRejects(magic().header(0, 1).str("").u32(4).u32(0).build(), "invalid-value", 24, /non-empty key/);
  const duplicate = magic().header(0, 2).kvU32("general.x", 1);
  const second = duplicate.offset;
  const dupError = await assertRejects(duplicate.kvU32("general.x", 2).build(), "invalid-value", second);
  assert.match(dupError.message, /duplicate key 'general.x'/);
  const unknownTag = magic().header(0, 1).str("k");
  const tagAt = unknownTag.offset;
  await assertRejects(unknownTag.u32(13).u32(0).build(), "invalid-value", tagAt, /value type of metadata key #0 'k'/);
  const unknownItem = magic().header(0, 1).str("k").u32(9);
  const itemAt = unknownItem.offset;
  await assertRejects(unknownItem.u32(99).u64(0).build(), "invalid-value", itemAt, /array item type/);
  // Nine levels of arrays, each holding one array.
  const deep = magic().header(0, 1).str("deep").u32(9);
  for (let level = 0; level < 9; level++) deep.u32(9).u64(1);
  deep.u32(4).u64(0);
  const deepError = parseError(deep.build());
  assert.equal(deepError.code, "limit-exceeded");
  assert.match(deepError.message, /nested too deep/);
});

test("alignment must be a u32 power of two", async () => {
  const value = magic().header(0, 1).str("general.alignment").u32(4);
  const valueAt = value.offset;
  await assertRejects(value.u32(48).build(), "invalid-value", valueAt, /power of two/);
  await assertRejects(magic().header(0, 1).str("general.alignment").u32(4).u32(0).build(), "invalid-value", valueAt, /power of two/);
  const wrongType = magic().header(0, 1).str("general.alignment");
  const tagAt = wrongType.offset;
  await assertRejects(wrongType.u32(10).u64(32).build(), "invalid-value", tagAt, /u32 value/);
});

/** A file with one tensor info built by `tensor` and `dataBytes` of zero data after the aligned header. */
function withTensor(tensor: (raw: RawGguf) => RawGguf, dataBytes = 64): { bytes: Uint8Array; at: number } {
  const raw = magic().header(1, 0);
  const at = raw.offset;
  tensor(raw).pad(32).zeros(dataBytes);
  return { bytes: raw.build(), at };
}

test("bad tensor infos: name, dimensions, type, block size, offsets", async () => {
  // name ≥ GGML_MAX_NAME bytes
  let t = withTensor((raw) => raw.tensor("n".repeat(64), [8], GgmlType.F32, 0));
  await assertRejects(t.bytes, "limit-exceeded", t.at, /name length of tensor info #0 of at most 63 bytes/);
  // more than GGML_MAX_DIMS dimensions
  const fiveDims = magic().header(1, 0).str("t");
  const dimsAt = fiveDims.offset;
  await assertRejects(fiveDims.u32(5).zeros(64).build(), "limit-exceeded", dimsAt, /at most 4 dimensions/);
  // negative, huge, overflowing dimensions
  t = withTensor((raw) => raw.tensor("t", [-5n], GgmlType.F32, 0));
  await assertRejects(t.bytes, "invalid-value", t.at + 8 + 1 + 4, /non-negative dimension 0/);
  t = withTensor((raw) => raw.tensor("t", [1n << 60n], GgmlType.F32, 0));
  await assertRejects(t.bytes, "limit-exceeded", t.at + 8 + 1 + 4, /below 2\^53/);
  t = withTensor((raw) => raw.tensor("t", [1n << 30n, 1n << 30n], GgmlType.F32, 0));
  await assertRejects(t.bytes, "limit-exceeded", t.at + 8 + 1, /element count/);
  // unknown ggml types: a removed id and one past the end
  for (const type of [4, 31, 99]) {
    t = withTensor((raw) => raw.tensor("t", [32], type, 0));
    const error = await assertRejects(t.bytes, "unknown-ggml-type", t.at + 8 + 1 + 4 + 8, /known ggml type/);
    assert.match(error.message, new RegExp(`unknown ggml type ${type}`));
  }
  // ne[0] not a multiple of the block size
  t = withTensor((raw) => raw.tensor("t", [33, 2], GgmlType.Q8_0, 0));
  await assertRejects(t.bytes, "invalid-value", t.at + 8 + 1 + 4 + 16, /multiple of the Q8_0 block size 32/);
  // offset not aligned, offset absurd
  t = withTensor((raw) => raw.tensor("t", [8], GgmlType.F32, 16));
  await assertRejects(t.bytes, "invalid-value", t.at + 8 + 1 + 4 + 8 + 4, /multiple of the alignment 32/);
  t = withTensor((raw) => raw.tensor("t", [8], GgmlType.F32, 1n << 60n));
  await assertRejects(t.bytes, "limit-exceeded", t.at + 8 + 1 + 4 + 8 + 4, /data offset/);
});

test("duplicate tensor names, overlapping tensors, tensor data past the end of the file", async () => {
  const duplicate = magic().header(2, 0).tensor("t", [8], GgmlType.F32, 0);
  const secondAt = duplicate.offset;
  duplicate.tensor("t", [8], GgmlType.F32, 32).pad(32).zeros(64);
  const dupError = await assertRejects(duplicate.build(), "invalid-value", secondAt);
  assert.match(dupError.message, /duplicate tensor name 't'/);

  const overlap = magic().header(2, 0).tensor("a", [16], GgmlType.F32, 0).tensor("b", [8], GgmlType.F32, 32).pad(32);
  const dataOffset = overlap.offset;
  const overlapError = await assertRejects(overlap.zeros(128).build(), "invalid-value", dataOffset + 32, /after the data of tensor 'a'/);
  assert.match(overlapError.message, /overlapping tensor data/);

  const past = magic().header(2, 0).tensor("a", [8], GgmlType.F32, 0).tensor("b", [64], GgmlType.F32, 32).pad(32);
  const pastData = past.offset;
  const pastError = await assertRejects(past.zeros(100).build(), "tensor-data-out-of-bounds", pastData + 32, /256 bytes of data of tensor info #1 'b'/);
  assert.match(pastError.action ?? "", /download it again/);

  // The file ends inside the padding before the data section.
  const padding = magic().header(1, 0).tensor("a", [0], GgmlType.F32, 0);
  const headerEnd = padding.offset;
  await assertRejects(padding.zeros(3).build(), "truncated", headerEnd, /padding up to the tensor data/);
});

test("readGgufFile: header larger than maxHeaderBytes, missing file; readTensorData on a file cut short", async () => {
  const bytes = encodeGguf(sampleInput());
  const file = path.join(dir, "limit.gguf");
  await writeFile(file, bytes);
  await assert.rejects(readGgufFile(file, { maxHeaderBytes: 512, readAheadBytes: 64 }), (error: unknown) => {
    assert.ok(error instanceof GgufFormatError);
    assert.equal(error.code, "limit-exceeded");
    assert.match(error.message, /^limit\.gguf: header needs at least \d+ bytes at byte \d+: expected a header \(metadata and tensor infos\) within the first 512 bytes/);
    return true;
  });
  await assert.rejects(readGgufFile(path.join(dir, "missing.gguf")), { code: "ENOENT" });

  const parsed = await readGgufFile(file);
  const last = parsed.tensors.at(-1);
  assert.ok(last);
  await truncate(file, parsed.dataOffset + last.offset + 10);
  await assert.rejects(
    async () => {
      for await (const _chunk of readTensorData(parsed, last)) assert.fail("no data expected");
    },
    (error: unknown) => error instanceof GgufFormatError && error.code === "tensor-data-out-of-bounds" && error.message.startsWith("limit.gguf: "),
  );
});
