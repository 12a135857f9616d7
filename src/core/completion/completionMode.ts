/**
 * Single- or multi-line suggestion: multi-line when the cursor is on an empty line or at the start of a block (the line
 * before the cursor ends with an opener such as `{`, `(`, `:` or `=>`) and nothing but closers follows it on its line;
 * single-line everywhere else (mid-line the suggestion should finish the line, not rewrite what follows).
 */

export type CompletionMode = "single-line" | "multi-line";

/** Line endings that open a block or a multi-line construct. */
const BLOCK_OPENER = /(?:[{([:]|=>|\bdo|\bthen)$/;
/** What may follow the cursor on its line for a multi-line suggestion: closers and separators only. */
const ONLY_CLOSERS = /^[\s)\]}>;,]*$/;

/** The mode for a cursor whose line reads `linePrefix` before it and `lineSuffix` after it. */
export function completionMode(linePrefix: string, lineSuffix: string): CompletionMode {
  if (!ONLY_CLOSERS.test(lineSuffix)) return "single-line";
  const before = linePrefix.trimEnd();
  if (before === "") return "multi-line";
  return endsWithBlockOpener(before) ? "multi-line" : "single-line";
}

/** True when a line ends with something that opens a block (`{`, `(`, `[`, `:`, `=>`, `do`, `then`). */
export function endsWithBlockOpener(line: string): boolean {
  return BLOCK_OPENER.test(line.trimEnd());
}

/** The mode for a cursor between `prefix` and `suffix` (the whole windows: only the cursor's line is looked at). */
export function completionModeAt(prefix: string, suffix: string): CompletionMode {
  return completionMode(currentLinePrefix(prefix), currentLineSuffix(suffix));
}

/** The cursor's line up to the cursor. */
export function currentLinePrefix(prefix: string): string {
  return prefix.slice(prefix.lastIndexOf("\n") + 1).replace(/\r$/, "");
}

/** The cursor's line from the cursor to its end (without the line break). */
export function currentLineSuffix(suffix: string): string {
  const newline = suffix.indexOf("\n");
  return (newline < 0 ? suffix : suffix.slice(0, newline)).replace(/\r$/, "");
}
