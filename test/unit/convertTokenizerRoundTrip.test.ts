// The converted GGUF tokenizes exactly as the Hugging Face tokenizer does: each fixture checkpoint (real tokenizer
// files) is converted, loaded by node-llama-cpp (the bundled llama.cpp's tokenizer) and made to tokenize a mixed corpus
// — the `.inp` texts of llama.cpp's own vocabulary tests (models/ggml-vocab-*.gguf.inp of the bundled source) and
// code in several languages, Unicode, whitespace runs and special-token strings — which must give the same ids as
// `@lenml/tokenizers` running the checkpoint's tokenizer.json (special tokens parsed, none added, on both sides).
// Two differences belong to llama.cpp, not to the export, and are handled openly below: it does not NFC-normalize
// (Qwen), and its gpt-4o pre-tokenizer splits words at spacing combining marks (Phi-4-mini).
import assert from "node:assert/strict";
import { readdir, readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { Llama } from "node-llama-cpp" with { "resolution-mode": "import" };
import { convertCheckpointInProcess } from "../../src/core/convert/checkpointConversion";
import { readHfTokenizerFiles } from "../../src/core/convert/tokenizer/hfTokenizerFiles";
import { loadHfReferenceTokenizer } from "../../src/core/convert/tokenizer/hfReferenceTokenizer";
import { ensureHfCheckpoint, type HfCheckpointName } from "../fixtures/hfCheckpoints";
import { llamaCppSourceFile, llamaCppSourceTree } from "../fixtures/llamaCppSource";
import { loadTestLlama } from "../fixtures/testLlama";

const MIXED_CORPUS: readonly string[] = [
  "",
  " ",
  "\n\n\n",
  "\t\t  \t\n    \n        x",
  "Hello, world! It's 2026; we're testing 12345678 tokens.",
  'def fibonacci(n: int) -> int:\n    """Return the n-th Fibonacci number."""\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)\n',
  "fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n    println!(\"{:?}\", v);\n}\n",
  "#include <stdio.h>\nint main(void) {\n\tprintf(\"%d\\n\", 42);\n\treturn 0;\n}\n",
  "const f = async (a, b) => { await Promise.all([a(), b()]); return a?.b ?? 'c'; };\n",
  "SELECT id, name FROM users WHERE created_at >= '2024-01-01' ORDER BY id DESC;",
  "<div class=\"x\">&nbsp;<b>bold</b></div>\n",
  "    if x:\n        return {'a': [1, 2.5, -3e10]}\n",
  "Ünïcödé façade naïve coöperate — “quotes” ‘single’ … ½ ² ∑ ∫ ≤ ≥ ≠",
  "日本語のテキストと中文文本，还有한국어 텍스트.",
  "Привет, мир! Ελληνικά. עברית. العربية. हिन्दी. ภาษาไทย",
  "emoji 🚀🦙😶‍🌫️👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 and skin 👍🏽",
  "tabs\tand\u00a0non-breaking\u2003em space\u200bzero width",
  "trailing spaces     ",
  "   leading spaces",
  "CamelCaseIdentifier snake_case_identifier SCREAMING_CASE kebab-case",
  "3.14159 1e-9 0xDEADBEEF 1_000_000 255.255.255.0",
  "a\r\nb\rc\n\rd",
];

/** Strings that are special tokens of the tokenizer, in text: both sides must turn them into their ids. */
const SPECIAL_STRINGS: Readonly<Record<string, readonly string[]>> = {
  "tiny-qwen3": ["<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n", "<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>"],
  "tiny-llama": ["<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"],
  "tiny-gemma3": ["<bos><start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n"],
  "tiny-phi4-mini": ["<|system|>You are helpful.<|end|><|user|>hi<|end|><|assistant|>"],
};

const CHECKPOINTS: readonly HfCheckpointName[] = ["tiny-qwen3", "tiny-llama", "tiny-gemma3", "tiny-phi4-mini"];

/**
 * Texts llama.cpp itself tokenizes differently, whatever the converter: its "gpt-4o" pre-tokenizer (Phi-4-mini) ends a
 * word at a spacing combining mark (Unicode Mc: Khmer and Devanagari vowel signs) that the HF regex's \p{M} keeps in
 * the word. Such texts are counted and shown, not compared; all others must match exactly.
 */
const LLAMA_CPP_DIVERGENCES: Readonly<Partial<Record<HfCheckpointName, RegExp>>> = { "tiny-phi4-mini": /\p{Mc}/u };

/** The texts of every `models/ggml-vocab-*.gguf.inp` of the bundled llama.cpp (tests/test-tokenizer-0 format). */
async function llamaCppVocabTexts(): Promise<string[]> {
  const models = path.join(await llamaCppSourceTree(), "models");
  const texts = new Set<string>();
  for (const file of (await readdir(models)).filter((name) => name.endsWith(".gguf.inp")).sort()) {
    const content = await readFile(await llamaCppSourceFile(`models/${file}`), "utf8");
    for (const text of content.split("\n__ggml_vocab_test__\n")) texts.add(text);
  }
  return [...texts];
}

let llama: Llama;
let outDir: string;
let corpus: string[];

before(async () => {
  llama = await loadTestLlama();
  outDir = await mkdtemp(path.join(tmpdir(), "slm-lab-tokenizer-round-trip-"));
  corpus = [...(await llamaCppVocabTexts()), ...MIXED_CORPUS];
});

after(async () => {
  await llama.dispose();
  await rm(outDir, { recursive: true, force: true });
});

for (const name of CHECKPOINTS) {
  test(`${name}: llama.cpp tokenizes the converted GGUF like the HF tokenizer`, async (t) => {
    const dir = await ensureHfCheckpoint(name);
    const outFile = path.join(outDir, `${name}.gguf`);
    await convertCheckpointInProcess({ checkpointDir: dir, outFile, outType: "f16" });
    const files = await readHfTokenizerFiles(dir);
    const reference = loadHfReferenceTokenizer(files);
    const model = await llama.loadModel({ modelPath: outFile, vocabOnly: true });
    try {
      // llama.cpp has no NFC normalizer (Qwen's tokenizer.json has one): like any llama.cpp user, give it NFC text.
      const nfc = JSON.stringify(files.tokenizerJson["normalizer"] ?? null).includes('"NFC"');
      const texts = [...corpus, ...(SPECIAL_STRINGS[name] ?? [])];
      const mismatches: string[] = [];
      const skipped: string[] = [];
      for (const text of texts) {
        const expected = reference.encode(text, { addSpecialTokens: false });
        const actual = Array.from(model.tokenize(nfc ? text.normalize("NFC") : text, true), Number);
        if (LLAMA_CPP_DIVERGENCES[name]?.test(text) === true) {
          if (JSON.stringify(actual) !== JSON.stringify(expected)) skipped.push(JSON.stringify(text.slice(0, 40)));
          continue;
        }
        if (JSON.stringify(actual) === JSON.stringify(expected)) continue;
        let first = 0;
        while (actual[first] === expected[first]) first += 1;
        const around = (ids: number[]): string => JSON.stringify(ids.slice(Math.max(0, first - 2), first + 6));
        mismatches.push(`${JSON.stringify(text.slice(0, 60))} differs from id ${first}: llama.cpp ${around(actual)} HF ${around(expected)} (${JSON.stringify(reference.decode(expected.slice(first, first + 3)))})`);
      }
      t.diagnostic(`${name}: ${texts.length} texts${nfc ? " (NFC-normalized for llama.cpp)" : ""}, ${texts.length - mismatches.length - skipped.length} identical${skipped.length > 0 ? `, ${skipped.length} known llama.cpp divergences: ${skipped.join(", ")}` : ""}`);
      assert.deepEqual(mismatches, [], `${name}: texts tokenized differently`);
    } finally {
      await model.dispose();
      await rm(outFile, { force: true });
    }
  });
}
