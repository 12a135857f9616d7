/**
 * The bench child process seen from the parent: forks benchWorker (the bundled dist/workers/benchWorker.js, or the
 * TypeScript source under tsx in tests), sends jobs one at a time, relays progress, and kills the child on abort, so a
 * cancel stops llama.cpp at once and the pending job rejects with CancelledError.
 */
import { throwIfAborted, UserError } from "../errors";
import { type LibllamaLocation } from "../quantize/libllamaLocation";
import { isBenchChildMessage, type BenchJobMessage, type BenchJobProgress, type BenchJobResult } from "./benchWorkerProtocol";
import { WorkerChildProcess } from "../workerChildProcess";
import { workerScript } from "../workerScript";

export interface BenchChildRun {
  readonly result: BenchJobResult;
  readonly location: LibllamaLocation;
  readonly llamaVersion: string;
}

/** One forked bench child; dispose() kills it. */
export class BenchChildSession {
  private readonly child: WorkerChildProcess;
  private location: LibllamaLocation | undefined;
  private llamaVersion = "";
  private exitReason: Error | undefined;
  private pending: { readonly onMessage: (message: unknown) => void; readonly onExit: (reason: Error) => void } | undefined;

  constructor(private readonly signal: AbortSignal | undefined) {
    throwIfAborted(signal);
    this.child = new WorkerChildProcess({
      script: workerScript("benchWorker", __dirname, "bench worker"),
      description: "bench worker",
      signal,
      onMessage: (message) => this.pending?.onMessage(message),
      onExit: (reason) => {
        this.exitReason = reason;
        this.pending?.onExit(reason);
      },
      exitError: (how, detail) =>
        new UserError(`llama.cpp stopped while benchmarking (${how})${detail === "" ? "" : `: ${detail}`}.`, {
          action: "The model may be corrupt, use an architecture this llama.cpp does not support, or not fit in memory.",
        }),
      // llama.cpp's perplexity progress dots.
      ignoreStderrLine: (line) => /^\.+$/.test(line),
    });
  }

  /** Runs one job; progress goes to `onProgress` as the child reports it. */
  run(job: BenchJobMessage, onProgress: (progress: BenchJobProgress) => void): Promise<BenchChildRun> {
    throwIfAborted(this.signal);
    if (this.exitReason !== undefined) return Promise.reject(this.exitReason);
    return new Promise<BenchChildRun>((resolve, reject) => {
      const settle = (outcome: () => void): void => {
        this.pending = undefined;
        outcome();
      };
      this.pending = {
        onExit: (reason) => { settle(() => { reject(reason); }); },
        onMessage: (message) => {
          if (!isBenchChildMessage(message) || this.signal?.aborted === true) return;
          switch (message.type) {
            case "ready":
              this.location = message.location;
              this.llamaVersion = message.llamaVersion;
              break;
            case "progress":
              onProgress(message.progress);
              break;
            case "done": {
              const location = this.location;
              if (location === undefined) {
                settle(() => { reject(new Error("the bench worker finished without saying which library it loaded")); });
                break;
              }
              const { llamaVersion } = this;
              settle(() => { resolve({ result: message.result, location, llamaVersion }); });
              break;
            }
            case "failed":
              settle(() => { reject(new UserError(message.message, message.action === undefined ? {} : { action: message.action })); });
              break;
          }
        },
      };
      this.child.send(job);
    });
  }

  /** Ends the child (at once: it holds nothing worth waiting for between jobs). */
  dispose(): void {
    this.child.dispose();
  }
}
