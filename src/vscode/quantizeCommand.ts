/**
 * "SLM Lab: Quantize Model": picks a model (My Models node, Uri, path, or a quick pick), one or more quantization types
 * (presets first, then every type grouped, each with its bits/weight and, once a background dry run has computed it,
 * the exact output size), and runs the core quantizer (a child process: the extension host never blocks) under a
 * cancellable progress notification. Outputs go next to the input in the models folder as `<stem>-<TYPE>.gguf`.
 */

import { existsSync } from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { CancelledError, describeError, UserError } from "../core/errors";
import { formatBytes } from "../core/format/humanUnits";
import { findQuantizationType, quantizationPresets, quantizationTypes, type QuantizationType } from "../core/quantize/quantizationTypes";
import { quantizeModel, type QuantizeProgress } from "../core/quantize/quantizeModel";
import { isPathInside } from "../core/store/modelsDirectory";
import { CommandId } from "./contributionIds";
import type { Ctx } from "./ctx";
import { Disposable, toDisposable } from "./lifecycle";
import type { LocalModels } from "./localModels";
import type { ModelCommandArgument } from "./modelCommands";
import { pickLocalModel, resolveModelArgument, usableModelPath } from "./modelPicker";
import { askOverwrite } from "./overwritePrompt";
import { threadsFromSetting } from "../core/runtime/threadCount";
import { withCancellableProgress } from "./cancellableProgress";

/** Programmatic options (API and tests): given types skip the type picker; `ifExists` skips the overwrite question. */
export interface QuantizeCommandOptions {
  /** Type names, aliases or preset ids/labels ("Q4_0", "mobile"). */
  readonly types?: readonly string[];
  readonly ifExists?: "overwrite" | "skip";
  /** Quantize an already-quantized model without asking. */
  readonly allowRequantize?: boolean;
  /** Importance matrix file (llama-imatrix's .gguf or .dat) for every type; without it, types that need one ask for it. */
  readonly imatrix?: string;
  /** Cancels like the notification's Cancel button (programmatic callers in this extension host). */
  readonly signal?: AbortSignal;
}

/** What happened to one requested variant; the command returns one per type (tests check them). */
export interface QuantizeVariantOutcome {
  readonly type: string;
  readonly output: string;
  readonly status: "done" | "skipped" | "failed" | "cancelled" | "refused";
  readonly size?: number;
  readonly error?: string;
}

interface TypePickItem extends vscode.QuickPickItem {
  readonly type?: QuantizationType;
}

/** Names of types picked per group, in `quantizationTypes` order within each. */
const TYPE_GROUPS: readonly (readonly [string, (type: QuantizationType) => boolean])[] = [
  ["Legacy (round-to-nearest)", (type) => /^Q[458]_[01]$/.test(type.name)],
  ["K-quants", (type) => /^Q\d_K/.test(type.name)],
  ["I-quants", (type) => type.name.startsWith("IQ")],
  ["Ternary (BitNet-style models only)", (type) => type.ternary],
  ["Unquantized", (type) => ["F16", "BF16", "F32"].includes(type.name)],
];

export class QuantizeCommand extends Disposable {
  /** Dry-run sizes by `<input>\0<type>`, kept for the session: the picker shows them at once next time. */
  private readonly predictedSizes = new Map<string, number | "failed">();
  private readonly disposed = new AbortController();

  constructor(
    private readonly ctx: Ctx,
    private readonly models: LocalModels,
  ) {
    super();
    this._register(toDisposable(() => { this.disposed.abort(); }));
    this._register(
      vscode.commands.registerCommand(CommandId.quantizeModel, (argument: ModelCommandArgument, options?: unknown) => this.run(argument, asOptions(options))),
    );
  }

  /** The command: returns one outcome per requested type, or [] when nothing was chosen. Never throws. */
  async run(argument: ModelCommandArgument, options: QuantizeCommandOptions = {}): Promise<QuantizeVariantOutcome[]> {
    try {
      const input = argument === undefined ? await this.pickModel() : await resolveModelArgument(this.models, argument);
      if (input === undefined) return [];
      const interactive = options.types === undefined;
      const types = interactive ? await this.pickTypes(input) : resolveTypes(options.types);
      if (types.length === 0) return [];
      const imatrix = options.imatrix ?? (interactive && types.some((type) => type.requiresImatrix) ? await pickImportanceMatrix() : undefined);
      return await this.quantizeAll(input, types, imatrix === undefined ? options : { ...options, imatrix });
    } catch (error) {
      this.ctx.log.error(`Quantize: ${describeError(error)}`);
      void vscode.window.showErrorMessage(describeError(error));
      return [];
    }
  }

  private async quantizeAll(input: string, types: readonly QuantizationType[], options: QuantizeCommandOptions): Promise<QuantizeVariantOutcome[]> {
    const outcomes: QuantizeVariantOutcome[] = [];
    const jobs: { type: QuantizationType; output: string }[] = [];
    for (const type of types) {
      const output = this.outputPathFor(input, type);
      if (type.requiresImatrix && options.imatrix === undefined) {
        const message = `${type.name} needs an importance matrix: choose the file llama.cpp's llama-imatrix made for this model, or pick a type that needs none (IQ4_XS, IQ3_S, Q4_K_M…).`;
        void vscode.window.showWarningMessage(message);
        outcomes.push({ type: type.name, output, status: "refused", error: message });
        continue;
      }
      if (existsSync(output)) {
        const answer = options.ifExists ?? (await askOverwrite(output));
        if (answer !== "overwrite") {
          outcomes.push({ type: type.name, output, status: "skipped" });
          continue;
        }
      }
      jobs.push({ type, output });
    }
    if (jobs.length === 0) return outcomes;
    await vscode.workspace.fs.createDirectory(vscode.Uri.file(path.dirname(jobs[0]?.output ?? input)));

    const threads = this.threads();
    const done: { type: QuantizationType; output: string; size: number; durationMs: number }[] = [];
    let requantizeRefused: QuantizationType[] = [];
    await withCancellableProgress(
      `Quantizing ${path.basename(input)}`,
      async (progress) => {
        for (const [index, { type, output }] of jobs.entries()) {
          if (progress.signal.aborted) {
            outcomes.push({ type: type.name, output, status: "cancelled" });
            continue;
          }
          const onProgress = (step: QuantizeProgress): void => {
            const message = step.phase === "quantizing" ? `${type.name}: ${step.tensorsDone}/${step.tensorCount} ${step.tensorName ?? ""}` : `${type.name}: ${step.phase}`;
            progress.report((index + step.fraction) / jobs.length, message);
          };
          try {
            const result = await quantizeModel(input, output, {
              type,
              threads,
              allowRequantize: options.allowRequantize === true,
              ...(options.imatrix === undefined ? {} : { imatrix: options.imatrix }),
              signal: progress.signal,
              onProgress,
            });
            const size = result.outputSize ?? 0;
            this.ctx.log.info(`Quantized ${input} to ${type.name}: ${output} (${formatBytes(size)}, ${result.durationMs} ms, ${threads} threads)`);
            done.push({ type, output, size, durationMs: result.durationMs });
            outcomes.push({ type: type.name, output, status: "done", size });
          } catch (error) {
            if (error instanceof CancelledError) {
              outcomes.push({ type: type.name, output, status: "cancelled" });
              continue;
            }
            this.ctx.log.error(`Quantize ${input} to ${type.name}: ${describeError(error)}`);
            outcomes.push({ type: type.name, output, status: "failed", error: describeError(error) });
            if (isAlreadyQuantizedError(error)) requantizeRefused.push(type);
            else void vscode.window.showErrorMessage(`${type.name}: ${describeError(error)}`);
          }
        }
      },
      [this.disposed.signal, options.signal],
    );

    if (done.length > 0) {
      await this.models.refresh().catch((error: unknown) => { this.ctx.log.warn(`Rescanning models failed: ${describeError(error)}`); });
      void this.announce(input, done);
    }
    if (requantizeRefused.length > 0) {
      const types = requantizeRefused;
      requantizeRefused = [];
      const failure = outcomes.find((outcome) => outcome.status === "failed" && outcome.type === types[0]?.name);
      void vscode.window.showErrorMessage(failure?.error ?? `${path.basename(input)} is already quantized.`, "Quantize anyway").then((answer) => {
        if (answer === "Quantize anyway") {
          void this.run(input, { types: types.map((type) => type.name), allowRequantize: true, ...(options.ifExists === undefined ? {} : { ifExists: options.ifExists }) });
        }
      });
    }
    if (outcomes.some((outcome) => outcome.status === "cancelled")) void vscode.window.showInformationMessage("Quantization cancelled: no partial output was kept.");
    return outcomes;
  }

  private async announce(input: string, done: readonly { type: QuantizationType; output: string; size: number; durationMs: number }[]): Promise<void> {
    const last = done[done.length - 1];
    if (last === undefined) return;
    const sizes = done.map((entry) => `${entry.type.name} ${formatBytes(entry.size)}`).join(", ");
    const answer = await vscode.window.showInformationMessage(`Quantized ${path.basename(input)}: ${sizes}.`, "Show Model Info", "Reveal");
    if (answer === "Show Model Info") await vscode.commands.executeCommand(CommandId.showModelInfo, last.output);
    if (answer === "Reveal") await vscode.commands.executeCommand(CommandId.revealModel, last.output);
  }

  /**
   * `<stem>-<TYPE>.gguf` next to the input when it is in the models folder; otherwise (HF cache, anywhere else) in the
   * models folder under the model's `<publisher>/<repo>/` as the store files it, or at its top when there is none.
   */
  private outputPathFor(input: string, type: QuantizationType): string {
    const { modelsDirectory } = this.models.locations();
    const fileName = `${outputStem(input)}-${type.name}.gguf`;
    if (isPathInside(path.resolve(input), path.resolve(modelsDirectory))) return path.join(path.dirname(input), fileName);
    const repoId = this.models.findByPath(input)?.repoId;
    const repoParts = repoId?.split("/").filter((part) => part !== "" && part !== "." && part !== "..") ?? [];
    return path.join(modelsDirectory, ...repoParts, fileName);
  }

  /** `slmLab.threads`, where 0 means the machine's physical cores. */
  private threads(): number {
    return threadsFromSetting(this.ctx.settings.values.threads);
  }


  private async pickModel(): Promise<string | undefined> {
    const model = await pickLocalModel(this.models, {
      title: "Quantize Model",
      placeHolder: "Pick the model to quantize (best: its F16/BF16 original)",
      noModels: "No models to quantize: download or convert one first, or put a GGUF file in the models folder.",
      noModelsAction: { label: "Open Models Folder", command: CommandId.openModelsDirectory },
    });
    return model === undefined ? undefined : usableModelPath(model);
  }

  /** The type picker: multi-select; dry runs fill in exact sizes in the background (presets first, then the active item). */
  private pickTypes(input: string): Promise<QuantizationType[]> {
    const picker = vscode.window.createQuickPick<TypePickItem>();
    picker.title = `Quantize ${path.basename(input)}`;
    picker.placeholder = "Pick one or more types (sizes appear as dry runs finish)";
    picker.canSelectMany = true;
    picker.matchOnDescription = true;
    picker.matchOnDetail = true;
    const abort = new AbortController();
    const queue: QuantizationType[] = [];
    let running = false;
    const render = (): void => {
      if (abort.signal.aborted) return;
      const selected = new Set(picker.selectedItems.map((item) => item.label));
      const active = new Set(picker.activeItems.map((item) => item.label));
      const items = this.typeItems(input);
      picker.items = items;
      picker.selectedItems = items.filter((item) => selected.has(item.label));
      picker.activeItems = items.filter((item) => active.has(item.label));
    };
    const pump = async (): Promise<void> => {
      if (running) return;
      running = true;
      try {
        for (let type = queue.shift(); type !== undefined; type = queue.shift()) {
          if (abort.signal.aborted) return;
          if (this.predictedSizes.has(sizeKey(input, type))) continue;
          await this.predict(input, type, abort.signal);
          render();
        }
      } finally {
        running = false;
      }
    };
    const enqueue = (types: readonly QuantizationType[]): void => {
      for (const type of types) if (!type.requiresImatrix && !queue.includes(type) && !this.predictedSizes.has(sizeKey(input, type))) queue.push(type);
      void pump();
    };
    render();
    enqueue(quantizationPresets.flatMap((preset) => findQuantizationType(preset.type) ?? []));
    picker.onDidChangeActive((items) => { enqueue(items.flatMap((item) => item.type ?? [])); });
    return new Promise<QuantizationType[]>((resolve) => {
      let result: QuantizationType[] = [];
      picker.onDidAccept(() => {
        const chosen = picker.selectedItems.length > 0 ? picker.selectedItems : picker.activeItems;
        result = uniqueTypes(chosen.flatMap((item) => item.type ?? []));
        picker.hide();
      });
      picker.onDidHide(() => {
        abort.abort();
        picker.dispose();
        resolve(result);
      });
      picker.show();
    });
  }

  private typeItems(input: string): TypePickItem[] {
    const describe = (type: QuantizationType): string => {
      const bits = `${type.bitsPerWeight.toFixed(2)} bpw`;
      if (type.requiresImatrix) return `${bits} · needs an importance matrix (asked for next)`;
      const size = this.predictedSizes.get(sizeKey(input, type));
      if (size === undefined) return bits;
      return size === "failed" ? `${bits} · size unknown` : `${bits} · ${formatBytes(size)}`;
    };
    const items: TypePickItem[] = [{ label: "Presets", kind: vscode.QuickPickItemKind.Separator }];
    for (const preset of quantizationPresets) {
      const type = findQuantizationType(preset.type);
      if (type !== undefined) items.push({ label: preset.label, description: describe(type), detail: preset.detail, type });
    }
    const grouped = new Set<QuantizationType>();
    const groups = [...TYPE_GROUPS, ["Other", () => true] as const];
    for (const [title, belongs] of groups) {
      const members = quantizationTypes.filter((type) => !grouped.has(type) && belongs(type));
      if (members.length === 0) continue;
      items.push({ label: title, kind: vscode.QuickPickItemKind.Separator });
      for (const type of members) {
        grouped.add(type);
        items.push({
          label: type.requiresImatrix ? `$(key) ${type.name}` : type.name,
          description: describe(type),
          detail: type.mixtureOfExpertsOnly ? `${type.description} (only quantizes MoE expert tensors)` : type.description,
          type,
        });
      }
    }
    return items;
  }

  private async predict(input: string, type: QuantizationType, signal: AbortSignal): Promise<void> {
    const key = sizeKey(input, type);
    try {
      const result = await quantizeModel(input, this.outputPathFor(input, type), { type, threads: this.threads(), dryRun: true, signal, allowRequantize: true });
      this.predictedSizes.set(key, result.predictedSize);
    } catch (error) {
      if (signal.aborted) return;
      this.ctx.log.debug(`Dry run of ${type.name} on ${input}: ${describeError(error)}`);
      this.predictedSizes.set(key, "failed");
    }
  }
}

/** A model that cannot be quantized as it is says why. */
function resolveTypes(names: readonly string[]): QuantizationType[] {
  return uniqueTypes(
    names.map((name) => {
      const type = findQuantizationType(name);
      if (type === undefined) throw new UserError(`Unknown quantization type '${name}'.`, { action: `Use one of ${quantizationTypes.map((entry) => entry.name).join(", ")}.` });
      return type;
    }),
  );
}

function uniqueTypes(types: readonly QuantizationType[]): QuantizationType[] {
  return [...new Set(types)];
}

/** The second command argument when it is our options object (a tree's context menu may pass the selection array). */
function asOptions(value: unknown): QuantizeCommandOptions {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  const record = value as Record<string, unknown>;
  const types = record["types"];
  const ifExists = record["ifExists"];
  return {
    ...(Array.isArray(types) && types.every((entry): entry is string => typeof entry === "string") ? { types } : {}),
    ...(ifExists === "overwrite" || ifExists === "skip" ? { ifExists } : {}),
    ...(record["allowRequantize"] === true ? { allowRequantize: true } : {}),
    ...(typeof record["imatrix"] === "string" ? { imatrix: record["imatrix"] } : {}),
    ...(record["signal"] instanceof AbortSignal ? { signal: record["signal"] } : {}),
  };
}

/** The input's file name without `.gguf` and a trailing `-F16`/`-BF16`/`-F32` (any case, `-`, `_` or `.`). */
export function outputStem(input: string): string {
  return path.basename(input).replace(/\.gguf$/i, "").replace(/[-_.](b?f16|f32)$/i, "");
}

function sizeKey(input: string, type: QuantizationType): string {
  return `${input}\0${type.name}`;
}

/** Asks for an importance matrix file; undefined when the user closes the dialog. */
async function pickImportanceMatrix(): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title: "Importance matrix for the I-quant types (from llama.cpp's llama-imatrix)",
    openLabel: "Use This Importance Matrix",
    canSelectMany: false,
    filters: { "Importance matrix": ["gguf", "dat", "imatrix"], "All files": ["*"] },
  });
  return picked?.[0]?.fsPath;
}

/** The core quantizer's UserError for an already-quantized input (the one error with a "do it anyway" answer). */
function isAlreadyQuantizedError(error: unknown): boolean {
  return error instanceof UserError && error.message.includes(" is already quantized ");
}

