/**
 * The token list of a GGUF vocabulary, in the two forms llama.cpp's converter writes:
 * - "gpt2" (byte-level BPE: Llama 3, SmolLM2, Qwen, Phi-4-mini): convert_hf_to_gguf.py `get_vocab_base`;
 * - "llama" (SentencePiece: Gemma 3): convert_hf_to_gguf.py `_create_vocab_sentencepiece`, here built from the
 *   tokenizer.json that transformers derives from tokenizer.model (a byte-fallback BPE over "▁"-escaped text).
 * Ids missing from the tokenizer up to the model's vocabulary size become "[PAD<id>]" tokens of type UNUSED.
 */
import path from "node:path";
import type { HfAddedToken, HfTokenizerFiles } from "./hfTokenizerFiles";
import { GgufTokenType, tokenLooksSpecial, type GgufTokenTypeValue } from "./ggufTokenTypes";
import { TokenizerExportError } from "./tokenizerErrors";

export interface ExportedVocabulary {
  readonly tokens: readonly string[];
  readonly tokenTypes: readonly GgufTokenTypeValue[];
  /** SentencePiece scores (higher merges first); undefined for byte-level BPE. */
  readonly scores: readonly number[] | undefined;
}

/** SentencePiece's word-boundary mark, which replaces spaces in SentencePiece-style vocabularies. */
const SPIECE_UNDERLINE = "\u2581";

/** Byte-fallback tokens `<0x00>` … `<0xFF>`. */
export const BYTE_TOKEN = /^<0x[0-9A-Fa-f]{2}>$/;

/** The byte-level BPE vocabulary, as convert_hf_to_gguf.py `get_vocab_base` lists it. */
export function exportBpeVocabulary(files: HfTokenizerFiles, vocabSize: number | undefined): ExportedVocabulary {
  // transformers' get_vocab(): the model's vocabulary plus the added tokens.
  const byId = new Map<number, string>();
  for (const [token, id] of files.model.vocab) byId.set(id, token);
  const addedByContent = new Map<string, HfAddedToken>();
  for (const token of files.addedTokens) {
    byId.set(token.id, token.content);
    if (!addedByContent.has(token.content)) addedByContent.set(token.content, token);
  }
  const size = checkedVocabularySize(files, byId, vocabSize);
  const tokens: string[] = [];
  const tokenTypes: GgufTokenTypeValue[] = [];
  for (let id = 0; id < size; id += 1) {
    const text = byId.get(id);
    if (text === undefined) {
      tokens.push(`[PAD${id}]`);
      tokenTypes.push(GgufTokenType.unused);
      continue;
    }
    const added = addedByContent.get(text);
    if (added === undefined) {
      tokens.push(text);
      tokenTypes.push(GgufTokenType.normal);
    } else if (added.special || tokenLooksSpecial(text)) {
      tokens.push(text);
      tokenTypes.push(GgufTokenType.control);
    } else {
      // llama.cpp expects user-defined tokens pre-normalized: "▁" back to a space (added for Gemma upstream).
      tokens.push(text.replaceAll(SPIECE_UNDERLINE, " "));
      tokenTypes.push(GgufTokenType.userDefined);
    }
  }
  return { tokens, tokenTypes, scores: undefined };
}

/**
 * The SentencePiece vocabulary of a byte-fallback BPE tokenizer.json, in `_create_vocab_sentencepiece`'s form:
 * pieces with scores and types (BYTE for `<0xXX>`, UNKNOWN for the unk piece, NORMAL otherwise), then the added
 * tokens of tokenizer_config.json as CONTROL (special, or looking special) or USER_DEFINED with score -1000.
 *
 * tokenizer.json has no scores. llama.cpp's SentencePiece tokenizer merges the adjacent pair whose merged piece
 * scores highest (leftmost first on ties); the HF BPE merges the pair of lowest rank. transformers builds these
 * merges from tokenizer.model ordered by the merged piece's score, so the score of a piece is minus the rank of the
 * first merge that makes it: both tokenizers then merge in the same order. Pieces no merge makes score 0.
 */
export function exportSentencePieceVocabulary(files: HfTokenizerFiles, vocabSize: number | undefined): ExportedVocabulary {
  const byId = new Map<number, string>();
  for (const [token, id] of files.model.vocab) byId.set(id, token);
  const size = checkedVocabularySize(files, byId, vocabSize);
  const firstMergeRank = new Map<string, number>();
  files.model.merges.forEach(([left, right], rank) => {
    const merged = left + right;
    if (!firstMergeRank.has(merged)) firstMergeRank.set(merged, rank);
  });
  const tokens: string[] = [];
  const scores: number[] = [];
  const tokenTypes: GgufTokenTypeValue[] = [];
  for (let id = 0; id < size; id += 1) {
    tokens.push(`[PAD${id}]`);
    scores.push(-10000);
    tokenTypes.push(GgufTokenType.unused);
  }
  for (const [id, piece] of byId) {
    if (id >= size) continue;
    tokens[id] = piece;
    const rank = firstMergeRank.get(piece);
    scores[id] = rank === undefined ? 0 : -rank;
    tokenTypes[id] = piece === files.model.unkToken ? GgufTokenType.unknown : BYTE_TOKEN.test(piece) ? GgufTokenType.byte : GgufTokenType.normal;
  }
  for (const added of files.addedTokensDecoder ?? files.addedTokens) {
    if (added.id >= size) continue;
    if (added.special || tokenLooksSpecial(added.content)) {
      tokens[added.id] = added.content;
      tokenTypes[added.id] = GgufTokenType.control;
    } else {
      tokens[added.id] = added.content.replaceAll(SPIECE_UNDERLINE, " ");
      tokenTypes[added.id] = GgufTokenType.userDefined;
    }
    scores[added.id] = -1000;
  }
  return { tokens, tokenTypes, scores };
}

/** The model's vocabulary size (config.json), checked to hold every token id; the tokenizer's own when unknown. */
function checkedVocabularySize(files: HfTokenizerFiles, byId: ReadonlyMap<number, string>, vocabSize: number | undefined): number {
  let maxId = -1;
  for (const id of byId.keys()) if (id > maxId) maxId = id;
  const size = vocabSize ?? maxId + 1;
  if (maxId >= size) {
    throw new TokenizerExportError("vocabulary-mismatch", `${path.basename(files.tokenizerJsonPath)} has token id ${maxId} but the model's vocabulary has ${size} entries (config.json vocab_size)`, {
      file: files.tokenizerJsonPath,
      action: "The tokenizer does not belong to this model: put the checkpoint's own tokenizer files beside its config.json.",
    });
  }
  return size;
}
