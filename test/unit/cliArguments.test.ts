import assert from "node:assert/strict";
import { test } from "node:test";
import { type CliOptionSpec, parseArguments } from "../../src/cli/cliArguments";
import { CliUsageError } from "../../src/cli/cliUsageError";

const specs: readonly CliOptionSpec[] = [
  { name: "json", kind: "flag", description: "JSON" },
  { name: "help", short: "h", kind: "flag", description: "help" },
  { name: "threads", short: "t", kind: "value", valueName: "N", description: "threads" },
];

function parse(...argv: string[]) {
  return parseArguments(argv, specs, "slm-lab help test");
}

test("positionals and flags in any order", () => {
  const args = parse("a.gguf", "--json", "b.gguf", "-h");
  assert.deepEqual(args.positionals, ["a.gguf", "b.gguf"]);
  assert.equal(args.flag("json"), true);
  assert.equal(args.flag("help"), true);
  assert.equal(args.value("threads"), undefined);
});

test("value options: separate, inline, short, last one wins", () => {
  assert.equal(parse("--threads", "4").value("threads"), "4");
  assert.equal(parse("--threads=8").value("threads"), "8");
  assert.equal(parse("--threads=").value("threads"), "");
  assert.equal(parse("-t", "2").value("threads"), "2");
  assert.equal(parse("--threads", "1", "--threads", "3").value("threads"), "3");
  assert.equal(parse("--threads", "-").value("threads"), "-");
});

test("-- ends options and a lone - is a positional", () => {
  const args = parse("--json", "--", "--threads", "-h");
  assert.deepEqual(args.positionals, ["--threads", "-h"]);
  assert.equal(args.flag("help"), false);
  assert.deepEqual(parse("-").positionals, ["-"]);
});

test("usage errors name the offending option and point to the help", () => {
  const cases: readonly (readonly [string[], RegExp])[] = [
    [["--frobnicate"], /unknown option '--frobnicate'/],
    [["--frobnicate=1"], /unknown option '--frobnicate'/],
    [["-x"], /unknown option '-x'/],
    [["--json=yes"], /'--json' takes no value/],
    [["--threads"], /'--threads' needs a value/],
    [["--threads", "--json"], /'--threads' needs a value/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => parse(...argv),
      (error: unknown) => error instanceof CliUsageError && message.test(error.toOneLine()) && error.toOneLine().includes("slm-lab help test"),
      argv.join(" "),
    );
  }
});
