import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { CancelledError } from "../../src/core/errors";
import { GgmlType } from "../../src/core/gguf/ggmlTypes";
import {
  formatGgufValue,
  metadataArrayItemType,
  metadataArrayLength,
  metadataBigInt,
  metadataBoolean,
  metadataInteger,
  metadataNumber,
  metadataNumberArray,
  metadataString,
  metadataStringArray,
} from "../../src/core/gguf/ggufMetadata";
import { parseGgufBytes, readGgufFile, readTensorData } from "../../src/core/gguf/ggufReader";
import type { GgufFile, GgufMetadataEntry, GgufValue } from "../../src/core/gguf/ggufTypes";
import { encodeGguf, writeGgufFile } from "../../src/core/gguf/ggufWriter";
import { llamaCppSourceFile } from "../fixtures/llamaCppSource";
import { patternBytes, sampleInput } from "./ggufSamples";

let dir = "";
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "slm-gguf-reader-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Our tagged value as the plain JavaScript value node-llama-cpp returns. */
function plain(value: GgufValue): unknown {
  if (value.type === "array") return (value.values as readonly unknown[]).map((item) => (typeof item === "object" && item !== null ? plain(item as GgufValue) : item));
  return value.value;
}

/**
 * A key's value in node-llama-cpp's nested metadata object. A key that is also a prefix of another
 * ("tokenizer.chat_template" and "tokenizer.chat_template.tool_use") is kept there with dots in it, so match the
 * longest dotted prefix at each level, as its own `getGgufMetadataKeyValue` does.
 */
function nestedLookup(node: unknown, parts: readonly string[]): unknown {
  if (typeof node !== "object" || node === null || Array.isArray(node)) return undefined;
  for (const [name, value] of Object.entries(node)) {
    const nameParts = name.split(".");
    if (nameParts.length > parts.length || nameParts.some((part, i) => part !== parts[i])) continue;
    if (nameParts.length === parts.length) return value;
    const found = nestedLookup(value, parts.slice(nameParts.length));
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Asserts that node-llama-cpp's `readGgufFileInfo` (an independent implementation) sees the same file as we do. */
async function assertAgreesWithNodeLlamaCpp(file: GgufFile): Promise<void> {
  const { readGgufFileInfo } = await import("node-llama-cpp");
  const theirs = await readGgufFileInfo(file.path, { logWarnings: false, spliceSplitFiles: false });
  assert.equal(theirs.version, file.version);
  assert.equal(Number(theirs.tensorCount), file.tensors.length);
  for (const [key, value] of file.metadata) {
    assert.deepEqual(nestedLookup(theirs.metadata, key.split(".")), plain(value), `metadata ${key}`);
  }
  const tensorInfo = theirs.tensorInfo ?? [];
  assert.equal(tensorInfo.length, file.tensors.length);
  for (const [index, tensor] of file.tensors.entries()) {
    const other = tensorInfo[index];
    assert.ok(other);
    assert.equal(other.name, tensor.name);
    assert.deepEqual(other.dimensions.map(Number), tensor.dims);
    assert.equal(other.ggmlType, tensor.ggmlType);
    assert.equal(Number(other.offset), tensor.offset);
    assert.equal(Number(other.fileOffset), file.dataOffset + tensor.offset);
  }
}

test("our reader agrees with node-llama-cpp's readGgufFileInfo on a file we wrote", async () => {
  const target = path.join(dir, "sample.gguf");
  const input = sampleInput({ alignment: 64 });
  await writeGgufFile(target, input);
  const file = await readGgufFile(target);
  assert.deepEqual(file.metadata, new Map([...input.metadata, ["general.alignment", { type: "u32", value: 64 }]]));
  await assertAgreesWithNodeLlamaCpp(file);
});

// Real files written by llama.cpp's gguf-py (the vocabularies in the bundled source): SPM, BPE, WPM and a big one.
for (const vocabulary of ["llama-spm", "qwen2", "bert-bge", "command-r"]) {
  test(`reads llama.cpp's models/ggml-vocab-${vocabulary}.gguf like node-llama-cpp does`, async () => {
    const source = await llamaCppSourceFile(`models/ggml-vocab-${vocabulary}.gguf`);
    const file = await readGgufFile(source);
    assert.ok((metadataArrayLength(file.metadata, "tokenizer.ggml.tokens") ?? 0) > 1000);
    await assertAgreesWithNodeLlamaCpp(file);
    // The same bytes through the in-memory parser give the same result.
    assert.deepEqual(parseGgufBytes(await readFile(source), source), file);
  });
}

test("streaming with tiny reads (many refills) gives the same result as parsing the whole buffer", async () => {
  // A vocabulary big enough to cross many windows, with non-ASCII tokens and a long string.
  const tokens = Array.from({ length: 30_000 }, (_, i) => (i % 3 === 0 ? `Ġtok${i}` : `t${i}é`));
  const metadata = new Map<string, GgufValue>([
    ...sampleInput().metadata,
    ["tokenizer.ggml.tokens", { type: "array", itemType: "string", values: tokens }],
    ["tokenizer.ggml.scores", { type: "array", itemType: "f32", values: tokens.map((_, i) => Math.fround(-i / 7)) }],
    ["tokenizer.chat_template", { type: "string", value: "{% for m in messages %}".repeat(5000) }],
  ]);
  const input = { metadata, tensors: sampleInput().tensors };
  const bytes = encodeGguf(input);
  const target = path.join(dir, "big-vocab.gguf");
  await writeFile(target, bytes);
  const whole = parseGgufBytes(bytes, target);
  for (const readAheadBytes of [1, 7, 64, 4096, 1 << 20]) {
    assert.deepEqual(await readGgufFile(target, { readAheadBytes }), whole, `readAheadBytes ${readAheadBytes}`);
  }
  assert.deepEqual(whole.metadata, metadata);
});

test("maxArrayValues keeps long arrays as summaries and decodes short ones", async () => {
  const target = path.join(dir, "summary.gguf");
  await writeGgufFile(target, sampleInput());
  const file: GgufFile<GgufMetadataEntry> = await readGgufFile(target, { maxArrayValues: 4, readAheadBytes: 16 });
  const full = await readGgufFile(target);
  assert.deepEqual(file.metadata.get("tokenizer.ggml.tokens"), { type: "array-summary", itemType: "string", length: 100 });
  assert.deepEqual(file.metadata.get("array.string"), { type: "array-summary", itemType: "string", length: 5 });
  assert.deepEqual(file.metadata.get("array.f32"), { type: "array-summary", itemType: "f32", length: 6 });
  assert.deepEqual(file.metadata.get("array.nested"), full.metadata.get("array.nested"));
  assert.deepEqual(file.metadata.get("array.u8"), full.metadata.get("array.u8"));
  assert.deepEqual(file.tensors, full.tensors);
  assert.equal(file.dataOffset, full.dataOffset);
  assert.equal(metadataArrayLength(file.metadata, "tokenizer.ggml.tokens"), 100);
  assert.equal(metadataArrayItemType(file.metadata, "tokenizer.ggml.tokens"), "string");
  assert.equal(metadataStringArray(file.metadata, "tokenizer.ggml.tokens"), undefined);
  // A nested array longer than the limit is skipped whole.
  const nested = parseGgufBytes(encodeGguf(sampleInput()), "n.gguf", { maxArrayValues: 2 });
  assert.deepEqual(nested.metadata.get("array.nested"), { type: "array-summary", itemType: "array", length: 4 });
});

test("readTensorData streams exactly one tensor's bytes in chunks, and honours an abort signal", async () => {
  const big = patternBytes(9 * 1024 * 1024, 5);
  const target = path.join(dir, "data.gguf");
  await writeGgufFile(target, {
    metadata: new Map(),
    tensors: [
      { name: "small", dims: [3], ggmlType: GgmlType.F32, data: patternBytes(12, 1) },
      { name: "big", dims: [9 * 1024 * 1024], ggmlType: GgmlType.I8, data: big },
      { name: "after", dims: [32], ggmlType: GgmlType.Q8_0, data: patternBytes(34, 2) },
    ],
  });
  const file = await readGgufFile(target);
  const tensor = file.tensors[1];
  assert.ok(tensor);
  const chunks: Uint8Array[] = [];
  for await (const chunk of readTensorData(file, tensor)) chunks.push(chunk);
  assert.ok(chunks.length >= 3, "more than one chunk");
  assert.ok(Buffer.concat(chunks).equals(big));

  const controller = new AbortController();
  await assert.rejects(async () => {
    for await (const _chunk of readTensorData(file, tensor, controller.signal)) controller.abort();
  }, CancelledError);
  await assert.rejects(readGgufFile(target, { signal: AbortSignal.abort() }), CancelledError);
});

test("typed metadata getters return values of the right type and undefined otherwise", () => {
  const meta = parseGgufBytes(encodeGguf(sampleInput()), "m.gguf").metadata;
  assert.equal(metadataString(meta, "general.architecture"), "llama");
  assert.equal(metadataString(meta, "sample.u8"), undefined);
  assert.equal(metadataString(meta, "missing"), undefined);
  assert.equal(metadataNumber(meta, "sample.i16"), -32768);
  assert.equal(metadataNumber(meta, "sample.f32"), Math.fround(3.14159));
  assert.equal(metadataNumber(meta, "sample.u64.max"), undefined, "u64 past 2^53 is not a safe number");
  assert.equal(metadataNumber(meta, "general.name"), undefined);
  assert.equal(metadataInteger(meta, "sample.f32"), undefined);
  assert.equal(metadataInteger(meta, "sample.u32"), 4294967295);
  assert.equal(metadataBigInt(meta, "sample.u64.max"), (1n << 64n) - 1n);
  assert.equal(metadataBigInt(meta, "sample.u8"), 255n);
  assert.equal(metadataBoolean(meta, "sample.bool.true"), true);
  assert.equal(metadataBoolean(meta, "sample.u8"), undefined);
  assert.deepEqual(metadataStringArray(meta, "array.string")?.slice(0, 2), ["", "Ġhello"]);
  assert.equal(metadataStringArray(meta, "array.u8"), undefined);
  assert.deepEqual(metadataNumberArray(meta, "array.i16"), [-32768, 32767]);
  assert.equal(metadataNumberArray(meta, "array.u64"), undefined, "has a value past 2^53");
  assert.deepEqual(metadataNumberArray(meta, "array.i64"), undefined);
  assert.equal(metadataArrayLength(meta, "array.empty.string"), 0);
  assert.equal(metadataArrayLength(meta, "general.name"), undefined);

  const two = new Map<string, GgufValue>([["x", { type: "array", itemType: "u64", values: [1n, 2n] }]]);
  assert.deepEqual(metadataNumberArray(two, "x"), [1, 2]);
  assert.equal(formatGgufValue({ type: "array", itemType: "string", values: ["a", "b", "c"] }, { maxItems: 2 }), '[3 × string: "a", "b", …]');
  assert.equal(formatGgufValue({ type: "u64", value: 5n }), "5");
  assert.equal(formatGgufValue({ type: "array-summary", itemType: "string", length: 151936 }), "[151936 × string]");
});

test("GGUF v2 files (same layout for little-endian) are read", () => {
  const bytes = encodeGguf(sampleInput());
  Buffer.from(bytes.buffer, bytes.byteOffset).writeUInt32LE(2, 4);
  assert.equal(parseGgufBytes(bytes, "v2.gguf").version, 2);
});
