/**
 * Turns a model's raw output into the suggestion to show: cut at stop sequences, one line in single-line mode, the end
 * of the block by indentation in multi-line mode, no repetition of the text after the cursor, balanced brackets (no
 * closer the suffix already has, nothing past a closer of the cursor's enclosing scope), trailing whitespace trimmed.
 * Undefined when nothing worth showing remains. Rules in the spirit of llama.vscode (`llama#fim_render`) and Continue
 * (`core/autocomplete/filtering`, `postprocessing`).
 */
import { BracketScanner, MATCHING_OPENER, closedOpeners, type OpenBracket } from "./bracketScanner";
import { currentLinePrefix, currentLineSuffix, endsWithBlockOpener, type CompletionMode } from "./completionMode";
import { cutAtStopSequence } from "./fimTemplates";

export interface PostprocessContext {
  /** Text before the cursor (the prompt's prefix window is enough). */
  readonly prefix: string;
  /** Text after the cursor. */
  readonly suffix: string;
  readonly mode: CompletionMode;
  /** VS Code language id: comment and string syntax for the bracket rules. */
  readonly languageId?: string;
  readonly stopSequences?: readonly string[];
  /** Columns of a tab when comparing indentation; default 4. */
  readonly tabSize?: number;
  /** Most lines of a multi-line suggestion; default unlimited. */
  readonly maxLines?: number;
}

/** How many of the suffix's next non-blank lines a completion's tail is compared with. */
const SUFFIX_LINES_COMPARED = 8;

/** The suggestion to show for a raw model output, or undefined when nothing useful remains. */
export function postprocessCompletion(raw: string, context: PostprocessContext): string | undefined {
  let text = cutAtStopSequence(raw, context.stopSequences ?? []).replace(/\r\n?/g, "\n");
  const linePrefix = currentLinePrefix(context.prefix);
  const lineSuffix = currentLineSuffix(context.suffix);

  if (context.mode === "single-line") {
    const newline = text.indexOf("\n");
    if (newline >= 0) text = text.slice(0, newline);
  } else {
    text = cutAtBlockEnd(text, linePrefix, context.tabSize ?? 4);
    if (context.maxLines !== undefined) text = text.split("\n").slice(0, Math.max(1, context.maxLines)).join("\n");
  }
  text = balanceBrackets(text, context.prefix, context.suffix, context.languageId ?? "");
  text = trimTrailingWhitespace(text);
  const withoutRepeat = dropSuffixRepetition(text, linePrefix, lineSuffix, context.suffix);
  if (withoutRepeat === undefined) return undefined;
  text = trimTrailingWhitespace(withoutRepeat);
  return text.trim() === "" ? undefined : text;
}

/** Columns of a line's leading whitespace. */
export function indentationWidth(line: string, tabSize: number): number {
  let width = 0;
  for (const char of line) {
    if (char === " ") width += 1;
    else if (char === "\t") width += tabSize - (width % tabSize);
    else break;
  }
  return width;
}

const CLOSER_LINE = /^\s*(?:[)\]}]|end\b|fi\b|done\b|esac\b)/;
/** A line that goes on with the same construct at the opener's level: `else`, `} else {`, `except:`, `} catch (e) {`. */
const CONTINUATION_LINE = /^\s*(?:[)\]}]\s*)?(?:else\b|elif\b|elsif\b|except\b|finally\b|catch\b|rescue\b|ensure\b)/;

/**
 * Multi-line: the suggestion ends where the block the cursor is in ends, judged by indentation. A later line indented
 * less than the cursor's line ends it. When the cursor's line opens a block, the block's body is deeper: the first line
 * back at the cursor's indentation ends it too, kept only when it is the block's closer (`}`, `end`, …); `else`,
 * `} else {`, `except:` and the like go on with the same construct.
 */
export function cutAtBlockEnd(text: string, linePrefix: string, tabSize: number): string {
  const lines = text.split("\n");
  const firstLine = linePrefix + (lines[0] ?? "");
  // The indentation of the code on the cursor's line (what the cursor line already has, or what the suggestion gives
  // a blank one); a blank first line leaves the cursor's column.
  const baseIndent = indentationWidth(firstLine.trim() === "" ? linePrefix : firstLine, tabSize);
  const opensBlock = firstLine.trim() !== "" && endsWithBlockOpener(firstLine);
  const kept: string[] = [lines[0] ?? ""];
  for (let index = 1; index < lines.length; index += 1) {
    const line = lines[index] ?? "";
    if (line.trim() === "") {
      kept.push(line);
      continue;
    }
    const indent = indentationWidth(line, tabSize);
    if (indent < baseIndent) break;
    if (opensBlock && indent === baseIndent) {
      if (CONTINUATION_LINE.test(line)) {
        kept.push(line);
        continue;
      }
      if (CLOSER_LINE.test(line)) kept.push(line);
      break;
    }
    kept.push(line);
  }
  return kept.join("\n");
}

/**
 * Brackets: scanning the suggestion as the continuation of the prefix, a closer that matches an opener of the prefix
 * is cut (with all after it) when the suffix already closes that opener, and kept as the suggestion's last line
 * otherwise (it closes the cursor's scope: what follows belongs elsewhere). A closer that matches nothing is cut.
 */
export function balanceBrackets(text: string, prefix: string, suffix: string, languageId: string): string {
  const scanner = new BracketScanner(languageId);
  const open: OpenBracket[] = [];
  scanner.scan(prefix, ({ bracket }) => {
    if (bracket === "(" || bracket === "[" || bracket === "{") open.push(bracket);
    else if (open[open.length - 1] === MATCHING_OPENER[bracket]) open.pop();
    return true;
  });
  const closedBySuffix = closedOpeners(open, suffix, languageId);
  const local: OpenBracket[] = [];
  let consumed = 0;
  let cutAt: number | undefined;
  let endOfLineAfter: number | undefined;
  scanner.scan(text, ({ bracket, offset }) => {
    if (bracket === "(" || bracket === "[" || bracket === "{") {
      local.push(bracket);
      return true;
    }
    const opener = MATCHING_OPENER[bracket];
    if (local.length > 0) {
      if (local[local.length - 1] === opener) {
        local.pop();
        return true;
      }
      cutAt = offset;
      return false;
    }
    const target = open[open.length - 1 - consumed];
    if (target !== opener || consumed < closedBySuffix) {
      cutAt = offset;
      return false;
    }
    consumed += 1;
    endOfLineAfter = offset;
    return true;
  });
  let end = cutAt ?? text.length;
  if (endOfLineAfter !== undefined) {
    const newline = text.indexOf("\n", endOfLineAfter);
    if (newline >= 0 && newline < end) end = newline;
  }
  return text.slice(0, end);
}

/**
 * Drops what repeats the text after the cursor: on the cursor's line, an ending equal to the rest of the line (or a
 * suggestion the rest of the line already starts with); below, the suggestion's tail where it equals the suffix's next
 * lines, or from a substantial line equal to the suffix's next line. Undefined when nothing new remains.
 */
export function dropSuffixRepetition(text: string, linePrefix: string, lineSuffix: string, suffix: string): string | undefined {
  const restOfLine = lineSuffix.trim();
  const lines = text.split("\n");
  if (lines.length === 1 && restOfLine !== "") {
    const line = lines[0] ?? "";
    if (line.trim() !== "" && lineSuffix.trimStart().startsWith(line.trim())) return undefined;
    const trimmed = line.trimEnd();
    return trimmed.endsWith(restOfLine) ? trimmed.slice(0, trimmed.length - restOfLine.length) : text;
  }
  // Line by line: compare with the lines after the cursor's line (or from the cursor line's rest when it has one).
  const newline = suffix.indexOf("\n");
  const following = (restOfLine === "" ? (newline < 0 ? "" : suffix.slice(newline + 1)) : suffix)
    .split("\n")
    .map((line) => line.replace(/\r$/, "").trimEnd())
    .filter((line) => line.trim() !== "")
    .slice(0, SUFFIX_LINES_COMPARED);
  if (following.length === 0) return text;
  const candidates = lines.map((line, index) => (index === 0 ? linePrefix + line : line).trimEnd());
  for (let index = 0; index < candidates.length; index += 1) {
    const line = candidates[index] ?? "";
    if (line.trim() === "") continue;
    if (line === following[0] && (isSubstantial(line) || tailMatches(candidates.slice(index), following))) {
      if (index === 0) return undefined;
      return lines.slice(0, index).join("\n");
    }
  }
  return text;
}

/** A line with a word in it (not just brackets and punctuation, which repeat too often to mean anything). */
function isSubstantial(line: string): boolean {
  return /[\p{L}\p{N}_]/u.test(line);
}

/** True when the non-blank lines of `tail` are the first lines of `following`. */
function tailMatches(tail: readonly string[], following: readonly string[]): boolean {
  const nonBlank = tail.filter((line) => line.trim() !== "");
  return nonBlank.length <= following.length && nonBlank.every((line, index) => line === following[index]);
}

/** Trailing whitespace off every line, and trailing blank lines off the end. */
export function trimTrailingWhitespace(text: string): string {
  return text
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n")
    .replace(/\n+$/, "");
}
