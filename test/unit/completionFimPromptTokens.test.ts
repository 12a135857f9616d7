// FIM prompts as tokens, with node-llama-cpp's real tokenizer of the fixture models.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { buildFimPrompt, fimPromptText, fimTemplates } from "../../src/core/completion/fimTemplates";
import { tokenizeFimPrompt, type FimPromptTokenizer } from "../../src/core/completion/fimPromptTokens";
import { detectFimTemplate } from "../../src/core/completion/modelFamilyDetection";
import { UserError } from "../../src/core/errors";
import { readGgufFile } from "../../src/core/gguf/ggufReader";
import { ensureFixtureModel } from "../fixtures/fixtureModels";
import type { Llama, LlamaModel, Token } from "node-llama-cpp" with { "resolution-mode": "import" };
import { loadTestLlama } from "../fixtures/testLlama";

let llama: Llama;
before(async () => {
  llama = await loadTestLlama();
});
after(async () => {
  await llama.dispose();
});

function tokenizerOf(model: LlamaModel, withBos = false): FimPromptTokenizer<Token> {
  return {
    tokenizeText: (text) => model.tokenize(text, false),
    specialToken: (vocab) => {
      const tokens = model.tokenize(vocab, true);
      return tokens.length === 1 ? tokens[0] : undefined;
    },
    bos: withBos && model.tokens.bos !== null ? model.tokens.bos : undefined,
  };
}

describe("tiny-qwen2-coder", () => {
  let model: LlamaModel;
  before(async () => {
    model = await llama.loadModel({ modelPath: await ensureFixtureModel("tiny-qwen2-coder"), vocabOnly: true });
  });
  after(async () => {
    await model.dispose();
  });

  test("the tokens equal llama.cpp's own tokenization of the prompt text with special parsing", () => {
    const prompt = buildFimPrompt(fimTemplates["qwen2.5-coder"], {
      prefix: "def add(a, b):\n    return ",
      suffix: "\n\nprint(add(1, 2))\n",
      filePath: "src/math.py",
      repoName: "demo",
      extraContext: [{ filePath: "src/util.py", text: "def sub(a, b):\n    return a - b\n" }],
    });
    const tokens = tokenizeFimPrompt(prompt, tokenizerOf(model));
    assert.deepEqual(tokens, model.tokenize(fimPromptText(prompt), true));
    assert.equal(tokens[tokens.length - 1], model.tokens.infill.middle);
  });

  test("code that contains a special token's text cannot inject it", () => {
    const prompt = buildFimPrompt(fimTemplates["qwen2.5-coder"], { prefix: 'marker = "<|fim_middle|>"\n', suffix: "" });
    const tokens = tokenizeFimPrompt(prompt, tokenizerOf(model));
    const middle = model.tokens.infill.middle;
    assert.equal(tokens.filter((token) => token === middle).length, 1, "only the prompt's own <|fim_middle|>");
    assert.equal(model.detokenize(tokens.slice(1, -2)), 'marker = "<|fim_middle|>"\n');
  });

  test("a template whose tokens the vocabulary lacks is a UserError", () => {
    const prompt = buildFimPrompt(fimTemplates.codestral, { prefix: "a", suffix: "b" });
    assert.throws(() => tokenizeFimPrompt(prompt, tokenizerOf(model)), (error: unknown) => error instanceof UserError && error.message.includes("[SUFFIX]"));
  });
});

test("tiny-deepseek-coder: BOS first, then the DeepSeek FIM ids llama.cpp uses", async () => {
  const modelPath = await ensureFixtureModel("tiny-deepseek-coder");
  const detection = detectFimTemplate((await readGgufFile(modelPath)).metadata);
  const model = await llama.loadModel({ modelPath, vocabOnly: true });
  try {
    const prompt = buildFimPrompt(detection.template, { prefix: "int main() {\n    ", suffix: "\n}\n" });
    const tokens = tokenizeFimPrompt(prompt, tokenizerOf(model, true));
    assert.equal(tokens[0], model.tokens.bos);
    assert.equal(tokens[1], model.tokens.infill.prefix);
    assert.ok(model.tokens.infill.suffix !== null && tokens.includes(model.tokens.infill.suffix));
    assert.equal(tokens[tokens.length - 1], model.tokens.infill.middle);
  } finally {
    await model.dispose();
  }
});
