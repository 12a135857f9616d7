/**
 * "SLM Lab: Is This Quant Good Enough for My Code?": picks variants of a model from My Models (those next to the
 * completion model preselected) and source files of the workspace, samples held-out lines (seeded), asks each
 * variant to complete them with the local engine under a cancellable progress notification, shows the table in a
 * Markdown document and the log, and appends the scores (never the code) to the models folder's quality history.
 */
import path from "node:path";
import * as vscode from "vscode";
import {
  appendCompletionQualityRecord,
  completionQualityHistoryPath,
  evaluateCompletionQuality,
  formatQualityReport,
  qualityRecord,
  sampleHeldOutLines,
  type QualitySourceFile,
  type QualityVariant,
  type VariantQuality,
} from "../../core/completion/quantQuality";
import { CancelledError, describeError, UserError } from "../../core/errors";
import { formatBytes } from "../../core/format/humanUnits";
import { createCompletionEngine } from "../../core/runtime/engineFactory";
import type { StoredModel } from "../../core/store/storedModel";
import { CommandId } from "../contributionIds";
import type { Ctx } from "../ctx";
import { Disposable } from "../lifecycle";
import type { LocalModels } from "../localModels";
import { relativePath } from "./extraContextTracker";
import { threadsFromSetting } from "../../core/runtime/threadCount";
import { withCancellableProgress } from "../cancellableProgress";

/** Programmatic options (API and tests): given values skip the pickers. */
export interface QualityCommandOptions {
  readonly modelPaths?: readonly string[];
  readonly files?: readonly string[];
  readonly lines?: number;
  readonly seed?: number;
  readonly maxTokens?: number;
  /** Do not open the report document. */
  readonly quiet?: boolean;
}

export interface QualityCommandResult {
  readonly results: readonly VariantQuality[];
  readonly report: string;
  readonly historyFile: string;
}

const SOURCE_GLOB = "**/*.{ts,tsx,js,jsx,mjs,cjs,py,go,rs,java,kt,c,h,cc,cpp,hpp,cs,rb,php,swift,scala,lua,sh}";
const EXCLUDE_GLOB = "**/{node_modules,dist,out,build,target,vendor,.git,.venv,venv,__pycache__}/**";
const MAX_FILES = 200;
/** Files bigger than this are skipped (generated or minified). */
const MAX_FILE_BYTES = 512 * 1024;

export class CompletionQualityCommand extends Disposable {
  constructor(
    private readonly ctx: Ctx,
    private readonly models: LocalModels,
  ) {
    super();
    this._register(vscode.commands.registerCommand(CommandId.evaluateCompletionQuality, (options?: unknown) => this.run(asOptions(options))));
  }

  /** The command; undefined when nothing was chosen, cancelled or failed (failures are shown). Never throws. */
  async run(options: QualityCommandOptions = {}): Promise<QualityCommandResult | undefined> {
    try {
      const variants = options.modelPaths === undefined ? await this.pickVariants() : options.modelPaths.map((file) => ({ label: variantLabel(file, this.models.findByPath(file)), modelPath: file }));
      if (variants.length === 0) return undefined;
      const files = await this.sourceFiles(options.files);
      if (files.length === 0) {
        void vscode.window.showInformationMessage("No source files to sample: open a folder with code (or pass files).");
        return undefined;
      }
      const seed = options.seed ?? 1;
      const maxTokens = options.maxTokens ?? 32;
      const lines = sampleHeldOutLines(files, { count: options.lines ?? 20, seed });
      if (lines.length === 0) throw new UserError("The files have no lines worth predicting (only blank, short or comment lines).");
      const threads = threadsFromSetting(this.ctx.settings.values.threads);
      const contextSize = Math.min(this.ctx.settings.values.completionContextSize, 2048);
      this.ctx.log.info(`Completion quality: ${lines.length} lines from ${files.length} file(s), seed ${seed}, ${variants.length} variant(s), ${threads} threads`);

      const results = await withCancellableProgress("Is this quant good enough?", (progress) =>
        evaluateCompletionQuality(variants, lines, {
          maxTokens,
          signal: progress.signal,
          createEngine: (variant) => createCompletionEngine({ kind: "local", modelPath: variant.modelPath, threads, contextSize }),
          onProgress: (step) => {
            progress.report((step.variantIndex + step.linesDone / Math.max(1, step.lineCount)) / step.variantCount, `${step.variant}: line ${step.linesDone}/${step.lineCount}`);
          },
        }),
      );
      const about = { files: files.length, seed, maxTokens };
      const report = formatQualityReport(results, about);
      const historyFile = completionQualityHistoryPath(this.models.locations().modelsDirectory);
      await appendCompletionQualityRecord(historyFile, qualityRecord(results, about));
      for (const row of results) {
        this.ctx.log.info(`Completion quality ${row.label}: exact ${(row.exactMatchRate * 100).toFixed(1)} %, edit similarity ${row.meanEditSimilarity.toFixed(3)}, ${row.meanLatencyMs.toFixed(0)} ms/line, ${row.failures} failure(s)`);
      }
      if (options.quiet !== true) {
        const document = await vscode.workspace.openTextDocument({ language: "markdown", content: report });
        await vscode.window.showTextDocument(document, { preview: false });
      }
      return { results, report, historyFile };
    } catch (error) {
      if (error instanceof CancelledError) {
        void vscode.window.showInformationMessage("Completion quality evaluation cancelled.");
        return undefined;
      }
      this.ctx.log.error(`Completion quality: ${describeError(error)}`);
      void vscode.window.showErrorMessage(describeError(error));
      return undefined;
    }
  }

  /** Multi-select over My Models; the completion model and the files next to it (its variants) preselected. */
  private async pickVariants(): Promise<QualityVariant[]> {
    const scan = await this.models.getScan();
    const readable = scan.models.filter((model) => model.error === undefined && model.files.length >= model.partCount);
    if (readable.length === 0) {
      void vscode.window.showInformationMessage("No models to evaluate: download a coder model and quantize it first.");
      return [];
    }
    const current = this.ctx.settings.values.completionModel;
    const family = current === "" ? undefined : path.dirname(current);
    interface Item extends vscode.QuickPickItem {
      readonly model: StoredModel;
    }
    const items: Item[] = readable.map((model) => ({
      label: variantLabel(model.path, model),
      description: `${model.label} · ${formatBytes(model.sizeBytes)}`,
      detail: model.path,
      picked: family !== undefined && path.dirname(model.path) === family,
      model,
    }));
    const picked = await vscode.window.showQuickPick(items, {
      title: "Is This Quant Good Enough for My Code?",
      placeHolder: "Pick the variants to compare (e.g. Q8_0, Q5_1, Q4_0 of one model)",
      canPickMany: true,
      matchOnDetail: true,
    });
    return (picked ?? []).map((item) => ({ label: item.label, modelPath: item.model.path }));
  }

  /** The given files, or the workspace's source files (up to MAX_FILES, small ones, no build or dependency folders). */
  private async sourceFiles(given: readonly string[] | undefined): Promise<QualitySourceFile[]> {
    const uris = given === undefined ? await vscode.workspace.findFiles(SOURCE_GLOB, EXCLUDE_GLOB, MAX_FILES) : given.map((file) => vscode.Uri.file(file));
    const files: QualitySourceFile[] = [];
    for (const uri of uris) {
      try {
        const stat = await vscode.workspace.fs.stat(uri);
        if (stat.size > MAX_FILE_BYTES) continue;
        const document = await vscode.workspace.openTextDocument(uri);
        files.push({ filePath: relativePath(uri), languageId: document.languageId, text: document.getText() });
      } catch (error) {
        this.ctx.log.warn(`Completion quality: skipping ${uri.fsPath}: ${describeError(error)}`);
      }
    }
    // Sampling is seeded over the files in a stable order, whatever order the search returned them in.
    return files.sort((a, b) => a.filePath.localeCompare(b.filePath));
  }
}

/** "Q4_0" from the model's summary, else the file name. */
function variantLabel(file: string, model: StoredModel | undefined): string {
  const type = model?.summary?.fileType;
  const name = path.basename(file).replace(/\.gguf$/i, "");
  return type === undefined ? name : `${type} · ${name}`;
}

function asOptions(value: unknown): QualityCommandOptions {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  const record = value as Record<string, unknown>;
  const strings = (entry: unknown): string[] | undefined => (Array.isArray(entry) && entry.every((item): item is string => typeof item === "string") ? entry : undefined);
  const count = (entry: unknown): number | undefined => (typeof entry === "number" && Number.isInteger(entry) && entry > 0 ? entry : undefined);
  const modelPaths = strings(record["modelPaths"]);
  const files = strings(record["files"]);
  const lines = count(record["lines"]);
  const seed = typeof record["seed"] === "number" ? record["seed"] : undefined;
  const maxTokens = count(record["maxTokens"]);
  return {
    ...(modelPaths === undefined ? {} : { modelPaths }),
    ...(files === undefined ? {} : { files }),
    ...(lines === undefined ? {} : { lines }),
    ...(seed === undefined ? {} : { seed }),
    ...(maxTokens === undefined ? {} : { maxTokens }),
    ...(record["quiet"] === true ? { quiet: true } : {}),
  };
}
