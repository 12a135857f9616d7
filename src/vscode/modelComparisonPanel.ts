/**
 * Side-by-side comparison of Hub models: "Add to Comparison" collects search results, "Compare Models Side by
 * Side" opens one webview with the collected ones, or with the results selected in the Catalog view (two or more).
 */

import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import { describeError } from "../core/errors";
import type { HubModelDetails } from "../core/hub/hubModelDetails";
import { currentMachineMemory } from "../core/runtime/memoryFit";
import { CommandId } from "./contributionIds";
import type { Ctx } from "./ctx";
import { fetchDetails, repoOf } from "./hubModelDetailPanel";
import { Disposable, toDisposable } from "./lifecycle";
import { renderModelComparisonHtml, type ComparisonFailure } from "./modelComparisonHtml";
import { withCancellableProgress } from "./cancellableProgress";

export const MODEL_COMPARISON_VIEW_TYPE = "slmLab.modelComparison";
/** More columns than this do not fit a screen. */
const MAX_COMPARED = 8;

export class ModelComparison extends Disposable {
  private readonly collected: string[] = [];
  private panel: vscode.WebviewPanel | undefined;

  constructor(private readonly ctx: Ctx) {
    super();
    this._register(toDisposable(() => { this.panel?.dispose(); }));
    this._register(vscode.commands.registerCommand(CommandId.addToComparison, (node?: unknown, selected?: unknown) => this.add(node, selected)));
    this._register(vscode.commands.registerCommand(CommandId.compareModels, (node?: unknown, selected?: unknown) => this.compare(node, selected)));
  }

  /** The repos collected for comparison, in order. */
  get repos(): readonly string[] {
    return this.collected;
  }

  /** Adds the clicked result (or all selected ones); offers to compare once there are two. */
  add(node?: unknown, selected?: unknown): readonly string[] {
    for (const repo of reposOf(node, selected)) if (!this.collected.includes(repo)) this.collected.push(repo);
    while (this.collected.length > MAX_COMPARED) this.collected.shift();
    if (this.collected.length >= 2) {
      void vscode.window.showInformationMessage(`${this.collected.length} models to compare: ${this.collected.join(", ")}.`, "Compare Now", "Clear").then((answer) => {
        if (answer === "Compare Now") void this.compare();
        if (answer === "Clear") this.collected.length = 0;
      });
    } else {
      void vscode.window.showInformationMessage(`Added ${this.collected.join(", ")} to the comparison: add one more (or select several results and choose Compare).`);
    }
    return this.collected;
  }

  /**
   * Compares the selected results when two or more are selected (or given as `{ repos: [...] }`), else the clicked
   * one with the collected ones. Returns what was shown.
   */
  async compare(node?: unknown, selected?: unknown): Promise<readonly (HubModelDetails | ComparisonFailure)[]> {
    const picked = reposOf(node, selected);
    const repos = picked.length >= 2 ? picked : [...new Set([...this.collected, ...picked])];
    if (repos.length < 2) {
      void vscode.window.showInformationMessage("Pick two or more models: select several Hub search results (Ctrl/Cmd-click), or use “Add to Comparison” on each.");
      return [];
    }
    const compared = repos.slice(0, MAX_COMPARED);
    const models = await withCancellableProgress(`Reading ${compared.length} models from the Hub…`, ({ signal }) =>
      Promise.all(
        compared.map(async (repo): Promise<HubModelDetails | ComparisonFailure> => {
          try {
            return await fetchDetails(this.ctx, repo, signal);
          } catch (error) {
            this.ctx.log.warn(`Compare: ${repo}: ${describeError(error)}`);
            return { id: repo, error: describeError(error) };
          }
        }),
      ),
    );
    if (this.panel === undefined) {
      this.panel = vscode.window.createWebviewPanel(MODEL_COMPARISON_VIEW_TYPE, "Model comparison", vscode.ViewColumn.Active, {
        enableScripts: false,
        enableFindWidget: true,
        localResourceRoots: [vscode.Uri.joinPath(this.ctx.extensionUri, "media")],
      });
      this.panel.iconPath = vscode.Uri.joinPath(this.ctx.extensionUri, "media", "slm-lab.svg");
      const created = this.panel;
      created.onDidDispose(() => { if (this.panel === created) this.panel = undefined; });
    } else {
      this.panel.reveal();
    }
    this.panel.title = `Compare: ${compared.map((repo) => repo.split("/").pop() ?? repo).join(" vs ")}`;
    this.panel.webview.html = renderModelComparisonHtml(models, currentMachineMemory(), { cspSource: this.panel.webview.cspSource, nonce: randomBytes(16).toString("base64") });
    return models;
  }
}

/** Repos from a tree command's (clicked, selected[]) arguments, or `{ repos: [...] }` from a programmatic caller. */
function reposOf(node: unknown, selected: unknown): string[] {
  if (typeof node === "object" && node !== null && Array.isArray((node as Record<string, unknown>)["repos"])) {
    return ((node as Record<string, unknown>)["repos"] as unknown[]).filter((repo): repo is string => typeof repo === "string");
  }
  const fromSelection = Array.isArray(selected) ? selected.map(repoOf).filter((repo): repo is string => repo !== undefined) : [];
  if (fromSelection.length > 0) return [...new Set(fromSelection)];
  const single = repoOf(node);
  return single === undefined ? [] : [single];
}
