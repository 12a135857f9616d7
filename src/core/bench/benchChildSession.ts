/**
 * The bench child process seen from the parent: forks benchWorker (the bundled dist/workers/benchWorker.js, or the
 * TypeScript source under tsx in tests), sends jobs one at a time, relays progress, and kills the child on abort, so a
 * cancel stops llama.cpp at once and the pending job rejects with CancelledError.
 */
import { fork, type ChildProcess } from "node:child_process";
import { CancelledError, throwIfAborted, UserError } from "../errors";
import { type LibllamaLocation } from "../quantize/libllamaLocation";
import { isBenchChildMessage, type BenchJobMessage, type BenchJobProgress, type BenchJobResult } from "./benchWorkerProtocol";
import { workerScript } from "../workerScript";

export interface BenchChildRun {
  readonly result: BenchJobResult;
  readonly location: LibllamaLocation;
  readonly llamaVersion: string;
}

/** One forked bench child; dispose() kills it. */
export class BenchChildSession {
  private readonly child: ChildProcess;
  private stderrTail = "";
  private location: LibllamaLocation | undefined;
  private llamaVersion = "";
  private exitReason: Error | undefined;
  private pending: { readonly onMessage: (message: unknown) => void; readonly onExit: (reason: Error) => void } | undefined;

  constructor(private readonly signal: AbortSignal | undefined) {
    throwIfAborted(signal);
    const { script, execArgv } = workerScript("benchWorker", __dirname, "bench worker");
    this.child = fork(script, [], {
      execArgv: [...execArgv],
      // In VS Code's extension host process.execPath is Electron: make it behave as Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-4000);
    });
    this.child.on("message", (message: unknown) => this.pending?.onMessage(message));
    this.child.on("error", (error) => this.pending?.onExit(new UserError(`Cannot start the bench worker: ${error.message}`, { inner: error })));
    this.child.on("exit", (code, exitSignal) => {
      const detail = this.stderrTail.trim().split("\n").filter((line) => !/^\.+$/.test(line)).slice(-3).join(" ");
      this.exitReason =
        this.signal?.aborted === true
          ? new CancelledError()
          : new UserError(`llama.cpp stopped while benchmarking (${exitSignal ?? `exit code ${code ?? "?"}`})${detail === "" ? "" : `: ${detail}`}.`, {
              action: "The model may be corrupt, use an architecture this llama.cpp does not support, or not fit in memory.",
            });
      this.pending?.onExit(this.exitReason);
    });
    signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  private readonly onAbort = (): void => {
    this.child.kill("SIGKILL");
  };

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
    this.signal?.removeEventListener("abort", this.onAbort);
    if (this.exitReason === undefined) this.child.kill("SIGKILL");
  }
}
