// The prefix window's start stays put while the user types (so the engine only evaluates what was appended) and moves
// forward by a quarter of the budget at once when it must, instead of one line per keystroke.
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildCompletionRequest, completionBudgets } from "../../src/vscode/completion/completionRequestBuilder";

const lines = Array.from({ length: 400 }, (_, index) => `const value${index} = compute(${index}, "abcdefgh");`);
const text = `${lines.join("\n")}\n`;
const base = { languageId: "typescript", filePath: "src/a.ts", contextSize: 1024, maxTokens: 32 } as const;

/** Types `typed` at the end of the document, one character at a time, keeping the anchor as the provider does. */
function typeAtEnd(typed: string): number[] {
  const starts: number[] = [];
  let anchor: number | undefined;
  for (let count = 1; count <= typed.length; count++) {
    const doc = text + typed.slice(0, count);
    const built = buildCompletionRequest({ ...base, text: doc, cursorOffset: doc.length, ...(anchor === undefined ? {} : { prefixAnchor: anchor }) });
    assert.ok(built.window.prefixTokens <= completionBudgets(base.contextSize, base.maxTokens).prefixTokens, "within budget");
    assert.equal(built.request.prefix, doc.slice(built.window.prefixStart, doc.length));
    anchor = built.window.prefixStart;
    starts.push(anchor);
  }
  return starts;
}

test("typing keeps the prefix start; it moves rarely and by many lines", () => {
  const starts = typeAtEnd("x".repeat(600));
  const moves = starts.filter((start, index) => index > 0 && start !== starts[index - 1]).length;
  // Without the anchor the start would move with almost every line's worth of typing (600 chars ≈ 14 lines).
  assert.ok(moves >= 1 && moves <= 2, `start moved ${moves} times`);
  const unanchored = Array.from({ length: 600 }, (_, index) => {
    const doc = text + "x".repeat(index + 1);
    return buildCompletionRequest({ ...base, text: doc, cursorOffset: doc.length }).window.prefixStart;
  });
  const unanchoredMoves = unanchored.filter((start, index) => index > 0 && start !== unanchored[index - 1]).length;
  assert.ok(unanchoredMoves > moves * 4, `unanchored moved ${unanchoredMoves} times`);
});

test("an anchor after the cursor, or none, gives the fullest window", () => {
  const cursor = text.length - 50;
  const full = buildCompletionRequest({ ...base, text, cursorOffset: cursor });
  assert.deepEqual(buildCompletionRequest({ ...base, text, cursorOffset: cursor, prefixAnchor: cursor + 10 }).window, full.window);
  const later = text.lastIndexOf("\n", cursor - 200) + 1;
  assert.equal(buildCompletionRequest({ ...base, text, cursorOffset: cursor, prefixAnchor: later }).window.prefixStart, later);
});
