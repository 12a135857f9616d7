/**
 * The forked worker child shared by the quantize and bench sessions (src/core/workerChildProcess.ts), with real
 * child processes: messages both ways, a crash reported once with how it ended and its last stderr lines (filtered),
 * an abort that kills it and reports CancelledError, and dispose() killing a running child.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { CancelledError, UserError } from "../../src/core/errors";
import { WorkerChildProcess } from "../../src/core/workerChildProcess";

let dir = "";
let worker = "";
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "slm-worker-child-"));
  worker = path.join(dir, "worker.js");
  // Echoes messages; "crash" writes to stderr and exits with 3; "hang" never answers.
  await writeFile(
    worker,
    `process.on("message", (m) => {
      if (m.type === "echo") process.send({ type: "echo", value: m.value, electron: process.env.ELECTRON_RUN_AS_NODE });
      if (m.type === "crash") { process.stderr.write("first line\\n...\\nsecond line\\nlast words\\n"); setTimeout(() => process.exit(3), 20); }
    });`,
  );
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function start(signal?: AbortSignal): { child: WorkerChildProcess; messages: unknown[]; exits: Error[]; exited: Promise<Error> } {
  const messages: unknown[] = [];
  const exits: Error[] = [];
  let resolveExit: (reason: Error) => void = () => undefined;
  const exited = new Promise<Error>((resolve) => (resolveExit = resolve));
  const child = new WorkerChildProcess({
    script: { script: worker, execArgv: [] },
    description: "test worker",
    signal,
    onMessage: (message) => messages.push(message),
    onExit: (reason) => {
      exits.push(reason);
      resolveExit(reason);
    },
    exitError: (how, detail) => new UserError(`the test worker stopped (${how}): ${detail}`),
    ignoreStderrLine: (line) => /^\.+$/.test(line),
  });
  return { child, messages, exits, exited };
}

test("messages go both ways, and the child runs as plain Node (ELECTRON_RUN_AS_NODE)", async () => {
  const { child, messages } = start();
  child.send({ type: "echo", value: 42 });
  while (messages.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(messages[0], { type: "echo", value: 42, electron: "1" });
  assert.equal(child.hasEnded, false);
  child.dispose();
});

test("a crash is reported once, with how it ended and its last stderr lines (progress dots left out)", async () => {
  const { child, exits, exited } = start();
  child.send({ type: "crash" });
  const reason = await exited;
  assert.ok(reason instanceof UserError);
  assert.equal(reason.message, "the test worker stopped (exit code 3): first line second line last words");
  assert.equal(child.hasEnded, true);
  child.dispose();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(exits.length, 1);
});

test("an abort kills the child and reports CancelledError; dispose() kills a running one", async () => {
  const controller = new AbortController();
  const { exited } = start(controller.signal);
  controller.abort();
  assert.ok((await exited) instanceof CancelledError);

  const second = start();
  second.child.dispose();
  const reason = await second.exited;
  assert.match(reason.message, /SIGKILL/);
});

test("with a cancel message, an abort asks the child first: one that exits by itself ends as CancelledError, one that ignores it is killed after the grace time", async () => {
  const politeWorker = path.join(dir, "polite.js");
  // "stop" from the parent: write a marker (its clean-up), then exit; while "stubborn" is set it ignores "stop".
  await writeFile(
    politeWorker,
    `let stubborn = false;
    process.on("message", (m) => {
      if (m.type === "stubborn") { stubborn = true; process.send({ type: "ok" }); }
      if (m.type === "stop" && !stubborn) { require("node:fs").writeFileSync(process.env.MARKER, "cleaned"); process.exit(0); }
    });
    setInterval(() => undefined, 1000);`,
  );
  const run = async (stubborn: boolean): Promise<{ reason: Error; marker: boolean }> => {
    const marker = path.join(dir, `marker-${String(stubborn)}`);
    const controller = new AbortController();
    let ready: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => (ready = resolve));
    let resolveExit: (reason: Error) => void = () => undefined;
    const exited = new Promise<Error>((resolve) => (resolveExit = resolve));
    process.env["MARKER"] = marker;
    const child = new WorkerChildProcess({
      script: { script: politeWorker, execArgv: [] },
      description: "polite worker",
      signal: controller.signal,
      cancel: { message: { type: "stop" }, killAfterMs: 300 },
      onMessage: () => { ready(); },
      onExit: resolveExit,
      exitError: (how) => new Error(`ended (${how})`),
    });
    child.send({ type: stubborn ? "stubborn" : "hello" });
    if (stubborn) await answered;
    else await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    const reason = await exited;
    child.dispose();
    const cleaned = await import("node:fs").then((fs) => fs.existsSync(marker));
    return { reason, marker: cleaned };
  };
  const polite = await run(false);
  assert.ok(polite.reason instanceof CancelledError, String(polite.reason));
  assert.equal(polite.marker, true, "the child got the cancel message and cleaned up");
  const stubborn = await run(true);
  assert.ok(stubborn.reason instanceof CancelledError, String(stubborn.reason));
  assert.equal(stubborn.marker, false, "the stubborn child never cleaned up: it was killed");
  delete process.env["MARKER"];
});
