// The ring buffer of extra-context chunks: order, dedupe, capacity, token budget, exclusion of the current window.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { TokenCounter } from "../../src/core/completion/contextWindow";
import { ExtraContextRing, fileChunkAround, type ContextChunk } from "../../src/core/completion/extraContext";

const chars: TokenCounter = (text) => text.length;

function chunk(filePath: string, startLine: number, endLine: number, text = `${filePath}:${startLine}-${endLine}`): ContextChunk {
  return { filePath, startLine, endLine, text };
}

const paths = (chunks: readonly ContextChunk[]): string[] => chunks.map((item) => `${item.filePath}:${item.startLine}`);

describe("ExtraContextRing", () => {
  test("most recent first", () => {
    const ring = new ExtraContextRing({ maxChunks: 8 });
    ring.add(chunk("a.ts", 0, 10));
    ring.add(chunk("b.ts", 0, 10));
    ring.add(chunk("c.ts", 0, 10));
    assert.deepEqual(paths(ring.chunks()), ["c.ts:0", "b.ts:0", "a.ts:0"]);
  });

  test("a chunk of the same file and range replaces the older one and moves to the front", () => {
    const ring = new ExtraContextRing({ maxChunks: 8 });
    ring.add(chunk("a.ts", 0, 10, "old"));
    ring.add(chunk("b.ts", 0, 10));
    ring.add(chunk("a.ts", 0, 10, "new"));
    assert.deepEqual(paths(ring.chunks()), ["a.ts:0", "b.ts:0"]);
    assert.equal(ring.chunks()[0]?.text, "new");
  });

  test("an overlapping range of the same file replaces the older chunk; a disjoint one does not", () => {
    const ring = new ExtraContextRing({ maxChunks: 8 });
    ring.add(chunk("a.ts", 0, 10));
    ring.add(chunk("a.ts", 20, 30));
    ring.add(chunk("a.ts", 5, 15));
    assert.deepEqual(paths(ring.chunks()), ["a.ts:5", "a.ts:20"]);
  });

  test("identical text from another file is kept once", () => {
    const ring = new ExtraContextRing({ maxChunks: 8 });
    ring.add(chunk("a.ts", 0, 3, "import x from 'y';"));
    ring.add(chunk("b.ts", 0, 3, "import x from 'y';"));
    assert.deepEqual(paths(ring.chunks()), ["b.ts:0"]);
  });

  test("capacity drops the oldest", () => {
    const ring = new ExtraContextRing({ maxChunks: 2 });
    for (const name of ["a", "b", "c"]) ring.add(chunk(`${name}.ts`, 0, 1));
    assert.deepEqual(paths(ring.chunks()), ["c.ts:0", "b.ts:0"]);
    assert.equal(ring.size, 2);
  });

  test("blank and empty-range chunks are not kept", () => {
    const ring = new ExtraContextRing({ maxChunks: 4 });
    ring.add(chunk("a.ts", 0, 3, "   \n\n"));
    ring.add(chunk("b.ts", 5, 5, "x"));
    assert.equal(ring.size, 0);
  });

  test("select: most recent first within the token budget (path headers counted), skipping what does not fit", () => {
    const ring = new ExtraContextRing({ maxChunks: 8 });
    ring.add(chunk("small.ts", 0, 1, "s".repeat(10))); // "small.ts\n" + 10 + "\n" = 20
    ring.add(chunk("big.ts", 0, 1, "b".repeat(100)));
    ring.add(chunk("mid.ts", 0, 1, "m".repeat(30))); // "mid.ts\n" + 30 + "\n" = 38
    assert.deepEqual(paths(ring.select(60, chars)), ["mid.ts:0", "small.ts:0"]);
    assert.deepEqual(paths(ring.select(20, chars)), ["small.ts:0"]);
    assert.deepEqual(paths(ring.select(19, chars)), []);
  });

  test("select leaves out chunks overlapping the current file's window, but keeps its other parts", () => {
    const ring = new ExtraContextRing({ maxChunks: 8 });
    ring.add(chunk("main.ts", 0, 20));
    ring.add(chunk("main.ts", 200, 220));
    ring.add(chunk("other.ts", 0, 20));
    const selected = ring.select(10_000, chars, { filePath: "main.ts", startLine: 10, endLine: 100 });
    assert.deepEqual(paths(selected), ["other.ts:0", "main.ts:200"]);
  });

  test("removeFile, renameFile, clear", () => {
    const ring = new ExtraContextRing({ maxChunks: 8 });
    ring.add(chunk("a.ts", 0, 1));
    ring.add(chunk("b.ts", 0, 1));
    ring.renameFile("a.ts", "z.ts");
    assert.deepEqual(paths(ring.chunks()), ["b.ts:0", "z.ts:0"]);
    ring.removeFile("b.ts");
    assert.deepEqual(paths(ring.chunks()), ["z.ts:0"]);
    ring.clear();
    assert.equal(ring.size, 0);
  });
});

describe("fileChunkAround", () => {
  const text = Array.from({ length: 100 }, (_, index) => `l${index}`).join("\n");
  test("centred on the line", () => {
    const around = fileChunkAround("f.ts", text, 50, 10);
    assert.deepEqual([around?.startLine, around?.endLine], [45, 55]);
    assert.equal(around?.text.split("\n")[0], "l45");
  });
  test("clamped at the start and the end of the file", () => {
    assert.deepEqual([fileChunkAround("f.ts", text, 2, 10)?.startLine, fileChunkAround("f.ts", text, 2, 10)?.endLine], [0, 10]);
    assert.deepEqual([fileChunkAround("f.ts", text, 98, 10)?.startLine, fileChunkAround("f.ts", text, 98, 10)?.endLine], [90, 100]);
  });
  test("a file shorter than the chunk gives the whole file", () => {
    assert.equal(fileChunkAround("f.ts", "a\nb", 7, 64)?.text, "a\nb");
  });
  test("a blank region gives no chunk", () => {
    assert.equal(fileChunkAround("f.ts", "\n\n\n", 1, 2), undefined);
  });
});
