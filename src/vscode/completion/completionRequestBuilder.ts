/**
 * Builds the engine request for a cursor in a document: the prefix/suffix windows cut to their token budgets
 * (src/core/completion/contextWindow), single- or multi-line mode (completionMode), and extra context from the ring
 * (extraContext) without the part of the file the windows already hold. Pure (no `vscode` import) so it is unit-tested
 * and shared with the quality evaluation.
 */
import { completionModeAt, type CompletionMode } from "../../core/completion/completionMode";
import { contextWindow, estimateTokens, MAX_CHARS_PER_TOKEN, type ContextWindow, type TokenCounter } from "../../core/completion/contextWindow";
import type { ExtraContextRing } from "../../core/completion/extraContext";
import type { CompletionRequest } from "../../core/runtime/completionEngine";

export interface CompletionBudgets {
  readonly prefixTokens: number;
  readonly suffixTokens: number;
  readonly extraContextTokens: number;
}

/** Room kept for the template's special tokens and file headers, and for the estimate being off. */
const PROMPT_OVERHEAD_TOKENS = 64;

/**
 * How a context of `contextSize` tokens is shared: `maxTokens` to generate, then of the rest half for the prefix,
 * 15 % for the suffix and a quarter for other files (about llama.vscode's defaults: n_prefix 256 lines, n_suffix 64,
 * ring chunks filling what is left), leaving a tenth for the estimate's error.
 */
export function completionBudgets(contextSize: number, maxTokens: number): CompletionBudgets {
  const room = Math.max(0, contextSize - maxTokens - PROMPT_OVERHEAD_TOKENS);
  return { prefixTokens: Math.floor(room * 0.5), suffixTokens: Math.floor(room * 0.15), extraContextTokens: Math.floor(room * 0.25) };
}

export interface CompletionRequestInput {
  /** The document, or the part of it around the cursor starting at a line start (see `maxCharsAround`). */
  readonly text: string;
  /** The cursor as an offset into `text`. */
  readonly cursorOffset: number;
  /** The document line `text` starts at; default 0. */
  readonly firstLine?: number;
  readonly languageId: string;
  /** Workspace-relative path with `/` separators. */
  readonly filePath: string;
  readonly repoName?: string;
  readonly contextSize: number;
  readonly maxTokens: number;
  readonly timeBudgetMs?: number;
  /** Chunks of other files; omitted: none. */
  readonly extraContext?: ExtraContextRing;
  /** Token counter for the budgets; default the 3.5-characters estimate. */
  readonly countTokens?: TokenCounter;
  /**
   * Offset in `text` where the previous request's prefix started (see `prefixStartAnchor`). Kept while the prefix
   * from there fits its budget, so that typing only appends to the prompt and the engine's KV cache is reused; when it
   * no longer fits, the start moves forward by a quarter of the budget at once rather than a line per keystroke.
   */
  readonly prefixAnchor?: number;
}

/** Of the prefix budget, what is kept when the anchored start has to move (the rest is room to type into). */
const ANCHOR_REFILL = 0.75;

export interface BuiltCompletionRequest {
  readonly request: CompletionRequest;
  readonly window: ContextWindow;
  readonly mode: CompletionMode;
}

/** The request for the cursor, each part within its budget however big the document or long its lines. */
export function buildCompletionRequest(input: CompletionRequestInput): BuiltCompletionRequest {
  const countTokens = input.countTokens ?? estimateTokens;
  const budgets = completionBudgets(input.contextSize, input.maxTokens);
  const window = anchoredWindow(input, countTokens, budgets);
  const mode = completionModeAt(window.prefix, window.suffix);
  const extraContext =
    input.extraContext === undefined
      ? []
      : input.extraContext
          .select(budgets.extraContextTokens, countTokens, {
            filePath: input.filePath,
            startLine: (input.firstLine ?? 0) + lineOf(input.text, window.prefixStart),
            endLine: (input.firstLine ?? 0) + lineOf(input.text, window.suffixEnd) + 1,
          })
          // The ring is most recent first; the request wants the most relevant (recent) last, nearest the cursor.
          .reverse()
          .map((chunk) => ({ filePath: chunk.filePath, text: chunk.text }));
  const request: CompletionRequest = {
    prefix: window.prefix,
    suffix: window.suffix,
    filePath: input.filePath,
    ...(input.repoName === undefined ? {} : { repoName: input.repoName }),
    languageId: input.languageId,
    extraContext,
    mode,
    maxTokens: input.maxTokens,
    ...(input.timeBudgetMs === undefined ? {} : { timeBudgetMs: input.timeBudgetMs }),
  };
  return { request, window, mode };
}

/** The windows, with the prefix start held at the anchor while it fits (see `prefixAnchor`). */
function anchoredWindow(input: CompletionRequestInput, countTokens: TokenCounter, budgets: CompletionBudgets): ContextWindow {
  const full = contextWindow(input.text, input.cursorOffset, countTokens, { prefixTokens: budgets.prefixTokens, suffixTokens: budgets.suffixTokens });
  const anchor = input.prefixAnchor;
  // No anchor, or the cursor went above it: the fullest window.
  if (anchor === undefined || anchor > input.cursorOffset || anchor < 0) return full;
  if (anchor >= full.prefixStart) {
    // contextWindow takes all it can, so a later start fits too.
    const prefix = input.text.slice(anchor, input.cursorOffset);
    return { ...full, prefix, prefixStart: anchor, prefixTokens: countTokens(prefix) };
  }
  const refilled = contextWindow(input.text, input.cursorOffset, countTokens, {
    prefixTokens: Math.floor(budgets.prefixTokens * ANCHOR_REFILL),
    suffixTokens: budgets.suffixTokens,
  });
  return { ...full, prefix: refilled.prefix, prefixStart: refilled.prefixStart, prefixTokens: refilled.prefixTokens };
}

/**
 * How many characters on each side of the cursor can matter to the windows: no token spans more than
 * MAX_CHARS_PER_TOKEN characters, so a caller may hand over just this much of a huge document.
 */
export function maxCharsAround(contextSize: number, maxTokens: number): number {
  const budgets = completionBudgets(contextSize, maxTokens);
  return Math.max(budgets.prefixTokens, budgets.suffixTokens) * MAX_CHARS_PER_TOKEN;
}

/** 0-based line of an offset (counts line breaks before it; bounded by the offset, so cheap near the top only). */
function lineOf(text: string, offset: number): number {
  let line = 0;
  for (let index = text.indexOf("\n"); index >= 0 && index < offset; index = text.indexOf("\n", index + 1)) line += 1;
  return line;
}
