/** Show Model Info: one webview panel per model, the page from `modelInfoHtml.ts`, strict CSP and no script. */

import { randomBytes } from "node:crypto";
import path from "node:path";
import * as vscode from "vscode";
import { readGgufFile } from "../core/gguf/ggufReader";
import { summarizeGguf } from "../core/gguf/ggufModelSummary";
import type { GgufFile, GgufMetadataEntry } from "../core/gguf/ggufTypes";
import { combinePartSummaries } from "../core/store/modelStoreScan";
import type { Ctx } from "./ctx";
import { Disposable, toDisposable } from "./lifecycle";
import { renderModelInfoHtml } from "./modelInfoHtml";

/** What to show: a model's parts (one path for a single file) and where it lives. */
export interface ModelInfoTarget {
  readonly files: readonly string[];
  readonly location: string;
}

export const MODEL_INFO_VIEW_TYPE = "slmLab.modelInfo";

export class ModelInfoPanels extends Disposable {
  private readonly panels = new Map<string, vscode.WebviewPanel>();

  constructor(private readonly ctx: Ctx) {
    super();
    this._register(toDisposable(() => {
      for (const panel of [...this.panels.values()]) panel.dispose();
      this.panels.clear();
    }));
  }

  /** Closes the panel of the model whose first part is `file` (after it was deleted). */
  close(file: string): void {
    this.panels.get(file)?.dispose();
  }

  /**
   * Reads the model and shows (or re-shows, refreshed) its panel. Throws the reader's error (a GgufFormatError
   * naming file, offset and what to do) before any panel opens when the file cannot be read.
   */
  async show(target: ModelInfoTarget): Promise<vscode.WebviewPanel> {
    const [firstFile] = target.files;
    if (firstFile === undefined) throw new Error("ModelInfoPanels.show needs at least one file");
    const started = performance.now();
    const parts: GgufFile<GgufMetadataEntry>[] = [];
    for (const file of target.files) parts.push(await readGgufFile(file));
    const summary = combinePartSummaries(parts.map((part) => summarizeGguf(part)));
    const fileName = path.basename(firstFile);
    const title = summary.name ?? fileName;
    this.ctx.log.info(`Read ${fileName} for Show Model Info in ${(performance.now() - started).toFixed(0)} ms`);

    let panel = this.panels.get(firstFile);
    if (panel === undefined) {
      panel = vscode.window.createWebviewPanel(MODEL_INFO_VIEW_TYPE, fileName, vscode.ViewColumn.Active, {
        enableScripts: false,
        enableFindWidget: true,
        localResourceRoots: [vscode.Uri.joinPath(this.ctx.extensionUri, "media"), vscode.Uri.joinPath(this.ctx.extensionUri, "dist")],
      });
      panel.iconPath = vscode.Uri.joinPath(this.ctx.extensionUri, "media", "slm-lab.svg");
      const created = panel;
      this.panels.set(firstFile, created);
      created.onDidDispose(() => { if (this.panels.get(firstFile) === created) this.panels.delete(firstFile); });
    } else {
      panel.reveal();
    }
    panel.title = fileName;
    panel.webview.html = renderModelInfoHtml(
      { title, location: target.location, summary, parts, displayPaths: target.files },
      { cspSource: panel.webview.cspSource, nonce: randomBytes(16).toString("base64") },
    );
    return panel;
  }
}
