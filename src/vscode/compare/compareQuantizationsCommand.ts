/**
 * "SLM Lab: Compare Quantizations": opens (or reveals) the comparison panel of a model's family, from a My Models node,
 * a Uri or path, or a quick pick. Registers the panel serializer so open panels come back after a window reload.
 */
import path from "node:path";
import * as vscode from "vscode";
import { readSidecarParent } from "../../core/store/modelSidecar";
import { describeError } from "../../core/errors";
import { parseWebviewState } from "../../../webview/protocol";
import { CommandId } from "../contributionIds";
import type { Ctx } from "../ctx";
import { Disposable, toDisposable } from "../lifecycle";
import type { LocalModels } from "../localModels";
import type { ModelCommandArgument } from "../modelCommands";
import { pickLocalModel } from "../modelPicker";
import { COMPARE_VIEW_TYPE, ComparePanel } from "./comparePanel";

export class CompareQuantizationsCommand extends Disposable {
  /** Open panels by the family's root (the sidecar's parent, else the file itself). */
  private readonly panels = new Map<string, ComparePanel>();

  constructor(
    private readonly ctx: Ctx,
    private readonly models: LocalModels,
  ) {
    super();
    this._register(toDisposable(() => {
      for (const panel of [...this.panels.values()]) panel.dispose();
      this.panels.clear();
    }));
    this._register(vscode.commands.registerCommand(CommandId.compareQuantizations, (argument: ModelCommandArgument) => this.run(argument)));
    this._register(
      vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const saved = parseWebviewState(state);
          if (saved === undefined) {
            // Nothing says which family it showed: close it rather than show an empty page.
            panel.dispose();
            return;
          }
          await this.attach(panel, saved.modelPath, await familyRoot(saved.modelPath)).catch((error: unknown) => {
            this.ctx.log.warn(`Compare Quantizations: could not restore the panel of ${saved.modelPath}: ${describeError(error)}`);
          });
        },
      }),
    );
  }

  /** The command: opens the family's panel; returns it (undefined when nothing was chosen). Errors become notifications. */
  async run(argument: ModelCommandArgument): Promise<ComparePanel | undefined> {
    try {
      const modelPath = argument === undefined ? await this.pickModel() : resolvePath(argument);
      if (modelPath === undefined) return undefined;
      const root = await familyRoot(modelPath);
      const existing = this.panels.get(root);
      if (existing !== undefined) {
        existing.panel.reveal();
        await existing.refresh();
        return existing;
      }
      const panel = vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, `Compare: ${path.basename(root, ".gguf")}`, vscode.ViewColumn.Active, {
        enableScripts: true,
        retainContextWhenHidden: false,
        localResourceRoots: [vscode.Uri.joinPath(this.ctx.extensionUri, "dist", "webview")],
      });
      return await this.attach(panel, modelPath, root);
    } catch (error) {
      this.ctx.log.error(`Compare Quantizations: ${describeError(error)}`);
      void vscode.window.showErrorMessage(`Compare Quantizations: ${describeError(error)}`);
      return undefined;
    }
  }

  private async attach(panel: vscode.WebviewPanel, modelPath: string, root: string): Promise<ComparePanel> {
    const compare = new ComparePanel(this.ctx, this.models, panel, modelPath);
    this.panels.set(root, compare);
    compare.onDidDispose(() => { if (this.panels.get(root) === compare) this.panels.delete(root); });
    // Read the data now; the page gets it when it says ready (or at once if it already has).
    await compare.refresh();
    return compare;
  }

  private async pickModel(): Promise<string | undefined> {
    const model = await pickLocalModel(this.models, {
      title: "Compare Quantizations",
      placeHolder: "Pick a model (its F16/BF16 parent or any quantized variant)",
      noModels: "No models to compare: download or convert one, then quantize it.",
    });
    return model?.path;
  }
}

function resolvePath(argument: Exclude<ModelCommandArgument, undefined>): string | undefined {
  if (typeof argument === "object" && "kind" in argument) return argument.kind === "model" ? argument.model.path : undefined;
  return path.resolve(typeof argument === "string" ? argument : argument.fsPath);
}

async function familyRoot(modelPath: string): Promise<string> {
  return (await readSidecarParent(modelPath)) ?? path.resolve(modelPath);
}
