/**
 * One Compare Quantizations panel: a webview for one model family. The page says `ready`, then the panel sends the
 * comparison (family from the store and the quantize sidecars, numbers from the bench history); buttons come back as
 * typed messages: quantize more (Quantize Model on the parent), run bench (core runBench per variant, progress and
 * cancel in the page, records appended to the history), export CSV/Markdown (save dialog). Every incoming message is
 * narrowed by webview/protocol.ts before use.
 */
import { randomBytes } from "node:crypto";
import { writeFile, rename, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as vscode from "vscode";
import { comparisonToCsv, comparisonToMarkdown } from "../../core/bench/benchExport";
import { appendBenchRecord, benchBaselineCacheDir, benchHistoryPath, readBenchHistory } from "../../core/bench/benchHistory";
import { buildQuantizationComparison, type QuantizationComparison } from "../../core/bench/quantizationComparison";
import { findQuantizationFamily } from "../../core/bench/quantizationFamily";
import { runBench, type BenchRequest } from "../../core/bench/runBench";
import { CancelledError, describeError } from "../../core/errors";
import { parseWebviewMessage, type ExportFormat, type HostToWebviewMessage, type TaskProgress, type WebviewToHostMessage } from "../../../webview/protocol";
import { DEFAULT_QUALITY_CONTEXT, notifyBenchRecordAppended, onDidAppendBenchRecord } from "../benchmarkCommand";
import { CommandId } from "../contributionIds";
import type { Ctx } from "../ctx";
import { Disposable, toDisposable } from "../lifecycle";
import type { LocalModels } from "../localModels";
import { renderCompareHtml } from "./compareHtml";
import { threadsFromSetting } from "../../core/runtime/threadCount";
import { tempSiblingPath } from "../../core/fs/tempSibling";

export const COMPARE_VIEW_TYPE = "slmLab.compareQuantizations";

export class ComparePanel extends Disposable {
  private _comparison: QuantizationComparison | undefined;
  private ready = false;
  private readyWaiters: (() => void)[] = [];
  private task: AbortController | undefined;
  private readonly _onDidDispose = this._register(new vscode.EventEmitter<void>());
  readonly onDidDispose = this._onDidDispose.event;

  constructor(
    private readonly ctx: Ctx,
    private readonly models: LocalModels,
    readonly panel: vscode.WebviewPanel,
    /** Any member of the family; after the first load, the parent when there is one. */
    private modelPath: string,
  ) {
    super();
    const distWebview = vscode.Uri.joinPath(ctx.extensionUri, "dist", "webview");
    panel.webview.options = { enableScripts: true, localResourceRoots: [distWebview] };
    panel.iconPath = vscode.Uri.joinPath(ctx.extensionUri, "media", "slm-lab.svg");
    panel.webview.html = renderCompareHtml({
      cspSource: panel.webview.cspSource,
      nonce: randomBytes(16).toString("base64"),
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(distWebview, "main.js")).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(distWebview, "main.css")).toString(),
      title: panel.title,
    });
    this._register(panel.webview.onDidReceiveMessage((raw: unknown) => { void this.onMessage(raw); }));
    this._register(
      panel.onDidDispose(() => {
        this.task?.abort();
        this._onDidDispose.fire();
        this.dispose();
      }),
    );
    this._register(models.onDidChange(() => { if (this.ready) void this.refreshQuietly(); }));
    // A bench run from My Models (Benchmark Model) or another panel shows up here too.
    this._register(onDidAppendBenchRecord(({ historyFile }) => { if (this.ready && historyFile === this.historyFile() && this.task === undefined) void this.refreshQuietly(); }));
    this._register(toDisposable(() => { this.task?.abort(); panel.dispose(); }));
  }

  /** The data last sent to the page. */
  get comparison(): QuantizationComparison | undefined {
    return this._comparison;
  }

  /** The family member this panel was opened for (the parent once known). */
  get familyPath(): string {
    return this.modelPath;
  }

  /** Resolves once the page has said `ready` and received its first data (tests wait on it). */
  whenReady(): Promise<void> {
    if (this.ready && this._comparison !== undefined) return Promise.resolve();
    return new Promise((resolve) => { this.readyWaiters.push(resolve); });
  }

  /** Reads the family and the history again and sends them to the page (once it is ready). */
  async refresh(): Promise<QuantizationComparison> {
    const scan = await this.models.getScan().catch(() => undefined);
    const candidates = (scan?.models ?? []).filter((model) => model.error === undefined && model.files.length === model.partCount).map((model) => model.path);
    const family = await findQuantizationFamily(this.modelPath, { candidates });
    const history = await readBenchHistory(this.historyFile());
    const cpus = os.cpus();
    const comparison = buildQuantizationComparison({
      familyName: family.name,
      members: family.members,
      history,
      machine: { totalMemoryBytes: os.totalmem(), freeMemoryBytes: os.freemem(), cpuModel: cpus[0]?.model.trim() ?? "unknown CPU", cpuCount: cpus.length },
      contextSize: this.ctx.settings.values.completionContextSize,
    });
    if (family.parentPath !== undefined) this.modelPath = family.parentPath;
    this._comparison = comparison;
    this.panel.title = `Compare: ${family.name}`;
    if (this.ready) {
      await this.post({ type: "comparison", comparison, problems: family.problems });
      for (const resolve of this.readyWaiters.splice(0)) resolve();
    }
    return comparison;
  }

  private async refreshQuietly(): Promise<void> {
    try {
      await this.refresh();
    } catch (error) {
      this.ctx.log.warn(`Compare Quantizations: ${describeError(error)}`);
    }
  }

  /** Writes the comparison as CSV or Markdown to `file` (temp name, then renamed). */
  async exportTo(format: ExportFormat, file: string): Promise<void> {
    const comparison = this._comparison ?? (await this.refresh());
    const text = format === "csv" ? comparisonToCsv(comparison) : comparisonToMarkdown(comparison);
    const temp = tempSiblingPath(file);
    try {
      await writeFile(temp, text, "utf8");
      await rename(temp, file);
    } finally {
      await rm(temp, { force: true });
    }
  }

  /**
   * Benchmarks the given variants one after another (empty: those without a bench, or all when every one has one),
   * with progress in the page; each record is appended to the history as it finishes. Resolves to how many finished.
   */
  async runBench(modelPaths: readonly string[], signal?: AbortSignal): Promise<number> {
    if (this.task !== undefined) throw new Error("A bench or quantization is already running in this panel.");
    const comparison = this._comparison ?? (await this.refresh());
    const unbenched = comparison.variants.filter((variant) => variant.bench === undefined).map((variant) => variant.modelPath);
    const targets = modelPaths.length > 0 ? [...modelPaths] : unbenched.length > 0 ? unbenched : comparison.variants.map((variant) => variant.modelPath);
    // The parent first: its stored log-probs are the baseline every variant's KLD is computed against.
    const parent = comparison.parentPath;
    targets.sort((a, b) => Number(b === parent) - Number(a === parent));
    const abort = new AbortController();
    this.task = abort;
    const onOuterAbort = (): void => { abort.abort(); };
    signal?.addEventListener("abort", onOuterAbort);
    let done = 0;
    try {
      for (const [index, target] of targets.entries()) {
        const name = path.basename(target);
        const report = (task: TaskProgress | null): void => { void this.post({ type: "progress", task }); };
        report({ kind: "bench", message: `Benchmarking ${name} (${index + 1} of ${targets.length})…`, fraction: index / targets.length });
        const record = await runBench(this.benchRequest(target, parent), {
          signal: abort.signal,
          onProgress: (progress) => {
            report({ kind: "bench", message: `${name} (${index + 1} of ${targets.length}): ${progress.message}`, fraction: (index + Math.min(1, Math.max(0, progress.fraction))) / targets.length });
          },
        });
        await appendBenchRecord(this.historyFile(), record);
        notifyBenchRecordAppended({ historyFile: this.historyFile(), record });
        done++;
        await this.refresh();
      }
      return done;
    } finally {
      signal?.removeEventListener("abort", onOuterAbort);
      this.task = undefined;
      await this.post({ type: "progress", task: null });
    }
  }

  private benchRequest(modelPath: string, parentPath: string | undefined): BenchRequest {
    const values = this.ctx.settings.values;
    const evalText = values.benchEvalText.trim();
    return {
      modelPath,
      threads: threadsFromSetting(values.threads),
      promptTokens: values.benchPromptTokens,
      generatedTokens: values.benchGenerateTokens,
      repetitions: values.benchRepetitions,
      quality: {
        text: evalText === "" ? { kind: "bundled" } : { kind: "file", path: evalText },
        contextSize: DEFAULT_QUALITY_CONTEXT,
        cacheDir: benchBaselineCacheDir(this.models.locations().modelsDirectory),
        ...(parentPath === undefined || parentPath === modelPath ? {} : { baselineModelPath: parentPath }),
      },
    };
  }

  private historyFile(): string {
    return benchHistoryPath(this.models.locations().modelsDirectory);
  }

  private async post(message: HostToWebviewMessage): Promise<void> {
    try {
      await this.panel.webview.postMessage(message);
    } catch {
      // The panel was closed meanwhile.
    }
  }

  private async onMessage(raw: unknown): Promise<void> {
    const message = parseWebviewMessage(raw);
    if (message === undefined) {
      this.ctx.log.warn(`Compare Quantizations: ignored a message that does not fit the protocol: ${describeRawMessage(raw)}`);
      return;
    }
    try {
      await this.handle(message);
    } catch (error) {
      if (error instanceof CancelledError) {
        await this.post({ type: "notice", level: "info", message: "Cancelled." });
        return;
      }
      this.ctx.log.error(`Compare Quantizations: ${describeError(error)}`);
      await this.post({ type: "notice", level: "error", message: describeError(error) });
    }
  }

  private async handle(message: WebviewToHostMessage): Promise<void> {
    switch (message.type) {
      case "ready":
        this.ready = true;
        await this.refresh();
        return;
      case "refresh":
        await this.refresh();
        return;
      case "cancel":
        this.task?.abort();
        return;
      case "quantizeMore": {
        const parent = this._comparison?.parentPath ?? this.modelPath;
        await this.post({ type: "progress", task: { kind: "quantize", message: `Quantizing ${path.basename(parent)}: pick the types in the quick pick…` } });
        try {
          await vscode.commands.executeCommand(CommandId.quantizeModel, parent);
        } finally {
          await this.post({ type: "progress", task: null });
        }
        await this.refresh();
        return;
      }
      case "runBench": {
        const done = await this.runBench(message.modelPaths);
        await this.post({ type: "notice", level: "info", message: `Benchmarked ${done} variant${done === 1 ? "" : "s"}; results appended to ${this.historyFile()}.` });
        return;
      }
      case "export": {
        const comparison = this._comparison ?? (await this.refresh());
        const extension = message.format === "csv" ? "csv" : "md";
        const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
        const target = await vscode.window.showSaveDialog({
          title: `Export the comparison as ${message.format === "csv" ? "CSV" : "Markdown"}`,
          defaultUri: vscode.Uri.joinPath(folder, `${comparison.familyName}-quantizations.${extension}`),
          filters: message.format === "csv" ? { CSV: ["csv"] } : { Markdown: ["md"] },
        });
        if (target === undefined) return;
        await this.exportTo(message.format, target.fsPath);
        await this.post({ type: "notice", level: "info", message: `Exported to ${target.fsPath}.` });
        return;
      }
    }
  }
}

/** At most 200 characters of a rejected message, for the log. */
function describeRawMessage(raw: unknown): string {
  // JSON.stringify returns undefined for undefined and functions, whatever its declared type says.
  return raw === undefined || typeof raw === "function" ? typeof raw : JSON.stringify(raw).slice(0, 200);
}
