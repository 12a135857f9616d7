/**
 * Which FIM template a model takes, from its GGUF metadata and vocabulary: the FIM tokens found by text (as
 * llama.cpp `src/llama-vocab.cpp` `llama_vocab::impl::load` finds them, "find FIM_PRE token"), the ids a GGUF declares
 * (`tokenizer.ggml.fim_pre_token_id` … of `src/llama-arch.cpp`, and the deprecated `tokenizer.ggml.prefix_token_id` …),
 * and `general.architecture` / `general.name` where the tokens alone are ambiguous or absent.
 */
import { metadataInteger, metadataString, metadataStringArray, type GgufMetadataView } from "../gguf/ggufMetadata";
import {
  DEEPSEEK_FIM_BEGIN,
  DEEPSEEK_FIM_END,
  DEEPSEEK_FIM_HOLE,
  fimTemplates,
  genericFimTemplate,
  type FimTemplate,
  type FimToken,
  type FimTokens,
} from "./fimTemplates";

export interface FimDetection {
  readonly template: FimTemplate;
  /** True when the model gets plain prefix completion because no FIM format was recognized. */
  readonly fallback: boolean;
  /** One sentence for the log or a one-time notice: what was found, or why it falls back. */
  readonly reason: string;
}

/** GGUF keys of FIM token ids (llama.cpp `src/llama-arch.cpp` `LLM_KV_TOKENIZER_FIM_*_ID`). */
export const FIM_TOKEN_ID_KEYS = {
  prefix: ["tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.prefix_token_id"],
  suffix: ["tokenizer.ggml.fim_suf_token_id", "tokenizer.ggml.suffix_token_id"],
  middle: ["tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.middle_token_id"],
  pad: ["tokenizer.ggml.fim_pad_token_id"],
  repo: ["tokenizer.ggml.fim_rep_token_id"],
  separator: ["tokenizer.ggml.fim_sep_token_id"],
} as const;

/**
 * FIM token texts llama.cpp recognizes for formats we have no dedicated template for (GLM-4.5, Falcon-H1-Tiny-Coder,
 * `<fim-prefix>` models, bare `<PRE>`): `src/llama-vocab.cpp`, FIM_PRE/SUF/MID detection lists.
 */
const GENERIC_FIM_TRIPLES: readonly (readonly [prefix: string, suffix: string, middle: string])[] = [
  ["<fim-prefix>", "<fim-suffix>", "<fim-middle>"],
  ["<PRE>", "<SUF>", "<MID>"],
  ["<|code_prefix|>", "<|code_suffix|>", "<|code_middle|>"],
  ["<|prefix|>", "<|suffix|>", "<|middle|>"],
];

/** The tokens we look for, for the fallback's message. */
const LOOKED_FOR = ["<|fim_prefix|>", "<fim_prefix>", DEEPSEEK_FIM_BEGIN, "▁<PRE>", "[SUFFIX]", "tokenizer.ggml.fim_pre_token_id"];

/** The id of each token text, the first where a vocabulary repeats a text (as llama.cpp's token lookup does). */
export function firstTokenIds(vocabulary: readonly string[]): Map<string, number> {
  const ids = new Map<string, number>();
  vocabulary.forEach((text, id) => {
    if (!ids.has(text)) ids.set(text, id);
  });
  return ids;
}

/**
 * Detects the FIM template of a model from its GGUF metadata (read with the vocabulary for a reliable answer).
 * `tokenIds`: `firstTokenIds` of the vocabulary when the caller has it already.
 */
export function detectFimTemplate(metadata: GgufMetadataView, tokenIds?: ReadonlyMap<string, number>): FimDetection {
  const name = metadataString(metadata, "general.name");
  const architecture = metadataString(metadata, "general.architecture");
  const vocabulary = metadataStringArray(metadata, "tokenizer.ggml.tokens");
  const modelLabel = name ?? architecture ?? "this model";
  if (vocabulary === undefined) {
    const byName = detectFimTemplateFromName(name ?? "");
    if (!byName.fallback) return { ...byName, reason: `${byName.reason} (the vocabulary was not read)` };
    return fallback(`${modelLabel}: the vocabulary was not read and the name suggests no FIM format`);
  }
  const ids = tokenIds ?? firstTokenIds(vocabulary);
  const has = (text: string): boolean => ids.has(text);
  const found = (texts: readonly string[]): string => texts.join(" ");

  if (has(DEEPSEEK_FIM_BEGIN) && has(DEEPSEEK_FIM_HOLE) && has(DEEPSEEK_FIM_END)) {
    return detected(fimTemplates["deepseek-coder"], `FIM tokens ${found([DEEPSEEK_FIM_BEGIN, DEEPSEEK_FIM_HOLE, DEEPSEEK_FIM_END])} found`);
  }
  if (has("▁<PRE>") && has("▁<SUF>") && has("▁<MID>")) {
    return detected(fimTemplates.codellama, "FIM tokens ▁<PRE> ▁<SUF> ▁<MID> found");
  }
  if (has("[PREFIX]") && has("[SUFFIX]")) {
    return detected(fimTemplates.codestral, "FIM tokens [SUFFIX] [PREFIX] found");
  }
  if (has("<|fim_prefix|>") && has("<|fim_suffix|>") && has("<|fim_middle|>")) {
    const isGemma = has("<|file_separator|>") || (architecture ?? "").startsWith("gemma");
    const template = withOnlyPresentTokens(isGemma ? fimTemplates.codegemma : fimTemplates["qwen2.5-coder"], has);
    const extras = [template.tokens?.repoName?.vocab, template.tokens?.fileSeparator?.vocab].filter((text) => text !== undefined);
    return detected(template, `FIM tokens ${found(["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", ...extras])} found`);
  }
  if (has("<fim_prefix>") && has("<fim_suffix>") && has("<fim_middle>")) {
    const template = withOnlyPresentTokens(fimTemplates.starcoder, has);
    const extras = [template.tokens?.repoName?.vocab, template.tokens?.fileSeparator?.vocab].filter((text) => text !== undefined);
    return detected(template, `FIM tokens ${found(["<fim_prefix>", "<fim_suffix>", "<fim_middle>", ...extras])} found`);
  }

  const declared = declaredFimTokens(metadata, vocabulary);
  if (declared !== undefined) {
    return detected(genericFimTemplate(declared), `FIM token ids declared in the GGUF (${found([declared.prefix, declared.suffix, declared.middle])})`);
  }
  for (const [prefix, suffix, middle] of GENERIC_FIM_TRIPLES) {
    if (has(prefix) && has(suffix) && has(middle)) {
      return detected(genericFimTemplate({ prefix, suffix, middle }), `FIM tokens ${found([prefix, suffix, middle])} found`);
    }
  }
  return fallback(
    `${modelLabel} has no fill-in-the-middle tokens (looked for ${LOOKED_FOR.join(", ")} in ${vocabulary.length.toLocaleString("en-US")} tokens)`,
  );
}

/**
 * Detects the FIM template from a model name alone (remote engines: "qwen2.5-coder:1.5b", "codestral-latest", …),
 * following the name checks of Continue's `getTemplateForModel`.
 */
export function detectFimTemplateFromName(modelName: string): FimDetection {
  const lower = modelName.toLowerCase();
  const byName = (template: FimTemplate): FimDetection => detected(template, `the model name "${modelName}" suggests ${template.label}`);
  if (lower.includes("qwen") && lower.includes("coder")) return byName(fimTemplates["qwen2.5-coder"]);
  if (lower.includes("starcoder") || lower.includes("star-coder")) return byName(fimTemplates.starcoder);
  if (lower.includes("deepseek") && lower.includes("coder")) return byName(fimTemplates["deepseek-coder"]);
  if (lower.includes("codellama") || lower.includes("code-llama") || lower.includes("code_llama")) return byName(fimTemplates.codellama);
  if (lower.includes("codegemma")) return byName(fimTemplates.codegemma);
  if (lower.includes("codestral")) return byName(fimTemplates.codestral);
  return fallback(`the model name "${modelName}" matches no known FIM format`);
}

/** The one-time notice when a model falls back: what happens and why. */
export function fallbackNotice(detection: FimDetection): string | undefined {
  if (!detection.fallback) return undefined;
  return `Completing from the text before the cursor only: ${detection.reason}.`;
}

function detected(template: FimTemplate, reason: string): FimDetection {
  return { template, fallback: false, reason };
}

function fallback(reason: string): FimDetection {
  return { template: fimTemplates.plain, fallback: true, reason };
}

/** Drops the optional repo-level tokens a vocabulary lacks (a Qwen2 export without `<|file_sep|>`, StarCoder 1). */
function withOnlyPresentTokens(template: FimTemplate, has: (text: string) => boolean): FimTemplate {
  const tokens = template.tokens;
  if (tokens === undefined) return template;
  const keep = (value: FimToken | undefined): FimToken | undefined => (value !== undefined && has(value.vocab) ? value : undefined);
  const fileSeparator = keep(tokens.fileSeparator);
  const repoName = keep(tokens.repoName);
  if (fileSeparator === tokens.fileSeparator && repoName === tokens.repoName) return template;
  const trimmed: FimTokens = { ...tokens, fileSeparator, repoName };
  return {
    ...template,
    tokens: trimmed,
    extraContextLayout: template.extraContextLayout === "file-separator" && fileSeparator === undefined ? "none" : template.extraContextLayout,
  };
}

/** The FIM token texts a GGUF declares by id, when prefix, suffix and middle all point into the vocabulary. */
function declaredFimTokens(
  metadata: GgufMetadataView,
  vocabulary: readonly string[],
): { prefix: string; suffix: string; middle: string; fileSeparator: string | undefined; repoName: string | undefined; stops: string[] } | undefined {
  const text = (keys: readonly string[]): string | undefined => {
    for (const key of keys) {
      const id = metadataInteger(metadata, key);
      if (id !== undefined && id >= 0 && id < vocabulary.length) return vocabulary[id];
    }
    return undefined;
  };
  const prefix = text(FIM_TOKEN_ID_KEYS.prefix);
  const suffix = text(FIM_TOKEN_ID_KEYS.suffix);
  const middle = text(FIM_TOKEN_ID_KEYS.middle);
  if (prefix === undefined || suffix === undefined || middle === undefined) return undefined;
  const pad = text(FIM_TOKEN_ID_KEYS.pad);
  return {
    prefix,
    suffix,
    middle,
    fileSeparator: text(FIM_TOKEN_ID_KEYS.separator),
    repoName: text(FIM_TOKEN_ID_KEYS.repo),
    stops: pad === undefined ? [] : [pad],
  };
}
