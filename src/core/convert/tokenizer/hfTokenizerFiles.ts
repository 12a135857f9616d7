/**
 * The tokenizer files of a Hugging Face checkpoint, read and checked: `tokenizer.json` (the `tokenizers` library's
 * serialization: model, added tokens, normalizer, pre-tokenizer, post-processor), `tokenizer_config.json`
 * (transformers' special tokens, add-bos/eos flags, chat template) and the chat template files transformers also
 * reads (`chat_template.jinja`, `chat_template.json`). Only the fields the export uses are validated.
 */
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { throwIfAborted } from "../../errors";
import { TokenizerExportError } from "./tokenizerErrors";

/** One entry of tokenizer.json `added_tokens` (or tokenizer_config.json `added_tokens_decoder`). */
export interface HfAddedToken {
  readonly id: number;
  readonly content: string;
  readonly special: boolean;
  readonly normalized: boolean;
}

/** tokenizer.json `model` of type BPE, the only model type the supported architectures use. */
export interface HfBpeModel {
  readonly type: "BPE";
  /** Token text → id, in file order. */
  readonly vocab: ReadonlyMap<string, number>;
  /** Merge rules in rank order, as (left, right) pairs whatever the file's format. */
  readonly merges: readonly (readonly [string, string])[];
  /** Whether the file stores merges as "left right" strings (the format before transformers 4.45). */
  readonly mergesAsStrings: boolean;
  /** SentencePiece-style BPE: unknown characters become `<0xXX>` byte tokens. */
  readonly byteFallback: boolean;
  readonly ignoreMerges: boolean;
  readonly unkToken: string | undefined;
}

/** A chat template: one string, or named templates (tokenizer_config.json may hold a list). */
export type HfChatTemplate = string | readonly { readonly name: string; readonly template: string }[];

export interface HfTokenizerFiles {
  readonly dir: string;
  readonly tokenizerJsonPath: string;
  /** tokenizer.json as parsed (handed to the reference tokenizer as it is). */
  readonly tokenizerJson: Readonly<Record<string, unknown>>;
  readonly model: HfBpeModel;
  readonly addedTokens: readonly HfAddedToken[];
  /** tokenizer_config.json, or undefined when the checkpoint has none. */
  readonly tokenizerConfig: Readonly<Record<string, unknown>> | undefined;
  /** tokenizer_config.json `added_tokens_decoder`, or undefined when absent. */
  readonly addedTokensDecoder: readonly HfAddedToken[] | undefined;
  /** The chat template transformers would use: tokenizer_config.json's, else chat_template.jinja / .json. */
  readonly chatTemplate: HfChatTemplate | undefined;
  /** Whether a SentencePiece `tokenizer.model` sits beside tokenizer.json. */
  readonly hasSentencePieceModel: boolean;
}

export const TOKENIZER_JSON_FILE = "tokenizer.json";
export const TOKENIZER_CONFIG_FILE = "tokenizer_config.json";

/** Reads and checks the tokenizer files of `dir`. */
export async function readHfTokenizerFiles(dir: string, signal?: AbortSignal): Promise<HfTokenizerFiles> {
  const entries = new Set(await readdir(dir).catch(() => [] as string[]));
  const tokenizerJsonPath = path.join(dir, TOKENIZER_JSON_FILE);
  if (!entries.has(TOKENIZER_JSON_FILE)) {
    const onlySentencePiece = entries.has("tokenizer.model");
    throw new TokenizerExportError(
      onlySentencePiece ? "unsupported-tokenizer" : "missing-tokenizer",
      onlySentencePiece
        ? `${path.basename(dir)} has a SentencePiece tokenizer.model but no tokenizer.json`
        : `${path.basename(dir)} has no tokenizer.json`,
      {
        file: tokenizerJsonPath,
        action: "Download the checkpoint's tokenizer.json too (every supported model publishes one); SLM Lab exports the tokenizer from it.",
      },
    );
  }
  const tokenizerJson = await readJsonObject(tokenizerJsonPath);
  throwIfAborted(signal);
  const model = parseBpeModel(tokenizerJson, tokenizerJsonPath);
  const addedTokens = parseAddedTokenList(tokenizerJson["added_tokens"] ?? [], tokenizerJsonPath, "added_tokens");

  const configPath = path.join(dir, TOKENIZER_CONFIG_FILE);
  const tokenizerConfig = entries.has(TOKENIZER_CONFIG_FILE) ? await readJsonObject(configPath) : undefined;
  let addedTokensDecoder: HfAddedToken[] | undefined;
  const decoder = tokenizerConfig?.["added_tokens_decoder"];
  if (isObject(decoder)) {
    addedTokensDecoder = Object.entries(decoder).map(([key, value]) => parseAddedToken({ ...(isObject(value) ? value : {}), id: Number(key) }, configPath, `added_tokens_decoder.${key}`));
  }
  const chatTemplate = await readChatTemplate(dir, entries, tokenizerConfig, configPath);
  return {
    dir,
    tokenizerJsonPath,
    tokenizerJson,
    model,
    addedTokens,
    tokenizerConfig,
    addedTokensDecoder,
    chatTemplate,
    hasSentencePieceModel: entries.has("tokenizer.model"),
  };
}

/** A string or `{ content }` field of tokenizer_config.json (`bos_token` etc.), as transformers accepts both. */
export function configTokenContent(config: Readonly<Record<string, unknown>> | undefined, key: string): string | undefined {
  const entry = config?.[key];
  if (typeof entry === "string") return entry;
  if (isObject(entry) && typeof entry["content"] === "string") return entry["content"];
  return undefined;
}

/** Whether a value is a plain JSON object. */
export function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

async function readJsonObject(file: string): Promise<Readonly<Record<string, unknown>>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw invalid(file, `is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isObject(parsed)) throw invalid(file, "is not a JSON object");
  return parsed;
}

function parseBpeModel(tokenizerJson: Readonly<Record<string, unknown>>, file: string): HfBpeModel {
  const model = tokenizerJson["model"];
  if (!isObject(model)) throw invalid(file, 'has no "model" object');
  const type = model["type"];
  if (type !== "BPE") {
    throw new TokenizerExportError("unsupported-tokenizer", `${path.basename(file)} holds a ${typeof type === "string" ? type : "model of unknown type"} tokenizer; SLM Lab exports BPE tokenizers only`, {
      file,
      action: "Convert a model of a supported family (Llama 3, SmolLM2, Qwen2.5, Qwen3, Phi-4-mini, Gemma 3): they all use BPE tokenizers.",
    });
  }
  const rawVocab = model["vocab"];
  if (!isObject(rawVocab)) throw invalid(file, 'has no "model.vocab" object');
  const vocab = new Map<string, number>();
  // for…in rather than Object.entries: no pair array per token (a vocabulary has up to 260,000).
  for (const token in rawVocab) {
    const id = rawVocab[token];
    if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) throw invalid(file, `has a bad id for token ${JSON.stringify(token)} in model.vocab`);
    vocab.set(token, id);
  }
  const rawMerges = model["merges"] ?? [];
  if (!Array.isArray(rawMerges)) throw invalid(file, '"model.merges" is not a list');
  const merges: (readonly [string, string])[] = [];
  let mergesAsStrings = false;
  for (const merge of rawMerges as unknown[]) {
    if (typeof merge === "string") {
      mergesAsStrings = true;
      // The old format separates the two parts with the first space after the first character (llama.cpp
      // llama-vocab.cpp does `word.find(' ', 1)` on the same strings).
      const split = merge.indexOf(" ", 1);
      if (split < 0) throw invalid(file, `has a merge without a space: ${JSON.stringify(merge)}`);
      merges.push([merge.slice(0, split), merge.slice(split + 1)]);
    } else if (Array.isArray(merge) && merge.length === 2 && typeof merge[0] === "string" && typeof merge[1] === "string") {
      merges.push([merge[0], merge[1]]);
    } else {
      throw invalid(file, `has a merge in an unknown format: ${JSON.stringify(merge).slice(0, 80)}`);
    }
  }
  const unk = model["unk_token"];
  return {
    type: "BPE",
    vocab,
    merges,
    mergesAsStrings,
    byteFallback: model["byte_fallback"] === true,
    ignoreMerges: model["ignore_merges"] === true,
    unkToken: typeof unk === "string" ? unk : undefined,
  };
}

function parseAddedTokenList(value: unknown, file: string, field: string): HfAddedToken[] {
  if (!Array.isArray(value)) throw invalid(file, `"${field}" is not a list`);
  return (value as unknown[]).map((entry, index) => parseAddedToken(entry, file, `${field}[${index}]`));
}

function parseAddedToken(entry: unknown, file: string, where: string): HfAddedToken {
  if (!isObject(entry)) throw invalid(file, `${where} is not an object`);
  const id = entry["id"];
  const content = entry["content"];
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) throw invalid(file, `${where} has no valid "id"`);
  if (typeof content !== "string") throw invalid(file, `${where} has no "content" string`);
  return { id, content, special: entry["special"] === true, normalized: entry["normalized"] === true };
}

async function readChatTemplate(
  dir: string,
  entries: ReadonlySet<string>,
  tokenizerConfig: Readonly<Record<string, unknown>> | undefined,
  configPath: string,
): Promise<HfChatTemplate | undefined> {
  // gguf-py vocab.py SpecialVocab: tokenizer_config.json's chat_template wins; chat_template.jinja, then
  // chat_template.json, are the fallback (with additional_chat_templates/*.jinja as named templates).
  const fromConfig = tokenizerConfig?.["chat_template"];
  if (typeof fromConfig === "string") return fromConfig;
  if (Array.isArray(fromConfig)) {
    return (fromConfig as unknown[]).map((choice, index) => {
      if (!isObject(choice) || typeof choice["template"] !== "string") throw invalid(configPath, `chat_template[${index}] has no "template" string`);
      return { name: typeof choice["name"] === "string" ? choice["name"] : "", template: choice["template"] };
    });
  }
  if (entries.has("chat_template.jinja")) {
    const main = await readFile(path.join(dir, "chat_template.jinja"), "utf8");
    const extraDir = path.join(dir, "additional_chat_templates");
    const extras = (await readdir(extraDir).catch(() => [] as string[])).filter((name) => name.endsWith(".jinja")).sort();
    if (extras.length === 0) return main;
    const named = [{ name: "default", template: main }];
    for (const name of extras) named.push({ name: name.slice(0, -".jinja".length), template: await readFile(path.join(extraDir, name), "utf8") });
    return named;
  }
  if (entries.has("chat_template.json")) {
    const json = await readJsonObject(path.join(dir, "chat_template.json"));
    const template = json["chat_template"];
    if (typeof template === "string") return template;
  }
  return undefined;
}

function invalid(file: string, problem: string): TokenizerExportError {
  return new TokenizerExportError("invalid-tokenizer", `${path.basename(file)} ${problem}`, {
    file,
    action: "Download the checkpoint's tokenizer files again; they must be the ones transformers writes.",
  });
}
