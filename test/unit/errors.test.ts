import { test } from "node:test";
import assert from "node:assert/strict";
import { CancelledError, UserError, describeError, throwIfAborted } from "../../src/core/errors";

test("UserError.toOneLine joins message, cause and action as sentences", () => {
  const error = new UserError("model.gguf: truncated at byte 12: expected 8-byte tensor count", {
    cause: "The download may have stopped early",
    action: "Download it again.",
  });
  assert.equal(
    error.toOneLine(),
    "model.gguf: truncated at byte 12: expected 8-byte tensor count. The download may have stopped early. Download it again.",
  );
});

test("describeError never returns a stack trace", () => {
  assert.equal(describeError(new Error("boom")), "boom");
  assert.equal(describeError("plain"), "plain");
  assert.equal(describeError(new UserError("Only a message")), "Only a message.");
});

test("throwIfAborted throws CancelledError only once aborted", () => {
  const controller = new AbortController();
  throwIfAborted(controller.signal);
  controller.abort();
  assert.throws(() => { throwIfAborted(controller.signal); }, CancelledError);
});
