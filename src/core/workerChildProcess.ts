/**
 * A forked worker child as the quantize, bench and convert sessions use it: started as plain Node even inside VS
 * Code's Electron extension host, its stderr tail kept for the error message, stopped when the signal aborts (SIGKILL
 * at once, since a native call cannot be interrupted any other way, or first a polite message for a worker that
 * cleans up after itself), and its end reported once as a reason: CancelledError after an abort, else the caller's
 * error naming how it ended and the last lines it wrote.
 */
import { fork, type ChildProcess } from "node:child_process";
import { CancelledError, UserError } from "./errors";
import { type WorkerScript } from "./workerScript";

export interface WorkerChildOptions {
  /** The worker's script (`workerScript(name, __dirname, …)` of the caller). */
  readonly script: WorkerScript;
  /** "quantize worker": for the error when it cannot start. */
  readonly description: string;
  readonly signal: AbortSignal | undefined;
  readonly onMessage: (message: unknown) => void;
  /** The child is gone (or never started): why. Called once. */
  readonly onExit: (reason: Error) => void;
  /** The error for an end that was not a cancel: `how` is "exit code 1" or "SIGSEGV", `detail` its last stderr lines. */
  readonly exitError: (how: string, detail: string) => Error;
  /** Stderr lines to leave out of `detail` (progress dots, …). */
  readonly ignoreStderrLine?: (line: string) => boolean;
  /** IPC serialization; "advanced" passes Maps, typed arrays and the like (default "json"). */
  readonly serialization?: "json" | "advanced";
  /**
   * On abort, send `message` and give the child `killAfterMs` to exit by itself before SIGKILL (a worker that removes
   * its temp files on cancel). Default: SIGKILL at once.
   */
  readonly cancel?: { readonly message: object; readonly killAfterMs: number };
}

/** One forked worker; `dispose()` kills it if it still runs. */
export class WorkerChildProcess {
  private readonly child: ChildProcess;
  private stderrTail = "";
  private ended = false;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: WorkerChildOptions) {
    this.child = fork(options.script.script, [], {
      execArgv: [...options.script.execArgv],
      // In VS Code's extension host process.execPath is Electron: make it behave as Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      ...(options.serialization === undefined ? {} : { serialization: options.serialization }),
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-4000);
    });
    this.child.on("message", (message: unknown) => { options.onMessage(message); });
    this.child.on("error", (error) => { this.end(new UserError(`Cannot start the ${options.description}: ${error.message}`, { inner: error })); });
    this.child.on("exit", (code, exitSignal) => {
      clearTimeout(this.killTimer);
      const ignore = options.ignoreStderrLine ?? ((): boolean => false);
      const detail = this.stderrTail.trim().split("\n").filter((line) => !ignore(line)).slice(-3).join(" ");
      this.end(options.signal?.aborted === true ? new CancelledError() : options.exitError(exitSignal ?? `exit code ${code ?? "?"}`, detail));
    });
    options.signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Whether the child has ended (exited, or failed to start). */
  get hasEnded(): boolean {
    return this.ended;
  }

  send(message: object): void {
    this.child.send(message);
  }

  private readonly onAbort = (): void => {
    // The pending work rejects with CancelledError once the child has exited, so the caller's clean-up does not
    // race the dying process's writes.
    const { cancel } = this.options;
    if (cancel === undefined || !this.child.connected) {
      this.child.kill("SIGKILL");
      return;
    }
    this.child.send(cancel.message);
    this.killTimer = setTimeout(() => this.child.kill("SIGKILL"), cancel.killAfterMs);
  };

  private end(reason: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.options.onExit(reason);
  }

  dispose(): void {
    this.options.signal?.removeEventListener("abort", this.onAbort);
    clearTimeout(this.killTimer);
    if (!this.ended) this.child.kill("SIGKILL");
  }
}
