// FIM prompt formats: the exact text of each family's prompt, the repo-level layouts, and that code can never turn
// into special tokens.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  DEEPSEEK_END_OF_SENTENCE,
  DEEPSEEK_FIM_BEGIN,
  DEEPSEEK_FIM_END,
  DEEPSEEK_FIM_HOLE,
  buildFimPrompt,
  cutAtStopSequence,
  fimPromptText,
  fimTemplates,
  genericFimTemplate,
  type FimPromptInput,
  type KnownFimFamily,
} from "../../src/core/completion/fimTemplates";

const INPUT: FimPromptInput = { prefix: "def f(x):\n    return ", suffix: "\n\nprint(f(1))\n" };

describe("prompt text per family (no extra context)", () => {
  const expected: Record<KnownFimFamily, string> = {
    "qwen2.5-coder": "<|fim_prefix|>def f(x):\n    return <|fim_suffix|>\n\nprint(f(1))\n<|fim_middle|>",
    starcoder: "<fim_prefix>def f(x):\n    return <fim_suffix>\n\nprint(f(1))\n<fim_middle>",
    "deepseek-coder": "<｜fim▁begin｜>def f(x):\n    return <｜fim▁hole｜>\n\nprint(f(1))\n<｜fim▁end｜>",
    codellama: "<PRE> def f(x):\n    return  <SUF>\n\nprint(f(1))\n <MID>",
    codegemma: "<|fim_prefix|>def f(x):\n    return <|fim_suffix|>\n\nprint(f(1))\n<|fim_middle|>",
    codestral: "[SUFFIX]\n\nprint(f(1))\n[PREFIX]def f(x):\n    return ",
    plain: "def f(x):\n    return ",
  };
  for (const [family, text] of Object.entries(expected) as [KnownFimFamily, string][]) {
    test(family, () => {
      assert.equal(fimPromptText(buildFimPrompt(fimTemplates[family], INPUT)), text);
    });
  }
});

test("DeepSeek's tokens use U+FF5C FULLWIDTH VERTICAL LINE and U+2581 LOWER ONE EIGHTH BLOCK, not ASCII", () => {
  // Array.from iterates code points, which is the point here.
  const codePoints = (text: string): string => Array.from(text, (char) => char.codePointAt(0)?.toString(16)).join(" ");
  assert.equal(codePoints(DEEPSEEK_FIM_BEGIN), "3c ff5c 66 69 6d 2581 62 65 67 69 6e ff5c 3e");
  assert.equal(codePoints(DEEPSEEK_FIM_HOLE), "3c ff5c 66 69 6d 2581 68 6f 6c 65 ff5c 3e");
  assert.equal(codePoints(DEEPSEEK_FIM_END), "3c ff5c 66 69 6d 2581 65 6e 64 ff5c 3e");
  assert.ok(fimTemplates["deepseek-coder"].stopSequences.includes(DEEPSEEK_END_OF_SENTENCE));
});

test("CodeLlama's vocabulary pieces carry U+2581; the text form carries the spaces", () => {
  const tokens = fimTemplates.codellama.tokens;
  assert.deepEqual(
    [tokens?.prefix.vocab, tokens?.suffix.vocab, tokens?.middle?.vocab],
    ["\u2581<PRE>", "\u2581<SUF>", "\u2581<MID>"],
  );
  const prompt = buildFimPrompt(fimTemplates.codellama, { prefix: "a", suffix: "b" });
  assert.equal(fimPromptText(prompt), "<PRE> a <SUF>b <MID>");
});

test("special tokens are separate parts: code that contains them stays text", () => {
  const prompt = buildFimPrompt(fimTemplates["qwen2.5-coder"], { prefix: 'x = "<|fim_middle|>"\n', suffix: "<|endoftext|>" });
  assert.deepEqual(prompt.parts, [
    { kind: "special", token: { vocab: "<|fim_prefix|>", text: "<|fim_prefix|>" } },
    { kind: "text", text: 'x = "<|fim_middle|>"\n' },
    { kind: "special", token: { vocab: "<|fim_suffix|>", text: "<|fim_suffix|>" } },
    { kind: "text", text: "<|endoftext|>" },
    { kind: "special", token: { vocab: "<|fim_middle|>", text: "<|fim_middle|>" } },
  ]);
});

test("an empty prefix or suffix leaves no empty text part", () => {
  const prompt = buildFimPrompt(fimTemplates.starcoder, { prefix: "", suffix: "" });
  assert.deepEqual(
    prompt.parts.map((part) => part.kind),
    ["special", "special", "special"],
  );
});

describe("extra context layouts", () => {
  const input: FimPromptInput = {
    prefix: "P",
    suffix: "S",
    filePath: "src/main.py",
    repoName: "demo",
    extraContext: [
      { filePath: "src/a.py", text: "A = 1" },
      { filePath: "src/b.py", text: "B = 2\n" },
    ],
    lineComment: "#",
  };
  test("Qwen2.5-Coder: repo name, file separators, then the current file's header", () => {
    assert.equal(
      fimPromptText(buildFimPrompt(fimTemplates["qwen2.5-coder"], input)),
      "<|repo_name|>demo\n<|file_sep|>src/a.py\nA = 1\n<|file_sep|>src/b.py\nB = 2\n<|file_sep|>src/main.py\n<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>",
    );
  });
  test("Qwen2.5-Coder without a repo name or extra files still names the current file", () => {
    assert.equal(
      fimPromptText(buildFimPrompt(fimTemplates["qwen2.5-coder"], { prefix: "P", suffix: "S", filePath: "x.ts" })),
      "<|file_sep|>x.ts\n<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>",
    );
  });
  test("StarCoder2", () => {
    assert.equal(
      fimPromptText(buildFimPrompt(fimTemplates.starcoder, input)),
      "<repo_name>demo\n<file_sep>src/a.py\nA = 1\n<file_sep>src/b.py\nB = 2\n<file_sep>src/main.py\n<fim_prefix>P<fim_suffix>S<fim_middle>",
    );
  });
  test("CodeGemma: file separators, no repo name", () => {
    assert.equal(
      fimPromptText(buildFimPrompt(fimTemplates.codegemma, input)),
      "<|file_separator|>src/a.py\nA = 1\n<|file_separator|>src/b.py\nB = 2\n<|file_separator|>src/main.py\n<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>",
    );
  });
  test("DeepSeek-Coder: files headed by a path comment, in the prefix", () => {
    assert.equal(
      fimPromptText(buildFimPrompt(fimTemplates["deepseek-coder"], { ...input, lineComment: "//" })),
      "<｜fim▁begin｜>// src/a.py\nA = 1\n\n// src/b.py\nB = 2\n\nP<｜fim▁hole｜>S<｜fim▁end｜>",
    );
  });
  test("Codestral: +++++ headers in the prefix, suffix first", () => {
    assert.equal(
      fimPromptText(buildFimPrompt(fimTemplates.codestral, input)),
      "[SUFFIX]S[PREFIX]+++++ src/a.py\nA = 1\n\n+++++ src/b.py\nB = 2\n\n+++++ src/main.py\nP",
    );
  });
  test("plain completion leaves extra context and the suffix out", () => {
    assert.equal(fimPromptText(buildFimPrompt(fimTemplates.plain, input)), "P");
  });
});

test("a generic template from a model's own tokens", () => {
  const template = genericFimTemplate({ prefix: "<PRE>", suffix: "<SUF>", middle: "<MID>" });
  assert.equal(template.family, "generic");
  assert.equal(template.extraContextLayout, "none");
  assert.equal(fimPromptText(buildFimPrompt(template, { prefix: "a", suffix: "b" })), "<PRE>a<SUF>b<MID>");
  assert.deepEqual(template.stopSequences, ["<PRE>", "<SUF>", "<MID>"]);
});

describe("cutAtStopSequence", () => {
  const cases: readonly (readonly [string, readonly string[], string])[] = [
    ["return x<|endoftext|>junk", fimTemplates["qwen2.5-coder"].stopSequences, "return x"],
    ["a<|file_sep|>b.py\n<|fim_prefix|>", fimTemplates["qwen2.5-coder"].stopSequences, "a"],
    ["x = 1 <EOT>", fimTemplates.codellama.stopSequences, "x = 1 "],
    ["y<｜end▁of▁sentence｜>", fimTemplates["deepseek-coder"].stopSequences, "y"],
    ["no stop here", ["<stop>"], "no stop here"],
    ["earliest wins: B then A", ["A", "B"], "earliest wins: "],
    ["empty stops are ignored", [""], "empty stops are ignored"],
  ];
  for (const [input, stops, expected] of cases) {
    test(JSON.stringify(input), () => {
      assert.equal(cutAtStopSequence(input, stops), expected);
    });
  }
});
