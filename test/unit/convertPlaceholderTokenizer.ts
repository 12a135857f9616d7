/**
 * A stand-in tokenizer export for the converter's tests (the real one, src/core/convert/tokenizer, is tested on its
 * own): a byte-level BPE vocabulary with no merges, padded to `tokenCount` entries, which llama.cpp accepts and
 * which tokenizes any text into byte tokens. Enough to load a converted model and run it on given token ids.
 */
import { type GgufMetadata, type GgufValue } from "../../src/core/gguf/ggufTypes";

/** GPT-2's byte → printable character table (bytes_to_unicode). */
function byteTokens(): string[] {
  const printable: number[] = [];
  for (let byte = 0x21; byte <= 0x7e; byte += 1) printable.push(byte);
  for (let byte = 0xa1; byte <= 0xac; byte += 1) printable.push(byte);
  for (let byte = 0xae; byte <= 0xff; byte += 1) printable.push(byte);
  const tokens = new Array<string>(256);
  let extra = 0;
  for (let byte = 0; byte < 256; byte += 1) tokens[byte] = String.fromCodePoint(printable.includes(byte) ? byte : 256 + extra++);
  return tokens;
}

/** Placeholder `tokenizer.*` metadata with exactly `tokenCount` tokens. */
export function placeholderTokenizer(tokenCount: number): GgufMetadata {
  const bytes = byteTokens();
  const tokens = Array.from({ length: tokenCount }, (_, index) => bytes[index] ?? `[PAD${index}]`);
  const types = Array.from({ length: tokenCount }, (_, index) => (index < 256 ? 1 : 5));
  const entries: [string, GgufValue][] = [
    ["tokenizer.ggml.model", { type: "string", value: "gpt2" }],
    ["tokenizer.ggml.pre", { type: "string", value: "default" }],
    ["tokenizer.ggml.tokens", { type: "array", itemType: "string", values: tokens }],
    ["tokenizer.ggml.token_type", { type: "array", itemType: "i32", values: types }],
    ["tokenizer.ggml.merges", { type: "array", itemType: "string", values: [] }],
    ["tokenizer.ggml.bos_token_id", { type: "u32", value: 0 }],
    ["tokenizer.ggml.eos_token_id", { type: "u32", value: 1 }],
  ];
  return new Map(entries);
}

/** The model's token count as the tests' checkpoints declare it (config.json vocab_size, or Gemma 3's tokenizer size). */
export function placeholderExport(tokenCount: number): (checkpointDir: string, options: { architecture: string; signal?: AbortSignal }) => Promise<GgufMetadata> {
  return () => Promise.resolve(placeholderTokenizer(tokenCount));
}
