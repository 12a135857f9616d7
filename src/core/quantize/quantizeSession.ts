/**
 * Where `llama_model_quantize` jobs run for quantizeModel: one session runs its jobs one after the other (the dry run,
 * then the real one, without loading the library twice), and turns each job's messages (quantizeJob.ts) into its
 * outcome the same way wherever the job runs.
 *
 * - "child-process" (the default, and always in the extension host): a forked child. The native call blocks and
 *   cannot be interrupted: terminating a worker_thread only stops its JavaScript once the call returns, while the
 *   native code would go on burning CPU and writing; SIGKILL stops a child at once, and the pending run rejects with
 *   CancelledError once it has exited, so the caller's clean-up does not race the dying process's writes.
 * - "this-process": in the calling process, which must be a process of its own that ends when cancelled (the
 *   `slm-lab` CLI): it saves starting a second Node process and loading a second bundle (~0.1–0.2 s of every run).
 *   Cancelling rejects the pending run at once, but the native call goes on until the process ends, so the caller
 *   writes the output inside a folder of its own that it removes, and the process must end soon after.
 */
import { CancelledError, throwIfAborted, UserError } from "../errors";
import { type LibllamaLocation } from "./libllamaLocation";
import type * as QuantizeJobModule from "./quantizeJob";
import { isImatrixRequiredWarning, parseFailureLine, parseTensorLine, TensorLineAssembler, type QuantizeTensorLine } from "./quantizeLogParser";
import { isQuantizeChildMessage, type QuantizeChildMessage, type QuantizeJobMessage } from "./quantizeWorkerProtocol";
import { WorkerChildProcess } from "../workerChildProcess";
import { workerScript } from "../workerScript";

/** Where the native quantization runs (see the top of this file). */
export type QuantizeProcess = "child-process" | "this-process";

/** The outcome of one job. */
export interface QuantizeRun {
  readonly returnCode: number;
  readonly tensors: readonly QuantizeTensorLine[];
  readonly imatrixRequired: boolean;
  /** llama.cpp's own reason for a failure, from its log. */
  readonly failure: string | undefined;
  readonly location: LibllamaLocation;
  readonly llamaVersion: string;
}

/** Runs jobs one after the other; cancelled by the signal it was started with. */
export interface QuantizeSession {
  /** Runs one job; per-tensor lines go to `onTensor` as llama.cpp finishes each tensor. */
  run(job: QuantizeJobMessage, onTensor: ((tensor: QuantizeTensorLine) => void) | undefined): Promise<QuantizeRun>;
  /** Ends the session (a child at once: it holds nothing worth waiting for between jobs). */
  dispose(): void;
}

/** Starts a session (a child starts loading libllama at once, in parallel with the caller's checks). */
export function startQuantizeSession(where: QuantizeProcess, signal: AbortSignal | undefined): QuantizeSession {
  throwIfAborted(signal);
  return where === "this-process" ? new InProcessSession(signal) : new ChildProcessSession(signal);
}

/** What a session keeps between jobs, and how one job's messages become its outcome. */
abstract class BaseSession implements QuantizeSession {
  private location: LibllamaLocation | undefined;
  private llamaVersion = "";
  /** Why the session cannot run jobs any more, once it cannot. */
  protected stopReason: Error | undefined;
  private pending: { readonly onMessage: (message: QuantizeChildMessage) => void; readonly onStop: (reason: Error) => void } | undefined;

  constructor(protected readonly signal: AbortSignal | undefined) {}

  /** Sends the job to where it runs; its messages come back through `deliver`. */
  protected abstract start(job: QuantizeJobMessage): void;

  abstract dispose(): void;

  /** A message of the running job. */
  protected deliver(message: QuantizeChildMessage): void {
    if (this.signal?.aborted !== true) this.pending?.onMessage(message);
  }

  /** The session stopped (child exited, or cancelled): the running job, and any later one, rejects with `reason`. */
  protected stop(reason: Error): void {
    this.stopReason ??= reason;
    this.pending?.onStop(reason);
  }

  run(job: QuantizeJobMessage, onTensor: ((tensor: QuantizeTensorLine) => void) | undefined): Promise<QuantizeRun> {
    throwIfAborted(this.signal);
    if (this.stopReason !== undefined) return Promise.reject(this.stopReason);
    return new Promise<QuantizeRun>((resolve, reject) => {
      const tensors: QuantizeTensorLine[] = [];
      const assembler = new TensorLineAssembler();
      let imatrixRequired = false;
      let failure: string | undefined;
      const settle = (outcome: () => void): void => {
        this.pending = undefined;
        outcome();
      };
      this.pending = {
        onStop: (reason) => { settle(() => { reject(reason); }); },
        onMessage: (message) => {
          switch (message.type) {
            case "ready":
              this.location = message.location;
              this.llamaVersion = message.llamaVersion;
              break;
            case "line": {
              const line = assembler.push(message.line);
              const tensor = line === undefined ? undefined : parseTensorLine(line);
              if (tensor !== undefined) {
                tensors.push(tensor);
                onTensor?.(tensor);
              }
              if (isImatrixRequiredWarning(message.line)) imatrixRequired = true;
              failure = parseFailureLine(message.line) ?? failure;
              if (process.env["SLM_LAB_DEBUG"] === "1") process.stderr.write(`llama.cpp: ${message.line}\n`);
              break;
            }
            case "done": {
              const location = this.location;
              if (location === undefined) {
                settle(() => { reject(new Error("the quantize job finished without saying which library it loaded")); });
                break;
              }
              const { llamaVersion } = this;
              settle(() => { resolve({ returnCode: message.returnCode, tensors, imatrixRequired, failure, location, llamaVersion }); });
              break;
            }
            case "failed":
              settle(() => { reject(new UserError(message.message, message.action === undefined ? {} : { action: message.action })); });
              break;
          }
        },
      };
      this.start(job);
    });
  }
}

/** Jobs in a forked child (dist/workers/quantizeWorker.js); cancelling kills it. */
class ChildProcessSession extends BaseSession {
  private readonly child: WorkerChildProcess;

  constructor(signal: AbortSignal | undefined) {
    super(signal);
    this.child = new WorkerChildProcess({
      script: workerScript("quantizeWorker", __dirname, "quantize worker"),
      description: "quantize worker",
      signal,
      onMessage: (message) => {
        if (isQuantizeChildMessage(message)) this.deliver(message);
      },
      onExit: (reason) => { this.stop(reason); },
      exitError: (how, detail) =>
        new UserError(`llama.cpp stopped while quantizing (${how})${detail === "" ? "" : `: ${detail}`}.`, {
          action: "The model may be corrupt or use an architecture this llama.cpp does not support.",
        }),
    });
  }

  protected start(job: QuantizeJobMessage): void {
    this.child.send(job);
  }

  dispose(): void {
    this.child.dispose();
  }
}

/** Jobs in this process, on koffi's thread; cancelling rejects at once (the native call cannot be stopped). */
class InProcessSession extends BaseSession {
  /** quantizeJob.ts loads koffi: only imported here, when a session runs in this process. */
  private readonly jobModule: Promise<typeof QuantizeJobModule>;

  constructor(signal: AbortSignal | undefined) {
    super(signal);
    this.jobModule = import("./quantizeJob.js").then((module) => {
      // Load the library now, while the caller reads the model's header.
      module.preloadQuantizeLibrary();
      return module;
    });
    // A failure to load is reported by the first job; without one, it is not an unhandled rejection.
    this.jobModule.catch(() => undefined);
    signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  private readonly onAbort = (): void => {
    this.stop(new CancelledError());
  };

  protected start(job: QuantizeJobMessage): void {
    // Once cancelled, deliver() drops the job's late messages (its native call runs on until the process ends).
    this.jobModule
      .then((module) => module.runQuantizeJob(job, (message) => { this.deliver(message); }))
      .catch((error: unknown) => {
        this.stop(new UserError(`Cannot load llama.cpp's quantizer: ${error instanceof Error ? error.message : String(error)}`, { action: "Reinstall SLM Lab.", inner: error }));
      });
  }

  dispose(): void {
    this.signal?.removeEventListener("abort", this.onAbort);
  }
}
