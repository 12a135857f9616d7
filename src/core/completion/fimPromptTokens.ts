/**
 * A FIM prompt as tokens, with the tokenizer injected (node-llama-cpp's in the engine): text parts are tokenized
 * without special-token parsing, so code that contains `<|fim_prefix|>` stays text, and special parts are looked up by
 * their vocabulary entry — as llama-server's `format_prompt_infill` inserts `llama_vocab_fim_pre()` and friends.
 * Note for SentencePiece vocabularies (CodeLlama): llama.cpp adds a leading space to each separately tokenized text
 * when `add_space_prefix` is set, as it does for llama-server's infill too.
 */
import { UserError } from "../errors";
import type { FimPrompt } from "./fimTemplates";

export interface FimPromptTokenizer<Token> {
  /** Tokens of plain text, special tokens NOT parsed. */
  readonly tokenizeText: (text: string) => readonly Token[];
  /** The id of a special token by its vocabulary text, or undefined when the vocabulary lacks it. */
  readonly specialToken: (vocabText: string) => Token | undefined;
  /** Prepended when the model wants a BOS token (`tokenizer.ggml.add_bos_token`). */
  readonly bos?: Token | undefined;
}

/** Tokenizes a FIM prompt; a special token the vocabulary lacks is a UserError (the template does not fit the model). */
export function tokenizeFimPrompt<Token>(prompt: FimPrompt, tokenizer: FimPromptTokenizer<Token>): Token[] {
  const tokens: Token[] = tokenizer.bos === undefined ? [] : [tokenizer.bos];
  for (const part of prompt.parts) {
    if (part.kind === "text") {
      tokens.push(...tokenizer.tokenizeText(part.text));
      continue;
    }
    const id = tokenizer.specialToken(part.token.vocab);
    if (id === undefined) {
      throw new UserError(`The model's vocabulary has no ${part.token.vocab} token, which the ${prompt.family} prompt format needs.`, {
        action: "Pick the model's FIM format again or use plain completion.",
      });
    }
    tokens.push(id);
  }
  return tokens;
}
