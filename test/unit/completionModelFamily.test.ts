// FIM family detection: on the real fixture models (checked against llama.cpp's own FIM token detection through
// node-llama-cpp), on synthetic metadata of the other families, and the GGUF keys against the bundled llama.cpp.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { buildFimPrompt, fimTemplates, type FimPrompt } from "../../src/core/completion/fimTemplates";
import {
  FIM_TOKEN_ID_KEYS,
  detectFimTemplate,
  detectFimTemplateFromName,
  fallbackNotice,
} from "../../src/core/completion/modelFamilyDetection";
import { readGgufFile } from "../../src/core/gguf/ggufReader";
import type { GgufMetadata, GgufValue } from "../../src/core/gguf/ggufTypes";
import { ensureFixtureModel } from "../fixtures/fixtureModels";
import { llamaCppSourceFile } from "../fixtures/llamaCppSource";
import type { Llama, LlamaModel } from "node-llama-cpp" with { "resolution-mode": "import" };
import { loadTestLlama } from "../fixtures/testLlama";

function metadata(options: { name?: string; architecture?: string; tokens?: readonly string[]; ids?: Record<string, number> }): GgufMetadata {
  const map = new Map<string, GgufValue>();
  if (options.architecture !== undefined) map.set("general.architecture", { type: "string", value: options.architecture });
  if (options.name !== undefined) map.set("general.name", { type: "string", value: options.name });
  if (options.tokens !== undefined) map.set("tokenizer.ggml.tokens", { type: "array", itemType: "string", values: options.tokens });
  for (const [key, value] of Object.entries(options.ids ?? {})) map.set(key, { type: "u32", value });
  return map;
}

const FILLER = ["<unk>", "<s>", "</s>", "a", "b", "def", "return"];

describe("detection on synthetic vocabularies", () => {
  const cases: readonly { name: string; architecture: string; tokens: readonly string[]; family: string; fileSeparator?: string | undefined }[] = [
    {
      name: "Qwen2.5 Coder 1.5B",
      architecture: "qwen2",
      tokens: ["<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"],
      family: "qwen2.5-coder",
      fileSeparator: "<|file_sep|>",
    },
    {
      name: "starcoder2-3b",
      architecture: "starcoder2",
      tokens: ["<|endoftext|>", "<fim_prefix>", "<fim_middle>", "<fim_suffix>", "<fim_pad>", "<repo_name>", "<file_sep>"],
      family: "starcoder",
      fileSeparator: "<file_sep>",
    },
    {
      name: "starcoderbase-1b",
      architecture: "starcoder",
      tokens: ["<|endoftext|>", "<fim_prefix>", "<fim_middle>", "<fim_suffix>", "<fim_pad>", "<filename>", "<reponame>"],
      family: "starcoder",
      fileSeparator: undefined,
    },
    { name: "CodeLlama 7b", architecture: "llama", tokens: ["▁<PRE>", "▁<SUF>", "▁<MID>", "▁<EOT>"], family: "codellama" },
    {
      name: "codegemma-2b",
      architecture: "gemma",
      tokens: ["<pad>", "<eos>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|file_separator|>"],
      family: "codegemma",
      fileSeparator: "<|file_separator|>",
    },
    { name: "Codestral 22B v0.1", architecture: "llama", tokens: ["[INST]", "[/INST]", "[PREFIX]", "[MIDDLE]", "[SUFFIX]"], family: "codestral" },
    {
      name: "deepseek-coder-1.3b-base",
      architecture: "llama",
      tokens: ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜fim▁hole｜>", "<｜fim▁begin｜>", "<｜fim▁end｜>"],
      family: "deepseek-coder",
    },
    { name: "glm-4.5", architecture: "glm4moe", tokens: ["<|code_prefix|>", "<|code_middle|>", "<|code_suffix|>"], family: "generic" },
  ];
  for (const testCase of cases) {
    test(`${testCase.name} → ${testCase.family}`, () => {
      const detection = detectFimTemplate(metadata({ name: testCase.name, architecture: testCase.architecture, tokens: [...FILLER, ...testCase.tokens] }));
      assert.equal(detection.template.family, testCase.family);
      assert.equal(detection.fallback, false);
      assert.match(detection.reason, /FIM tokens/);
      assert.equal(fallbackNotice(detection), undefined);
      if ("fileSeparator" in testCase) assert.equal(detection.template.tokens?.fileSeparator?.vocab, testCase.fileSeparator);
    });
  }

  test("a StarCoder 1 vocabulary (no <file_sep>) drops extra context instead of inventing a separator", () => {
    const detection = detectFimTemplate(metadata({ tokens: [...FILLER, "<fim_prefix>", "<fim_middle>", "<fim_suffix>"] }));
    assert.equal(detection.template.extraContextLayout, "none");
    const prompt = buildFimPrompt(detection.template, { prefix: "P", suffix: "S", filePath: "a.py", extraContext: [{ filePath: "b.py", text: "x = 1" }] });
    assert.deepEqual(textOf(prompt), "<fim_prefix>P<fim_suffix>S<fim_middle>");
  });

  test("FIM token ids declared in the GGUF give a generic PSM template of those tokens", () => {
    const tokens = [...FILLER, "<|fim▁pre|>", "<|fim▁suf|>", "<|fim▁mid|>", "<|fim▁pad|>"];
    const ids = {
      "tokenizer.ggml.fim_pre_token_id": FILLER.length,
      "tokenizer.ggml.fim_suf_token_id": FILLER.length + 1,
      "tokenizer.ggml.fim_mid_token_id": FILLER.length + 2,
      "tokenizer.ggml.fim_pad_token_id": FILLER.length + 3,
    };
    const detection = detectFimTemplate(metadata({ name: "odd-coder", tokens, ids }));
    assert.equal(detection.template.family, "generic");
    assert.match(detection.reason, /declared in the GGUF/);
    assert.equal(textOf(buildFimPrompt(detection.template, { prefix: "P", suffix: "S" })), "<|fim▁pre|>P<|fim▁suf|>S<|fim▁mid|>");
    assert.ok(detection.template.stopSequences.includes("<|fim▁pad|>"));
  });

  test("the deprecated prefix/suffix/middle id keys count too", () => {
    const ids = { "tokenizer.ggml.prefix_token_id": 3, "tokenizer.ggml.suffix_token_id": 4, "tokenizer.ggml.middle_token_id": 5 };
    assert.equal(detectFimTemplate(metadata({ tokens: FILLER, ids })).template.family, "generic");
  });

  test("ids out of the vocabulary's range are ignored (as llama.cpp disables them)", () => {
    const ids = { "tokenizer.ggml.fim_pre_token_id": 99, "tokenizer.ggml.fim_suf_token_id": 4, "tokenizer.ggml.fim_mid_token_id": 5 };
    assert.equal(detectFimTemplate(metadata({ tokens: FILLER, ids })).fallback, true);
  });

  test("no FIM tokens → plain fallback, and the reason says what was looked for", () => {
    const detection = detectFimTemplate(metadata({ name: "Llama 3.2 1B", architecture: "llama", tokens: FILLER }));
    assert.equal(detection.fallback, true);
    assert.equal(detection.template.family, "plain");
    assert.match(detection.reason, /^Llama 3\.2 1B has no fill-in-the-middle tokens/);
    assert.match(detection.reason, /<\|fim_prefix\|>/);
    assert.match(fallbackNotice(detection) ?? "", /^Completing from the text before the cursor only: /);
  });

  test("without a vocabulary (summary read) the name decides, and says so", () => {
    const byName = detectFimTemplate(metadata({ name: "Qwen2.5-Coder-0.5B-Instruct" }));
    assert.equal(byName.template.family, "qwen2.5-coder");
    assert.match(byName.reason, /vocabulary was not read/);
    const none = detectFimTemplate(metadata({ name: "Phi 3" }));
    assert.equal(none.fallback, true);
    assert.match(none.reason, /vocabulary was not read/);
  });
});

describe("detection from a model name (remote engines)", () => {
  const cases: readonly (readonly [string, string])[] = [
    ["qwen2.5-coder:1.5b", "qwen2.5-coder"],
    ["Qwen/Qwen2.5-Coder-7B", "qwen2.5-coder"],
    ["bigcode/starcoder2-3b", "starcoder"],
    ["deepseek-coder:6.7b-base", "deepseek-coder"],
    ["codellama:7b-code", "codellama"],
    ["codegemma:2b", "codegemma"],
    ["codestral-latest", "codestral"],
    ["llama3.2:1b", "plain"],
  ];
  for (const [name, family] of cases) {
    test(`${name} → ${family}`, () => {
      const detection = detectFimTemplateFromName(name);
      assert.equal(detection.template.family, family);
      assert.equal(detection.fallback, family === "plain");
    });
  }
});

test("the FIM id keys we read are the ones the bundled llama.cpp defines (src/llama-arch.cpp)", async () => {
  const source = await readFile(await llamaCppSourceFile("src/llama-arch.cpp"), "utf8");
  for (const keys of Object.values(FIM_TOKEN_ID_KEYS)) {
    for (const key of keys) assert.ok(source.includes(`"${key}"`), `${key} is not in llama-arch.cpp`);
  }
});

test("our FIM token texts are spelled exactly as llama.cpp's vocab loader detects them (src/llama-vocab.cpp)", async () => {
  // llama.cpp src/llama-vocab.cpp lists the FIM token texts it auto-detects; ours must be spelled exactly the same.
  const source = await readFile(await llamaCppSourceFile("src/llama-vocab.cpp"), "utf8");
  for (const family of ["qwen2.5-coder", "deepseek-coder", "codellama", "starcoder"] as const) {
    const tokens = fimTemplates[family].tokens;
    assert.ok(tokens !== undefined);
    for (const token of [tokens.prefix, tokens.suffix, tokens.middle]) {
      assert.ok(token !== undefined && source.includes(`"${token.vocab}"`), `${family}: ${token?.vocab} is not in llama-vocab.cpp`);
    }
  }
});

describe("the fixture models, checked against llama.cpp", () => {
  let llama: Llama;
  before(async () => {
    llama = await loadTestLlama();
  });
  after(async () => {
    await llama.dispose();
  });

  async function loadVocab(path: string): Promise<LlamaModel> {
    return llama.loadModel({ modelPath: path, vocabOnly: true });
  }

  for (const [name, family] of [
    ["tiny-qwen2-coder", "qwen2.5-coder"],
    ["tiny-deepseek-coder", "deepseek-coder"],
  ] as const) {
    test(`${name} → ${family}, and each special token of the prompt is the id llama.cpp uses for infill`, async () => {
      const modelPath = await ensureFixtureModel(name);
      const file = await readGgufFile(modelPath);
      const detection = detectFimTemplate(file.metadata);
      assert.equal(detection.template.family, family);
      assert.equal(detection.fallback, false);
      const model = await loadVocab(modelPath);
      try {
        const tokens = detection.template.tokens;
        assert.ok(tokens?.middle !== undefined);
        const idOf = (text: string): readonly number[] => model.tokenize(text, true).map(Number);
        assert.deepEqual(idOf(tokens.prefix.vocab), [Number(model.tokens.infill.prefix)]);
        assert.deepEqual(idOf(tokens.suffix.vocab), [Number(model.tokens.infill.suffix)]);
        assert.deepEqual(idOf(tokens.middle.vocab), [Number(model.tokens.infill.middle)]);
        // Every special part of a full prompt is a single token of the vocabulary.
        const prompt = buildFimPrompt(detection.template, {
          prefix: "def add(a, b):\n    ",
          suffix: "\n\nprint(add(1, 2))\n",
          filePath: "src/math.py",
          repoName: "demo",
          extraContext: [{ filePath: "src/util.py", text: "def sub(a, b):\n    return a - b" }],
        });
        for (const part of prompt.parts) {
          if (part.kind === "special") assert.equal(model.tokenize(part.token.vocab, true).length, 1, part.token.vocab);
        }
      } finally {
        await model.dispose();
      }
    });
  }

  test("tiny-qwen2-coder gets the repo-level tokens; its prompt text reads as the Qwen2.5-Coder report lays it out", async () => {
    const file = await readGgufFile(await ensureFixtureModel("tiny-qwen2-coder"));
    const detection = detectFimTemplate(file.metadata);
    assert.match(detection.reason, /<\|repo_name\|> <\|file_sep\|>/);
    const prompt = buildFimPrompt(detection.template, {
      prefix: "P",
      suffix: "S",
      filePath: "b.py",
      repoName: "demo",
      extraContext: [{ filePath: "a.py", text: "x = 1" }],
    });
    assert.equal(textOf(prompt), "<|repo_name|>demo\n<|file_sep|>a.py\nx = 1\n<|file_sep|>b.py\n<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>");
  });

  for (const name of ["tiny-llama-spm", "tiny-llama-bpe"] as const) {
    test(`${name} → plain fallback (llama.cpp finds no FIM tokens either)`, async () => {
      const modelPath = await ensureFixtureModel(name);
      const detection = detectFimTemplate((await readGgufFile(modelPath)).metadata);
      assert.equal(detection.fallback, true);
      assert.equal(detection.template.family, "plain");
      assert.match(detection.reason, new RegExp(`^${name} has no fill-in-the-middle tokens`));
      const model = await loadVocab(modelPath);
      try {
        assert.equal(model.tokens.infill.prefix, null);
      } finally {
        await model.dispose();
      }
    });
  }
});

function textOf(prompt: FimPrompt): string {
  return prompt.parts.map((part) => (part.kind === "text" ? part.text : part.token.vocab)).join("");
}
