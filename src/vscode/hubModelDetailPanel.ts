/**
 * "Show Hub Model Details": one webview per Hub repo with the page of hubModelDetailHtml.ts (strict CSP, no
 * script). The details come from the core (src/core/hub/hubModelDetails.ts) with this machine's memory.
 */

import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import { describeError } from "../core/errors";
import type * as HubModelDetailsModule from "../core/hub/hubModelDetails";
import type { HubModelDetails } from "../core/hub/hubModelDetails";
import { HubAccessError } from "../core/hub/hubErrors";
import { currentMachineMemory } from "../core/runtime/memoryFit";
import { CommandId } from "./contributionIds";
import type { Ctx } from "./ctx";
import { renderHubModelDetailHtml } from "./hubModelDetailHtml";
import { readHubToken } from "./hubSignInCommand";
import { Disposable, toDisposable } from "./lifecycle";
import { withCancellableProgress } from "./cancellableProgress";

export const HUB_MODEL_DETAIL_VIEW_TYPE = "slmLab.hubModelDetail";

/** Context length the memory estimates use (llama.cpp's usual default for a chat or completion session). */
export const DETAIL_CONTEXT_SIZE = 4096;

export class HubModelDetailPanels extends Disposable {
  private readonly panels = new Map<string, vscode.WebviewPanel>();

  constructor(private readonly ctx: Ctx) {
    super();
    this._register(toDisposable(() => {
      for (const panel of [...this.panels.values()]) panel.dispose();
      this.panels.clear();
    }));
    this._register(vscode.commands.registerCommand(CommandId.showHubModelDetails, (argument?: unknown) => this.run(argument)));
  }

  /** The command: the details of the repo named by the argument (a search result, `{ repo }` or a repo id). */
  async run(argument?: unknown): Promise<HubModelDetails | undefined> {
    const repo = repoOf(argument) ?? (await vscode.window.showInputBox({ title: "Show Hub Model Details", prompt: "Hugging Face repo id (owner/name)", placeHolder: "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF" }))?.trim();
    if (repo === undefined || repo === "") return undefined;
    const endpoint = this.ctx.settings.values.hubEndpoint;
    try {
      const details = await withCancellableProgress(`Reading ${repo} from the Hub…`, ({ signal }) => fetchDetails(this.ctx, repo, signal));
      this.show(details);
      return details;
    } catch (error) {
      const message = describeError(error);
      this.ctx.log.error(`Show Hub Model Details ${repo}: ${message}`);
      if (error instanceof HubAccessError) {
        void vscode.window.showErrorMessage(message, "Open model page", "Sign in").then((answer) => {
          if (answer === "Open model page") void vscode.env.openExternal(vscode.Uri.parse(`${endpoint.replace(/\/+$/, "")}/${repo}`));
          if (answer === "Sign in") void vscode.commands.executeCommand(CommandId.signInToHuggingFace);
        });
      } else {
        void vscode.window.showErrorMessage(message);
      }
      return undefined;
    }
  }

  private show(details: HubModelDetails): void {
    let panel = this.panels.get(details.id);
    if (panel === undefined) {
      panel = vscode.window.createWebviewPanel(HUB_MODEL_DETAIL_VIEW_TYPE, details.id, vscode.ViewColumn.Active, {
        enableScripts: false,
        enableFindWidget: true,
        localResourceRoots: [vscode.Uri.joinPath(this.ctx.extensionUri, "media")],
      });
      panel.iconPath = vscode.Uri.joinPath(this.ctx.extensionUri, "media", "slm-lab.svg");
      const created = panel;
      this.panels.set(details.id, created);
      created.onDidDispose(() => { if (this.panels.get(details.id) === created) this.panels.delete(details.id); });
    } else {
      panel.reveal();
    }
    panel.webview.html = renderHubModelDetailHtml(details, currentMachineMemory(), this.ctx.settings.values.hubEndpoint, {
      cspSource: panel.webview.cspSource,
      nonce: randomBytes(16).toString("base64"),
    });
  }
}

/** Details of one repo, judged against this machine's memory (used by the detail page and the comparison). */
export async function fetchDetails(ctx: Ctx, repo: string, signal: AbortSignal): Promise<HubModelDetails> {
  const { getHubModelDetails } = await hubModelDetailsModule();
  const token = await readHubToken(ctx.extensionContext.secrets);
  const started = performance.now();
  const details = await getHubModelDetails({ endpoint: ctx.settings.values.hubEndpoint, repo, token, machine: currentMachineMemory(), contextSize: DETAIL_CONTEXT_SIZE, signal });
  ctx.log.info(`Read the details of ${repo} (${details.files.length} files, ${details.quantizations.length} quantizations) in ${(performance.now() - started).toFixed(0)} ms`);
  return details;
}

/** The repo id in a command argument: a search result node, `{ repo }`, or a string. */
export function repoOf(argument: unknown): string | undefined {
  if (typeof argument === "string") return argument.trim() === "" ? undefined : argument.trim();
  if (typeof argument !== "object" || argument === null) return undefined;
  const repo = (argument as Record<string, unknown>)["repo"];
  return typeof repo === "string" && repo !== "" ? repo : undefined;
}

function hubModelDetailsModule(): Promise<typeof HubModelDetailsModule> {
  return import("../core/hub/hubModelDetails.js");
}
