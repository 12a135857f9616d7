/**
 * "SLM Lab: Benchmark Model": picks a model (My Models node, Uri, path, or a quick pick), asks speed only or speed and
 * quality, runs the core bench (a child process: the extension host never blocks) under a cancellable progress
 * notification with the slmLab.bench.* settings, appends the record to the store's bench history, fires
 * `onDidAppendBenchRecord` (the Compare Quantizations panel listens) and shows a summary.
 */

import path from "node:path";
import * as vscode from "vscode";
import { benchBaselineCacheDir, benchHistoryPath, appendBenchRecord } from "../core/bench/benchHistory";
import { type BenchRecord } from "../core/bench/benchRecord";
import { runBench, type BenchRequest, type BenchTextSource } from "../core/bench/runBench";
import { CancelledError, describeError } from "../core/errors";
import { formatBytes } from "../core/format/humanUnits";
import { CommandId } from "./contributionIds";
import type { Ctx } from "./ctx";
import { Disposable, toDisposable } from "./lifecycle";
import type { LocalModels } from "./localModels";
import type { ModelCommandArgument } from "./modelCommands";
import { pickLocalModel, resolveModelArgument, usableModelPath } from "./modelPicker";
import { threadsFromSetting } from "../core/runtime/threadCount";
import { withCancellableProgress } from "./cancellableProgress";

/** llama-perplexity's default -c, the chunk size of the quality measurement. */
export const DEFAULT_QUALITY_CONTEXT = 512;

/** A record appended to a bench history, by this command or by anyone who calls `notifyBenchRecordAppended`. */
export interface BenchRecordAppended {
  readonly historyFile: string;
  readonly record: BenchRecord;
}

const appended = new vscode.EventEmitter<BenchRecordAppended>();
/** Fires after a bench record was appended to a history file (Compare Quantizations refreshes on it). */
export const onDidAppendBenchRecord: vscode.Event<BenchRecordAppended> = appended.event;

/** Tells the listeners of `onDidAppendBenchRecord` about a record appended elsewhere (e.g. the compare panel). */
export function notifyBenchRecordAppended(event: BenchRecordAppended): void {
  appended.fire(event);
}

/** Programmatic options (API and tests); any of them given skips the corresponding question or setting. */
export interface BenchmarkCommandOptions {
  readonly threads?: number;
  readonly promptTokens?: number;
  readonly generatedTokens?: number;
  readonly repetitions?: number;
  /** true: perplexity (and KLD vs the parent when known); false: speed only. Undefined asks (interactive). */
  readonly quality?: boolean;
  /** Chunk size for perplexity (default 512). */
  readonly contextSize?: number;
  /** Text for perplexity instead of slmLab.bench.evalText / the bundled text. */
  readonly text?: { readonly name: string; readonly text: string };
  /** The F16/BF16 model for KL divergence (default: the quantize sidecar's parent). */
  readonly baselineModelPath?: string;
  /** Run even if the memory estimate says the model does not fit. */
  readonly force?: boolean;
  /** Cancels like the notification's Cancel button. */
  readonly signal?: AbortSignal;
}

/** What the command did; returned to `executeCommand` callers (tests). */
export type BenchmarkOutcome =
  | { readonly status: "done"; readonly record: BenchRecord; readonly historyFile: string }
  | { readonly status: "cancelled" | "nothing" }
  | { readonly status: "failed"; readonly error: string };

export class BenchmarkCommand extends Disposable {
  private readonly disposed = new AbortController();

  constructor(
    private readonly ctx: Ctx,
    private readonly models: LocalModels,
  ) {
    super();
    this._register(toDisposable(() => { this.disposed.abort(); }));
    this._register(vscode.commands.registerCommand(CommandId.benchmarkModel, (argument: ModelCommandArgument, options?: unknown) => this.run(argument, asOptions(options))));
  }

  /** The command; never throws. */
  async run(argument: ModelCommandArgument, options: BenchmarkCommandOptions = {}): Promise<BenchmarkOutcome> {
    try {
      const modelPath = argument === undefined ? await this.pickModel() : await resolveModelArgument(this.models, argument);
      if (modelPath === undefined) return { status: "nothing" };
      const quality = options.quality ?? (await askQuality(modelPath));
      if (quality === undefined) return { status: "nothing" };
      return await this.benchmark(modelPath, quality, options);
    } catch (error) {
      this.ctx.log.error(`Benchmark: ${describeError(error)}`);
      void vscode.window.showErrorMessage(describeError(error));
      return { status: "failed", error: describeError(error) };
    }
  }

  private async benchmark(modelPath: string, quality: boolean, options: BenchmarkCommandOptions): Promise<BenchmarkOutcome> {
    const values = this.ctx.settings.values;
    const { modelsDirectory } = this.models.locations();
    const evalText = values.benchEvalText.trim();
    const text: BenchTextSource =
      options.text !== undefined ? { kind: "inline", ...options.text } : evalText === "" ? { kind: "bundled" } : { kind: "file", path: evalText };
    const request: BenchRequest = {
      modelPath,
      threads: options.threads ?? threadsFromSetting(values.threads),
      promptTokens: options.promptTokens ?? values.benchPromptTokens,
      generatedTokens: options.generatedTokens ?? values.benchGenerateTokens,
      repetitions: options.repetitions ?? values.benchRepetitions,
      skipMemoryCheck: options.force === true,
      ...(quality
        ? {
            quality: {
              text,
              contextSize: options.contextSize ?? DEFAULT_QUALITY_CONTEXT,
              cacheDir: benchBaselineCacheDir(modelsDirectory),
              ...(options.baselineModelPath === undefined ? {} : { baselineModelPath: options.baselineModelPath }),
            },
          }
        : {}),
    };
    const historyFile = benchHistoryPath(modelsDirectory);
    const name = path.basename(modelPath);
    let record: BenchRecord;
    try {
      record = await withCancellableProgress(
        `Benchmarking ${name}`,
        (progress) => runBench(request, { signal: progress.signal, onProgress: (step) => { progress.report(step.fraction, step.message); } }),
        [this.disposed.signal, options.signal],
      );
    } catch (error) {
      if (error instanceof CancelledError) {
        void vscode.window.showInformationMessage(`Benchmark of ${name} cancelled.`);
        return { status: "cancelled" };
      }
      throw error;
    }
    await appendBenchRecord(historyFile, record);
    notifyBenchRecordAppended({ historyFile, record });
    const summary = summarize(record);
    this.ctx.log.info(`Benchmark ${modelPath}: ${summary} [${record.engine}]`);
    void vscode.window.showInformationMessage(`${name}: ${summary}`, "Compare Quantizations").then((answer) => {
      if (answer !== undefined) void vscode.commands.executeCommand(CommandId.compareQuantizations, modelPath);
    });
    return { status: "done", record, historyFile };
  }


  private async pickModel(): Promise<string | undefined> {
    const model = await pickLocalModel(this.models, {
      title: "Benchmark Model",
      placeHolder: "Pick the model to benchmark",
      noModels: "No models to benchmark: download or convert one first, or put a GGUF file in the models folder.",
    });
    return model === undefined ? undefined : usableModelPath(model);
  }
}

/** "pp512 231.1 ± 2.0 t/s · tg128 35.6 ± 0.4 t/s · load 180 ms · RSS 512 MiB · PPL 12.34 · KLD 0.0123". */
export function summarize(record: BenchRecord): string {
  const parts: string[] = [];
  const pp = record.promptTokensPerSecond;
  const tg = record.generationTokensPerSecond;
  if (pp.samples.length > 0) parts.push(`pp${record.settings.promptTokens} ${pp.mean.toFixed(1)} ± ${pp.stddev.toFixed(1)} t/s`);
  if (tg.samples.length > 0) parts.push(`tg${record.settings.generatedTokens} ${tg.mean.toFixed(1)} ± ${tg.stddev.toFixed(1)} t/s`);
  parts.push(`load ${record.loadMs.mean.toFixed(0)} ms`, `RSS ${formatBytes(record.peakRssBytes)}`);
  if (record.quality !== undefined) {
    parts.push(`PPL ${record.quality.perplexity.toFixed(3)} ± ${record.quality.perplexityError.toFixed(3)}`);
    if (record.quality.meanKlDivergence !== undefined) {
      parts.push(`KLD ${record.quality.meanKlDivergence.toFixed(4)}`, `top-1 ${((record.quality.top1Agreement ?? 0) * 100).toFixed(1)}%`);
    }
  }
  return parts.join(" · ");
}

async function askQuality(modelPath: string): Promise<boolean | undefined> {
  const items: (vscode.QuickPickItem & { readonly quality: boolean })[] = [
    { label: "Speed", description: "load time, prompt processing and generation tok/s, memory (like llama-bench)", quality: false },
    { label: "Speed and quality", description: "also perplexity, and KL divergence against the F16/BF16 parent when known (slower)", quality: true },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: `Benchmark ${path.basename(modelPath)}`, placeHolder: "What to measure" });
  return picked?.quality;
}

/** A model that cannot be benchmarked says why. */
/** The second command argument when it is our options object (a tree's context menu may pass the selection array). */
function asOptions(value: unknown): BenchmarkCommandOptions {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  const record = value as Record<string, unknown>;
  const positive = (key: string): Partial<Record<string, number>> => {
    const entry = record[key];
    return typeof entry === "number" && Number.isInteger(entry) && entry >= 0 ? { [key]: entry } : {};
  };
  const text = record["text"];
  const textOption =
    typeof text === "object" && text !== null && typeof (text as Record<string, unknown>)["name"] === "string" && typeof (text as Record<string, unknown>)["text"] === "string"
      ? { text: text as { name: string; text: string } }
      : {};
  return {
    ...positive("threads"),
    ...positive("promptTokens"),
    ...positive("generatedTokens"),
    ...positive("repetitions"),
    ...positive("contextSize"),
    ...textOption,
    ...(typeof record["quality"] === "boolean" ? { quality: record["quality"] } : {}),
    ...(typeof record["baselineModelPath"] === "string" ? { baselineModelPath: record["baselineModelPath"] } : {}),
    ...(record["force"] === true ? { force: true } : {}),
    ...(record["signal"] instanceof AbortSignal ? { signal: record["signal"] } : {}),
  };
}
