/**
 * The inline completion provider for every language: debounce, the request (windows by token budget, mode, extra
 * context), the engine call with the CancellationToken wired to an AbortController (VS Code cancels a request as soon
 * as the user types on, and generation stops at once), a time budget with a watchdog for engines that never answer,
 * postprocessing, and one ghost-text item at the cursor (VS Code provides word/line partial accept on it). It never
 * throws into the editor: failures go to the status bar and the log.
 */
import * as vscode from "vscode";
import { postprocessCompletion } from "../../core/completion/postprocess";
import { CancelledError, describeError } from "../../core/errors";
import type { CompletionEngine, CompletionRequest, CompletionResult } from "../../core/runtime/completionEngine";
import type { Ctx } from "../ctx";
import type { CompletionEngineHost, EngineEntry } from "./completionEngineHost";
import { formatLatency, tokensPerSecond } from "./completionStatus";
import type { CompletionStatusBar } from "./completionStatusBar";
import { buildCompletionRequest, maxCharsAround } from "./completionRequestBuilder";
import { relativePath, type ExtraContextTracker } from "./extraContextTracker";
import { isLanguageEnabled } from "./languageEnablement";

/** What one request came to; the API returns it (tests), the provider turns `suggestion` into an item. */
export interface CompletionAttempt {
  readonly outcome: "off" | "language-off" | "unavailable" | "cancelled" | "empty" | "error" | "suggested";
  /** The text shown as ghost text. */
  readonly suggestion?: string;
  /** The engine's raw output. */
  readonly raw?: string;
  readonly result?: CompletionResult;
  readonly request?: CompletionRequest;
  /** The error's one line, for `error` and `unavailable`. */
  readonly error?: string;
}

export interface CompleteOptions {
  /** Wait slmLab.completion.debounceMs first (typing); default true. */
  readonly debounce?: boolean;
}

/** Extra time a warm engine gets past the time budget before the watchdog aborts it (an endpoint that hangs). */
const WATCHDOG_GRACE_MS = 5_000;
/** A cold engine loads its model first: the watchdog waits this long. */
const COLD_WATCHDOG_MS = 120_000;

export class SlmInlineCompletionProvider implements vscode.InlineCompletionItemProvider {
  /** Per document: the absolute offset the last prompt's prefix started at (see buildCompletionRequest's `prefixAnchor`). */
  private readonly prefixAnchors = new Map<string, number>();

  constructor(
    private readonly ctx: Ctx,
    private readonly host: CompletionEngineHost,
    private readonly tracker: ExtraContextTracker,
    private readonly statusBar: CompletionStatusBar,
  ) {}

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const attempt = await this.complete(document, position, token, { debounce: context.triggerKind === vscode.InlineCompletionTriggerKind.Automatic });
    if (attempt.suggestion === undefined || token.isCancellationRequested) return undefined;
    return [new vscode.InlineCompletionItem(attempt.suggestion, new vscode.Range(position, position))];
  }

  /** Asks the engine for a suggestion at `position`. Never throws. */
  async complete(document: vscode.TextDocument, position: vscode.Position, token?: vscode.CancellationToken, options: CompleteOptions = {}): Promise<CompletionAttempt> {
    try {
      return await this.run(document, position, token, options);
    } catch (error) {
      // Anything unexpected (a bug here, not the engine's failure): logged, never thrown into the editor.
      this.ctx.log.error(`Inline completion failed: ${describeError(error)}`);
      return { outcome: "error", error: describeError(error) };
    }
  }

  private async run(document: vscode.TextDocument, position: vscode.Position, token: vscode.CancellationToken | undefined, options: CompleteOptions): Promise<CompletionAttempt> {
    const settings = this.ctx.settings.values;
    if (!settings.completionEnabled) return { outcome: "off" };
    if (!isLanguageEnabled(settings.completionLanguages, document.languageId)) return { outcome: "language-off" };
    if (options.debounce !== false && settings.completionDebounceMs > 0) {
      if (!(await delay(settings.completionDebounceMs, token))) return { outcome: "cancelled" };
    }
    if (token?.isCancellationRequested === true) return { outcome: "cancelled" };

    const acquired = await this.host.acquire();
    if (acquired.kind === "unavailable") {
      this.statusBar.set(acquired.status);
      return { outcome: "unavailable", error: "message" in acquired.status ? acquired.status.message : acquired.status.state };
    }
    const { entry } = acquired;
    const request = this.buildRequest(document, position);
    if (!entry.warmed) this.statusBar.set({ state: "loading", engine: entry.engineLabel, model: entry.modelLabel });
    if (settings.completionLogPrompts) this.ctx.log.info(`Completion prompt (${entry.engineLabel}): ${JSON.stringify({ prefix: request.prefix, suffix: request.suffix, extraContext: request.extraContext })}`);

    const abort = new AbortController();
    const onCancel = token?.onCancellationRequested(() => { abort.abort(); });
    const watchdogState = { fired: false };
    const watchdog = setTimeout(
      () => {
        watchdogState.fired = true;
        abort.abort();
      },
      entry.warmed ? settings.completionTimeBudgetMs + WATCHDOG_GRACE_MS : COLD_WATCHDOG_MS,
    );
    const started = performance.now();
    let result: CompletionResult;
    try {
      if (isCancelled(token)) abort.abort();
      result = await entry.engine.complete(request, abort.signal);
    } catch (error) {
      if (watchdogState.fired) {
        const status = this.host.reportFailure(entry, new Error(`no answer within ${formatLatency(performance.now() - started)} (timed out)`));
        this.statusBar.set(status);
        return { outcome: "error", request, error: status.message };
      }
      if (error instanceof CancelledError || abort.signal.aborted) {
        this.ctx.log.debug(`Completion cancelled after ${formatLatency(performance.now() - started)}`);
        return { outcome: "cancelled", request };
      }
      const status = this.host.reportFailure(entry, error);
      this.statusBar.set(status);
      return { outcome: "error", request, error: describeError(error) };
    } finally {
      clearTimeout(watchdog);
      onCancel?.dispose();
    }
    // A cold request's total includes loading the model: its rate would say nothing about generation.
    const wasWarm = entry.warmed;
    entry.warmed = true;
    this.showNoticeOnce(entry, result.notice);

    const suggestion = postprocessCompletion(result.text, {
      prefix: request.prefix,
      suffix: request.suffix,
      mode: request.mode,
      languageId: document.languageId,
      stopSequences: result.stopSequences,
      tabSize: tabSizeOf(document),
    });
    const timings = result.timings;
    const rate = wasWarm ? tokensPerSecond(timings.generatedTokens, timings.totalMs, timings.firstTokenMs) : undefined;
    this.statusBar.set({
      state: "ready",
      engine: entry.engineLabel,
      model: entry.modelLabel,
      lastLatencyMs: timings.totalMs,
      ...(rate === undefined ? {} : { tokensPerSecond: rate }),
      fromCache: result.fromCache,
    });
    this.log(entry, document, request, result, suggestion, settings.completionLogPrompts);
    if (suggestion === undefined) return { outcome: "empty", raw: result.text, result, request };
    this.prefetchAccepted(entry, document, position, suggestion);
    return { outcome: "suggested", suggestion, raw: result.text, result, request };
  }

  /**
   * Speculation, as llama.vscode does: while the suggestion is shown, the engine computes the one that will be asked
   * for when it is accepted (the same document with the suggestion inserted). Typing on instead aborts it (the engine
   * drops a prefetch whose request is not the next one asked).
   */
  private prefetchAccepted(entry: EngineEntry, document: vscode.TextDocument, position: vscode.Position, suggestion: string): void {
    const engine = entry.engine;
    if (!hasPrefetch(engine)) return;
    try {
      engine.prefetch(this.buildRequest(document, position, suggestion));
    } catch (error) {
      this.ctx.log.debug(`Completion prefetch: ${describeError(error)}`);
    }
  }

  /** The request at `position`; with `inserted`, as if that text had been typed there (the cursor after it). */
  private buildRequest(document: vscode.TextDocument, position: vscode.Position, inserted = ""): CompletionRequest {
    const settings = this.ctx.settings.values;
    // Only the part of a huge document that can reach the windows is read.
    const reach = maxCharsAround(settings.completionContextSize, settings.completionMaxTokens);
    const cursor = document.offsetAt(position);
    const startLine = document.positionAt(Math.max(0, cursor - reach)).line;
    const start = new vscode.Position(startLine, 0);
    const end = document.positionAt(cursor + reach);
    const slice = document.getText(new vscode.Range(start, end));
    const before = cursor - document.offsetAt(start);
    const text = inserted === "" ? slice : slice.slice(0, before) + inserted + slice.slice(before);
    const cursorOffset = before + inserted.length;
    const folder = vscode.workspace.getWorkspaceFolder(document.uri);
    const sliceStart = document.offsetAt(start);
    const key = document.uri.toString();
    const anchor = this.prefixAnchors.get(key);
    const built = buildCompletionRequest({
      text,
      cursorOffset,
      firstLine: startLine,
      languageId: document.languageId,
      filePath: relativePath(document.uri),
      ...(folder === undefined ? {} : { repoName: folder.name }),
      contextSize: settings.completionContextSize,
      maxTokens: settings.completionMaxTokens,
      timeBudgetMs: settings.completionTimeBudgetMs,
      extraContext: this.tracker.ring,
      ...(anchor === undefined || anchor < sliceStart ? {} : { prefixAnchor: anchor - sliceStart }),
    });
    // Kept per document for the next keystroke (a prefetch keeps the same start: it is the next keystroke).
    this.prefixAnchors.set(key, sliceStart + built.window.prefixStart);
    if (this.prefixAnchors.size > MAX_ANCHORED_DOCUMENTS) this.prefixAnchors.delete(this.prefixAnchors.keys().next().value ?? key);
    return built.request;
  }

  private showNoticeOnce(entry: EngineEntry, notice: string | undefined): void {
    if (notice === undefined || entry.noticesShown.has(notice)) return;
    entry.noticesShown.add(notice);
    this.ctx.log.warn(`Completion engine ${entry.engineLabel} (${entry.modelLabel}): ${notice}`);
    void vscode.window.showInformationMessage(`SLM Lab completions: ${notice}`);
  }

  /** One line per request: timings, tokens, cache; the code only when slmLab.completion.logPrompts is on. */
  private log(entry: EngineEntry, document: vscode.TextDocument, request: CompletionRequest, result: CompletionResult, suggestion: string | undefined, logPrompts: boolean): void {
    const t = result.timings;
    const evaluated = t.evaluatedPromptTokens === undefined ? "" : ` (${t.evaluatedPromptTokens} evaluated)`;
    const firstToken = t.firstTokenMs === undefined ? "" : `, first token ${formatLatency(t.firstTokenMs)}`;
    const shown = suggestion === undefined ? "nothing shown" : `${suggestion.split("\n").length} line(s), ${suggestion.length} chars shown`;
    this.ctx.log.info(
      `Completion ${entry.engineLabel} · ${entry.modelLabel} · ${document.languageId} ${request.mode}: ${formatLatency(t.totalMs)}${firstToken}; ` +
        `prompt ${t.promptTokens} tok${evaluated}, generated ${t.generatedTokens} tok, ${result.fromCache ? "cache hit" : "cache miss"}, stopped by ${result.stoppedBy}; ${shown}`,
    );
    if (logPrompts) this.ctx.log.info(`Completion output: ${JSON.stringify({ raw: result.text, shown: suggestion ?? null })}`);
  }
}

/** Documents whose prefix start is remembered (the oldest is forgotten first). */
const MAX_ANCHORED_DOCUMENTS = 64;

/** The local engine can compute a request ahead (not part of the CompletionEngine interface: remote ones cannot). */
function hasPrefetch(engine: CompletionEngine): engine is CompletionEngine & { prefetch(request: CompletionRequest): void } {
  return typeof (engine as CompletionEngine & { prefetch?: unknown }).prefetch === "function";
}

/** Read through a function: TypeScript would keep a narrowing of the property across awaits. */
function isCancelled(token: vscode.CancellationToken | undefined): boolean {
  return token?.isCancellationRequested === true;
}

/** Waits `ms`; false when the token is cancelled first. */
function delay(ms: number, token: vscode.CancellationToken | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (token?.isCancellationRequested === true) {
      resolve(false);
      return;
    }
    const timer = setTimeout(() => {
      listener?.dispose();
      resolve(true);
    }, ms);
    const listener = token?.onCancellationRequested(() => {
      clearTimeout(timer);
      listener?.dispose();
      resolve(false);
    });
  });
}

/** The tab size of the editor showing `document`, else 4. */
function tabSizeOf(document: vscode.TextDocument): number {
  const editor = vscode.window.visibleTextEditors.find((candidate) => candidate.document === document);
  const size = editor?.options.tabSize;
  return typeof size === "number" ? size : 4;
}
