/**
 * Owns the one completion engine: created on first use from the settings (engine kind, model, endpoint, threads,
 * context size, API key from SecretStorage), recreated when one of those changes, disposed with the extension.
 * A local model is checked (GGUF header) before an engine is made for it, so a missing or corrupt file is a clear
 * error at once. After a failure the engine is not asked again: a local model that never loaded until the settings
 * change or the user retries (a corrupt model stays broken); otherwise for a short back-off (an endpoint may come
 * back, a crashed engine restarts).
 */
import * as vscode from "vscode";
import { describeError, UserError } from "../../core/errors";
import { readGgufSummary } from "../../core/gguf/ggufModelSummary";
import type { CompletionEngine } from "../../core/runtime/completionEngine";
import { createCompletionEngine, type EngineConfig } from "../../core/runtime/engineFactory";
import type { Ctx } from "../ctx";
import { Disposable, toDisposable } from "../lifecycle";
import type { SettingName } from "../settingsSchema";
import { engineConfigFor, engineConfigKey, type EngineConfigOutcome } from "./completionEngineConfig";
import { errorSummary, type CompletionStatus } from "./completionStatus";
import { threadsFromSetting } from "../../core/runtime/threadCount";

/** SecretStorage key of the remote endpoint's API key. */
export const COMPLETION_API_KEY_SECRET = "slmLab.completion.apiKey";

/** How long an engine is left alone after a passing failure (endpoint down, crash) before it is tried again. */
const RETRY_AFTER_MS = 5_000;

/** Settings whose change means a different engine. */
const ENGINE_SETTINGS: readonly SettingName[] = ["completionEngine", "completionModel", "completionEndpoint", "completionEndpointModel", "completionContextSize", "threads", "gpuLayers"];

export interface EngineEntry {
  readonly engine: CompletionEngine;
  readonly config: EngineConfig;
  readonly engineLabel: string;
  readonly modelLabel: string;
  /** True once a request has succeeded (the model is loaded / the endpoint answers). */
  warmed: boolean;
  /** Notices already shown for this engine. */
  readonly noticesShown: Set<string>;
}

export type EngineAcquisition = { readonly kind: "engine"; readonly entry: EngineEntry } | { readonly kind: "unavailable"; readonly status: CompletionStatus };

interface Failure {
  readonly status: CompletionStatus & { readonly state: "error" };
  readonly at: number;
  readonly permanent: boolean;
}

export class CompletionEngineHost extends Disposable {
  private entry: EngineEntry | undefined;
  private entryKey: string | undefined;
  private failure: Failure | undefined;
  private apiKey: string | undefined;
  private apiKeyLoaded = false;
  private readonly _onDidReset = this._register(new vscode.EventEmitter<void>());
  /** Fires when the engine was dropped (settings changed, retry): the status should be recomputed. */
  readonly onDidReset = this._onDidReset.event;

  constructor(private readonly ctx: Ctx) {
    super();
    this._register(
      ctx.settings.onDidChange(({ changed }) => {
        if (ENGINE_SETTINGS.some((name) => changed.has(name))) this.reset();
      }),
    );
    this._register(
      ctx.extensionContext.secrets.onDidChange((event) => {
        if (event.key !== COMPLETION_API_KEY_SECRET) return;
        this.apiKeyLoaded = false;
        this.reset();
      }),
    );
    this._register(toDisposable(() => { this.disposeEngine(); }));
  }

  /** What the settings name now, without creating anything. */
  configuration(): EngineConfigOutcome {
    const values = this.ctx.settings.values;
    return engineConfigFor({
      engine: values.completionEngine,
      model: values.completionModel,
      endpoint: values.completionEndpoint,
      endpointModel: values.completionEndpointModel,
      contextSize: values.completionContextSize,
      threads: threadsFromSetting(values.threads),
      gpuLayers: values.gpuLayers,
      ...(this.apiKey === undefined ? {} : { apiKey: this.apiKey }),
    });
  }

  /** The engine to ask now, or the status that says why there is none. */
  async acquire(): Promise<EngineAcquisition> {
    if (!this.apiKeyLoaded) {
      this.apiKey = (await this.ctx.extensionContext.secrets.get(COMPLETION_API_KEY_SECRET)) ?? undefined;
      this.apiKeyLoaded = true;
    }
    const outcome = this.configuration();
    if (outcome.kind === "no-model") return { kind: "unavailable", status: { state: "no-model" } };
    if (outcome.kind === "no-endpoint") return { kind: "unavailable", status: { state: "no-endpoint", engine: outcome.engineLabel } };
    const key = engineConfigKey(outcome.config);
    if (key !== this.entryKey) {
      this.disposeEngine();
      this.failure = undefined;
      this.entryKey = key;
    }
    if (this.failure !== undefined) {
      if (this.failure.permanent || Date.now() - this.failure.at < RETRY_AFTER_MS) return { kind: "unavailable", status: this.failure.status };
      this.failure = undefined;
    }
    if (this.entry !== undefined) return { kind: "engine", entry: this.entry };
    try {
      if (outcome.config.kind === "local") await checkModelFile(outcome.config.modelPath);
      const engine = createCompletionEngine(outcome.config);
      this.entry = { engine, config: outcome.config, engineLabel: outcome.engineLabel, modelLabel: outcome.modelLabel, warmed: false, noticesShown: new Set() };
      this.ctx.log.info(`Completion engine: ${engine.description}`);
      return { kind: "engine", entry: this.entry };
    } catch (error) {
      return { kind: "unavailable", status: this.recordFailure(outcome.engineLabel, outcome.modelLabel, error, outcome.config.kind === "local") };
    }
  }

  /**
   * Records that the current engine failed: returns the error status. A local engine that never answered (its model
   * does not load) is dropped and not tried again until the settings change or `retry()`; one that has answered before
   * (a crash: the engine restarts its process itself) and a remote one are left alone for a few seconds.
   */
  reportFailure(entry: EngineEntry, error: unknown): CompletionStatus & { readonly state: "error" } {
    const permanent = entry.config.kind === "local" && !entry.warmed;
    const status = this.recordFailure(entry.engineLabel, entry.modelLabel, error, permanent);
    if (permanent && this.entry === entry) this.disposeEngine();
    return status;
  }

  /** Forgets a failure and the engine, so the next request starts afresh. */
  retry(): void {
    this.reset();
  }

  /** The last failure's status, if the engine is failing now. */
  get failureStatus(): CompletionStatus | undefined {
    return this.failure?.status;
  }

  private recordFailure(engineLabel: string, modelLabel: string, error: unknown, permanent: boolean): CompletionStatus & { readonly state: "error" } {
    const message = error instanceof UserError ? [error.message, error.causeHint].filter((part) => part !== undefined).join(" ") : describeError(error);
    const action = error instanceof UserError ? error.action : undefined;
    const status = {
      state: "error" as const,
      engine: engineLabel,
      model: modelLabel,
      summary: errorSummary(message),
      message,
      ...(action === undefined ? {} : { action }),
    };
    this.failure = { status, at: Date.now(), permanent };
    this.ctx.log.error(`Completion engine ${engineLabel} (${modelLabel}): ${describeError(error)}`);
    return status;
  }

  private reset(): void {
    this.disposeEngine();
    this.entryKey = undefined;
    this.failure = undefined;
    this._onDidReset.fire();
  }

  private disposeEngine(): void {
    const entry = this.entry;
    this.entry = undefined;
    if (entry === undefined) return;
    entry.engine.dispose().catch((error: unknown) => { this.ctx.log.warn(`Closing the completion engine: ${describeError(error)}`); });
  }
}

/** A model file that is missing or not a readable GGUF fails here, before any engine is started for it. */
async function checkModelFile(modelPath: string): Promise<void> {
  try {
    await readGgufSummary(modelPath);
  } catch (error) {
    throw new UserError(`Cannot use ${modelPath} for completions: ${describeError(error)}`, {
      inner: error,
      action: "Pick another model with “SLM Lab: Select Completion Model”.",
    });
  }
}

