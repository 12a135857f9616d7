/**
 * Identifies a BPE tokenizer's pre-tokenizer the way llama.cpp's converter does (convert_hf_to_gguf.py
 * `get_vocab_base_pre`): tokenize a fixed check text with the Hugging Face tokenizer, special tokens added, and
 * look up the sha256 of Python's `str()` of the id list in a table of known tokenizers. llama.cpp picks its
 * pre-tokenizer regexes at load time from the resulting `tokenizer.ggml.pre` name.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { isObject, type HfTokenizerFiles } from "./hfTokenizerFiles";
import { loadHfReferenceTokenizer, type HfReferenceTokenizer } from "./hfReferenceTokenizer";
import { KNOWN_PRE_TOKENIZERS, PRE_TOKENIZER_CHECK_TEXT } from "./preTokenizerHashes";
import { TokenizerExportError } from "./tokenizerErrors";

export interface DetectedPreTokenizer {
  /** The `tokenizer.ggml.pre` value, e.g. "llama-bpe", "qwen2", "gpt-4o". */
  readonly pre: string;
  /** sha256 of the check text's token ids, as convert_hf_to_gguf.py computes it. */
  readonly hash: string;
  /** The Hugging Face repository llama.cpp computed the same hash from. */
  readonly reference: string;
}

/** sha256 hex of the ids formatted as Python's `str(list)` ("[1, 2, 3]"). */
export function tokenIdsHash(ids: readonly number[]): string {
  return createHash("sha256").update(`[${ids.join(", ")}]`).digest("hex");
}

/** Families whose pre-tokenizers the supported architectures ship with, for the error message. */
const SUPPORTED_EXAMPLES = 'e.g. "llama-bpe" (Llama 3), "smollm" (SmolLM2), "qwen2" (Qwen2.5, Qwen3), "gpt-4o" (Phi-4-mini)';

/** The pre-tokenizer of a BPE tokenizer, or a TokenizerExportError naming what was found. */
export function detectPreTokenizer(files: HfTokenizerFiles, given?: HfReferenceTokenizer): DetectedPreTokenizer {
  const checkHash = (tokenizer: HfReferenceTokenizer): string => tokenIdsHash(tokenizer.encode(PRE_TOKENIZER_CHECK_TEXT, { addSpecialTokens: true }));
  // First with only the merges that can apply to the check text (fast and exact for it). A hash that is not in the
  // table is computed again with every merge, so an unusual normalizer the narrowing did not foresee costs time only.
  if (given === undefined) {
    const hash = checkHash(loadHfReferenceTokenizer(files, { onlyForTexts: [PRE_TOKENIZER_CHECK_TEXT] }));
    const known = KNOWN_PRE_TOKENIZERS.get(hash);
    if (known !== undefined) return { pre: known.pre, hash, reference: known.reference };
  }
  const tokenizer = given ?? loadHfReferenceTokenizer(files);
  const hash = checkHash(tokenizer);
  const known = KNOWN_PRE_TOKENIZERS.get(hash);
  if (known !== undefined) return { pre: known.pre, hash, reference: known.reference };
  throw new TokenizerExportError(
    "unknown-pre-tokenizer",
    `The BPE pre-tokenizer of ${path.basename(files.dir)} is not one llama.cpp knows: tokenizer class ${tokenizer.className}, pre-tokenizer ${describePreTokenizer(files.tokenizerJson["pre_tokenizer"])}, check-text hash ${hash}`,
    {
      file: files.tokenizerJsonPath,
      cause: `llama.cpp recognises ${KNOWN_PRE_TOKENIZERS.size} tokenizers by this hash (${SUPPORTED_EXAMPLES}); a tokenizer it does not know would be split into words wrongly`,
      action: "Convert a checkpoint with its original, unmodified tokenizer files, or a model family SLM Lab supports.",
    },
  );
}

/** "Sequence[Split, ByteLevel]"-style summary of tokenizer.json's pre_tokenizer. */
export function describePreTokenizer(value: unknown): string {
  if (value === null || value === undefined) return "none";
  if (!isObject(value)) return "unreadable";
  const type = typeof value["type"] === "string" ? value["type"] : "unknown";
  const children = value["pretokenizers"];
  if (Array.isArray(children)) return `${type}[${(children as unknown[]).map(describePreTokenizer).join(", ")}]`;
  return type;
}
