/**
 * Finds the brackets of code outside strings and comments, carrying its state across calls so a completion can be
 * scanned as the continuation of its prefix (a cursor inside a string keeps the completion's brackets in the string).
 * A light lexer, not a parser: line and block comments, quotes that end at the line's end, multi-line strings
 * (backticks, Python's triple quotes) and char literals where `'` is one (C, Rust, Go, …; Rust lifetimes are not).
 */

export type OpenBracket = "(" | "[" | "{";
export type CloseBracket = ")" | "]" | "}";

/** The opener a closer closes. */
export const MATCHING_OPENER: Readonly<Record<CloseBracket, OpenBracket>> = { ")": "(", "]": "[", "}": "{" };

export interface BracketEvent {
  readonly bracket: OpenBracket | CloseBracket;
  /** Offset in the text of the `scan` call. */
  readonly offset: number;
}

/** Languages (VS Code language ids) whose line comments start with `#`. */
const HASH_COMMENT_LANGUAGES = new Set([
  "python",
  "shellscript",
  "ruby",
  "perl",
  "r",
  "yaml",
  "toml",
  "makefile",
  "dockerfile",
  "powershell",
  "coffeescript",
  "elixir",
  "julia",
  "nim",
  "cmake",
]);
/** Languages where `'x'` is a char literal, not a string delimiter. */
const CHAR_LITERAL_LANGUAGES = new Set(["c", "cpp", "rust", "go", "java", "csharp", "kotlin", "scala", "dart", "zig", "objective-c"]);
/** Languages without `//` and `/* *\/` comments (their `/` is an operator). */
const NO_SLASH_COMMENT_LANGUAGES = new Set(["python", "shellscript", "ruby", "perl", "r", "yaml", "toml", "makefile", "dockerfile", "powershell", "elixir", "julia", "nim", "cmake", "lua", "sql", "haskell"]);

type LexState =
  | { readonly kind: "code" }
  | { readonly kind: "line-comment" }
  | { readonly kind: "block-comment" }
  | { readonly kind: "string"; readonly quote: string };

/** A bracket scanner for one language, stateful across `scan` calls. */
export class BracketScanner {
  private state: LexState = { kind: "code" };
  private readonly hashComments: boolean;
  private readonly slashComments: boolean;
  private readonly charLiterals: boolean;

  constructor(languageId = "") {
    this.hashComments = HASH_COMMENT_LANGUAGES.has(languageId);
    this.slashComments = !NO_SLASH_COMMENT_LANGUAGES.has(languageId);
    this.charLiterals = CHAR_LITERAL_LANGUAGES.has(languageId);
  }

  /** True when the scanned text so far ends inside a string or comment. */
  get insideStringOrComment(): boolean {
    return this.state.kind !== "code";
  }

  /** Reports each bracket in code, in order; `onBracket` returns false to stop (the state is then left mid-text). */
  scan(text: string, onBracket: (event: BracketEvent) => boolean): void {
    let i = 0;
    while (i < text.length) {
      const char = text[i] ?? "";
      const state = this.state;
      if (state.kind === "line-comment") {
        if (char === "\n") this.state = { kind: "code" };
        i += 1;
        continue;
      }
      if (state.kind === "block-comment") {
        if (text.startsWith("*/", i)) {
          this.state = { kind: "code" };
          i += 2;
        } else i += 1;
        continue;
      }
      if (state.kind === "string") {
        if (char === "\\") {
          i += 2;
          continue;
        }
        if (text.startsWith(state.quote, i)) {
          this.state = { kind: "code" };
          i += state.quote.length;
          continue;
        }
        // Single-line quotes end at the line's end (an unterminated string must not swallow the file).
        if (char === "\n" && (state.quote === '"' || state.quote === "'")) this.state = { kind: "code" };
        i += 1;
        continue;
      }
      // Code.
      if (this.slashComments && text.startsWith("//", i)) {
        this.state = { kind: "line-comment" };
        i += 2;
        continue;
      }
      if (this.slashComments && text.startsWith("/*", i)) {
        this.state = { kind: "block-comment" };
        i += 2;
        continue;
      }
      if (this.hashComments && char === "#") {
        this.state = { kind: "line-comment" };
        i += 1;
        continue;
      }
      if (char === '"' || char === "`" || (char === "'" && !this.charLiterals)) {
        const triple = char + char + char;
        const quote = char !== "`" && this.hashComments && text.startsWith(triple, i) ? triple : char;
        this.state = { kind: "string", quote };
        i += quote.length;
        continue;
      }
      if (char === "'" && this.charLiterals) {
        // 'x' or '\n' / '\u{1F600}': skip it whole; anything else (a Rust lifetime) is not a quote.
        const literal = /^'(?:\\[^']{1,10}|[^'\\\n])'/.exec(text.slice(i, i + 14));
        i += literal === null ? 1 : literal[0].length;
        continue;
      }
      if (char === "(" || char === "[" || char === "{" || char === ")" || char === "]" || char === "}") {
        if (!onBracket({ bracket: char, offset: i })) return;
      }
      i += 1;
    }
  }
}

/** The brackets `text` leaves open, innermost last (closers that match nothing are ignored). */
export function unclosedBrackets(text: string, languageId = ""): OpenBracket[] {
  const stack: OpenBracket[] = [];
  new BracketScanner(languageId).scan(text, ({ bracket }) => {
    if (bracket === "(" || bracket === "[" || bracket === "{") stack.push(bracket);
    else if (stack[stack.length - 1] === MATCHING_OPENER[bracket]) stack.pop();
    return true;
  });
  return stack;
}

/**
 * How many of `open` (innermost last) the text closes, innermost first, before it closes something else or ends;
 * brackets the text opens and closes itself do not count.
 */
export function closedOpeners(open: readonly OpenBracket[], text: string, languageId = ""): number {
  const local: OpenBracket[] = [];
  let closed = 0;
  new BracketScanner(languageId).scan(text, ({ bracket }) => {
    if (bracket === "(" || bracket === "[" || bracket === "{") {
      local.push(bracket);
      return true;
    }
    const opener = MATCHING_OPENER[bracket];
    if (local.length > 0) {
      if (local[local.length - 1] !== opener) return false;
      local.pop();
      return true;
    }
    if (open[open.length - 1 - closed] !== opener) return false;
    closed += 1;
    return true;
  });
  return closed;
}
