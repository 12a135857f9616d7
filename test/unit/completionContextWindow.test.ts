// Prefix/suffix windows by token budget: line boundaries where possible, cuts inside a line when it must, bounded work
// on huge files and minified lines, and the budget held with a real tokenizer.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { MAX_CHARS_PER_TOKEN, contextWindow, estimateTokens, type TokenCounter } from "../../src/core/completion/contextWindow";
import { ensureFixtureModel } from "../fixtures/fixtureModels";
import { repositoryRoot } from "../fixtures/llamaCppSource";
import type { Llama, LlamaModel } from "node-llama-cpp" with { "resolution-mode": "import" };
import { loadTestLlama } from "../fixtures/testLlama";

/** One token per character: budgets read as character counts. */
const chars: TokenCounter = (text) => text.length;

function numberedLines(count: number): string {
  return Array.from({ length: count }, (_, index) => `line ${String(index).padStart(3, "0")}\n`).join("");
}

describe("small documents", () => {
  test("everything fits: the windows are the whole text around the cursor", () => {
    const text = "a\nbc\ndef\n";
    const window = contextWindow(text, 4, chars, { prefixTokens: 100, suffixTokens: 100 });
    assert.deepEqual(window, { prefix: "a\nbc", suffix: "\ndef\n", prefixStart: 0, suffixEnd: text.length, prefixTokens: 4, suffixTokens: 5 });
  });
  test("cursor at the start and at the end", () => {
    assert.equal(contextWindow("abc", 0, chars, { prefixTokens: 10, suffixTokens: 10 }).prefix, "");
    assert.equal(contextWindow("abc", 3, chars, { prefixTokens: 10, suffixTokens: 10 }).suffix, "");
  });
  test("an offset out of range is clamped", () => {
    assert.equal(contextWindow("abc", 99, chars, { prefixTokens: 10, suffixTokens: 10 }).prefix, "abc");
    assert.equal(contextWindow("abc", -5, chars, { prefixTokens: 10, suffixTokens: 10 }).suffix, "abc");
  });
  test("zero budgets give empty windows", () => {
    const window = contextWindow("abc\ndef", 5, chars, { prefixTokens: 0, suffixTokens: 0 });
    assert.equal(window.prefix, "");
    assert.equal(window.suffix, "");
  });
});

describe("line boundaries", () => {
  const text = numberedLines(100); // 9 characters a line
  const cursor = 50 * 9 + 4; // inside line 050, after "line"

  test("the prefix starts at a line start and takes as many whole lines as fit", () => {
    const window = contextWindow(text, cursor, chars, { prefixTokens: 50, suffixTokens: 0 });
    // "line" (4) + 5 whole lines (45) = 49 ≤ 50; a 6th line would make 58.
    assert.equal(window.prefix, "line 045\nline 046\nline 047\nline 048\nline 049\nline");
    assert.equal(window.prefixStart, 45 * 9);
  });
  test("the suffix ends at a line end", () => {
    const window = contextWindow(text, cursor, chars, { prefixTokens: 0, suffixTokens: 30 });
    // " 050\n" (5) + 2 whole lines (18) = 23 ≤ 30; a third would make 32.
    assert.equal(window.suffix, " 050\nline 051\nline 052\n");
    assert.equal(window.suffixEnd, 53 * 9);
  });
  test("the cursor's own line is cut inside when it alone exceeds the budget, keeping the text nearest the cursor", () => {
    const long = `${"x".repeat(40)}CURSOR${"y".repeat(40)}\nnext\n`;
    const at = long.indexOf("CURSOR") + "CURSOR".length;
    const window = contextWindow(long, at, chars, { prefixTokens: 10, suffixTokens: 10 });
    assert.equal(window.prefix, "xxxxCURSOR");
    assert.equal(window.suffix, "yyyyyyyyyy");
  });
});

describe("minified and huge files", () => {
  test("a very long previous line is cut inside rather than leaving the budget unused", () => {
    const minified = `start\n${"m".repeat(100_000)}\nfoo(`;
    const window = contextWindow(minified, minified.length, chars, { prefixTokens: 200, suffixTokens: 200 });
    assert.equal(window.prefix.length, 200);
    assert.ok(window.prefix.endsWith("m\nfoo("));
  });
  test("a very long next line is cut inside too", () => {
    const minified = `foo(\n${"m".repeat(100_000)}\nend`;
    const window = contextWindow(minified, 4, chars, { prefixTokens: 10, suffixTokens: 100 });
    assert.equal(window.suffix.length, 100);
    assert.ok(window.suffix.startsWith("\nmmm"));
  });
  test("a long line that would use only a little of what is left is not cut: the window stops at the line boundary", () => {
    const text = `${"m".repeat(1000)}\n${"short line\n".repeat(10)}x`;
    const window = contextWindow(text, text.length, chars, { prefixTokens: 200, suffixTokens: 0 });
    assert.equal(window.prefix, `${"short line\n".repeat(10)}x`);
  });
  test("a 4 MB single-line file holds the budget and counts a bounded amount of text", () => {
    const huge = "a=1;".repeat(1_000_000);
    let counted = 0;
    const counting: TokenCounter = (text) => {
      counted += text.length;
      return estimateTokens(text);
    };
    const window = contextWindow(huge, huge.length / 2, counting, { prefixTokens: 1500, suffixTokens: 300 });
    assert.ok(window.prefixTokens <= 1500 && window.prefixTokens >= 1400, `prefix ${window.prefixTokens}`);
    assert.ok(window.suffixTokens <= 300 && window.suffixTokens >= 280, `suffix ${window.suffixTokens}`);
    // Binary searches over at most budget × MAX_CHARS_PER_TOKEN characters, never the whole file.
    assert.ok(counted < 64 * (1500 + 300) * MAX_CHARS_PER_TOKEN, `counted ${counted} characters`);
  });
  test("a 100k-line file: work stays proportional to the budget", () => {
    const text = numberedLines(100_000);
    let calls = 0;
    const counting: TokenCounter = (value) => {
      calls += 1;
      return chars(value);
    };
    const window = contextWindow(text, Math.floor(text.length / 2), counting, { prefixTokens: 90, suffixTokens: 90 });
    assert.ok(window.prefixTokens <= 90 && window.suffixTokens <= 90);
    assert.ok(calls < 40, `${calls} calls`);
  });
  test("cuts never split a surrogate pair", () => {
    const emoji = "😀".repeat(50);
    for (let budget = 1; budget < 12; budget += 1) {
      const window = contextWindow(emoji, 50, chars, { prefixTokens: budget, suffixTokens: budget });
      for (const part of [window.prefix, window.suffix]) {
        assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(part), `lone surrogate at budget ${budget}`);
      }
    }
  });
});

describe("with the real Qwen tokenizer", () => {
  let llama: Llama;
  let model: LlamaModel;
  before(async () => {
    llama = await loadTestLlama();
    model = await llama.loadModel({ modelPath: await ensureFixtureModel("tiny-qwen2-coder"), vocabOnly: true });
  });
  after(async () => {
    await model.dispose();
    await llama.dispose();
  });

  test("budgets hold on real source files at many cursor positions, cutting at line boundaries", async () => {
    const count: TokenCounter = (text) => model.tokenize(text, false).length;
    const source = await readFile(path.join(repositoryRoot(), "src/core/gguf/ggufReader.ts"), "utf8");
    for (let step = 1; step < 10; step += 1) {
      const cursor = Math.floor((source.length * step) / 10);
      const window = contextWindow(source, cursor, count, { prefixTokens: 1500, suffixTokens: 300 });
      assert.ok(count(window.prefix) <= 1500, `prefix ${count(window.prefix)}`);
      assert.ok(count(window.suffix) <= 300, `suffix ${count(window.suffix)}`);
      assert.ok(window.prefixStart === 0 || source[window.prefixStart - 1] === "\n", "prefix starts at a line start");
      assert.ok(window.suffixEnd === source.length || source[window.suffixEnd - 1] === "\n", "suffix ends at a line end");
      assert.ok(count(window.prefix) > 1300 || window.prefixStart === 0, "the prefix budget is used");
    }
  });

  test("a minified line holds the budget with the real tokenizer", () => {
    const count: TokenCounter = (text) => model.tokenize(text, false).length;
    const minified = `${"function a(b){return b*2};var c=a(3),d=[1,2,3].map(a);".repeat(3000)}\n`;
    const window = contextWindow(minified, minified.length / 2, count, { prefixTokens: 500, suffixTokens: 200 });
    assert.ok(count(window.prefix) <= 500 && count(window.prefix) > 400, `prefix ${count(window.prefix)}`);
    assert.ok(count(window.suffix) <= 200 && count(window.suffix) > 150, `suffix ${count(window.suffix)}`);
  });
});

test("random documents, cursors and budgets: the windows hold their budgets and touch the cursor", () => {
  let state = 12345;
  const next = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
  const pieces = ["a", "bb", " ", "\n", "\n\n", "x".repeat(50), "😀", "\t"];
  for (let round = 0; round < 300; round += 1) {
    let text = "";
    const length = Math.floor(next() * 200);
    for (let index = 0; index < length; index += 1) text += pieces[Math.floor(next() * pieces.length)] ?? "";
    const cursor = Math.floor(next() * (text.length + 1));
    const budget = { prefixTokens: Math.floor(next() * 60), suffixTokens: Math.floor(next() * 60) };
    for (const count of [chars, estimateTokens]) {
      const window = contextWindow(text, cursor, count, budget);
      assert.ok(count(window.prefix) <= budget.prefixTokens, JSON.stringify({ text, cursor, budget }));
      assert.ok(count(window.suffix) <= budget.suffixTokens, JSON.stringify({ text, cursor, budget }));
      assert.equal(text.slice(window.prefixStart, window.suffixEnd), window.prefix + window.suffix);
      assert.ok(window.prefixStart + window.prefix.length === cursor || avoidsSplit(text, cursor));
    }
  }
});

/** The cursor itself may sit inside a surrogate pair only when the caller put it there. */
function avoidsSplit(text: string, cursor: number): boolean {
  const code = text.charCodeAt(cursor);
  return code >= 0xdc00 && code <= 0xdfff;
}
