/** Runs download jobs with at most `concurrency` at a time, in the order they were added. */
import { CancelledError } from "../errors";

/** A FIFO queue with a concurrency limit; each `add` resolves or rejects with its own job's result. */
export class DownloadQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, not ${concurrency}`);
  }

  /** Jobs started and not finished. */
  get active(): number {
    return this.running;
  }

  /** Jobs waiting for a free slot. */
  get pending(): number {
    return this.waiting.length;
  }

  /** Queues `job`; a job still waiting when `signal` aborts is dropped with CancelledError. */
  async add<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.running >= this.concurrency) {
      await new Promise<void>((resolve, reject) => {
        const start = (): void => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = (): void => {
          const index = this.waiting.indexOf(start);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(new CancelledError());
        };
        if (signal?.aborted === true) {
          reject(new CancelledError());
          return;
        }
        signal?.addEventListener("abort", onAbort, { once: true });
        this.waiting.push(start);
      });
      // The finishing job handed its slot over: `running` already counts this one.
    } else {
      if (signal?.aborted === true) throw new CancelledError();
      this.running++;
    }
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) this.running--;
      else next();
    }
  }
}
