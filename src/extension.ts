/**
 * SLM Lab's entry point. `activate` builds the one context object and registers the views and commands; nothing heavy
 * happens here (no model is read and no folder scanned until My Models is shown, node-llama-cpp is never loaded).
 */

import * as vscode from "vscode";
import type { ModelStoreScan } from "./core/store/storedModel";
import { ViewId } from "./vscode/contributionIds";
import { CatalogPlaceholderTree } from "./vscode/catalogPlaceholderTree";
import { Ctx } from "./vscode/ctx";
import { LocalModels, type ModelLocations } from "./vscode/localModels";
import { ModelCommands } from "./vscode/modelCommands";
import { ModelInfoPanels } from "./vscode/modelInfoPanel";
import { MyModelsTreeProvider } from "./vscode/myModelsTree";
import { QuantizeCommand } from "./vscode/quantizeCommand";
import { UnavailableCommands } from "./vscode/unavailableCommands";

/** Set by the esbuild banner of dist/extension.js when the bundle starts evaluating (absent when run from source). */
declare const __slmLabBundleStart: number | undefined;

/** What `activate` returns: for other extensions and for the extension-host tests. */
export interface SlmLabApi {
  /** Milliseconds `activate` took. */
  readonly activationMs: number;
  /** Milliseconds from the start of the bundle's evaluation to the end of `activate` (undefined when not bundled). */
  readonly loadAndActivationMs: number | undefined;
  /** The My Models tree's data, as the view sees it. */
  readonly myModels: MyModelsTreeProvider;
  /** Where models are looked for now. */
  modelLocations(): ModelLocations;
  /** Scans the models folder and the HF cache again. */
  refreshModels(): Promise<ModelStoreScan>;
}

export function activate(context: vscode.ExtensionContext): SlmLabApi {
  const started = performance.now();
  const ctx = new Ctx(context);
  context.subscriptions.push(ctx);

  const localModels = ctx.own(new LocalModels(ctx));
  const myModels = ctx.own(new MyModelsTreeProvider(localModels));
  ctx.own(vscode.window.createTreeView(ViewId.myModels, { treeDataProvider: myModels }));
  ctx.own(vscode.window.registerTreeDataProvider(ViewId.catalog, new CatalogPlaceholderTree()));
  const panels = ctx.own(new ModelInfoPanels(ctx));
  ctx.own(new ModelCommands(ctx, localModels, panels));
  ctx.own(new QuantizeCommand(ctx, localModels));
  ctx.own(new UnavailableCommands());

  const finished = performance.now();
  const activationMs = finished - started;
  const loadAndActivationMs = typeof __slmLabBundleStart === "number" ? finished - __slmLabBundleStart : undefined;
  const withLoad = loadAndActivationMs === undefined ? "" : ` (${loadAndActivationMs.toFixed(1)} ms with loading the bundle)`;
  ctx.log.info(`SLM Lab ${String((context.extension.packageJSON as { version?: unknown }).version)} activated in ${activationMs.toFixed(1)} ms${withLoad}`);
  return {
    activationMs,
    loadAndActivationMs,
    myModels,
    modelLocations: () => localModels.locations(),
    refreshModels: () => localModels.refresh(),
  };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions (the Ctx owns it all).
}
