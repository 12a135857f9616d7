/**
 * Commands of inline completions: Toggle Inline Completions, Select Completion Model (a quick pick over My Models,
 * coder models first; the choice goes to the user setting slmLab.completion.model), the status bar's menu, and Set
 * Completion Endpoint API Key (SecretStorage). Each also takes a programmatic argument (API and tests).
 */
import path from "node:path";
import * as vscode from "vscode";
import { describeError } from "../../core/errors";
import { formatBytes } from "../../core/format/humanUnits";
import type { StoredModel } from "../../core/store/storedModel";
import { CommandId } from "../contributionIds";
import type { Ctx } from "../ctx";
import { Disposable } from "../lifecycle";
import type { LocalModels } from "../localModels";
import type { ModelCommandArgument } from "../modelCommands";
import { COMPLETION_API_KEY_SECRET, type CompletionEngineHost } from "./completionEngineHost";
import { completionModelCandidates } from "./completionModelChoice";
import type { CompletionStatusBar } from "./completionStatusBar";
import { isLanguageEnabled, withLanguage } from "./languageEnablement";

export class CompletionCommands extends Disposable {
  constructor(
    private readonly ctx: Ctx,
    private readonly models: LocalModels,
    private readonly host: CompletionEngineHost,
    private readonly statusBar: CompletionStatusBar,
  ) {
    super();
    this._register(vscode.commands.registerCommand(CommandId.toggleInlineCompletions, (force?: unknown) => this.toggle(typeof force === "boolean" ? force : undefined)));
    this._register(vscode.commands.registerCommand(CommandId.selectCompletionModel, (argument?: ModelCommandArgument) => this.selectModel(argument)));
    this._register(vscode.commands.registerCommand(CommandId.showCompletionMenu, () => this.showMenu()));
    this._register(vscode.commands.registerCommand(CommandId.setCompletionApiKey, (key?: unknown) => this.setApiKey(typeof key === "string" ? key : undefined)));
  }

  /** Turns completions on or off (or to `force`); returns the new state. Turning on without a model offers to pick one. */
  async toggle(force?: boolean): Promise<boolean> {
    const enabled = force ?? !this.ctx.settings.values.completionEnabled;
    await this.ctx.settings.update("completionEnabled", enabled);
    this.ctx.log.info(`Inline completions ${enabled ? "on" : "off"}`);
    if (enabled && force === undefined && this.host.configuration().kind === "no-model") {
      void vscode.window.showInformationMessage("SLM Lab completions are on, but no completion model is selected.", "Select Model").then((answer) => {
        if (answer !== undefined) void this.selectModel(undefined);
      });
    }
    return enabled;
  }

  /**
   * Makes a model the completion model (local engine, completions on): the given one, or one picked from My Models.
   * Returns its path, or undefined when nothing was chosen. Never throws.
   */
  async selectModel(argument: ModelCommandArgument): Promise<string | undefined> {
    try {
      const file = argument === undefined ? await this.pickModel() : modelPathOf(argument);
      if (file === undefined) return undefined;
      await this.ctx.settings.update("completionModel", file);
      if (this.ctx.settings.values.completionEngine !== "local") await this.ctx.settings.update("completionEngine", "local");
      if (!this.ctx.settings.values.completionEnabled) await this.ctx.settings.update("completionEnabled", true);
      this.host.retry();
      this.ctx.log.info(`Completion model: ${file}`);
      return file;
    } catch (error) {
      this.ctx.log.error(`Select Completion Model: ${describeError(error)}`);
      void vscode.window.showErrorMessage(describeError(error));
      return undefined;
    }
  }

  private async pickModel(): Promise<string | undefined> {
    const scan = await this.models.getScan();
    const { coder, other } = completionModelCandidates(scan.models);
    if (coder.length + other.length === 0) {
      const answer = await vscode.window.showInformationMessage(
        "No models to complete with yet: download a small coder model (e.g. Qwen2.5-Coder 0.5B, Q4) first.",
        "Download Model",
      );
      if (answer !== undefined) void vscode.commands.executeCommand(CommandId.downloadModel);
      return undefined;
    }
    interface Item extends vscode.QuickPickItem {
      readonly model?: StoredModel;
    }
    const current = this.ctx.settings.values.completionModel;
    const item = (model: StoredModel): Item => ({
      label: model.label,
      description: [model.path === current ? "current" : undefined, model.summary?.fileType, formatBytes(model.sizeBytes)].filter((part) => part !== undefined).join(" · "),
      detail: model.path,
      model,
    });
    const items: Item[] = [
      ...(coder.length > 0 ? [{ label: "Coder models", kind: vscode.QuickPickItemKind.Separator }, ...coder.map(item)] : []),
      ...(other.length > 0 ? [{ label: coder.length > 0 ? "Other models (not made for code)" : "Models", kind: vscode.QuickPickItemKind.Separator }, ...other.map(item)] : []),
    ];
    const picked = await vscode.window.showQuickPick(items, { title: "Select Completion Model", placeHolder: "Pick the model that serves inline completions (small coder models answer fastest)", matchOnDetail: true });
    return picked?.model?.path;
  }

  /** The status bar's menu: on/off, this language on/off, switch model, retry after an error, API key, log. */
  async showMenu(): Promise<void> {
    // "No model" says "click to pick one": the click goes straight to the picker.
    if (this.statusBar.status.state === "no-model") {
      await this.selectModel(undefined);
      return;
    }
    const values = this.ctx.settings.values;
    const editor = vscode.window.activeTextEditor;
    const languageId = editor?.document.languageId;
    interface Item extends vscode.QuickPickItem {
      readonly run: () => unknown;
    }
    const items: Item[] = [
      { label: values.completionEnabled ? "$(circle-slash) Turn Off Inline Completions" : "$(sparkle) Turn On Inline Completions", run: () => this.toggle() },
      { label: "$(hubot) Switch Completion Model…", description: values.completionEngine === "local" ? path.basename(values.completionModel) : values.completionEngine, run: () => this.selectModel(undefined) },
    ];
    if (languageId !== undefined) {
      const on = isLanguageEnabled(values.completionLanguages, languageId);
      items.push({
        label: on ? `$(close) Disable for ${languageId}` : `$(check) Enable for ${languageId}`,
        run: () => this.ctx.settings.update("completionLanguages", withLanguage(values.completionLanguages, languageId, !on)),
      });
    }
    if (this.statusBar.status.state === "error") items.push({ label: "$(refresh) Retry", description: this.statusBar.status.message, run: () => { this.host.retry(); } });
    if (values.completionEngine !== "local") items.push({ label: "$(key) Set Endpoint API Key…", run: () => this.setApiKey(undefined) });
    items.push({ label: "$(checklist) Is This Quant Good Enough for My Code?", run: () => vscode.commands.executeCommand(CommandId.evaluateCompletionQuality) });
    items.push({ label: "$(output) Show Log", run: () => { this.ctx.log.show(true); } });
    const picked = await vscode.window.showQuickPick(items, { title: `SLM Lab Completions — ${this.statusBar.tooltip.split("\n")[0] ?? ""}` });
    if (picked === undefined) return;
    try {
      await picked.run();
    } catch (error) {
      void vscode.window.showErrorMessage(describeError(error));
    }
  }

  /** Stores the remote endpoint's API key in SecretStorage (empty: removes it); true when changed. */
  async setApiKey(given: string | undefined): Promise<boolean> {
    const key =
      given ??
      (await vscode.window.showInputBox({
        title: "Completion Endpoint API Key",
        prompt: `Sent as "Authorization: Bearer …" to ${this.ctx.settings.values.completionEndpoint || "the completion endpoint"}. Kept in VS Code's secret storage. Empty: remove it.`,
        password: true,
        ignoreFocusOut: true,
      }));
    if (key === undefined) return false;
    const secrets = this.ctx.extensionContext.secrets;
    if (key.trim() === "") await secrets.delete(COMPLETION_API_KEY_SECRET);
    else await secrets.store(COMPLETION_API_KEY_SECRET, key.trim());
    this.host.retry();
    return true;
  }
}

/** The file of a model argument: a My Models node, a Uri or a path. */
function modelPathOf(argument: Exclude<ModelCommandArgument, undefined>): string | undefined {
  if (typeof argument === "string") return path.resolve(argument);
  if (argument instanceof vscode.Uri) return argument.fsPath;
  return argument.kind === "model" ? argument.model.path : undefined;
}
