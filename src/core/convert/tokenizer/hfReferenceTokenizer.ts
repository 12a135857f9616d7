/**
 * The Hugging Face tokenizer itself, run in JavaScript by `@lenml/tokenizers` (a dependency-free port of
 * transformers.js' tokenizers): what transformers' `AutoTokenizer` computes from the same tokenizer.json and
 * tokenizer_config.json. The export needs it to identify the BPE pre-tokenizer as llama.cpp does.
 */
import { TokenizerLoader } from "@lenml/tokenizers";
import { isObject, type HfTokenizerFiles } from "./hfTokenizerFiles";
import { mergeIndicesWithin, TextPieceIndex, textForms } from "./mergesWithinText";
import { BYTE_TOKEN } from "./vocabularyExport";

/** The part of the HF tokenizer the export and the tests use. */
export interface HfReferenceTokenizer {
  /** transformers' `tokenizer.encode(text, add_special_tokens=…)`. */
  encode(text: string, options: { readonly addSpecialTokens: boolean }): number[];
  /** transformers' `tokenizer.decode(ids)` (special tokens kept). */
  decode(ids: readonly number[]): string;
  /** The tokenizer class transformers would instantiate (from tokenizer_config.json). */
  readonly className: string;
}

export interface HfReferenceTokenizerOptions {
  /**
   * Only texts whose every form is among these will be tokenized: keep just the merges that can apply to them
   * (mergesWithinText.ts), which makes building the tokenizer ~100× faster. The result is exact for those texts only.
   */
  readonly onlyForTexts?: readonly string[];
}

/** Builds the HF tokenizer of a checkpoint's tokenizer files. */
export function loadHfReferenceTokenizer(files: HfTokenizerFiles, options: HfReferenceTokenizerOptions = {}): HfReferenceTokenizer {
  // The library only reads what it is given (it builds its own maps and arrays), so the parsed files are passed as
  // they are, with a shallow copy where the merges are narrowed: no deep copy of a 10 MB vocabulary.
  const tokenizerJson = options.onlyForTexts === undefined ? files.tokenizerJson : withMergesFor(files, options.onlyForTexts);
  const tokenizer = TokenizerLoader.fromPreTrained({ tokenizerJSON: tokenizerJson, tokenizerConfig: files.tokenizerConfig ?? {} });
  const configured = files.tokenizerConfig?.["tokenizer_class"];
  return {
    className: typeof configured === "string" ? configured : tokenizer.constructor.name,
    encode: (text, options) => tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens }),
    decode: (ids) => tokenizer.decode([...ids]),
  };
}

/**
 * tokenizer.json with `model.merges` and `model.vocab` reduced to the entries (as the file writes them) that can take
 * part in tokenizing `texts`; byte tokens and the unknown token stay, added tokens are untouched.
 */
function withMergesFor(files: HfTokenizerFiles, texts: readonly string[]): Readonly<Record<string, unknown>> {
  const model = files.tokenizerJson["model"];
  const rawMerges = isObject(model) ? model["merges"] : undefined;
  if (!isObject(model) || !Array.isArray(rawMerges) || rawMerges.length !== files.model.merges.length) return files.tokenizerJson;
  const index = new TextPieceIndex(texts.flatMap(textForms));
  const merges = mergeIndicesWithin(files.model.merges, index).map((position) => rawMerges[position] as unknown);
  const vocab: Record<string, unknown> = {};
  for (const [token, id] of files.model.vocab) {
    if (index.contains(token) || token === files.model.unkToken || BYTE_TOKEN.test(token)) vocab[token] = id;
  }
  return { ...files.tokenizerJson, model: { ...model, vocab, merges } };
}
