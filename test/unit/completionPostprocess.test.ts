// Postprocessing of raw completions, table-driven across languages. A document is written with █ at the cursor.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { closedOpeners, unclosedBrackets } from "../../src/core/completion/bracketScanner";
import { completionMode, completionModeAt, type CompletionMode } from "../../src/core/completion/completionMode";
import { fimTemplates } from "../../src/core/completion/fimTemplates";
import { indentationWidth, postprocessCompletion } from "../../src/core/completion/postprocess";
import { Random } from "../fixtures/seededRandom";

interface Case {
  readonly name: string;
  readonly language: string;
  /** The document, with █ at the cursor. */
  readonly document: string;
  readonly raw: string;
  readonly expected: string | undefined;
  /** Default: what completionModeAt decides. */
  readonly mode?: CompletionMode;
  readonly expectedMode?: CompletionMode;
  readonly stopSequences?: readonly string[];
  readonly maxLines?: number;
}

function run(testCase: Case): { result: string | undefined; mode: CompletionMode } {
  const at = testCase.document.indexOf("█");
  assert.ok(at >= 0, "the document needs a █ cursor");
  const prefix = testCase.document.slice(0, at);
  const suffix = testCase.document.slice(at + 1);
  const mode = testCase.mode ?? completionModeAt(prefix, suffix);
  const result = postprocessCompletion(testCase.raw, {
    prefix,
    suffix,
    mode,
    languageId: testCase.language,
    ...(testCase.stopSequences === undefined ? {} : { stopSequences: testCase.stopSequences }),
    ...(testCase.maxLines === undefined ? {} : { maxLines: testCase.maxLines }),
  });
  return { result, mode };
}

const cases: readonly Case[] = [
  // Python
  {
    name: "blank line in a body: stops where the indentation drops",
    language: "python",
    document: "def f(x):\n    █\n\nprint(f(2))\n",
    raw: "return x * 2\n\nprint(f(3))\n",
    expected: "return x * 2",
    expectedMode: "multi-line",
  },
  {
    name: "block opener: the body, not the next statement at the opener's level",
    language: "python",
    document: "def f(x):█\n\nprint(1)\n",
    raw: "\n    y = x + 1\n    return y\nprint(2)\n",
    expected: "\n    y = x + 1\n    return y",
    expectedMode: "multi-line",
  },
  {
    name: "a block written on a blank line ends with the block",
    language: "python",
    document: "def f(xs):\n    █\n",
    raw: "if not xs:\n        return 0\n    return len(xs)\n",
    expected: "if not xs:\n        return 0",
  },
  {
    name: "if/else written on a blank line: the else branch belongs to the block",
    language: "python",
    document: "def sign(x):\n    █\n",
    raw: "if x < 0:\n        return -1\n    else:\n        return 1\n    print(x)\n",
    expected: "if x < 0:\n        return -1\n    else:\n        return 1",
  },
  {
    name: "try/except after an opener",
    language: "python",
    document: "try:█\n",
    raw: "\n    run()\nexcept OSError:\n    pass\nprint(1)\n",
    expected: "\n    run()\nexcept OSError:\n    pass",
  },
  {
    name: "cursor at column 0 of a blank line: the suggestion's own indentation is the block's",
    language: "python",
    document: "def f():\n█\n",
    raw: "    return 1\nprint(f())\n",
    expected: "    return 1",
  },
  {
    name: "a suggestion equal to the next line is dropped",
    language: "python",
    document: "def total(xs):\n    t = sum(xs)\n    █\n    return t\n",
    raw: "return t",
    expected: undefined,
  },
  {
    name: "the suggestion stops where it starts repeating the following lines",
    language: "python",
    document: "for x in xs:\n    █\n    print(x)\n",
    raw: "x = x * 2\n    print(x)\n",
    expected: "x = x * 2",
  },
  {
    name: "inside a string: brackets do not count, the closing quote the line has is not repeated",
    language: "python",
    document: 'msg = "value: (█"\n',
    raw: 'x)"',
    expected: "x)",
    expectedMode: "single-line",
  },
  {
    name: "a # comment's brackets do not count",
    language: "python",
    document: "total = add(1, █)  # add(\n",
    raw: "2)",
    expected: "2",
  },
  {
    name: "whitespace only → nothing",
    language: "python",
    document: "def f():\n    █\n",
    raw: "   \n  \n",
    expected: undefined,
  },
  // TypeScript
  {
    name: "empty line in a function: the closing brace belongs to the suffix",
    language: "typescript",
    document: "function add(a: number, b: number) {\n  █\n}\n",
    raw: "return a + b;\n}\n\nfunction sub() {",
    expected: "return a + b;",
  },
  {
    name: "after an opener whose closer the editor already inserted: the body only",
    language: "typescript",
    document: "if (ready) {█\n}\n",
    raw: "\n  start();\n}\nelse {\n",
    expected: "\n  start();",
  },
  {
    name: "after an opener with no closer below: the block with its closer, then stop",
    language: "typescript",
    document: "if (ready) {█\n\nconsole.log(1);\n",
    raw: "\n  start();\n}\nfoo();\n",
    expected: "\n  start();\n}",
  },
  {
    name: "object literal after an opener: members, not the closer the editor inserted",
    language: "typescript",
    document: "const o = {█\n};\n",
    raw: "\n  a: 1,\n  b: 2,\n};\n",
    expected: "\n  a: 1,\n  b: 2,",
  },
  {
    name: "} else { goes on with the block; the final closer ends it",
    language: "typescript",
    document: "function f(x: number) {\n  █\n}\n",
    raw: "if (x > 0) {\n    up();\n  } else {\n    down();\n  }\n  done();\n}\n",
    expected: "if (x > 0) {\n    up();\n  } else {\n    down();\n  }",
  },
  {
    name: "single line: the rest of the line is not repeated",
    language: "typescript",
    document: "const x = █;\n",
    raw: "compute(1);",
    expected: "compute(1)",
    expectedMode: "single-line",
  },
  {
    name: "a closer that matches no opener is cut",
    language: "typescript",
    document: "const a = [1, 2█\n",
    raw: ", 3)]",
    expected: ", 3",
  },
  {
    name: "a closer the suffix already has is cut, in multi-line mode too",
    language: "typescript",
    document: "call(█)\n",
    raw: "a, b)\nnext()",
    expected: "a, b",
    expectedMode: "multi-line",
  },
  {
    name: "a closer of the enclosing scope the suffix lacks is kept, and ends the suggestion",
    language: "typescript",
    document: "log(a, █",
    raw: "b);\nlog(c);",
    expected: "b);",
    mode: "multi-line",
  },
  {
    name: "template literal: brackets inside it do not count",
    language: "typescript",
    document: "const s = `${a}(█",
    raw: "x)`;",
    expected: "x)`;",
  },
  {
    name: "mid-line: only the first line",
    language: "typescript",
    document: "const v = items.█ + 1;\n",
    raw: "length\nconsole.log(v);",
    expected: "length",
    expectedMode: "single-line",
  },
  {
    name: "mid-line: a suggestion the rest of the line already starts with is dropped",
    language: "typescript",
    document: "x = █foo();\n",
    raw: "foo()",
    expected: undefined,
  },
  {
    name: "single line: a suggestion that only starts a new line is nothing",
    language: "typescript",
    document: "call();█\n",
    raw: "\nnext();",
    expected: undefined,
    expectedMode: "single-line",
  },
  // Go
  {
    name: "tabs: the loop body ends at the loop's closing brace",
    language: "go",
    document: "func main() {\n\tfor i := 0; i < 3; i++ {\n\t\t█\n\t}\n}\n",
    raw: "fmt.Println(i)\n\t}\n}\n",
    expected: "fmt.Println(i)",
  },
  {
    name: "a rune literal '(' is not a bracket",
    language: "go",
    document: "if c == '(' {█\n}\n",
    raw: "\n\treturn true\n}\n",
    expected: "\n\treturn true",
  },
  // Rust
  {
    name: "lifetimes are not quotes",
    language: "rust",
    document: "fn first<'a>(s: &'a str) -> &'a str {█\n}\n",
    raw: "\n    &s[..1]\n}\n",
    expected: "\n    &s[..1]",
  },
  {
    name: "match arms continue at the arm's level and stop at the match's brace",
    language: "rust",
    document: "match x {\n    Some(v) => █\n}\n",
    raw: "v * 2,\n    None => 0,\n}\n",
    expected: "v * 2,\n    None => 0,",
    expectedMode: "multi-line",
  },
  {
    name: "a char literal ')' inside the suggestion does not close anything",
    language: "rust",
    document: "let close = matches(█);\n",
    raw: "c, ')');",
    expected: "c, ')'",
  },
  // C
  {
    name: "the suggestion stops at a line that repeats the suffix's next line",
    language: "c",
    document: "int main(void) {\n    int n = 0;\n    █\n    return n;\n}\n",
    raw: "n += 1;\n    return n;\n}\n",
    expected: "n += 1;",
  },
  {
    name: "brackets in a block comment do not count",
    language: "c",
    document: "/* ) */ int x = f(█);\n",
    raw: "1, 2);",
    expected: "1, 2",
  },
  {
    name: "brackets in a string of the suggestion do not count",
    language: "c",
    document: 'printf(█);\n',
    raw: '"(%d)\\n", n);',
    expected: '"(%d)\\n", n',
  },
  // Any language
  {
    name: "stop sequences cut first",
    language: "python",
    document: "█",
    raw: "x = 1<|endoftext|>garbage",
    expected: "x = 1",
    stopSequences: fimTemplates["qwen2.5-coder"].stopSequences,
  },
  {
    name: "CRLF output becomes LF",
    language: "python",
    document: "█",
    raw: "a = 1\r\nb = 2",
    expected: "a = 1\nb = 2",
  },
  {
    name: "maxLines caps a multi-line suggestion",
    language: "python",
    document: "█",
    raw: "a\nb\nc\nd",
    expected: "a\nb",
    maxLines: 2,
  },
  {
    name: "trailing whitespace and trailing blank lines are trimmed",
    language: "typescript",
    document: "█",
    raw: "foo()   \n  bar()  \n\n\n",
    expected: "foo()\n  bar()",
  },
];

describe("postprocessCompletion", () => {
  for (const testCase of cases) {
    test(`${testCase.language}: ${testCase.name}`, () => {
      const { result, mode } = run(testCase);
      if (testCase.expectedMode !== undefined) assert.equal(mode, testCase.expectedMode);
      assert.equal(result, testCase.expected);
    });
  }
});

describe("completionMode", () => {
  const modes: readonly (readonly [linePrefix: string, lineSuffix: string, CompletionMode])[] = [
    ["    ", "", "multi-line"],
    ["", "", "multi-line"],
    ["if (x) {", "", "multi-line"],
    ["def f(x):", "", "multi-line"],
    ["foo(", ")", "multi-line"],
    ["{", "}", "multi-line"],
    ["items.map((x) =>", "", "multi-line"],
    ["5.times do", "", "multi-line"],
    ["if x then", "", "multi-line"],
    ["const x = ", ";", "single-line"],
    ["  return ", "", "single-line"],
    ["foo", "bar()", "single-line"],
    ["", "x = 1", "single-line"],
    ["    ", "return x", "single-line"],
  ];
  for (const [linePrefix, lineSuffix, expected] of modes) {
    test(`${JSON.stringify(linePrefix)} █ ${JSON.stringify(lineSuffix)} → ${expected}`, () => {
      assert.equal(completionMode(linePrefix, lineSuffix), expected);
    });
  }
  test("completionModeAt looks at the cursor's line only (CRLF too)", () => {
    assert.equal(completionModeAt("a = 1\r\nif (x) {", "\r\n}\r\n"), "multi-line");
    assert.equal(completionModeAt("{\n  foo", "\n}"), "single-line");
  });
});

describe("brackets", () => {
  test("unclosedBrackets ignores strings, comments and matched pairs", () => {
    assert.deepEqual(unclosedBrackets('f(a, "(", [1, 2], { b: g(', "typescript"), ["(", "{", "("]);
    assert.deepEqual(unclosedBrackets("x = [  # (\n  1,", "python"), ["["]);
    assert.deepEqual(unclosedBrackets('s = """(\n(""" + (', "python"), ["("]);
  });
  test("closedOpeners counts the prefix's openers the suffix closes, innermost first", () => {
    assert.equal(closedOpeners(["{", "("], ")\n}\n"), 2);
    assert.equal(closedOpeners(["{", "("], "a(b))"), 1);
    assert.equal(closedOpeners(["{", "("], "]"), 0);
    assert.equal(closedOpeners(["("], "')'", "rust"), 0);
  });
  test("indentationWidth counts tabs to the next tab stop", () => {
    assert.equal(indentationWidth("\t\tx", 4), 8);
    assert.equal(indentationWidth("  \tx", 4), 4);
    assert.equal(indentationWidth("    x", 2), 4);
    assert.equal(indentationWidth("x", 4), 0);
  });
});

describe("invariants on random input (seeded)", () => {
  /** mulberry32: a small seeded PRNG so a failure reproduces. */
  function random(seed: number): () => number {
    const generator = new Random(seed);
    return () => generator.next();
  }
  const alphabet = ["a", "b", "x", " ", "  ", "\t", "\n", "\n    ", "(", ")", "[", "]", "{", "}", '"', "'", "`", "#", "//", "/*", "*/", ":", ";", "=>", "<|endoftext|>", "\r\n"];
  function text(next: () => number, length: number): string {
    let value = "";
    for (let index = 0; index < length; index += 1) value += alphabet[Math.floor(next() * alphabet.length)] ?? "";
    return value;
  }
  const stops = fimTemplates["qwen2.5-coder"].stopSequences;
  for (const language of ["python", "typescript", "go", "rust", "c"]) {
    test(`${language}: never throws; the result is undefined or visible text without trailing whitespace or stop sequences`, () => {
      const next = random(language.length * 7919);
      for (let round = 0; round < 400; round += 1) {
        const prefix = text(next, 30);
        const suffix = text(next, 20);
        const raw = text(next, 25);
        const mode = completionModeAt(prefix, suffix);
        const result = postprocessCompletion(raw, { prefix, suffix, mode, languageId: language, stopSequences: stops });
        if (result === undefined) continue;
        assert.notEqual(result.trim(), "", JSON.stringify({ prefix, suffix, raw }));
        assert.ok(!/[ \t]$/m.test(result), `trailing whitespace: ${JSON.stringify({ prefix, suffix, raw, result })}`);
        assert.ok(!stops.some((stop) => result.includes(stop)), JSON.stringify({ raw, result }));
        assert.ok(!result.includes("\r"), JSON.stringify({ raw, result }));
        if (mode === "single-line") assert.ok(!result.includes("\n"), JSON.stringify({ prefix, suffix, raw, result }));
      }
    });
  }
});
