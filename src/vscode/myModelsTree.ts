/** The My Models view: groups by where models live, one item per model with its architecture, size and quantization. */

import os from "node:os";
import * as vscode from "vscode";
import { formatBytes, formatParameterCount } from "../core/format/humanUnits";
import type { ModelSource, ModelStoreScan, StoredModel } from "../core/store/storedModel";
import { CommandId, SETTINGS_SECTION, SettingKey, TreeItemContext } from "./contributionIds";
import { Disposable } from "./lifecycle";
import type { LocalModels } from "./localModels";

export interface MyModelsGroupNode {
  readonly kind: "group";
  readonly source: ModelSource;
  /** The folders the group's models come from (Ollama and LM Studio may have several). */
  readonly folders: readonly string[];
  readonly children: readonly MyModelsNode[];
}
export interface MyModelsModelNode {
  readonly kind: "model";
  readonly model: StoredModel;
}
/** A line of explanation where a group would otherwise be empty or misleading. */
export interface MyModelsHintNode {
  readonly kind: "hint";
  readonly id: string;
  readonly label: string;
  readonly tooltip: string;
  readonly command?: vscode.Command;
}
export type MyModelsNode = MyModelsGroupNode | MyModelsModelNode | MyModelsHintNode;

const GROUP_TITLES: Readonly<Record<ModelSource, string>> = {
  "models-folder": "Models folder",
  "huggingface-cache": "Hugging Face cache",
  "lm-studio": "LM Studio (read-only)",
  ollama: "Ollama (read-only)",
};

export class MyModelsTreeProvider extends Disposable implements vscode.TreeDataProvider<MyModelsNode> {
  private readonly _onDidChangeTreeData = this._register(new vscode.EventEmitter<MyModelsNode | undefined>());
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  private parents = new Map<MyModelsNode, MyModelsNode>();

  constructor(private readonly models: LocalModels) {
    super();
    this._register(models.onDidChange(() => { this._onDidChangeTreeData.fire(undefined); }));
  }

  /** Root: the groups that have something to show; `[]` (so the view's welcome text shows) when there is nothing. */
  async getChildren(node?: MyModelsNode): Promise<MyModelsNode[]> {
    if (node !== undefined) return node.kind === "group" ? [...node.children] : [];
    const scan = await this.models.getScan();
    const roots = buildRoots(scan, this.models.locations().modelsDirectoryProblem);
    this.parents = new Map();
    for (const root of roots) if (root.kind === "group") for (const child of root.children) this.parents.set(child, root);
    return roots;
  }

  getParent(node: MyModelsNode): MyModelsNode | undefined {
    return this.parents.get(node);
  }

  getTreeItem(node: MyModelsNode): vscode.TreeItem {
    switch (node.kind) {
      case "group":
        return groupItem(node);
      case "model":
        return modelItem(node.model);
      case "hint": {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.id = node.id;
        item.tooltip = node.tooltip;
        item.iconPath = new vscode.ThemeIcon("info");
        if (node.command !== undefined) item.command = node.command;
        return item;
      }
    }
  }
}

/** The root nodes for a scan (exported for the extension-host tests through the API). */
export function buildRoots(scan: ModelStoreScan, modelsDirectoryProblem: string | undefined): MyModelsNode[] {
  const roots: MyModelsNode[] = [];
  const own = scan.models.filter((model) => model.source === "models-folder").map((model): MyModelsNode => ({ kind: "model", model }));
  const openSettings: vscode.Command = {
    title: "Open Settings",
    command: "workbench.action.openSettings",
    arguments: [`${SETTINGS_SECTION}.${SettingKey.modelsDirectory}`],
  };
  if (modelsDirectoryProblem !== undefined) {
    own.unshift({ kind: "hint", id: "hint:modelsDirectoryProblem", label: "The models folder setting is not usable", tooltip: `${modelsDirectoryProblem} Showing the default folder.`, command: openSettings });
  } else if (!scan.modelsDirectory.exists && own.length === 0) {
    own.push({ kind: "hint", id: "hint:modelsDirectoryMissing", label: "The models folder does not exist", tooltip: `${scan.modelsDirectory.path} does not exist. Create it, or change slmLab.modelsDirectory.`, command: openSettings });
  }
  if (own.length > 0) roots.push({ kind: "group", source: "models-folder", folders: [scan.modelsDirectory.path], children: own });
  const hub = scan.models.filter((model) => model.source === "huggingface-cache").map((model): MyModelsNode => ({ kind: "model", model }));
  if (hub.length > 0 && scan.huggingFaceCache !== undefined) roots.push({ kind: "group", source: "huggingface-cache", folders: [scan.huggingFaceCache.path], children: hub });
  for (const source of ["lm-studio", "ollama"] as const) {
    const models = scan.models.filter((model) => model.source === source).map((model): MyModelsNode => ({ kind: "model", model }));
    const folders = (scan.otherStores ?? []).filter((store) => store.source === source && store.exists).map((store) => store.path);
    if (models.length > 0) roots.push({ kind: "group", source, folders, children: models });
  }
  return roots;
}

function groupItem(node: MyModelsGroupNode): vscode.TreeItem {
  const item = new vscode.TreeItem(GROUP_TITLES[node.source], vscode.TreeItemCollapsibleState.Expanded);
  item.id = `group:${node.source}`;
  item.description = node.folders.map(tildify).join(", ");
  item.tooltip = node.folders.join("\n");
  item.contextValue = TreeItemContext.group;
  item.iconPath = new vscode.ThemeIcon(node.source === "models-folder" ? "folder-library" : node.source === "huggingface-cache" ? "archive" : "lock");
  return item;
}

/** `qwen2 · 494M · Q4_K_M · 352 MiB` (and `· 3 parts` for a split model). */
export function modelDescription(model: StoredModel): string {
  const { summary } = model;
  if (summary === undefined) return `cannot read · ${formatBytes(model.sizeBytes)}`;
  const parts = [summary.architecture ?? "unknown", formatParameterCount(summary.parameterCount), summary.fileType, formatBytes(model.sizeBytes)];
  if (model.partCount > 1) parts.push(`${model.partCount} parts`);
  return parts.join(" · ");
}

function modelItem(model: StoredModel): vscode.TreeItem {
  // Everything here is GGUF: the extension only costs width that the description needs (the tooltip has the path).
  const item = new vscode.TreeItem(model.label.replace(/\.gguf$/i, ""), vscode.TreeItemCollapsibleState.None);
  item.id = model.id;
  item.description = modelDescription(model);
  item.contextValue = model.source === "models-folder" ? TreeItemContext.deletableModel : TreeItemContext.model;
  item.tooltip = model.error ?? modelTooltip(model);
  item.iconPath = model.error === undefined ? new vscode.ThemeIcon("hubot") : new vscode.ThemeIcon("warning", new vscode.ThemeColor("list.warningForeground"));
  item.command = { title: "Show Model Info", command: CommandId.showModelInfo, arguments: [{ kind: "model", model } satisfies MyModelsModelNode] };
  return item;
}

function modelTooltip(model: StoredModel): vscode.MarkdownString {
  const { summary } = model;
  const rows: [string, string][] = [];
  if (summary !== undefined) {
    rows.push(["Architecture", summary.architecture ?? "unknown"]);
    rows.push(["Parameters", `${formatParameterCount(summary.parameterCount)} (${summary.parameterCount.toLocaleString("en-US")})`]);
    rows.push(["File type", `${summary.fileType}, ${summary.bitsPerWeight.toFixed(2)} bits/weight`]);
    if (summary.contextLength !== undefined) rows.push(["Context length", summary.contextLength.toLocaleString("en-US")]);
    if (summary.vocabularySize !== undefined) rows.push(["Vocabulary", summary.vocabularySize.toLocaleString("en-US")]);
    if (summary.tokenizerModel !== undefined) rows.push(["Tokenizer", summary.tokenizerPre === undefined ? summary.tokenizerModel : `${summary.tokenizerModel} (${summary.tokenizerPre})`]);
  }
  rows.push(["Size", `${formatBytes(model.sizeBytes)}${model.partCount > 1 ? ` in ${model.partCount} parts` : ""}`]);
  if (model.repoId !== undefined) rows.push(["Repository", model.revision === undefined ? model.repoId : `${model.repoId} @ ${model.revision.slice(0, 12)}`]);
  const markdown = new vscode.MarkdownString();
  markdown.appendMarkdown(`**${escapeMarkdown(summary?.name ?? model.label)}**\n\n`);
  markdown.appendMarkdown(`| | |\n|---|---|\n${rows.map(([key, value]) => `| ${escapeMarkdown(key)} | ${escapeMarkdown(value)} |`).join("\n")}\n\n`);
  markdown.appendMarkdown("Path: ");
  markdown.appendMarkdown(`\`${model.path.replace(/`/g, "'")}\``);
  return markdown;
}

/** Escapes text for Markdown so file names and metadata values render as written. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, (char) => `\\${char}`);
}

/** A folder under the home folder as ~/…, for a description that fits the side bar. */
function tildify(folder: string): string {
  const home = os.homedir();
  return folder === home || folder.startsWith(`${home}/`) ? `~${folder.slice(home.length)}` : folder;
}
