// The download queue: never more than `concurrency` jobs at once, FIFO, failures isolated, waiting jobs cancellable.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CancelledError } from "../../src/core/errors";
import { DownloadQueue } from "../../src/core/hub/downloadQueue";

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

test("runs at most `concurrency` jobs at a time, in order", async () => {
  const queue = new DownloadQueue(2);
  const gates = Array.from({ length: 5 }, () => deferred());
  const started: number[] = [];
  let active = 0;
  let peak = 0;
  const results = gates.map((gate, index) =>
    queue.add(async () => {
      started.push(index);
      active++;
      peak = Math.max(peak, active);
      await gate.promise;
      active--;
      if (index === 1) throw new Error("job 1 failed");
      return index;
    }),
  );
  const allSettled = Promise.allSettled(results);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(started, [0, 1]);
  assert.equal(queue.pending, 3);
  for (const gate of gates) {
    gate.resolve();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const settled = await allSettled;
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.equal(peak, 2);
  assert.equal(settled[1]?.status, "rejected");
  assert.deepEqual(settled.filter((result) => result.status === "fulfilled").map((result) => result.value), [0, 2, 3, 4]);
  assert.equal(queue.active, 0);
});

test("a waiting job is dropped when its signal aborts; running ones are not touched", async () => {
  const queue = new DownloadQueue(1);
  const gate = deferred();
  const running = queue.add(async () => {
    await gate.promise;
    return "ran";
  });
  const controller = new AbortController();
  let ran = false;
  const waiting = queue.add(() => {
    ran = true;
    return Promise.resolve();
  }, controller.signal);
  controller.abort();
  await assert.rejects(waiting, CancelledError);
  gate.resolve();
  assert.equal(await running, "ran");
  assert.equal(ran, false);
  assert.throws(() => new DownloadQueue(0), RangeError);
});
