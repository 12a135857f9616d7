/**
 * Fill-in-the-middle prompt formats per model family, and the prompt they build from a prefix, a suffix and extra
 * context from other files.
 *
 * Sources of each format (token texts exactly as in the models' vocabularies):
 * - Qwen2.5-Coder: Qwen2.5-Coder technical report (arXiv 2409.12186, "repository-level" format) and README;
 *   llama.cpp `tools/server/server-common.cpp` `format_prompt_infill` lays out the same repo-level pattern.
 * - StarCoder/StarCoder2: StarCoder2 paper (arXiv 2402.19173, section 5.1), `<repo_name>`/`<file_sep>`.
 * - DeepSeek-Coder: model card and README (`<｜fim▁begin｜>` uses U+FF5C FULLWIDTH VERTICAL LINE and U+2581 LOWER ONE
 *   EIGHTH BLOCK); repository-level context is files headed by their path as a comment.
 * - CodeLlama: `generation.py` `infilling_prompt_tokens` of facebookresearch/codellama: `<PRE> {pre} <SUF>{suf} <MID>`;
 *   in the SentencePiece vocabulary the tokens are `▁<PRE>`, `▁<SUF>`, `▁<MID>`, `▁<EOT>` (leading U+2581).
 * - CodeGemma: ai.google.dev "CodeGemma formatting": `<|fim_prefix|>`, `<|fim_suffix|>`, `<|fim_middle|>`,
 *   `<|file_separator|>` for multi-file context (and as the end of the middle).
 * - Codestral: mistral-common `encode_fim`: `[SUFFIX]{suffix}[PREFIX]{prefix}` (suffix first, no middle token);
 *   other files as `+++++ path` blocks in the prefix, as Continue's `codestralMultifileFimTemplate` does.
 * Stop sequences follow llama.cpp `src/llama-vocab.cpp` (EOG detection by text) and Continue's
 * `core/autocomplete/templating/AutocompleteTemplate.ts`.
 */

export type FimFamily =
  | "qwen2.5-coder"
  | "starcoder"
  | "deepseek-coder"
  | "codellama"
  | "codegemma"
  | "codestral"
  /** FIM tokens a GGUF declares (`tokenizer.ggml.fim_*_token_id`) in a format we have no template for: PSM, as llama-server does. */
  | "generic"
  | "plain";

/** The families with a fixed template (the generic one is built from a model's own tokens). */
export type KnownFimFamily = Exclude<FimFamily, "generic">;

/** A special token: its text exactly as in the vocabulary, and how it is written in a text prompt. */
export interface FimToken {
  /** The vocabulary entry (what `tokenizer.ggml.tokens` holds), e.g. `▁<PRE>` for CodeLlama. */
  readonly vocab: string;
  /** Its form in a text prompt for servers that parse special tokens themselves (Ollama raw, /v1/completions). */
  readonly text: string;
}

export interface FimTokens {
  readonly prefix: FimToken;
  readonly suffix: FimToken;
  /** Absent for Codestral, whose prompt ends with the prefix. */
  readonly middle: FimToken | undefined;
  /** Separates files of repo-level context (`<|file_sep|>`, `<file_sep>`, `<|file_separator|>`). */
  readonly fileSeparator: FimToken | undefined;
  /** Starts repo-level context with the repository's name (`<|repo_name|>`, `<repo_name>`). */
  readonly repoName: FimToken | undefined;
}

/**
 * How the files of extra context are laid out before the current file:
 * - `file-separator`: `[repo]name\n` then `[sep]path\ncontent\n` per file, then `[sep]path\n` of the current file;
 * - `path-comment`: each file as `{comment} path\ncontent\n\n` at the start of the prefix text (DeepSeek README);
 * - `plus-header`: each file as `+++++ path\ncontent\n\n`, then `+++++ path\n` of the current file, in the prefix;
 * - `none`: extra context is dropped (the plain fallback keeps prompts short and predictable).
 */
export type ExtraContextLayout = "file-separator" | "path-comment" | "plus-header" | "none";

export interface FimTemplate {
  readonly family: FimFamily;
  /** For messages: "Qwen2.5-Coder", "DeepSeek-Coder", … */
  readonly label: string;
  /** Undefined for the plain prefix completion. */
  readonly tokens: FimTokens | undefined;
  /** `psm`: prefix, suffix, middle. `spm`: suffix then prefix (Codestral's native order). */
  readonly order: "psm" | "spm";
  readonly extraContextLayout: ExtraContextLayout;
  /** Text that ends a suggestion: the format's own tokens and end-of-text markers, as they appear in output text. */
  readonly stopSequences: readonly string[];
}

function token(vocab: string, text: string = vocab): FimToken {
  return { vocab, text };
}

const QWEN_TOKENS: FimTokens = {
  prefix: token("<|fim_prefix|>"),
  suffix: token("<|fim_suffix|>"),
  middle: token("<|fim_middle|>"),
  fileSeparator: token("<|file_sep|>"),
  repoName: token("<|repo_name|>"),
};

const STARCODER_TOKENS: FimTokens = {
  prefix: token("<fim_prefix>"),
  suffix: token("<fim_suffix>"),
  middle: token("<fim_middle>"),
  fileSeparator: token("<file_sep>"),
  repoName: token("<repo_name>"),
};

/** U+FF5C and U+2581 spelled out, so an editor or a formatter can never turn them into ASCII. */
const FW_BAR = "\uFF5C";
const SP = "\u2581";
export const DEEPSEEK_FIM_BEGIN = `<${FW_BAR}fim${SP}begin${FW_BAR}>`;
export const DEEPSEEK_FIM_HOLE = `<${FW_BAR}fim${SP}hole${FW_BAR}>`;
export const DEEPSEEK_FIM_END = `<${FW_BAR}fim${SP}end${FW_BAR}>`;
export const DEEPSEEK_END_OF_SENTENCE = `<${FW_BAR}end${SP}of${SP}sentence${FW_BAR}>`;

const DEEPSEEK_TOKENS: FimTokens = {
  prefix: token(DEEPSEEK_FIM_BEGIN),
  suffix: token(DEEPSEEK_FIM_HOLE),
  middle: token(DEEPSEEK_FIM_END),
  fileSeparator: undefined,
  repoName: undefined,
};

/**
 * CodeLlama's SentencePiece pieces carry a leading U+2581 (a space). In text the prompt reads
 * `<PRE> {prefix} <SUF>{suffix} <MID>`: the space after `<PRE>` is SentencePiece's dummy prefix of the prefix text.
 */
const CODELLAMA_TOKENS: FimTokens = {
  prefix: token(`${SP}<PRE>`, "<PRE> "),
  suffix: token(`${SP}<SUF>`, " <SUF>"),
  middle: token(`${SP}<MID>`, " <MID>"),
  fileSeparator: undefined,
  repoName: undefined,
};

const CODEGEMMA_TOKENS: FimTokens = {
  prefix: token("<|fim_prefix|>"),
  suffix: token("<|fim_suffix|>"),
  middle: token("<|fim_middle|>"),
  fileSeparator: token("<|file_separator|>"),
  repoName: undefined,
};

const CODESTRAL_TOKENS: FimTokens = {
  prefix: token("[PREFIX]"),
  suffix: token("[SUFFIX]"),
  middle: undefined,
  fileSeparator: undefined,
  repoName: undefined,
};

/** The template of each family with every token it can use; detection may drop the optional ones a vocabulary lacks. */
export const fimTemplates: Readonly<Record<KnownFimFamily, FimTemplate>> = {
  "qwen2.5-coder": {
    family: "qwen2.5-coder",
    label: "Qwen2.5-Coder",
    tokens: QWEN_TOKENS,
    order: "psm",
    extraContextLayout: "file-separator",
    stopSequences: [
      "<|endoftext|>",
      "<|fim_prefix|>",
      "<|fim_suffix|>",
      "<|fim_middle|>",
      "<|fim_pad|>",
      "<|repo_name|>",
      "<|file_sep|>",
      "<|im_start|>",
      "<|im_end|>",
    ],
  },
  starcoder: {
    family: "starcoder",
    label: "StarCoder",
    tokens: STARCODER_TOKENS,
    order: "psm",
    extraContextLayout: "file-separator",
    stopSequences: ["<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<fim_pad>", "<file_sep>", "<repo_name>"],
  },
  "deepseek-coder": {
    family: "deepseek-coder",
    label: "DeepSeek-Coder",
    tokens: DEEPSEEK_TOKENS,
    order: "psm",
    extraContextLayout: "path-comment",
    stopSequences: [DEEPSEEK_FIM_BEGIN, DEEPSEEK_FIM_HOLE, DEEPSEEK_FIM_END, DEEPSEEK_END_OF_SENTENCE, "<|EOT|>"],
  },
  codellama: {
    family: "codellama",
    label: "CodeLlama",
    tokens: CODELLAMA_TOKENS,
    order: "psm",
    extraContextLayout: "path-comment",
    // Decoded, the pieces read " <EOT>" etc.; matching without the space catches both forms.
    stopSequences: ["<EOT>", "<PRE>", "<SUF>", "<MID>", "</s>"],
  },
  codegemma: {
    family: "codegemma",
    label: "CodeGemma",
    tokens: CODEGEMMA_TOKENS,
    order: "psm",
    extraContextLayout: "file-separator",
    stopSequences: ["<|file_separator|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<end_of_turn>", "<eos>"],
  },
  codestral: {
    family: "codestral",
    label: "Codestral",
    tokens: CODESTRAL_TOKENS,
    order: "spm",
    extraContextLayout: "plus-header",
    stopSequences: ["[PREFIX]", "[SUFFIX]", "[MIDDLE]", "</s>"],
  },
  plain: {
    family: "plain",
    label: "plain prefix completion",
    tokens: undefined,
    order: "psm",
    extraContextLayout: "none",
    stopSequences: [],
  },
};

/**
 * A PSM template from a model's own FIM tokens (vocabulary texts), laid out like llama.cpp's `format_prompt_infill`:
 * file separator and repo tokens when the model has them. Every one of its tokens also stops generation.
 */
export function genericFimTemplate(tokens: {
  readonly prefix: string;
  readonly suffix: string;
  readonly middle: string;
  readonly fileSeparator?: string | undefined;
  readonly repoName?: string | undefined;
  readonly stops?: readonly string[];
}): FimTemplate {
  const optional = (value: string | undefined): FimToken | undefined => (value === undefined ? undefined : token(value));
  const stops = [tokens.prefix, tokens.suffix, tokens.middle, tokens.fileSeparator, tokens.repoName, ...(tokens.stops ?? [])];
  return {
    family: "generic",
    label: `FIM tokens ${tokens.prefix} ${tokens.suffix} ${tokens.middle}`,
    tokens: {
      prefix: token(tokens.prefix),
      suffix: token(tokens.suffix),
      middle: token(tokens.middle),
      fileSeparator: optional(tokens.fileSeparator),
      repoName: optional(tokens.repoName),
    },
    order: "psm",
    extraContextLayout: tokens.fileSeparator === undefined ? "none" : "file-separator",
    stopSequences: [...new Set(stops.filter((stop): stop is string => stop !== undefined && stop !== ""))],
  };
}

/** A file's chunk of extra context (another open or recently edited file). */
export interface FimContextFile {
  /** Path relative to the workspace, with `/` separators: the model sees it. */
  readonly filePath: string;
  readonly text: string;
}

export interface FimPromptInput {
  /** Text before the cursor (already cut to its budget). */
  readonly prefix: string;
  /** Text after the cursor (already cut to its budget). */
  readonly suffix: string;
  /** The current file's workspace-relative path; enables the repo-level layout's current-file header. */
  readonly filePath?: string;
  /** The workspace folder's name, for `<|repo_name|>`. */
  readonly repoName?: string;
  /** Chunks of other files, laid out in this order (put the most relevant last: nearest the cursor). */
  readonly extraContext?: readonly FimContextFile[];
  /** Line comment of the current language for the `path-comment` layout; default `#` as in DeepSeek's README. */
  readonly lineComment?: string;
}

/** A piece of a prompt: text to tokenize as plain text, or a special token to insert by its vocabulary entry. */
export type FimPromptPart = { readonly kind: "text"; readonly text: string } | { readonly kind: "special"; readonly token: FimToken };

export interface FimPrompt {
  readonly family: FimFamily;
  /**
   * The prompt in order. An engine with the vocabulary tokenizes `text` parts WITHOUT special-token parsing (code that
   * contains `<|fim_prefix|>` cannot inject a token) and looks `special` parts up by `token.vocab`.
   * Adjacent text parts are merged.
   */
  readonly parts: readonly FimPromptPart[];
  readonly stopSequences: readonly string[];
}

/** Builds the prompt of a template from the cursor's prefix/suffix and extra context. */
export function buildFimPrompt(template: FimTemplate, input: FimPromptInput): FimPrompt {
  const parts: FimPromptPart[] = [];
  const text = (value: string): void => {
    if (value === "") return;
    const last = parts[parts.length - 1];
    if (last?.kind === "text") parts[parts.length - 1] = { kind: "text", text: last.text + value };
    else parts.push({ kind: "text", text: value });
  };
  const special = (value: FimToken): void => {
    parts.push({ kind: "special", token: value });
  };
  const extra = input.extraContext ?? [];
  const tokens = template.tokens;

  if (tokens === undefined) {
    // Plain completion: the model continues the prefix; the suffix is not part of the prompt.
    text(input.prefix);
    return { family: template.family, parts, stopSequences: template.stopSequences };
  }

  let prefixText = input.prefix;
  const layout = effectiveLayout(template);
  if (layout === "file-separator" && tokens.fileSeparator !== undefined && (extra.length > 0 || input.filePath !== undefined)) {
    // Repo-level pattern (Qwen2.5-Coder report; llama.cpp format_prompt_infill):
    // [REPO]name\n [SEP]path\ncontent\n … [SEP]current-path\n [PRE]prefix[SUF]suffix[MID]
    if (tokens.repoName !== undefined && input.repoName !== undefined) {
      special(tokens.repoName);
      text(`${input.repoName}\n`);
    }
    for (const file of extra) {
      special(tokens.fileSeparator);
      text(`${file.filePath}\n${withFinalNewline(file.text)}`);
    }
    special(tokens.fileSeparator);
    text(`${input.filePath ?? "untitled"}\n`);
  } else if (layout === "path-comment" && extra.length > 0) {
    const comment = input.lineComment ?? "#";
    prefixText = extra.map((file) => `${comment} ${file.filePath}\n${withFinalNewline(file.text)}\n`).join("") + prefixText;
  } else if (layout === "plus-header" && extra.length > 0) {
    const header = extra.map((file) => `+++++ ${file.filePath}\n${withFinalNewline(file.text)}\n`).join("");
    prefixText = `${header}+++++ ${input.filePath ?? "untitled"}\n${prefixText}`;
  }

  if (template.order === "spm") {
    special(tokens.suffix);
    text(input.suffix);
    special(tokens.prefix);
    text(prefixText);
    if (tokens.middle !== undefined) special(tokens.middle);
  } else {
    special(tokens.prefix);
    text(prefixText);
    special(tokens.suffix);
    text(input.suffix);
    if (tokens.middle !== undefined) special(tokens.middle);
  }
  return { family: template.family, parts, stopSequences: template.stopSequences };
}

/** A layout that needs a separator token degrades to none when the vocabulary lacks it (StarCoder 1). */
function effectiveLayout(template: FimTemplate): ExtraContextLayout {
  if (template.extraContextLayout === "file-separator" && template.tokens?.fileSeparator === undefined) return "none";
  return template.extraContextLayout;
}

function withFinalNewline(value: string): string {
  return value.endsWith("\n") ? value : `${value}\n`;
}

/** The prompt as one string, special tokens in their text form: for servers that tokenize with special parsing. */
export function fimPromptText(prompt: FimPrompt): string {
  return prompt.parts.map((part) => (part.kind === "text" ? part.text : part.token.text)).join("");
}

/** Cuts generated text at the first stop sequence; returns it unchanged when none occurs. */
export function cutAtStopSequence(generated: string, stopSequences: readonly string[]): string {
  let end = generated.length;
  for (const stop of stopSequences) {
    if (stop === "") continue;
    const at = generated.indexOf(stop);
    if (at >= 0 && at < end) end = at;
  }
  return generated.slice(0, end);
}
