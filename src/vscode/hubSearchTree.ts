/**
 * Hub search results in the Catalog view: a "Hub search: <query>" node above the curated groups, one row per model
 * (params · downloads · license), and "Load more…" while the Hub has another page. The Catalog view's provider is
 * `CatalogViewProvider`, which puts this search in front of the curated catalog (src/vscode/catalogTree.ts).
 */

import * as vscode from "vscode";
import { SIZE_CLASS_SPECS } from "../core/catalog/sizeClasses";
import { describeError } from "../core/errors";
import { formatParameterCount } from "../core/format/humanUnits";
import type * as HubSearchModule from "../core/hub/hubSearch";
import type { HubSearchFilters, HubSearchResult } from "../core/hub/hubSearch";
import type { CatalogNode, CatalogTreeProvider } from "./catalogTree";
import { CommandId, TreeItemContext } from "./contributionIds";
import type { Ctx } from "./ctx";
import { readHubToken } from "./hubSignInCommand";
import { escapeMarkdown } from "./myModelsTree";
import { Disposable } from "./lifecycle";

export interface HubSearchRootNode {
  readonly kind: "hub-search";
}
/** One model found on the Hub; `repo` makes the node a valid argument of `slmLab.downloadModel` (`{ repo }`). */
export interface HubResultNode {
  readonly kind: "hub-result";
  readonly repo: string;
  readonly result: HubSearchResult;
}
/** Searching…, an error, no results, or Load more…. */
export interface HubMessageNode {
  readonly kind: "hub-message";
  readonly id: string;
  readonly label: string;
  readonly tooltip?: string;
  readonly icon: string;
  readonly command?: vscode.Command;
}
export type HubSearchNode = HubSearchRootNode | HubResultNode | HubMessageNode;
export type CatalogViewNode = CatalogNode | HubSearchNode;

export type HubSearchStatus = "idle" | "searching" | "done" | "failed";

/** The search being shown: filters, the results so far, the cursor of the next page. */
export class HubSearch extends Disposable {
  private readonly _onDidChange = this._register(new vscode.EventEmitter<void>());
  readonly onDidChange = this._onDidChange.event;
  private _filters: HubSearchFilters | undefined;
  private _results: HubResultNode[] = [];
  private _nextCursor: string | undefined;
  private _status: HubSearchStatus = "idle";
  private _error: string | undefined;
  private generation = 0;
  private abort: AbortController | undefined;
  private pageSize: number | undefined;

  constructor(private readonly ctx: Ctx) {
    super();
  }

  get filters(): HubSearchFilters | undefined {
    return this._filters;
  }
  get results(): readonly HubResultNode[] {
    return this._results;
  }
  get status(): HubSearchStatus {
    return this._status;
  }
  get error(): string | undefined {
    return this._error;
  }
  get hasMore(): boolean {
    return this._nextCursor !== undefined;
  }

  /** Starts a new search (the previous one, if still running, is abandoned); resolves with the first page. */
  async search(filters: HubSearchFilters, pageSize?: number): Promise<readonly HubResultNode[]> {
    this._filters = filters;
    this.pageSize = pageSize;
    this._results = [];
    this._nextCursor = undefined;
    return this.fetchPage(undefined);
  }

  /** Fetches the next page and appends it. */
  async loadMore(): Promise<readonly HubResultNode[]> {
    if (this._filters === undefined || this._nextCursor === undefined || this._status === "searching") return this._results;
    return this.fetchPage(this._nextCursor);
  }

  clear(): void {
    this.abort?.abort();
    this.generation++;
    this._filters = undefined;
    this._results = [];
    this._nextCursor = undefined;
    this._status = "idle";
    this._error = undefined;
    this._onDidChange.fire();
  }

  private async fetchPage(cursor: string | undefined): Promise<readonly HubResultNode[]> {
    const filters = this._filters;
    if (filters === undefined) return [];
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    const generation = ++this.generation;
    this._status = "searching";
    this._error = undefined;
    this._onDidChange.fire();
    const endpoint = this.ctx.settings.values.hubEndpoint;
    try {
      const { searchHub } = await hubSearchModule();
      const token = await readHubToken(this.ctx.extensionContext.secrets);
      const page = await searchHub({ ...filters, endpoint, token, signal: abort.signal, pageSize: this.pageSize, ...(cursor === undefined ? {} : { cursor }) });
      if (generation !== this.generation) return this._results;
      const seen = new Set(this._results.map((node) => node.repo));
      this._results = [...this._results, ...page.results.filter((result) => !seen.has(result.id)).map((result): HubResultNode => ({ kind: "hub-result", repo: result.id, result }))];
      this._nextCursor = page.nextCursor;
      this._status = "done";
      this.ctx.log.info(`Hub search ${JSON.stringify(filters)} on ${endpoint}: ${page.results.length} more (${this._results.length} shown${page.nextCursor === undefined ? ", last page" : ""})`);
    } catch (error) {
      if (generation !== this.generation) return this._results;
      this._status = "failed";
      this._error = describeError(error);
      this.ctx.log.error(`Hub search on ${endpoint}: ${this._error}`);
    } finally {
      if (generation === this.generation) this._onDidChange.fire();
    }
    return this._results;
  }
}

/** The Catalog view: the Hub search (when there is one) above the curated catalog's size-class groups. */
export class CatalogViewProvider extends Disposable implements vscode.TreeDataProvider<CatalogViewNode> {
  private readonly _onDidChangeTreeData = this._register(new vscode.EventEmitter<CatalogViewNode | undefined>());
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  private readonly root: HubSearchRootNode = { kind: "hub-search" };

  constructor(
    private readonly catalog: CatalogTreeProvider,
    readonly search: HubSearch,
  ) {
    super();
    this._register(search.onDidChange(() => { this._onDidChangeTreeData.fire(undefined); }));
  }

  async getChildren(element?: CatalogViewNode): Promise<CatalogViewNode[]> {
    if (element === undefined) {
      const curated: CatalogViewNode[] = await this.catalog.getChildren();
      return this.search.filters === undefined ? curated : [this.root, ...curated];
    }
    if (element.kind === "hub-search") return this.searchChildren();
    if (element.kind === "group" || element.kind === "entry") return this.catalog.getChildren(element);
    return [];
  }

  getTreeItem(node: CatalogViewNode): vscode.TreeItem {
    switch (node.kind) {
      case "group":
      case "entry":
        return this.catalog.getTreeItem(node);
      case "hub-search":
        return searchRootItem(this.search);
      case "hub-result":
        return hubResultItem(node.result);
      case "hub-message": {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.id = node.id;
        item.iconPath = new vscode.ThemeIcon(node.icon);
        if (node.tooltip !== undefined) item.tooltip = node.tooltip;
        if (node.command !== undefined) item.command = node.command;
        return item;
      }
    }
  }

  private searchChildren(): HubSearchNode[] {
    const nodes: HubSearchNode[] = [...this.search.results];
    const { status } = this.search;
    if (status === "searching") nodes.push({ kind: "hub-message", id: "hub-message:searching", label: "Searching the Hub…", icon: "loading~spin" });
    else if (status === "failed") {
      nodes.push({
        kind: "hub-message",
        id: "hub-message:error",
        label: this.search.error ?? "The search failed",
        tooltip: `${this.search.error ?? ""}\n\nClick to search again.`,
        icon: "error",
        command: { title: "Search Again", command: CommandId.searchHub, arguments: [this.search.filters] },
      });
    } else if (this.search.results.length === 0) {
      nodes.push({ kind: "hub-message", id: "hub-message:none", label: "No models match: change the query or the filters", icon: "info", command: { title: "Search Hub", command: CommandId.searchHub } });
    } else if (this.search.hasMore) {
      nodes.push({ kind: "hub-message", id: "hub-message:more", label: "Load more…", icon: "ellipsis", command: { title: "Load More", command: CommandId.loadMoreHubResults } });
    }
    return nodes;
  }
}

function searchRootItem(search: HubSearch): vscode.TreeItem {
  const query = search.filters?.query?.trim();
  const item = new vscode.TreeItem(`Hub search: ${query === undefined || query === "" ? "(all models)" : query}`, vscode.TreeItemCollapsibleState.Expanded);
  item.id = "hub-search";
  item.iconPath = new vscode.ThemeIcon("search");
  const filters = search.filters === undefined ? "" : describeFilters(search.filters);
  const count = search.status === "searching" && search.results.length === 0 ? "" : `${search.results.length}${search.hasMore ? "+" : ""} models`;
  item.description = [count, filters].filter((part) => part !== "").join(" · ");
  item.tooltip = `Hugging Face Hub search${filters === "" ? "" : ` (${filters})`}. Right-click a result to see its details, download it or compare it.`;
  item.contextValue = TreeItemContext.hubSearch;
  return item;
}

/** `494M · ↓52K · apache-2.0` (params · downloads · license): short, the side bar is narrow. */
export function hubResultDescription(result: HubSearchResult): string {
  const params = result.parameterCount === undefined ? "? params" : `${result.parameterSource === "name" ? "~" : ""}${formatParameterCount(result.parameterCount)}`;
  const parts = [params, `↓${formatCount(result.downloads)}`, result.license ?? "no license tag"];
  if (result.gated !== false) parts.push("gated");
  return parts.join(" · ");
}

function hubResultItem(result: HubSearchResult): vscode.TreeItem {
  const item = new vscode.TreeItem(result.id, vscode.TreeItemCollapsibleState.None);
  item.id = `hub-result:${result.id}`;
  item.description = hubResultDescription(result);
  item.iconPath = new vscode.ThemeIcon(result.gated !== false ? "lock" : result.formats.includes("gguf") ? "package" : "hubot");
  item.contextValue = TreeItemContext.hubResult;
  item.command = { title: "Show Details", command: CommandId.showHubModelDetails, arguments: [{ kind: "hub-result", repo: result.id, result } satisfies HubResultNode] };
  const md = new vscode.MarkdownString();
  md.appendMarkdown(`**${escapeMarkdown(result.id)}**\n\n`);
  const rows: [string, string][] = [
    ["Parameters", result.parameterCount === undefined ? "unknown" : `${formatParameterCount(result.parameterCount)} (from ${result.parameterSource === "name" ? "the name" : `the Hub's ${result.parameterSource ?? ""} metadata`})`],
    ["Size class", result.sizeClass === undefined ? "—" : `${SIZE_CLASS_SPECS[result.sizeClass].label} (${SIZE_CLASS_SPECS[result.sizeClass].range})`],
    ["License", result.license ?? "—"],
    ["Task", result.task ?? "—"],
    ["Library", result.library ?? "—"],
    ["Formats", result.formats.join(", ") || "—"],
    ["Downloads / likes", `${result.downloads.toLocaleString("en-US")} / ${result.likes.toLocaleString("en-US")}`],
    ["Updated", result.lastModified.slice(0, 10)],
  ];
  if (result.gated !== false) rows.push(["Gated", "accept the license on the model page, then sign in to download"]);
  md.appendMarkdown(`| | |\n|---|---|\n${rows.map(([key, value]) => `| ${key} | ${escapeMarkdown(value)} |`).join("\n")}\n`);
  item.tooltip = md;
  return item;
}

/** The filters in words, for the search node's description. */
function describeFilters(filters: HubSearchFilters): string {
  const parts: string[] = [];
  if (filters.sizeClass !== undefined) parts.push(SIZE_CLASS_SPECS[filters.sizeClass].label);
  if (filters.format !== undefined) parts.push(filters.format === "gguf" ? "GGUF" : "safetensors");
  if (filters.license !== undefined && filters.license !== "") parts.push(filters.license);
  if (filters.task !== undefined && filters.task !== "") parts.push(filters.task);
  if (filters.library !== undefined && filters.library !== "") parts.push(filters.library);
  parts.push(filters.sort === "likes" ? "by likes" : filters.sort === "lastModified" ? "recently updated" : "by downloads");
  return parts.join(" · ");
}

/** 1234 → "1.2K", 5_000_000 → "5M". */
export function formatCount(count: number): string {
  if (count >= 1e6) return `${Number((count / 1e6).toFixed(count >= 1e7 ? 0 : 1))}M`;
  if (count >= 1e3) return `${Number((count / 1e3).toFixed(count >= 1e4 ? 0 : 1))}K`;
  return String(count);
}

/** The Hub search module, loaded on first search: it brings @huggingface/hub into the extension host. */
export function hubSearchModule(): Promise<typeof HubSearchModule> {
  return import("../core/hub/hubSearch.js");
}
