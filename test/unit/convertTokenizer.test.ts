// Tokenizer export (src/core/convert/tokenizer): the GGUF tokenizer keys llama.cpp's converter would write for each
// fixture's real tokenizer files, the pre-tokenizer found by llama.cpp's check-text hash, and the typed errors for
// missing, malformed, unsupported and unknown tokenizers. test/unit/convertTokenizerRoundTrip.test.ts checks that
// llama.cpp then tokenizes like the HF tokenizer.
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { GgufMetadata, GgufValue } from "../../src/core/gguf/ggufTypes";
import { GgufTokenType } from "../../src/core/convert/tokenizer/ggufTokenTypes";
import { readHfTokenizerFiles } from "../../src/core/convert/tokenizer/hfTokenizerFiles";
import { detectPreTokenizer, tokenIdsHash } from "../../src/core/convert/tokenizer/preTokenizerDetection";
import { KNOWN_PRE_TOKENIZERS } from "../../src/core/convert/tokenizer/preTokenizerHashes";
import { TokenizerExportError } from "../../src/core/convert/tokenizer/tokenizerErrors";
import { exportTokenizer } from "../../src/core/convert/tokenizer/tokenizerExport";
import { ensureHfCheckpoint, hfCheckpointSpecs, hfTokenizerSourcePath, type HfCheckpointName } from "../fixtures/hfCheckpoints";

const ARCHITECTURE: Readonly<Record<HfCheckpointName, string>> = {
  "tiny-llama": "llama",
  "tiny-qwen2": "qwen2",
  "tiny-qwen2-sharded": "qwen2",
  "tiny-qwen3": "qwen3",
  "tiny-gemma3": "gemma3",
  "tiny-phi4-mini": "phi3",
};

let scratch: string;
before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "slm-lab-tokenizer-export-"));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const exported = new Map<HfCheckpointName, Promise<GgufMetadata>>();
function exportOf(name: HfCheckpointName): Promise<GgufMetadata> {
  let promise = exported.get(name);
  if (promise === undefined) {
    promise = ensureHfCheckpoint(name).then((dir) => exportTokenizer(dir, { architecture: ARCHITECTURE[name] }));
    exported.set(name, promise);
  }
  return promise;
}

function scalar(metadata: GgufMetadata, key: string): unknown {
  const value = metadata.get(key);
  return value === undefined || value.type === "array" ? undefined : value.value;
}

function array(metadata: GgufMetadata, key: string): readonly unknown[] {
  const value: GgufValue | undefined = metadata.get(key);
  assert.ok(value?.type === "array", `${key} is an array`);
  return value.values;
}

async function jsonFile(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
}

/** A checkpoint folder in the scratch dir with the fixture's config.json and tokenizer files, changed by `edit`. */
async function editedCheckpoint(
  from: HfCheckpointName,
  label: string,
  edit: (files: { tokenizerJson: Record<string, unknown>; config: Record<string, unknown> }) => void,
): Promise<string> {
  const source = await ensureHfCheckpoint(from);
  const dir = path.join(scratch, label);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const tokenizerJson = await jsonFile(path.join(source, "tokenizer.json"));
  const config = await jsonFile(path.join(source, "config.json"));
  edit({ tokenizerJson, config });
  await writeFile(path.join(dir, "tokenizer.json"), JSON.stringify(tokenizerJson));
  await writeFile(path.join(dir, "config.json"), JSON.stringify(config));
  await copyFile(path.join(source, "tokenizer_config.json"), path.join(dir, "tokenizer_config.json"));
  return dir;
}

test("byte-level BPE tokenizers get llama.cpp's pre-tokenizer names from the check-text hash", async () => {
  const expected: [HfCheckpointName, string][] = [
    ["tiny-llama", "llama-bpe"],
    ["tiny-qwen2", "qwen2"],
    ["tiny-qwen3", "qwen2"],
    ["tiny-phi4-mini", "gpt-4o"],
  ];
  for (const [name, pre] of expected) {
    const metadata = await exportOf(name);
    assert.equal(scalar(metadata, "tokenizer.ggml.model"), "gpt2", name);
    assert.equal(scalar(metadata, "tokenizer.ggml.pre"), pre, name);
    assert.equal(metadata.has("tokenizer.ggml.scores"), false, `${name}: BPE vocabularies have no scores`);
  }
  // The packaged Llama 3 tokenizer.json (Meta-Llama-3's first release) adds no BOS, so its ids hash like
  // Smaug-Llama-3's, exactly as llama.cpp's converter would find.
  const firstRelease = await readHfTokenizerFiles(path.dirname(hfTokenizerSourcePath(hfCheckpointSpecs["tiny-llama"], "tokenizer.json")));
  assert.equal(detectPreTokenizer(firstRelease).pre, "smaug-bpe");
});

test("the hash is sha256 of Python's str(list) of the ids", () => {
  // printf '[1, 22, 333]' | sha256sum
  assert.equal(tokenIdsHash([1, 22, 333]), "276d8737d9d5a80805e0731e8d5ae18972a8e3ba721f4988f67151c6e9159068");
  assert.ok(KNOWN_PRE_TOKENIZERS.size > 90, "the whole table of the bundled llama.cpp");
});

test("byte-level BPE: tokens, types, merges and special tokens as convert_hf_to_gguf.py's get_vocab_base writes them", async () => {
  const llama = await exportOf("tiny-llama");
  const llamaTokens = array(llama, "tokenizer.ggml.tokens");
  const llamaTypes = array(llama, "tokenizer.ggml.token_type");
  assert.equal(llamaTokens.length, 128256);
  assert.equal(llamaTokens[128000], "<|begin_of_text|>");
  assert.equal(llamaTypes[128000], GgufTokenType.control);
  assert.equal(llamaTypes[128255], GgufTokenType.control, "reserved special tokens are control tokens");
  assert.equal(llamaTokens[15339], "hello");
  assert.equal(llamaTypes[15339], GgufTokenType.normal);
  assert.equal(array(llama, "tokenizer.ggml.merges").length, 280147);
  assert.equal(array(llama, "tokenizer.ggml.merges")[0], "Ġ Ġ");
  assert.equal(scalar(llama, "tokenizer.ggml.bos_token_id"), 128000);
  assert.equal(scalar(llama, "tokenizer.ggml.eos_token_id"), 128001);
  assert.equal(scalar(llama, "tokenizer.ggml.add_bos_token"), true, "from the TemplateProcessing post-processor");

  const qwen = await exportOf("tiny-qwen3");
  const qwenTokens = array(qwen, "tokenizer.ggml.tokens");
  const qwenTypes = array(qwen, "tokenizer.ggml.token_type");
  assert.equal(qwenTokens.length, 151936, "padded to config.json's vocab_size");
  assert.equal(qwenTokens[151669], "[PAD151669]");
  assert.equal(qwenTypes[151669], GgufTokenType.unused);
  assert.equal(qwenTypes[151644], GgufTokenType.control, "<|im_start|> is special");
  assert.equal(qwenTypes[151659], GgufTokenType.control, "<|fim_prefix|> is not marked special but looks special");
  assert.equal(qwenTokens[151667], "<think>");
  assert.equal(qwenTypes[151667], GgufTokenType.userDefined, "<think> is a non-special added token");
  // Merges in tokenizer.json's newer pair format come out as "left right" strings.
  assert.equal(array(qwen, "tokenizer.ggml.merges")[2], "i n");
  assert.equal(scalar(qwen, "tokenizer.ggml.eos_token_id"), 151645, "tokenizer_config.json's eos_token wins over config.json");
  assert.equal(scalar(qwen, "tokenizer.ggml.padding_token_id"), 151643);
  assert.equal(scalar(qwen, "tokenizer.ggml.bos_token_id"), 151643, "no bos_token in tokenizer_config.json: config.json's bos_token_id");
  assert.equal(scalar(qwen, "tokenizer.ggml.add_bos_token"), false);
  const qwenConfig = await jsonFile(path.join(await ensureHfCheckpoint("tiny-qwen3"), "tokenizer_config.json"));
  assert.equal(scalar(qwen, "tokenizer.chat_template"), qwenConfig["chat_template"]);

  const phi = await exportOf("tiny-phi4-mini");
  const phiTokens = array(phi, "tokenizer.ggml.tokens");
  assert.equal(phiTokens.length, 200064);
  assert.equal(phiTokens[200020], "<|end|>");
  assert.equal(array(phi, "tokenizer.ggml.token_type")[200020], GgufTokenType.control);
  assert.equal(phiTokens[200030], "[PAD200030]");
  assert.equal(scalar(phi, "tokenizer.ggml.bos_token_id"), 199999);
  assert.equal(scalar(phi, "tokenizer.ggml.eos_token_id"), 199999);
  assert.equal(scalar(phi, "tokenizer.ggml.add_bos_token"), false);
  assert.equal(typeof scalar(phi, "tokenizer.chat_template"), "string");
});

test("Gemma 3: a SentencePiece vocabulary (model llama) with scores from the merge ranks and SentencePiece token types", async () => {
  const gemma = await exportOf("tiny-gemma3");
  assert.equal(scalar(gemma, "tokenizer.ggml.model"), "llama");
  assert.equal(scalar(gemma, "tokenizer.ggml.pre"), "default");
  assert.equal(gemma.has("tokenizer.ggml.merges"), false);
  const tokens = array(gemma, "tokenizer.ggml.tokens");
  const types = array(gemma, "tokenizer.ggml.token_type");
  const scores = array(gemma, "tokenizer.ggml.scores") as readonly number[];
  assert.equal(tokens.length, 262208, "padded to config.json's vocab_size");
  assert.equal(tokens[262200], "[PAD262200]");
  assert.equal(types[262200], GgufTokenType.unused);
  assert.equal(tokens[2], "<bos>");
  assert.equal(types[2], GgufTokenType.control);
  const newline = tokens.indexOf("<0x0A>");
  assert.ok(newline > 0);
  assert.equal(types[newline], GgufTokenType.byte);
  assert.equal(types[4], GgufTokenType.control, "<mask> is not special in tokenizer.json but looks special");
  const tokenizerJson = (await jsonFile(path.join(await ensureHfCheckpoint("tiny-gemma3"), "tokenizer.json"))) as { model: { merges: [string, string][]; vocab: Record<string, number> } };
  const the = tokenizerJson.model.vocab["▁the"] ?? assert.fail();
  const theRank = tokenizerJson.model.merges.findIndex(([a, b]) => a + b === "▁the");
  assert.ok(theRank > 0);
  assert.equal(scores[the], -theRank, "a piece scores minus the rank of the first merge that makes it");
  assert.equal(types[the], GgufTokenType.normal);
  // Added tokens (whitespace runs, HTML tags, …) are user-defined with score -1000; every other merged piece scores
  // minus its first merge's rank, so earlier merges score higher.
  for (const [rank, [a, b]] of tokenizerJson.model.merges.slice(0, 5000).entries()) {
    const id = tokenizerJson.model.vocab[a + b] ?? assert.fail();
    if (types[id] === GgufTokenType.normal) assert.ok((scores[id] ?? -Infinity) >= -rank, `score of merge ${rank}`);
    else assert.equal(scores[id], -1000, `score of added token ${id}`);
  }
  assert.equal(scalar(gemma, "tokenizer.ggml.bos_token_id"), 2);
  assert.equal(scalar(gemma, "tokenizer.ggml.unknown_token_id"), 3);
  assert.equal(scalar(gemma, "tokenizer.ggml.padding_token_id"), 0);
  assert.equal(scalar(gemma, "tokenizer.ggml.add_bos_token"), true);
  assert.equal(scalar(gemma, "tokenizer.ggml.add_eos_token"), false);
  assert.equal(scalar(gemma, "tokenizer.ggml.add_space_prefix"), false);
});

async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof TokenizerExportError, `a TokenizerExportError, not ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.toOneLine(), pattern);
    return true;
  });
}

test("a pre-tokenizer llama.cpp does not know is refused, naming the hash, tokenizer class and pre-tokenizer", async () => {
  const dir = await editedCheckpoint("tiny-qwen3", "unknown-pre", ({ tokenizerJson }) => {
    // Words no longer take the space or punctuation before them (" world" → " ", "world"): a new pre-tokenizer.
    const pre = tokenizerJson["pre_tokenizer"] as { pretokenizers: { pattern: { Regex: string } }[] };
    const split = pre.pretokenizers[0] ?? assert.fail();
    const words = "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+";
    assert.ok(split.pattern.Regex.includes(words));
    split.pattern.Regex = split.pattern.Regex.replace(words, "\\p{L}+");
  });
  await rejectsWith(exportTokenizer(dir, { architecture: "qwen3" }), "unknown-pre-tokenizer", /tokenizer class Qwen2Tokenizer.*hash [0-9a-f]{64}/);
  await rejectsWith(exportTokenizer(dir, { architecture: "qwen3" }), "unknown-pre-tokenizer", /Sequence\[Split, ByteLevel\]/);
  await rejectsWith(exportTokenizer(dir, { architecture: "qwen3" }), "unknown-pre-tokenizer", /llama-bpe.*qwen2/);
});

test("missing, malformed and unsupported tokenizers are typed errors", async () => {
  const noTokenizer = path.join(scratch, "no-tokenizer");
  await mkdir(noTokenizer, { recursive: true });
  await copyFile(path.join(await ensureHfCheckpoint("tiny-qwen3"), "config.json"), path.join(noTokenizer, "config.json"));
  await rejectsWith(exportTokenizer(noTokenizer, { architecture: "qwen3" }), "missing-tokenizer", /no tokenizer\.json/);
  await writeFile(path.join(noTokenizer, "tokenizer.model"), "not really protobuf");
  await rejectsWith(exportTokenizer(noTokenizer, { architecture: "qwen3" }), "unsupported-tokenizer", /SentencePiece tokenizer\.model but no tokenizer\.json/);
  await writeFile(path.join(noTokenizer, "tokenizer.json"), "{ not json");
  await rejectsWith(exportTokenizer(noTokenizer, { architecture: "qwen3" }), "invalid-tokenizer", /tokenizer\.json is not valid JSON/);

  const unigram = await editedCheckpoint("tiny-qwen3", "unigram", ({ tokenizerJson }) => {
    tokenizerJson["model"] = { type: "Unigram", vocab: [["a", -1]] };
  });
  await rejectsWith(exportTokenizer(unigram, { architecture: "qwen3" }), "unsupported-tokenizer", /Unigram tokenizer.*BPE tokenizers only/);

  const tooSmall = await editedCheckpoint("tiny-qwen3", "vocab-too-small", ({ config }) => {
    config["vocab_size"] = 1000;
  });
  await rejectsWith(exportTokenizer(tooSmall, { architecture: "qwen3" }), "vocabulary-mismatch", /token id 151\d+ but the model's vocabulary has 1000 entries/);
});
