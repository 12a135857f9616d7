/** The My Models commands: Show Model Info, Reveal in File Explorer, Delete Model, Open Models Folder, Refresh. */

import { promises as fs } from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { describeError } from "../core/errors";
import { formatBytes } from "../core/format/humanUnits";
import { resolveHuggingFaceHubCache } from "../core/store/huggingFaceCache";
import { checkModelDeletion, deleteModelFiles } from "../core/store/modelDeletion";
import type { StoredModel } from "../core/store/storedModel";
import { CommandId, ViewId } from "./contributionIds";
import type { Ctx } from "./ctx";
import { Disposable } from "./lifecycle";
import type { LocalModels } from "./localModels";
import type { ModelInfoPanels, ModelInfoTarget } from "./modelInfoPanel";
import type { MyModelsNode } from "./myModelsTree";

/** What a model command accepts: a My Models node (context menu), a file Uri or path (API, explorer), or nothing (palette). */
export type ModelCommandArgument = MyModelsNode | vscode.Uri | string | undefined;

/** What Delete Model did; returned to callers of `executeCommand` (the extension-host tests check it). */
export type DeleteModelOutcome = "deleted" | "cancelled" | "refused";

export class ModelCommands extends Disposable {
  constructor(
    private readonly ctx: Ctx,
    private readonly models: LocalModels,
    private readonly panels: ModelInfoPanels,
  ) {
    super();
    this._register(vscode.commands.registerCommand(CommandId.showModelInfo, (argument: ModelCommandArgument) => this.showModelInfo(argument)));
    this._register(vscode.commands.registerCommand(CommandId.revealModel, (argument: ModelCommandArgument) => this.revealModel(argument)));
    this._register(vscode.commands.registerCommand(CommandId.deleteModel, (argument: ModelCommandArgument) => this.deleteModel(argument)));
    this._register(vscode.commands.registerCommand(CommandId.openModelsDirectory, () => this.openModelsDirectory()));
    this._register(vscode.commands.registerCommand(CommandId.refreshModels, () => this.refreshModels()));
  }

  /** Opens the info panel; true when it is shown. Errors become notifications, never exceptions. */
  async showModelInfo(argument: ModelCommandArgument): Promise<boolean> {
    const chosen = argument === undefined ? await this.pickModel() : await this.resolve(argument);
    if (chosen === undefined) return false;
    const { model, file } = chosen;
    if (model !== undefined && model.files.length < model.partCount) {
      void this.showError(model.error ?? `${model.label} is incomplete.`, model.path);
      return false;
    }
    const target: ModelInfoTarget = model === undefined ? { files: [file], location: file } : { files: model.files.map((part) => part.path), location: describeLocation(model) };
    try {
      await this.panels.show(target);
      return true;
    } catch (error) {
      void this.showError(describeError(error), file);
      return false;
    }
  }

  async revealModel(argument: ModelCommandArgument): Promise<void> {
    const chosen = argument === undefined ? await this.pickModel() : await this.resolve(argument);
    if (chosen !== undefined) await this.reveal(chosen.file);
  }

  /** Refuses (before asking anything) files outside the models folder; asks a modal confirmation naming file and size. */
  async deleteModel(argument: ModelCommandArgument): Promise<DeleteModelOutcome> {
    const chosen = argument === undefined ? undefined : await this.resolve(argument);
    if (chosen === undefined) {
      void vscode.window.showErrorMessage("Delete Model needs a model: use it from the My Models view.");
      return "refused";
    }
    const { model, file } = chosen;
    const files = model === undefined ? [file] : model.files.map((part) => part.path);
    const locations = this.models.locations();
    // Always name the HF cache, even when it is not scanned, so a file there is refused with the right advice.
    const options = { modelsDirectory: locations.modelsDirectory, huggingFaceCacheDirectory: locations.huggingFaceCacheDirectory ?? resolveHuggingFaceHubCache() };
    try {
      await checkModelDeletion(files, options);
    } catch (error) {
      this.ctx.log.warn(`Delete refused: ${describeError(error)}`);
      void vscode.window.showErrorMessage(describeError(error));
      return "refused";
    }
    const size = model?.sizeBytes ?? (await fs.stat(file).then((stat) => stat.size, () => 0));
    const label = model?.label ?? path.basename(file);
    const detail = `${files.length === 1 ? "This file" : `These ${files.length} files`} (${formatBytes(size)}) will be removed from disk:\n${files.join("\n")}\n\nThis cannot be undone.`;
    const answer = await vscode.window.showWarningMessage(`Delete ${label}?`, { modal: true, detail }, "Delete");
    if (answer !== "Delete") return "cancelled";
    try {
      const result = await deleteModelFiles(files, options);
      this.ctx.log.info(`Deleted ${result.deleted.join(", ")} (${formatBytes(result.freedBytes)} freed)`);
      this.panels.close(files[0] ?? file);
      await this.models.refresh();
      void vscode.window.showInformationMessage(`Deleted ${label} (${formatBytes(result.freedBytes)} freed).`);
      return "deleted";
    } catch (error) {
      this.ctx.log.error(`Delete failed: ${describeError(error)}`);
      void vscode.window.showErrorMessage(`Could not delete ${label}: ${describeError(error)}`);
      await this.models.refresh().catch(() => undefined);
      return "refused";
    }
  }

  async openModelsDirectory(): Promise<void> {
    const { modelsDirectory, modelsDirectoryProblem } = this.models.locations();
    if (modelsDirectoryProblem !== undefined) void vscode.window.showWarningMessage(`${modelsDirectoryProblem} Opening the default folder.`);
    try {
      await fs.mkdir(modelsDirectory, { recursive: true });
    } catch (error) {
      void vscode.window.showErrorMessage(`Cannot create the models folder ${modelsDirectory}: ${describeError(error)}`);
      return;
    }
    if (isLocalDesktop()) {
      await vscode.env.openExternal(vscode.Uri.file(modelsDirectory));
      return;
    }
    // The extension runs on another machine than the window (remote, code-server): offer what works there.
    const answer = await vscode.window.showInformationMessage(`Models folder: ${modelsDirectory}`, "Copy Path", "Add to Workspace");
    if (answer === "Copy Path") await vscode.env.clipboard.writeText(modelsDirectory);
    if (answer === "Add to Workspace") {
      vscode.workspace.updateWorkspaceFolders(vscode.workspace.workspaceFolders?.length ?? 0, 0, { uri: vscode.Uri.file(modelsDirectory), name: "SLM Lab models" });
    }
  }

  async refreshModels(): Promise<void> {
    await vscode.window.withProgress({ location: { viewId: ViewId.myModels }, title: "Looking for models" }, async () => {
      try {
        await this.models.refresh();
      } catch (error) {
        void vscode.window.showErrorMessage(`Could not list models: ${describeError(error)}`);
      }
    });
  }

  private async reveal(file: string): Promise<void> {
    const uri = vscode.Uri.file(file);
    if (isLocalDesktop()) {
      await vscode.commands.executeCommand("revealFileInOS", uri);
      return;
    }
    const inWorkspace = vscode.workspace.getWorkspaceFolder(uri) !== undefined;
    const answer = await vscode.window.showInformationMessage(file, ...(inWorkspace ? ["Reveal in Explorer View"] : []), "Copy Path");
    if (answer === "Copy Path") await vscode.env.clipboard.writeText(file);
    if (answer === "Reveal in Explorer View") await vscode.commands.executeCommand("revealInExplorer", uri);
  }

  private async showError(message: string, file: string): Promise<void> {
    this.ctx.log.error(message);
    const answer = await vscode.window.showErrorMessage(message, "Reveal in File Explorer");
    if (answer !== undefined) await this.reveal(file);
  }

  /** A node, Uri or path → the model it is part of (when the store knows it) and the file. */
  private async resolve(argument: Exclude<ModelCommandArgument, undefined>): Promise<{ model: StoredModel | undefined; file: string } | undefined> {
    if (typeof argument === "object" && "kind" in argument) {
      return argument.kind === "model" ? { model: argument.model, file: argument.model.path } : undefined;
    }
    const file = path.resolve(typeof argument === "string" ? argument : argument.fsPath);
    if (this.models.findByPath(file) === undefined) await this.models.getScan().catch(() => undefined);
    return { model: this.models.findByPath(file), file };
  }

  /** Quick pick of the known models, plus a file picker for any other GGUF. */
  private async pickModel(): Promise<{ model: StoredModel | undefined; file: string } | undefined> {
    const scan = await this.models.getScan().catch(() => undefined);
    interface Item extends vscode.QuickPickItem {
      readonly model?: StoredModel;
    }
    const items: Item[] = (scan?.models ?? []).map((model) => ({
      label: model.label,
      description: model.error === undefined ? describeModelShort(model) : "cannot read",
      detail: model.path,
      model,
    }));
    items.push({ label: "$(file) Open a GGUF File…", alwaysShow: true });
    const picked = await vscode.window.showQuickPick(items, { title: "Show Model Info", placeHolder: "Pick a model", matchOnDescription: true, matchOnDetail: true });
    if (picked === undefined) return undefined;
    if (picked.model !== undefined) return { model: picked.model, file: picked.model.path };
    const uris = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { "GGUF models": ["gguf"] }, title: "Show Model Info" });
    const [uri] = uris ?? [];
    return uri === undefined ? undefined : { model: undefined, file: uri.fsPath };
  }
}

function describeModelShort(model: StoredModel): string {
  const summary = model.summary;
  return summary === undefined ? formatBytes(model.sizeBytes) : [summary.architecture ?? "unknown", summary.fileType, formatBytes(model.sizeBytes)].join(" · ");
}

function describeLocation(model: StoredModel): string {
  if (model.source === "models-folder") return `Models folder · ${model.relativePath}`;
  if (model.source === "ollama") return `Ollama (read-only) · ${model.label}`;
  if (model.source === "lm-studio") return `LM Studio (read-only) · ${model.relativePath}`;
  return `Hugging Face cache · ${model.repoId ?? ""}${model.revision === undefined ? "" : ` @ ${model.revision.slice(0, 7)}`}`;
}

/** The extension host runs on the machine the user sees: OS-level reveal/open act on the right files. */
function isLocalDesktop(): boolean {
  return vscode.env.remoteName === undefined && vscode.env.uiKind === vscode.UIKind.Desktop;
}
