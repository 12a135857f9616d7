/**
 * Inline completions, put together: the extra-context tracker, the engine host, the provider (registered for every
 * document), the status bar item and the commands. Nothing heavy happens here: the engine starts on the first request.
 */
import * as vscode from "vscode";
import type { Ctx } from "../ctx";
import { Disposable } from "../lifecycle";
import type { LocalModels } from "../localModels";
import { CompletionCommands } from "./completionCommands";
import { CompletionEngineHost } from "./completionEngineHost";
import { CompletionQualityCommand } from "./completionQualityCommand";
import type { CompletionStatus } from "./completionStatus";
import { CompletionStatusBar } from "./completionStatusBar";
import { ExtraContextTracker } from "./extraContextTracker";
import { SlmInlineCompletionProvider, type CompleteOptions, type CompletionAttempt } from "./inlineCompletionProvider";

/** What SlmLabApi exposes of inline completions (tests and other extensions). */
export interface InlineCompletionApi {
  /** Asks for a suggestion as the editor would (no debounce unless asked), and says what came of it. */
  complete(document: vscode.TextDocument, position: vscode.Position, options?: CompleteOptions & { readonly token?: vscode.CancellationToken }): Promise<CompletionAttempt>;
  /** The state the status bar shows. */
  status(): CompletionStatus;
  /** The status bar's text and tooltip as shown. */
  statusText(): { readonly text: string; readonly tooltip: string };
}

/** The document selector: files, unsaved editors, notebook cells; not output channels or other virtual documents. */
const DOCUMENTS: vscode.DocumentSelector = [{ scheme: "file" }, { scheme: "untitled" }, { scheme: "vscode-notebook-cell" }, { scheme: "vscode-remote" }];

export class InlineCompletions extends Disposable {
  private readonly tracker = this._register(new ExtraContextTracker());
  private readonly host: CompletionEngineHost;
  private readonly statusBar = this._register(new CompletionStatusBar());
  readonly provider: SlmInlineCompletionProvider;

  constructor(private readonly ctx: Ctx, models: LocalModels) {
    super();
    this.host = this._register(new CompletionEngineHost(ctx));
    this.provider = new SlmInlineCompletionProvider(ctx, this.host, this.tracker, this.statusBar);
    this._register(vscode.languages.registerInlineCompletionItemProvider(DOCUMENTS, this.provider));
    this._register(new CompletionCommands(ctx, models, this.host, this.statusBar));
    this._register(new CompletionQualityCommand(ctx, models));
    this._register(ctx.settings.onDidChange(() => { this.refreshStatus(); }));
    this._register(this.host.onDidReset(() => { this.refreshStatus(); }));
    this.refreshStatus();
  }

  /** The status when no request is running: off, what is missing, the failure, or ready. */
  private refreshStatus(): void {
    if (!this.ctx.settings.values.completionEnabled) {
      this.statusBar.set({ state: "off" });
      return;
    }
    const outcome = this.host.configuration();
    if (outcome.kind === "no-model") this.statusBar.set({ state: "no-model" });
    else if (outcome.kind === "no-endpoint") this.statusBar.set({ state: "no-endpoint", engine: outcome.engineLabel });
    else {
      const failure = this.host.failureStatus;
      const shown = this.statusBar.status;
      const sameModel = (shown.state === "ready" || shown.state === "loading") && shown.model === outcome.modelLabel && shown.engine === outcome.engineLabel;
      this.statusBar.set(failure ?? (sameModel ? shown : { state: "ready", engine: outcome.engineLabel, model: outcome.modelLabel }));
    }
  }

  /** The API for SlmLabApi. */
  api(): InlineCompletionApi {
    return {
      complete: (document, position, options = {}) => this.provider.complete(document, position, options.token, { debounce: options.debounce ?? false }),
      status: () => this.statusBar.status,
      statusText: () => ({ text: this.statusBar.text, tooltip: this.statusBar.tooltip }),
    };
  }
}
