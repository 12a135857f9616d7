/**
 * `tokenizer.ggml.token_type` values: gguf-py `TokenType` (constants.py), which llama.cpp reads as
 * `llama_token_type` (llama-vocab.cpp). SentencePiece's own piece types use the same numbers.
 */
export const GgufTokenType = {
  normal: 1,
  unknown: 2,
  control: 3,
  userDefined: 4,
  unused: 5,
  byte: 6,
} as const;
export type GgufTokenTypeValue = (typeof GgufTokenType)[keyof typeof GgufTokenType];

/**
 * Added tokens that some models mark as not special although they act as control tokens: convert_hf_to_gguf.py
 * `does_token_look_special` (`<pad>`, `<mask>`, `<2mass>`, `[@BOS@]`, `<|…|>`, `<｜…｜>`, `<unused…>`).
 */
export function tokenLooksSpecial(text: string): boolean {
  if (text === "<pad>" || text === "<mask>" || text === "<2mass>" || text === "[@BOS@]") return true;
  if (text.startsWith("<|") && text.endsWith("|>")) return true;
  if (text.startsWith("<｜") && text.endsWith("｜>")) return true;
  return text.startsWith("<unused") && text.endsWith(">");
}
