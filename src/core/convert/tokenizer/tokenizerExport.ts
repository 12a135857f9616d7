/**
 * Exports a Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) as GGUF `tokenizer.*` metadata, with
 * the facts of llama.cpp's converter (convert_hf_to_gguf.py `_set_vocab_gpt2`, `_set_vocab_sentencepiece`, the
 * per-architecture `set_vocab`s, and gguf-py/gguf/vocab.py `SpecialVocab`):
 * - byte-level BPE (Llama 3, SmolLM2, Qwen2.5/Qwen3, Phi-4-mini): `tokenizer.ggml.model` "gpt2", the
 *   pre-tokenizer identified by llama.cpp's check-text hash, tokens, token types and merges;
 * - byte-fallback BPE over "▁"-escaped text, i.e. a SentencePiece model in HF form (Gemma 3): model "llama",
 *   pre "default", tokens, scores and token types. Gemma 3 checkpoints also ship tokenizer.model, from which
 *   llama.cpp reads the same vocabulary; its tokenizer.json is used here so no protobuf parser is needed.
 */
import type { GgufMetadata, GgufValue } from "../../gguf/ggufTypes";
import { throwIfAborted } from "../../errors";
import { readHfConfig, type HfConfig } from "../hfConfig";
import { isObject, readHfTokenizerFiles, type HfTokenizerFiles } from "./hfTokenizerFiles";
import { detectPreTokenizer } from "./preTokenizerDetection";
import { loadSpecialVocab, specialVocabMetadata } from "./specialVocab";
import { exportBpeVocabulary, exportSentencePieceVocabulary } from "./vocabularyExport";

export interface ExportTokenizerOptions {
  /** GGUF architecture name ("llama", "qwen2", "qwen3", "phi3", "gemma3"); some set extra keys. */
  readonly architecture: string;
  /** The checkpoint's config.json when the caller has already read it. */
  readonly config?: HfConfig;
  readonly signal?: AbortSignal;
}

/** Reads the tokenizer files of `checkpointDir` and returns every `tokenizer.ggml.*` key and `tokenizer.chat_template`. */
export async function exportTokenizer(checkpointDir: string, options: ExportTokenizerOptions): Promise<GgufMetadata> {
  const config = options.config ?? (await readHfConfig(checkpointDir));
  throwIfAborted(options.signal);
  const files = await readHfTokenizerFiles(checkpointDir, options.signal);
  throwIfAborted(options.signal);
  const vocabSize = config.positiveInteger("vocab_size", undefined);
  const configValue = (key: string): unknown => config.raw(key);
  const metadata = new Map<string, GgufValue>();

  if (files.model.byteFallback) {
    const vocabulary = exportSentencePieceVocabulary(files, vocabSize);
    metadata.set("tokenizer.ggml.model", { type: "string", value: "llama" });
    metadata.set("tokenizer.ggml.pre", { type: "string", value: "default" });
    metadata.set("tokenizer.ggml.tokens", { type: "array", itemType: "string", values: vocabulary.tokens });
    metadata.set("tokenizer.ggml.scores", { type: "array", itemType: "f32", values: vocabulary.scores ?? [] });
    metadata.set("tokenizer.ggml.token_type", { type: "array", itemType: "i32", values: vocabulary.tokenTypes });
    for (const [key, value] of specialVocabMetadata(loadSpecialVocab(files, { loadMerges: false, vocabSize: vocabulary.tokens.length, configValue }))) metadata.set(key, value);
    // Gemma sets it false (convert_hf_to_gguf.py Gemma3Model.set_vocab); otherwise say what the normalizer does,
    // since llama.cpp's SentencePiece default (true) is right only for tokenizers that prepend "▁".
    metadata.set("tokenizer.ggml.add_space_prefix", { type: "bool", value: options.architecture === "gemma3" ? false : prependsSpace(files) });
  } else {
    throwIfAborted(options.signal);
    const pre = detectPreTokenizer(files);
    const vocabulary = exportBpeVocabulary(files, vocabSize);
    metadata.set("tokenizer.ggml.model", { type: "string", value: "gpt2" });
    metadata.set("tokenizer.ggml.pre", { type: "string", value: pre.pre });
    metadata.set("tokenizer.ggml.tokens", { type: "array", itemType: "string", values: vocabulary.tokens });
    metadata.set("tokenizer.ggml.token_type", { type: "array", itemType: "i32", values: vocabulary.tokenTypes });
    for (const [key, value] of specialVocabMetadata(loadSpecialVocab(files, { loadMerges: true, configValue }))) metadata.set(key, value);
    // LlamaModel.set_vocab passes tokenizer_config.json's add_prefix_space on.
    const addPrefixSpace = files.tokenizerConfig?.["add_prefix_space"];
    if (options.architecture === "llama" && typeof addPrefixSpace === "boolean") metadata.set("tokenizer.ggml.add_space_prefix", { type: "bool", value: addPrefixSpace });
  }
  throwIfAborted(options.signal);
  return metadata;
}

/** Whether the tokenizer puts "▁" before the text (a Prepend normalizer or a Metaspace pre-tokenizer that prepends). */
function prependsSpace(files: HfTokenizerFiles): boolean {
  const visit = (value: unknown): boolean => {
    if (!isObject(value)) return false;
    if (value["type"] === "Prepend") return true;
    if (value["type"] === "Metaspace") return value["prepend_scheme"] !== "never" && value["add_prefix_space"] !== false;
    const children = value["normalizers"] ?? value["pretokenizers"];
    return Array.isArray(children) && (children as unknown[]).some(visit);
  };
  return visit(files.tokenizerJson["normalizer"]) || visit(files.tokenizerJson["pre_tokenizer"]);
}
