/**
 * The local completion engine: a GGUF run by node-llama-cpp in a child process (localEngineWorker.ts), so a native
 * crash or an out-of-memory kill never takes the caller (the extension host) down.
 *
 * - Lazy: the child starts and loads the model on the first request; it is stopped after `idleUnloadMs` without one.
 * - Crash: the request in flight rejects with a UserError; the next request starts a new child, after a backoff that
 *   doubles with each crash in a row (250 ms … 30 s) and resets after a success.
 * - Abort: the promise rejects with CancelledError at once and the child is told to stop between two tokens (or two
 *   prompt chunks).
 * - Cache: the last results by request (an LRU, answered without IPC), plus `prefetch` for a speculative request.
 * - Prompt layout: suffix-first (SPM) for families trained with it, so each keystroke, which only extends the prefix,
 *   evaluates only the new tokens; llama-server's default `/infill` (PSM) re-evaluates the whole suffix instead.
 */
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { CancelledError, throwIfAborted, UserError } from "../errors";
import type { CompletionEngine, CompletionRequest, CompletionResult } from "./completionEngine";
import { CompletionResultCache, completionCacheKey } from "./completionResultCache";
import type { LocalEngineConfig } from "./engineFactory";
import { sleep } from "../abortableSleep";
import { workerScript } from "../workerScript";
import {
  isLocalEngineChildMessage,
  type CompletionReply,
  type LoadedModelInfo,
  type LocalEngineChildMessage,
  type LocalEngineParentMessage,
  type PromptLayout,
} from "./localEngineProtocol";

/** Tuning of the local engine beyond the user-facing configuration (benchmarks and tests set them). */
export interface LocalEngineTuning {
  /** Prompt layout; "auto" (default) = SPM where the family allows it. */
  readonly layout?: PromptLayout | "auto";
  /** llama.cpp batch size; default 512 (llama-server's n_ubatch). */
  readonly batchSize?: number;
  /** Flash attention in the context; default true. */
  readonly flashAttention?: boolean;
  /** Results kept in the LRU cache; default 64. */
  readonly cacheEntries?: number;
  /** First restart delay after a crash; default 250 ms (doubles per crash in a row, at most 30 s). */
  readonly restartBackoffMs?: number;
  /** Benchmarks: always generate maxTokens (end-of-generation tokens banned, stop texts ignored), as llama-server's `ignore_eos`. */
  readonly ignoreEos?: boolean;
}

const DEFAULT_IDLE_UNLOAD_MS = 5 * 60 * 1000;
const MAX_BACKOFF_MS = 30_000;

interface PendingRequest {
  readonly resolve: (reply: CompletionReply) => void;
  readonly reject: (error: Error) => void;
}

interface Worker {
  readonly child: ChildProcess;
  readonly loaded: Promise<LoadedModelInfo>;
  readonly pending: Map<number, PendingRequest>;
  /** True when we stop it on purpose (idle, dispose, failed load): its exit is not a crash. */
  stopping: boolean;
  stderrTail: string;
}

/** Rejects with CancelledError as soon as the signal aborts, whatever the promise does. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, onAbort?: () => void): Promise<T> {
  if (signal.aborted) {
    onAbort?.();
    return Promise.reject(new CancelledError());
  }
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      onAbort?.();
      reject(new CancelledError());
    };
    signal.addEventListener("abort", abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", abort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Completes with a local GGUF in a child process; see the module comment. */
export class LocalCompletionEngine implements CompletionEngine {
  readonly kind = "local";
  readonly description: string;
  private worker: Worker | undefined;
  private info: LoadedModelInfo | undefined;
  private nextId = 1;
  private crashesInARow = 0;
  private restartNotBefore = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private noticeShown = false;
  private disposed = false;
  private readonly cache: CompletionResultCache;
  private prefetching: { readonly key: string; readonly promise: Promise<CompletionResult>; readonly controller: AbortController } | undefined;

  constructor(
    private readonly config: LocalEngineConfig,
    private readonly tuning: LocalEngineTuning = {},
  ) {
    if (!Number.isInteger(config.threads) || config.threads < 1) {
      throw new UserError(`Invalid thread count ${config.threads} for the local completion engine.`, { action: "Set a whole number of threads, at least 1." });
    }
    this.description = `local · ${path.basename(config.modelPath)}`;
    this.cache = new CompletionResultCache(tuning.cacheEntries ?? 64);
  }

  /** What the child found at load (template, layout), once loaded. */
  get modelInfo(): LoadedModelInfo | undefined {
    return this.info;
  }

  /** The child's process id while one runs (tests kill it to check crash recovery). */
  get workerPid(): number | undefined {
    return this.worker?.child.pid;
  }

  async complete(request: CompletionRequest, signal: AbortSignal): Promise<CompletionResult> {
    const started = performance.now();
    this.checkUsable();
    throwIfAborted(signal);
    const key = completionCacheKey(request);
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      return { ...cached, fromCache: true, timings: { ...cached.timings, evaluatedPromptTokens: 0, firstTokenMs: undefined, totalMs: performance.now() - started } };
    }
    const prefetching = this.prefetching;
    if (prefetching !== undefined) {
      if (prefetching.key === key) return raceAbort(prefetching.promise, signal);
      prefetching.controller.abort();
    }
    return this.generate(request, key, signal, started);
  }

  /**
   * Computes a request in the background and keeps its result in the cache (the speculative request after an
   * accept); a later `complete` of the same request joins it, a different one cancels it. Never rejects.
   */
  prefetch(request: CompletionRequest): void {
    if (this.disposed) return;
    const key = completionCacheKey(request);
    if (this.cache.get(key) !== undefined || this.prefetching?.key === key) return;
    this.prefetching?.controller.abort();
    const controller = new AbortController();
    const promise = this.generate(request, key, controller.signal, performance.now());
    const entry = { key, promise, controller };
    this.prefetching = entry;
    promise.then(
      () => undefined,
      () => undefined,
    ).finally(() => {
      if (this.prefetching === entry) this.prefetching = undefined;
    });
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.prefetching?.controller.abort();
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    await this.stopWorker();
  }

  private checkUsable(): void {
    if (this.disposed) throw new UserError("The local completion engine was shut down.", { action: "Turn completions on again." });
  }

  private async generate(request: CompletionRequest, key: string, signal: AbortSignal, started: number): Promise<CompletionResult> {
    const worker = await this.ensureWorker(signal);
    const info = await raceAbort(worker.loaded, signal);
    const id = this.nextId++;
    const deadline = request.timeBudgetMs === undefined ? undefined : Date.now() + request.timeBudgetMs;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    const replyPromise = new Promise<CompletionReply>((resolve, reject) => {
      worker.pending.set(id, { resolve, reject });
    });
    this.send(worker, { type: "complete", id, request, deadline });
    let reply: CompletionReply;
    try {
      reply = await raceAbort(replyPromise, signal, () => {
        worker.pending.delete(id);
        this.send(worker, { type: "abort", id });
      });
    } finally {
      this.armIdleTimer();
    }
    this.crashesInARow = 0;
    let notice: string | undefined;
    if (info.fallbackNotice !== undefined && !this.noticeShown) {
      this.noticeShown = true;
      notice = info.fallbackNotice;
    }
    const result: CompletionResult = {
      text: reply.text,
      stopSequences: reply.stopSequences,
      fromCache: false,
      stoppedBy: reply.stoppedBy,
      timings: {
        promptTokens: reply.promptTokens,
        evaluatedPromptTokens: reply.evaluatedPromptTokens,
        generatedTokens: reply.generatedTokens,
        firstTokenMs: reply.firstTokenMs,
        totalMs: performance.now() - started,
      },
      ...(notice === undefined ? {} : { notice }),
      tokens: reply.tokens,
    };
    // A result cut by the time budget is not what the model would say with time: do not serve it again.
    if (reply.stoppedBy !== "time-budget") this.cache.set(key, result);
    return result;
  }

  private send(worker: Worker, message: LocalEngineParentMessage): void {
    if (worker.child.connected) worker.child.send(message);
  }

  private armIdleTimer(): void {
    const idleMs = this.config.idleUnloadMs ?? DEFAULT_IDLE_UNLOAD_MS;
    if (idleMs <= 0 || this.disposed) return;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.worker?.pending.size === 0) void this.stopWorker();
    }, idleMs);
    this.idleTimer.unref();
  }

  private async ensureWorker(signal: AbortSignal): Promise<Worker> {
    if (this.worker !== undefined) return this.worker;
    const wait = this.restartNotBefore - Date.now();
    if (wait > 0) await sleep(wait, signal);
    this.checkUsable();
    // Another request may have started one while this one waited out the backoff.
    const started = this.currentWorker();
    if (started !== undefined) return started;
    const worker = this.startWorker();
    this.worker = worker;
    return worker;
  }

  /** The worker as it is now (a method, so that a check before an await does not narrow what follows). */
  private currentWorker(): Worker | undefined {
    return this.worker;
  }

  private startWorker(): Worker {
    const { script, execArgv } = workerScript("localEngineWorker", __dirname, "completion worker");
    const child = fork(script, [], {
      execArgv: [...execArgv],
      // In VS Code's extension host process.execPath is Electron: make it behave as Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    const pending = new Map<number, PendingRequest>();
    let resolveLoaded: (info: LoadedModelInfo) => void = () => undefined;
    let rejectLoaded: (error: Error) => void = () => undefined;
    const loaded = new Promise<LoadedModelInfo>((resolve, reject) => {
      resolveLoaded = resolve;
      rejectLoaded = reject;
    });
    // Nobody may be waiting (a prefetch that was cancelled): never leave an unhandled rejection behind.
    loaded.catch(() => undefined);
    const worker: Worker = { child, loaded, pending, stopping: false, stderrTail: "" };
    child.stderr?.on("data", (chunk: Buffer) => {
      worker.stderrTail = (worker.stderrTail + chunk.toString("utf8")).slice(-4000);
    });
    child.on("message", (message: unknown) => {
      if (isLocalEngineChildMessage(message)) this.onMessage(worker, message, resolveLoaded, rejectLoaded);
    });
    child.on("error", (error) => {
      rejectLoaded(new UserError(`Cannot start the local completion worker: ${error.message}`, { inner: error }));
    });
    child.on("exit", (code, exitSignal) => {
      if (this.worker === worker) this.worker = undefined;
      const how = exitSignal ?? `exit code ${code ?? "?"}`;
      const detail = worker.stderrTail.trim().split("\n").slice(-2).join(" ");
      const error = worker.stopping
        ? new UserError("The local completion engine was stopped.", { action: "Try again." })
        : new UserError(`The local completion engine stopped unexpectedly (${how})${detail === "" ? "" : `: ${detail}`}.`, {
            cause: "llama.cpp crashed or the system ran out of memory.",
            action: "The next completion restarts it; if this repeats, pick a smaller model or lower the context size.",
          });
      if (!worker.stopping) {
        this.crashesInARow++;
        const backoff = Math.min(MAX_BACKOFF_MS, (this.tuning.restartBackoffMs ?? 250) * 2 ** (this.crashesInARow - 1));
        this.restartNotBefore = Date.now() + backoff;
      }
      rejectLoaded(error);
      for (const request of pending.values()) request.reject(error);
      pending.clear();
    });
    this.send(worker, {
      type: "load",
      modelPath: this.config.modelPath,
      threads: this.config.threads,
      contextSize: this.config.contextSize,
      batchSize: this.tuning.batchSize ?? Math.min(512, this.config.contextSize),
      gpuLayers: this.config.gpuLayers ?? 0,
      flashAttention: this.tuning.flashAttention ?? true,
      layout: this.tuning.layout ?? "auto",
      ignoreEos: this.tuning.ignoreEos ?? false,
    });
    return worker;
  }

  private onMessage(
    worker: Worker,
    message: LocalEngineChildMessage,
    resolveLoaded: (info: LoadedModelInfo) => void,
    rejectLoaded: (error: Error) => void,
  ): void {
    switch (message.type) {
      case "loaded":
        this.info = message.info;
        resolveLoaded(message.info);
        break;
      case "load-failed": {
        const error = new UserError(`Cannot load ${path.basename(this.config.modelPath)}: ${message.message}`, {
          action: message.action ?? "Check that the file is a complete GGUF model (download it again if it was cut short).",
        });
        rejectLoaded(error);
        for (const request of worker.pending.values()) request.reject(error);
        worker.pending.clear();
        // A child that could not load is of no use; the next request starts a fresh one.
        worker.stopping = true;
        if (this.worker === worker) this.worker = undefined;
        worker.child.kill("SIGKILL");
        break;
      }
      case "result":
        worker.pending.get(message.id)?.resolve(message.reply);
        worker.pending.delete(message.id);
        break;
      case "aborted":
        worker.pending.get(message.id)?.reject(new CancelledError());
        worker.pending.delete(message.id);
        break;
      case "failed":
        worker.pending.get(message.id)?.reject(new UserError(message.message, message.action === undefined ? {} : { action: message.action }));
        worker.pending.delete(message.id);
        break;
    }
  }

  private async stopWorker(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    this.worker = undefined;
    worker.stopping = true;
    if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => worker.child.once("exit", () => { resolve(); }));
    worker.child.kill("SIGKILL");
    await exited;
  }
}
