/**
 * The Hugging Face tokenizer itself, run in JavaScript by `@lenml/tokenizers` (a dependency-free port of
 * transformers.js' tokenizers): what transformers' `AutoTokenizer` computes from the same tokenizer.json and
 * tokenizer_config.json. The export needs it to identify the BPE pre-tokenizer as llama.cpp does.
 */
import { TokenizerLoader } from "@lenml/tokenizers";
import type { HfTokenizerFiles } from "./hfTokenizerFiles";

/** The part of the HF tokenizer the export and the tests use. */
export interface HfReferenceTokenizer {
  /** transformers' `tokenizer.encode(text, add_special_tokens=…)`. */
  encode(text: string, options: { readonly addSpecialTokens: boolean }): number[];
  /** transformers' `tokenizer.decode(ids)` (special tokens kept). */
  decode(ids: readonly number[]): string;
  /** The tokenizer class transformers would instantiate (from tokenizer_config.json). */
  readonly className: string;
}

/** Builds the HF tokenizer of a checkpoint's tokenizer files. */
export function loadHfReferenceTokenizer(files: HfTokenizerFiles): HfReferenceTokenizer {
  // structuredClone: the library may keep and reshape what it is given; the export still reads the originals.
  const tokenizer = TokenizerLoader.fromPreTrained({
    tokenizerJSON: structuredClone(files.tokenizerJson),
    tokenizerConfig: structuredClone(files.tokenizerConfig ?? {}),
  });
  const configured = files.tokenizerConfig?.["tokenizer_class"];
  return {
    className: typeof configured === "string" ? configured : tokenizer.constructor.name,
    encode: (text, options) => tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens }),
    decode: (ids) => tokenizer.decode([...ids]),
  };
}
