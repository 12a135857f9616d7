/**
 * The prefix and suffix windows around the cursor, each within a token budget. Whole lines are taken outward from the
 * cursor; a line is cut only when it must be (the cursor's own line, or a very long — minified — line when whole
 * lines would leave most of the budget unused). Work is bounded by the budget, not by the size of the document.
 */

/** Counts the tokens of a text: the real tokenizer, or an estimate. */
export type TokenCounter = (text: string) => number;

export interface ContextWindowBudget {
  /** Most tokens of text before the cursor. */
  readonly prefixTokens: number;
  /** Most tokens of text after the cursor. */
  readonly suffixTokens: number;
}

export interface ContextWindow {
  readonly prefix: string;
  readonly suffix: string;
  /** Document offset where the prefix starts (the cursor offset minus the prefix's length). */
  readonly prefixStart: number;
  /** Document offset where the suffix ends. */
  readonly suffixEnd: number;
  /** Tokens of the prefix and suffix as the counter counts them. */
  readonly prefixTokens: number;
  readonly suffixTokens: number;
}

/**
 * No token spans more characters than this, for the counters we use (BPE merges of long whitespace runs stay far
 * below it); it lets a window skip counting lines that cannot fit.
 */
export const MAX_CHARS_PER_TOKEN = 32;

/** A rough counter for when no tokenizer is at hand: about 3.5 characters per token of code. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 3.5);
}

/** Cuts the prefix and suffix windows around `cursorOffset` of `text` so each holds to its token budget. */
export function contextWindow(text: string, cursorOffset: number, countTokens: TokenCounter, budget: ContextWindowBudget): ContextWindow {
  const cursor = Math.max(0, Math.min(text.length, Math.trunc(cursorOffset)));
  const prefixBudget = Math.max(0, Math.floor(budget.prefixTokens));
  const suffixBudget = Math.max(0, Math.floor(budget.suffixTokens));
  const prefixStart = prefixWindowStart(text, cursor, countTokens, prefixBudget);
  const suffixEnd = suffixWindowEnd(text, cursor, countTokens, suffixBudget);
  const prefix = text.slice(prefixStart, cursor);
  const suffix = text.slice(cursor, suffixEnd);
  return { prefix, suffix, prefixStart, suffixEnd, prefixTokens: countTokens(prefix), suffixTokens: countTokens(suffix) };
}

function prefixWindowStart(text: string, cursor: number, count: TokenCounter, budget: number): number {
  if (budget === 0 || cursor === 0) return cursor;
  const lineStart = text.lastIndexOf("\n", cursor - 1) + 1;
  // The cursor's line up to the cursor: kept whole when it fits, else its end (nearest the cursor).
  let start = lineStart;
  if (cursor - lineStart > budget * MAX_CHARS_PER_TOKEN) return fitTail(text, lineStart, cursor, count, budget);
  let used = count(text.slice(lineStart, cursor));
  if (used > budget) return fitTail(text, lineStart, cursor, count, budget);
  // Whole lines outward, counted one by one (a sum of lines is close to the count of their concatenation).
  while (start > 0) {
    // (lastIndexOf clamps a negative position to 0, so the first line is handled apart.)
    const previousStart = start >= 2 ? text.lastIndexOf("\n", start - 2) + 1 : 0;
    const line = text.slice(previousStart, start);
    const tokens = line.length > (budget - used) * MAX_CHARS_PER_TOKEN ? Number.POSITIVE_INFINITY : count(line);
    if (used + tokens > budget) {
      // A long line that would leave most of the budget unused is cut instead (minified code).
      if (used < budget / 2) start = fitTail(text, previousStart, start, count, budget - used);
      break;
    }
    used += tokens;
    start = previousStart;
  }
  // The sum of per-line counts can differ from the count of the whole: drop farthest lines until it holds.
  while (start < cursor && count(text.slice(start, cursor)) > budget) {
    const nextLine = text.indexOf("\n", start);
    if (start >= lineStart || nextLine < 0 || nextLine + 1 > lineStart) return fitTail(text, start, cursor, count, budget);
    start = nextLine + 1;
  }
  return start;
}

function suffixWindowEnd(text: string, cursor: number, count: TokenCounter, budget: number): number {
  if (budget === 0 || cursor === text.length) return cursor;
  const newline = text.indexOf("\n", cursor);
  const lineEnd = newline < 0 ? text.length : newline + 1;
  let end = lineEnd;
  if (lineEnd - cursor > budget * MAX_CHARS_PER_TOKEN) return fitHead(text, cursor, lineEnd, count, budget);
  let used = count(text.slice(cursor, lineEnd));
  if (used > budget) return fitHead(text, cursor, lineEnd, count, budget);
  while (end < text.length) {
    const next = text.indexOf("\n", end);
    const nextEnd = next < 0 ? text.length : next + 1;
    const line = text.slice(end, nextEnd);
    const tokens = line.length > (budget - used) * MAX_CHARS_PER_TOKEN ? Number.POSITIVE_INFINITY : count(line);
    if (used + tokens > budget) {
      if (used < budget / 2) end = fitHead(text, end, nextEnd, count, budget - used);
      break;
    }
    used += tokens;
    end = nextEnd;
  }
  while (end > cursor && count(text.slice(cursor, end)) > budget) {
    if (end <= lineEnd) return fitHead(text, cursor, end, count, budget);
    const previous = text.lastIndexOf("\n", end - 2);
    if (previous < 0 || previous + 1 < lineEnd) return fitHead(text, cursor, end, count, budget);
    end = previous + 1;
  }
  return end;
}

/** The smallest start in [from, to] whose text up to `to` fits the budget (binary search; never splits a surrogate pair). */
function fitTail(text: string, from: number, to: number, count: TokenCounter, budget: number): number {
  let low = Math.max(from, to - budget * MAX_CHARS_PER_TOKEN);
  let high = to;
  if (count(text.slice(low, to)) <= budget) return avoidSurrogateSplit(text, low, 1);
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (count(text.slice(middle, to)) <= budget) high = middle;
    else low = middle;
  }
  return avoidSurrogateSplit(text, high, 1);
}

/** The largest end in [from, to] whose text from `from` fits the budget. */
function fitHead(text: string, from: number, to: number, count: TokenCounter, budget: number): number {
  let low = from;
  let high = Math.min(to, from + budget * MAX_CHARS_PER_TOKEN);
  if (count(text.slice(from, high)) <= budget) return avoidSurrogateSplit(text, high, -1);
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (count(text.slice(from, middle)) <= budget) low = middle;
    else high = middle;
  }
  return avoidSurrogateSplit(text, low, -1);
}

/** Moves a cut that falls between the halves of a surrogate pair by one, in `direction`. */
function avoidSurrogateSplit(text: string, offset: number, direction: 1 | -1): number {
  if (offset <= 0 || offset >= text.length) return offset;
  const before = text.charCodeAt(offset - 1);
  const after = text.charCodeAt(offset);
  const splits = before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
  return splits ? offset + direction : offset;
}
