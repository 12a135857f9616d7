/**
 * SLM Lab's entry point. `activate` builds the one context object and registers the views and commands; nothing heavy
 * happens here (no model is read and no folder scanned until My Models is shown, node-llama-cpp is never loaded).
 */

import * as vscode from "vscode";
import type { ModelStoreScan } from "./core/store/storedModel";
import { ViewId } from "./vscode/contributionIds";
import { CatalogTreeProvider } from "./vscode/catalogTree";
import { Ctx } from "./vscode/ctx";
import { DownloadCommand } from "./vscode/downloadCommand";
import { HubSignInCommand } from "./vscode/hubSignInCommand";
import { HubModelDetailPanels } from "./vscode/hubModelDetailPanel";
import { HubSearchCommand } from "./vscode/hubSearchCommand";
import { CatalogViewProvider, HubSearch } from "./vscode/hubSearchTree";
import { ModelComparison } from "./vscode/modelComparisonPanel";
import { InlineCompletions, type InlineCompletionApi } from "./vscode/completion/inlineCompletions";
import { LocalModels, type ModelLocations } from "./vscode/localModels";
import { ModelCommands } from "./vscode/modelCommands";
import { ModelInfoPanels } from "./vscode/modelInfoPanel";
import { MyModelsTreeProvider } from "./vscode/myModelsTree";
import { QuantizeCommand } from "./vscode/quantizeCommand";
import { BenchmarkCommand } from "./vscode/benchmarkCommand";
import { ConvertCommand } from "./vscode/convertCommand";
import { CompareQuantizationsCommand } from "./vscode/compare/compareQuantizationsCommand";
import { UnavailableCommands } from "./vscode/unavailableCommands";

/** Set by the esbuild banner/footer of dist/extension.js around the bundle's evaluation (absent when run from source). */
declare const __slmLabBundleStart: number | undefined;
declare const __slmLabBundleEnd: number | undefined;

/** What `activate` returns: for other extensions and for the extension-host tests. */
export interface SlmLabApi {
  /** Milliseconds `activate` took. */
  readonly activationMs: number;
  /** Milliseconds the bundle took to evaluate, i.e. to load (undefined when not bundled). */
  readonly bundleLoadMs: number | undefined;
  /** The My Models tree's data, as the view sees it. */
  readonly myModels: MyModelsTreeProvider;
  /** The Catalog tree's data, as the view sees it. */
  readonly catalog: CatalogTreeProvider;
  /** The whole Catalog view (Hub search results above the curated catalog) and the search it shows. */
  readonly catalogView: CatalogViewProvider;
  /** Hub models collected with "Add to Comparison". */
  readonly comparison: ModelComparison;
  /** Where models are looked for now. */
  modelLocations(): ModelLocations;
  /** Scans the models folder and the HF cache again. */
  refreshModels(): Promise<ModelStoreScan>;
  /** Inline completions: ask as the editor does, read the status bar. */
  readonly completion: InlineCompletionApi;
}

export function activate(context: vscode.ExtensionContext): SlmLabApi {
  const started = performance.now();
  const ctx = new Ctx(context);
  context.subscriptions.push(ctx);

  const localModels = ctx.own(new LocalModels(ctx));
  const myModels = ctx.own(new MyModelsTreeProvider(localModels));
  ctx.own(vscode.window.createTreeView(ViewId.myModels, { treeDataProvider: myModels }));
  const catalog = new CatalogTreeProvider();
  const catalogView = ctx.own(new CatalogViewProvider(catalog, ctx.own(new HubSearch(ctx))));
  // Several Hub results can be selected at once for "Compare Models Side by Side".
  ctx.own(vscode.window.createTreeView(ViewId.catalog, { treeDataProvider: catalogView, canSelectMany: true }));
  ctx.own(new HubSearchCommand(ctx, catalogView.search));
  ctx.own(new HubModelDetailPanels(ctx));
  const comparison = ctx.own(new ModelComparison(ctx));
  const panels = ctx.own(new ModelInfoPanels(ctx));
  ctx.own(new ModelCommands(ctx, localModels, panels));
  ctx.own(new QuantizeCommand(ctx, localModels));
  ctx.own(new BenchmarkCommand(ctx, localModels));
  ctx.own(new ConvertCommand(ctx, localModels));
  ctx.own(new CompareQuantizationsCommand(ctx, localModels));
  ctx.own(new DownloadCommand(ctx, localModels));
  ctx.own(new HubSignInCommand(ctx));
  const inlineCompletions = ctx.own(new InlineCompletions(ctx, localModels));
  ctx.own(new UnavailableCommands());

  const finished = performance.now();
  const activationMs = finished - started;
  // Between loading and activate() VS Code does async work of its own (and other extensions'), so the two are timed apart.
  const bundleLoadMs = typeof __slmLabBundleStart === "number" && typeof __slmLabBundleEnd === "number" ? __slmLabBundleEnd - __slmLabBundleStart : undefined;
  const withLoad = bundleLoadMs === undefined ? "" : `, after ${bundleLoadMs.toFixed(1)} ms loading the bundle`;
  ctx.log.info(`SLM Lab ${String((context.extension.packageJSON as { version?: unknown }).version)} activated in ${activationMs.toFixed(1)} ms${withLoad}`);
  return {
    activationMs,
    bundleLoadMs,
    myModels,
    catalog,
    catalogView,
    comparison,
    modelLocations: () => localModels.locations(),
    refreshModels: () => localModels.refresh(),
    completion: inlineCompletions.api(),
  };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions (the Ctx owns it all).
}
