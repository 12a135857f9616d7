import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { CancelledError } from "../../src/core/errors";
import { GgmlType, tensorByteLength } from "../../src/core/gguf/ggmlTypes";
import { parseGgufBytes, readGgufFile, readTensorData } from "../../src/core/gguf/ggufReader";
import type { GgufValue } from "../../src/core/gguf/ggufTypes";
import { encodeGguf, writeGgufFile, type GgufTensorDataSource } from "../../src/core/gguf/ggufWriter";
import { patternBytes, richMetadata, sampleInput } from "./ggufSamples";

let dir = "";
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "slm-gguf-writer-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

test("every metadata value type round-trips exactly, in order (encodeGguf → parseGgufBytes)", () => {
  const input = sampleInput();
  const file = parseGgufBytes(encodeGguf(input), "rich.gguf");
  assert.equal(file.version, 3);
  assert.deepEqual([...file.metadata.keys()], [...input.metadata.keys()]);
  // deepEqual is Object.is-based for numbers: NaN, -0 and every bigint must come back exactly.
  assert.deepEqual(file.metadata, input.metadata);
});

test("the file written to disk is byte-identical to encodeGguf and reads back the same", async () => {
  const input = sampleInput();
  const target = path.join(dir, "rich.gguf");
  await writeGgufFile(target, input);
  const onDisk = await readFile(target);
  assert.deepEqual(new Uint8Array(onDisk), encodeGguf(input));
  const file = await readGgufFile(target);
  assert.deepEqual(file.metadata, input.metadata);
  assert.equal(file.fileSize, onDisk.byteLength);
});

test("tensor infos and data: offsets aligned, data section aligned, bytes read back per tensor", async () => {
  for (const alignment of [32, 64, 256]) {
    const input = sampleInput({ alignment });
    const target = path.join(dir, `aligned-${alignment}.gguf`);
    await writeGgufFile(target, input);
    const file = await readGgufFile(target);
    assert.equal(file.alignment, alignment);
    assert.equal(file.dataOffset % alignment, 0);
    assert.equal(file.tensors.length, input.tensors.length);
    let expectedOffset = 0;
    for (const [index, tensor] of file.tensors.entries()) {
      const source = input.tensors[index];
      assert.ok(source);
      assert.equal(tensor.name, source.name);
      assert.deepEqual(tensor.dims, source.dims);
      assert.equal(tensor.ggmlType, source.ggmlType);
      assert.equal(tensor.byteLength, source.data.byteLength);
      // gguf.cpp requires each tensor to start at the padded end of the one before.
      assert.equal(tensor.offset, expectedOffset);
      expectedOffset += Math.ceil(tensor.byteLength / alignment) * alignment;
      assert.deepEqual(new Uint8Array(await collect(readTensorData(file, tensor))), source.data);
    }
    assert.equal(file.fileSize, file.dataOffset + expectedOffset);
  }
});

test("general.alignment is written only for a non-default alignment, and kept when the metadata has it", () => {
  const plain = parseGgufBytes(encodeGguf(sampleInput()), "a.gguf");
  assert.equal(plain.metadata.has("general.alignment"), false);
  assert.equal(plain.alignment, 32);

  const custom = parseGgufBytes(encodeGguf(sampleInput({ alignment: 128 })), "b.gguf");
  assert.deepEqual(custom.metadata.get("general.alignment"), { type: "u32", value: 128 });
  assert.equal(custom.alignment, 128);

  const metadata = new Map<string, GgufValue>([["general.alignment", { type: "u32", value: 64 }]]);
  const fromMetadata = parseGgufBytes(encodeGguf({ metadata, tensors: sampleInput().tensors }), "c.gguf");
  assert.equal(fromMetadata.alignment, 64);
  assert.equal(fromMetadata.dataOffset % 64, 0);

  assert.throws(() => encodeGguf({ metadata, tensors: [], alignment: 32 }), /general.alignment/);
  assert.throws(() => encodeGguf({ metadata: new Map(), tensors: [], alignment: 48 }), /power of two/);
});

test("a file without tensors ends right after its metadata", () => {
  const bytes = encodeGguf({ metadata: new Map([["general.architecture", { type: "string", value: "llama" }]]), tensors: [] });
  const file = parseGgufBytes(bytes, "empty.gguf");
  assert.equal(file.tensors.length, 0);
  assert.equal(file.dataOffset, bytes.byteLength);
  const nothing = parseGgufBytes(encodeGguf({ metadata: new Map(), tensors: [] }), "nothing.gguf");
  assert.equal(nothing.fileSize, 24);
});

test("streamed tensor data (GgufTensorDataSource) is written in place; zero runs become holes that read back as zeros", async () => {
  const dims = [1024, 1024, 3];
  const byteLength = tensorByteLength(dims, GgmlType.F32); // 12 MiB
  const pattern = patternBytes(3 * 1024 * 1024 + 17, 9);
  const chunkSizes = [5, 1024 * 1024 - 5, 3 * 1024 * 1024 + 17];
  const source: GgufTensorDataSource = {
    byteLength,
    async *chunks() {
      // Uneven chunks: a pattern, a zero run of several MiB, the pattern again, zeros to the end.
      let written = 0;
      for (const size of chunkSizes) {
        yield pattern.subarray(0, size);
        written += size;
      }
      const zeroRun = new Uint8Array(4 * 1024 * 1024);
      yield zeroRun;
      written += zeroRun.byteLength;
      yield pattern;
      written += pattern.byteLength;
      yield new Uint8Array(byteLength - written);
      await Promise.resolve();
    },
  };
  const target = path.join(dir, "streamed.gguf");
  const progress: [number, number][] = [];
  await writeGgufFile(target, { metadata: new Map(), tensors: [{ name: "big", dims, ggmlType: GgmlType.F32, data: source }] }, { onProgress: (done, total) => progress.push([done, total]) });
  const file = await readGgufFile(target);
  const tensor = file.tensors[0];
  assert.ok(tensor);
  const data = await collect(readTensorData(file, tensor));
  const expected = Buffer.alloc(byteLength);
  let at = 0;
  for (const size of chunkSizes) {
    expected.set(pattern.subarray(0, size), at);
    at += size;
  }
  at += 4 * 1024 * 1024;
  expected.set(pattern, at);
  assert.ok(data.equals(expected), "tensor data differs");
  const last = progress.at(-1);
  assert.deepEqual(last, [file.fileSize, file.fileSize]);
  assert.ok(progress.every(([done], i) => i === 0 || done >= (progress[i - 1]?.[0] ?? 0)), "progress goes forward");
});

test("a source may refill a chunk's buffer two chunks later: the writer overlaps one write with the next chunk, never more", async () => {
  const chunkBytes = 3 * 1024 * 1024; // several 1 MiB write calls per chunk, so a write is still running while the next chunk is made
  const chunkCount = 12;
  const byteLength = chunkBytes * chunkCount;
  const fill = (buffer: Uint8Array, index: number): void => {
    for (let at = 0; at < buffer.byteLength; at += 4096) buffer[at] = index + 1;
    buffer.fill(index + 1, 0, 64);
  };
  const source: GgufTensorDataSource = {
    byteLength,
    async *chunks() {
      const buffers = [new Uint8Array(chunkBytes), new Uint8Array(chunkBytes)];
      for (let index = 0; index < chunkCount; index += 1) {
        const buffer = buffers[index % 2] ?? new Uint8Array(0);
        // Yield to the event loop first, as a real source (a file read, an encoder) does.
        await new Promise((resolve) => setImmediate(resolve));
        fill(buffer, index);
        yield buffer;
      }
    },
  };
  const target = path.join(dir, "two-buffers.gguf");
  await writeGgufFile(target, { metadata: new Map(), tensors: [{ name: "w", dims: [byteLength / 4], ggmlType: GgmlType.F32, data: source }] });
  const file = await readGgufFile(target);
  const tensor = file.tensors[0];
  assert.ok(tensor);
  const data = await collect(readTensorData(file, tensor));
  for (let index = 0; index < chunkCount; index += 1) {
    const expected = new Uint8Array(chunkBytes);
    fill(expected, index);
    assert.ok(Buffer.from(expected).equals(data.subarray(index * chunkBytes, (index + 1) * chunkBytes)), `chunk ${index} was overwritten before it was written`);
  }
});

test("the writer checks tensor data length, shape, type, names and value ranges", () => {
  const tensor = { name: "t", dims: [32, 2], ggmlType: GgmlType.Q8_0, data: new Uint8Array(68) };
  const write = (overrides: object, metadata: Map<string, GgufValue> = new Map()) => () => encodeGguf({ metadata, tensors: [{ ...tensor, ...overrides }] });
  assert.doesNotThrow(write({}));
  assert.throws(write({ data: new Uint8Array(67) }), /needs 68 bytes of data, got 67/);
  assert.throws(write({ dims: [33, 2] }), /not a multiple of the block size 32/);
  assert.throws(write({ ggmlType: 4 }), /unknown ggml type 4/);
  assert.throws(write({ name: "" }), /must be 1–63 bytes/);
  assert.throws(write({ name: "n".repeat(64) }), /must be 1–63 bytes/);
  assert.throws(write({ dims: [32, 1, 1, 1, 2] }), /5 dimensions/);
  assert.throws(() => encodeGguf({ metadata: new Map(), tensors: [tensor, tensor] }), /duplicate tensor name 't'/);
  assert.throws(write({}, new Map([["k", { type: "u8", value: 256 }]])), /256 is not a valid u8/);
  assert.throws(write({}, new Map([["k", { type: "i32", value: 1.5 }]])), /1.5 is not a valid i32/);
  assert.throws(write({}, new Map([["k", { type: "u64", value: -1n }]])), /-1 is not a valid u64/);
  assert.throws(write({}, new Map([["k", { type: "array", itemType: "i8", values: [200] }]])), /200 is not a valid i8/);
  assert.throws(write({}, new Map([["", { type: "u8", value: 1 }]])), /empty metadata key/);
});

function slowSource(byteLength: number, onChunk: (index: number) => void): GgufTensorDataSource {
  return {
    byteLength,
    async *chunks() {
      const chunk = patternBytes(64 * 1024, 3);
      for (let done = 0, index = 0; done < byteLength; done += chunk.byteLength, index++) {
        onChunk(index);
        await new Promise((resolve) => setImmediate(resolve));
        yield chunk.subarray(0, Math.min(chunk.byteLength, byteLength - done));
      }
    },
  };
}

test("abort mid-write: rejects with CancelledError, leaves no temp file and no target", async () => {
  const sub = await mkdtemp(path.join(dir, "abort-"));
  const target = path.join(sub, "model.gguf");
  const controller = new AbortController();
  const source = slowSource(4 * 1024 * 1024, (index) => {
    if (index === 10) controller.abort();
  });
  await assert.rejects(
    writeGgufFile(target, { metadata: richMetadata(), tensors: [{ name: "w", dims: [1024 * 1024], ggmlType: GgmlType.F32, data: source }] }, { signal: controller.signal }),
    CancelledError,
  );
  assert.deepEqual(await readdir(sub), []);
});

test("a failing data source or a short one leaves no temp file; an existing target is kept until success", async () => {
  const sub = await mkdtemp(path.join(dir, "fail-"));
  const target = path.join(sub, "model.gguf");
  await writeFile(target, "previous");
  const failing = slowSource(1024 * 1024, (index) => {
    if (index === 3) throw new Error("disk on fire");
  });
  await assert.rejects(writeGgufFile(target, { metadata: new Map(), tensors: [{ name: "w", dims: [256 * 1024], ggmlType: GgmlType.F32, data: failing }] }), /disk on fire/);
  const short: GgufTensorDataSource = { byteLength: 1024, chunks: () => slowSource(512, () => undefined).chunks() };
  await assert.rejects(writeGgufFile(target, { metadata: new Map(), tensors: [{ name: "w", dims: [256], ggmlType: GgmlType.F32, data: short }] }), /yielded 512 of its 1024 bytes/);
  assert.deepEqual(await readdir(sub), ["model.gguf"]);
  assert.equal(await readFile(target, "utf8"), "previous");

  await writeGgufFile(target, sampleInput());
  assert.deepEqual(await readdir(sub), ["model.gguf"]);
  assert.equal((await stat(target)).size, encodeGguf(sampleInput()).byteLength);
});

test("an already aborted signal writes nothing", async () => {
  const sub = await mkdtemp(path.join(dir, "pre-abort-"));
  await assert.rejects(writeGgufFile(path.join(sub, "x.gguf"), sampleInput(), { signal: AbortSignal.abort() }), CancelledError);
  assert.deepEqual(await readdir(sub), []);
});

test("strings are UTF-8 encoded exactly as Buffer does: 1-, 2-, 3- and 4-byte characters, lone surrogates, at and past the short-string limit", () => {
  const samples = [
    "",
    "plain ascii",
    "Ġthe",
    "ĊĊ",
    "ā€™",
    "中文字符",
    "🦙 emoji pair",
    "lone \ud800 high",
    "lone \udc00 low",
    "x".repeat(63) + "é",
    "é".repeat(64),
    "é".repeat(65),
    "€".repeat(64) + "🦙",
    "\u0000\u007f\u0080\u07ff\u0800\uffff",
  ];
  const metadata = new Map<string, GgufValue>([
    ["test.strings", { type: "array", itemType: "string", values: samples }],
    ["test.one", { type: "string", value: "🦙 ā \udfff" }],
  ]);
  const bytes = encodeGguf({ metadata, tensors: [] });
  const file = parseGgufBytes(bytes, "strings.gguf");
  // What Buffer.from(…, "utf8") gives, decoded back (lone surrogates become U+FFFD, as they always did).
  const roundTrip = (value: string): string => Buffer.from(value, "utf8").toString("utf8");
  assert.deepEqual(file.metadata.get("test.strings"), { type: "array", itemType: "string", values: samples.map(roundTrip) });
  assert.deepEqual(file.metadata.get("test.one"), { type: "string", value: roundTrip("🦙 ā \udfff") });
  // Lengths are UTF-8 byte counts: the first string's length prefix sits right after the array's type and count.
  const encodedSample = Buffer.from(samples[2] ?? "", "utf8");
  assert.ok(Buffer.from(bytes).includes(Buffer.concat([Buffer.from([encodedSample.length, 0, 0, 0, 0, 0, 0, 0]), encodedSample])));
});

test("a tensor given as a file range is copied from that file (in the kernel where it can be) and equals writing its chunks", async () => {
  const source = path.join(dir, "range-source.bin");
  const payload = patternBytes(3 * 1024 * 1024 + 96, 7);
  const prefix = patternBytes(1000, 3);
  await writeFile(source, Buffer.concat([prefix, payload]));
  const dims = [payload.byteLength / 4];
  const fromRange: GgufTensorDataSource = {
    byteLength: payload.byteLength,
    fileRange: { file: source, offset: prefix.byteLength },
    chunks: () => {
      throw new Error("the range copy should not need chunks()");
    },
  };
  const viaRange = path.join(dir, "via-range.gguf");
  const viaBytes = path.join(dir, "via-bytes.gguf");
  const metadata = new Map<string, GgufValue>([["general.architecture", { type: "string", value: "llama" }]]);
  await writeGgufFile(viaRange, { metadata, tensors: [{ name: "t", dims, ggmlType: GgmlType.F32, data: fromRange }] });
  await writeGgufFile(viaBytes, { metadata, tensors: [{ name: "t", dims, ggmlType: GgmlType.F32, data: payload }] });
  assert.ok((await readFile(viaRange)).equals(await readFile(viaBytes)));
});

test("a file range that ends early falls back to the tensor's chunks, whose error is reported; no temp file is left", async () => {
  const source = path.join(dir, "short-source.bin");
  await writeFile(source, patternBytes(4096, 5));
  const target = path.join(dir, "short.gguf");
  const byteLength = 64 * 1024;
  const data: GgufTensorDataSource = {
    byteLength,
    fileRange: { file: source, offset: 0 },
    chunks: async function* () {
      yield await Promise.resolve(patternBytes(4096, 5));
      throw new Error("the source file is truncated");
    },
  };
  const metadata = new Map<string, GgufValue>([["general.architecture", { type: "string", value: "llama" }]]);
  await assert.rejects(writeGgufFile(target, { metadata, tensors: [{ name: "t", dims: [byteLength / 4], ggmlType: GgmlType.F32, data }] }), /truncated/);
  assert.deepEqual((await readdir(dir)).filter((name) => name.startsWith("short.gguf")), []);
});
