// The local completion engine on a real model (the tiny Qwen2.5-Coder-like fixture) in its real child process:
// completion, KV reuse between keystrokes, the result cache, abort, crash recovery and a corrupt model.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { CancelledError, UserError } from "../../src/core/errors";
import type { CompletionRequest } from "../../src/core/runtime/completionEngine";
import { createCompletionEngine } from "../../src/core/runtime/engineFactory";
import { LocalCompletionEngine } from "../../src/core/runtime/localEngine";
import { ensureFixtureModel } from "../fixtures/fixtureModels";

const THREADS = 2;
let modelPath = "";
let engine: LocalCompletionEngine;

const PREFIX = `import { readFile } from "node:fs/promises";

/** Sums the numbers of a file, one per line. */
export async function sumFile(file: string): Promise<number> {
  const text = await readFile(file, "utf8");
  let total = 0;
  for (const line of text.split("\\n")) {
    const value = Number(line.trim());
    if (Number.isFinite(value)) `;
const SUFFIX = `
  }
  return total;
}

export function average(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}
`;

function request(prefix: string, overrides: Partial<CompletionRequest> = {}): CompletionRequest {
  return {
    prefix,
    suffix: SUFFIX,
    filePath: "src/sum.ts",
    repoName: "demo",
    languageId: "typescript",
    extraContext: [{ filePath: "src/other.ts", text: "export const answer = 42;\n" }],
    mode: "single-line",
    maxTokens: 8,
    ...overrides,
  };
}

function never(): AbortSignal {
  return new AbortController().signal;
}

before(async () => {
  modelPath = await ensureFixtureModel("tiny-qwen2-coder");
  engine = new LocalCompletionEngine({ kind: "local", modelPath, threads: THREADS, contextSize: 4096 }, { restartBackoffMs: 50 });
});

after(async () => {
  await engine.dispose();
});

test("completes with the model's FIM template and reuses the KV cache of the shared prefix on the next keystroke", async () => {
  const first = await engine.complete(request(PREFIX), never());
  assert.equal(first.fromCache, false);
  assert.equal(typeof first.text, "string");
  assert.ok(first.timings.promptTokens > 50, `prompt of ${first.timings.promptTokens} tokens`);
  assert.ok(first.timings.generatedTokens <= 8);
  assert.ok(first.stopSequences.includes("<|fim_prefix|>"));
  const info = engine.modelInfo;
  assert.ok(info !== undefined);
  assert.equal(info.family, "qwen2.5-coder");
  assert.equal(info.layout, "spm");

  // The user types two more characters: only the end of the prompt is new.
  const second = await engine.complete(request(`${PREFIX}to`), never());
  assert.equal(second.fromCache, false);
  const evaluated = second.timings.evaluatedPromptTokens ?? Number.NaN;
  assert.ok(evaluated < second.timings.promptTokens / 4, `evaluated ${evaluated} of ${second.timings.promptTokens} prompt tokens`);
  assert.ok(evaluated >= 1);
});

test("the same request again is answered from the cache with the same text", async () => {
  const fresh = await engine.complete(request(`${PREFIX}total`), never());
  const again = await engine.complete(request(`${PREFIX}total`), never());
  assert.equal(again.fromCache, true);
  assert.equal(again.text, fresh.text);
  assert.equal(again.timings.evaluatedPromptTokens, 0);
});

test("greedy decoding: a fresh engine gives the same suggestion for the same prompt", async () => {
  const other = new LocalCompletionEngine({ kind: "local", modelPath, threads: THREADS, contextSize: 4096 });
  try {
    const ours = await engine.complete(request(`${PREFIX}total +`), never());
    const theirs = await other.complete(request(`${PREFIX}total +`), never());
    assert.equal(theirs.text, ours.text);
  } finally {
    await other.dispose();
  }
});

test("aborting rejects with CancelledError, and the engine keeps working", async () => {
  const controller = new AbortController();
  const long = request(`${PREFIX}${"// padding line to make the prompt long\n".repeat(120)}`, { maxTokens: 1000 });
  const pending = engine.complete(long, controller.signal);
  setTimeout(() => { controller.abort(); }, 30);
  await assert.rejects(pending, CancelledError);
  const pid = engine.workerPid;
  const next = await engine.complete(request(`${PREFIX}value`), never());
  assert.equal(typeof next.text, "string");
  assert.equal(engine.workerPid, pid, "the child survives an abort");
});

test("an already aborted signal rejects at once", async () => {
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(engine.complete(request(`${PREFIX}x`), controller.signal), CancelledError);
});

test("a crashed child rejects the request in flight with a clear error, and the next request restarts it", async () => {
  await engine.complete(request(`${PREFIX}warm`), never());
  const pid = engine.workerPid;
  assert.ok(pid !== undefined);
  const long = request(`${PREFIX}${"// more padding so the prompt takes a while\n".repeat(120)}`, { maxTokens: 1000 });
  const pending = engine.complete(long, never());
  setTimeout(() => { process.kill(pid, "SIGKILL"); }, 30);
  await assert.rejects(pending, (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.match(error.message, /stopped unexpectedly \(SIGKILL\)/);
    assert.ok(error.action !== undefined);
    return true;
  });
  const recovered = await engine.complete(request(`${PREFIX}after crash`), never());
  assert.equal(typeof recovered.text, "string");
  assert.notEqual(engine.workerPid, pid);
});

test("a corrupt model is a clear UserError, through the factory too", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "slm-lab-engine-"));
  const corrupt = path.join(dir, "broken.gguf");
  await writeFile(corrupt, Buffer.concat([Buffer.from("GGUF"), Buffer.alloc(64, 0xff)]));
  const broken = createCompletionEngine({ kind: "local", modelPath: corrupt, threads: THREADS, contextSize: 1024 });
  try {
    assert.equal(broken.kind, "local");
    await assert.rejects(broken.complete(request(PREFIX), never()), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, /Cannot load broken\.gguf/);
      return true;
    });
  } finally {
    await broken.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});

test("a prefetched request is answered from the cache", async () => {
  const speculative = request(`${PREFIX}total += value;\n`);
  engine.prefetch(speculative);
  const result = await engine.complete(speculative, never());
  // Either joined the prefetch in flight or found its result cached; both answer the same text.
  const again = await engine.complete(speculative, never());
  assert.equal(again.fromCache, true);
  assert.equal(again.text, result.text);
});

test("the model is unloaded after the idle time and loaded again on the next request", async () => {
  const idle = new LocalCompletionEngine({ kind: "local", modelPath, threads: THREADS, contextSize: 1024, idleUnloadMs: 100 });
  try {
    await idle.complete(request(PREFIX, { extraContext: [] }), never());
    assert.ok(idle.workerPid !== undefined);
    const stopped = async (): Promise<boolean> => {
      for (let waited = 0; waited < 100; waited++) {
        if (idle.workerPid === undefined) return true;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return false;
    };
    assert.ok(await stopped(), "the child was stopped after the idle time");
    const again = await idle.complete(request(`${PREFIX}x`, { extraContext: [] }), never());
    assert.equal(again.fromCache, false);
  } finally {
    await idle.dispose();
  }
});

test("a model that will not fit in memory is refused with the estimate, before llama.cpp loads it", async () => {
  // A context this long needs a KV cache far beyond any machine's RAM.
  const huge = new LocalCompletionEngine({ kind: "local", modelPath, threads: THREADS, contextSize: 200_000_000 });
  try {
    await assert.rejects(huge.complete(request(PREFIX), never()), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, /will not fit in memory: it needs about [\d.,]+ [KMGT]i?B/);
      assert.match(error.action ?? "", /smaller model|context size/);
      return true;
    });
  } finally {
    await huge.dispose();
  }
});
