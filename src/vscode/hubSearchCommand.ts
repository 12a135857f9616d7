/**
 * "SLM Lab: Search Hugging Face Hub": a query in an input box, then a menu of filters (size class, format, license,
 * task, library, sort) that loops until "Search"; the last filters are kept in globalState for next time. Results go
 * to the Catalog view (src/vscode/hubSearchTree.ts). Programmatic callers (tests) pass the filters and get the
 * first page back without any UI.
 */

import * as vscode from "vscode";
import { SIZE_CLASSES, SIZE_CLASS_SPECS, isSizeClass } from "../core/catalog/sizeClasses";
import type { HubModelFormat, HubSearchFilters, HubSearchSort } from "../core/hub/hubSearch";
import { CommandId, ViewId } from "./contributionIds";
import type { Ctx } from "./ctx";
import type { HubResultNode, HubSearch } from "./hubSearchTree";
import { Disposable } from "./lifecycle";

/** globalState key of the last filters used. */
const LAST_FILTERS_KEY = "slmLab.hubSearch.lastFilters";

const SORTS: readonly (readonly [HubSearchSort, string])[] = [
  ["downloads", "Most downloads"],
  ["likes", "Most likes"],
  ["lastModified", "Recently updated"],
];
const FORMATS: readonly (readonly [HubModelFormat, string])[] = [
  ["gguf", "GGUF (runs in llama.cpp, ready to download)"],
  ["safetensors", "safetensors (convert to GGUF first)"],
];
/** Common choices; "Other…" asks for any value the Hub knows. */
const LICENSES = ["apache-2.0", "mit", "llama3.2", "llama3.1", "gemma", "qwen", "cc-by-4.0", "openrail"];
const TASKS = ["text-generation", "text2text-generation", "feature-extraction", "sentence-similarity", "fill-mask", "image-text-to-text"];
const LIBRARIES = ["transformers", "gguf", "mlx", "onnx", "sentence-transformers", "llama.cpp"];

type FilterField = "sizeClass" | "format" | "license" | "task" | "library" | "sort";

interface MenuItem extends vscode.QuickPickItem {
  readonly field?: FilterField;
  readonly search?: true;
  readonly reset?: true;
}
interface ChoiceItem extends vscode.QuickPickItem {
  readonly value: string | undefined;
  readonly other?: true;
}

export class HubSearchCommand extends Disposable {
  constructor(
    private readonly ctx: Ctx,
    private readonly hubSearch: HubSearch,
  ) {
    super();
    this._register(vscode.commands.registerCommand(CommandId.searchHub, (argument?: unknown) => this.run(argument)));
    this._register(vscode.commands.registerCommand(CommandId.loadMoreHubResults, () => this.hubSearch.loadMore()));
    this._register(vscode.commands.registerCommand(CommandId.clearHubSearch, () => { this.hubSearch.clear(); }));
  }

  /** The command: asks for a query and filters (unless given), searches, and shows the Catalog view. */
  async run(argument?: unknown): Promise<readonly HubResultNode[]> {
    const given = filtersOf(argument);
    const filters = given ?? (await this.ask());
    if (filters === undefined) return [];
    await this.ctx.extensionContext.globalState.update(LAST_FILTERS_KEY, filters);
    const pageSize = given === undefined ? undefined : pageSizeOf(argument);
    const search = this.hubSearch.search(filters, pageSize);
    void vscode.commands.executeCommand(`${ViewId.catalog}.focus`).then(undefined, () => undefined);
    const results = await search;
    if (this.hubSearch.status === "failed" && given === undefined) void vscode.window.showErrorMessage(`Hub search failed: ${this.hubSearch.error ?? ""}`);
    return results;
  }

  private lastFilters(): HubSearchFilters {
    return filtersOf(this.ctx.extensionContext.globalState.get<unknown>(LAST_FILTERS_KEY)) ?? {};
  }

  /** The query, then the filter menu until "Search" (Escape anywhere cancels). */
  private async ask(): Promise<HubSearchFilters | undefined> {
    const last = this.lastFilters();
    const query = await vscode.window.showInputBox({
      title: "Search Hugging Face Hub",
      prompt: "Words in the model's name (empty: all models); filters come next",
      placeHolder: "qwen2.5 coder gguf",
      value: last.query ?? "",
    });
    if (query === undefined) return undefined;
    let filters: HubSearchFilters = { ...last, query: query.trim() };
    for (;;) {
      const picked = await vscode.window.showQuickPick(menuItems(filters), {
        title: `Search Hub: ${filters.query === "" ? "(all models)" : (filters.query ?? "")}`,
        placeHolder: "Press Enter to search, or pick a filter to change it",
        ignoreFocusOut: true,
      });
      if (picked === undefined) return undefined;
      if (picked.search === true) return filters;
      if (picked.reset === true) {
        filters = { query: filters.query };
        continue;
      }
      if (picked.field !== undefined) {
        const value = await pickFilterValue(picked.field, filters);
        if (value !== null) filters = withFilter(filters, picked.field, value);
      }
    }
  }
}

function menuItems(filters: HubSearchFilters): MenuItem[] {
  const any = "any";
  const sizeClass = filters.sizeClass === undefined ? any : `${SIZE_CLASS_SPECS[filters.sizeClass].label} (${SIZE_CLASS_SPECS[filters.sizeClass].range})`;
  return [
    { label: "$(search) Search", description: "with the filters below", search: true, alwaysShow: true },
    { label: "", kind: vscode.QuickPickItemKind.Separator },
    { label: "Size class", description: sizeClass, field: "sizeClass" },
    { label: "Format", description: filters.format ?? any, field: "format" },
    { label: "License", description: filters.license ?? any, field: "license" },
    { label: "Task", description: filters.task ?? any, field: "task" },
    { label: "Library", description: filters.library ?? any, field: "library" },
    { label: "Sort", description: SORTS.find(([sort]) => sort === (filters.sort ?? "downloads"))?.[1] ?? "Most downloads", field: "sort" },
    { label: "", kind: vscode.QuickPickItemKind.Separator },
    { label: "$(clear-all) Clear all filters", reset: true },
  ];
}

/** The chosen value (undefined = any), or null when the pick was dismissed. */
async function pickFilterValue(field: FilterField, filters: HubSearchFilters): Promise<string | undefined | null> {
  const any: ChoiceItem = { label: "Any", value: undefined };
  const other: ChoiceItem = { label: "Other…", description: "type a value the Hub knows", value: undefined, other: true };
  const simple = (values: readonly string[]): ChoiceItem[] => [any, ...values.map((value) => ({ label: value, value })), other];
  const choices: Record<FilterField, ChoiceItem[]> = {
    sizeClass: [any, ...SIZE_CLASSES.map((sizeClass) => ({ label: SIZE_CLASS_SPECS[sizeClass].label, description: `${SIZE_CLASS_SPECS[sizeClass].range} parameters`, value: sizeClass }))],
    format: [any, ...FORMATS.map(([format, description]) => ({ label: format === "gguf" ? "GGUF" : "safetensors", description, value: format }))],
    license: simple(LICENSES),
    task: simple(TASKS),
    library: simple(LIBRARIES),
    sort: SORTS.map(([sort, label]) => ({ label, value: sort })),
  };
  const current = filters[field];
  const items = choices[field].map((item) => (item.value === current && item.other !== true ? { ...item, picked: true, description: `${item.description ?? ""} ✓`.trim() } : item));
  const picked = await vscode.window.showQuickPick(items, { title: `Hub search: ${field === "sizeClass" ? "size class" : field}`, ignoreFocusOut: true });
  if (picked === undefined) return null;
  if (picked.other !== true) return picked.value;
  const typed = await vscode.window.showInputBox({ title: `Hub search: ${field}`, prompt: `A ${field} id as the Hub writes it (e.g. ${choices[field][1]?.label ?? ""})`, value: current ?? "" });
  return typed === undefined ? null : typed.trim() === "" ? undefined : typed.trim().toLowerCase();
}

function withFilter(filters: HubSearchFilters, field: FilterField, value: string | undefined): HubSearchFilters {
  const { [field]: _dropped, ...rest } = filters;
  return value === undefined ? rest : filtersOf({ ...rest, [field]: value }) ?? rest;
}

/** A programmatic caller's `pageSize` (tests page through small fixtures). */
function pageSizeOf(value: unknown): number | undefined {
  const size = typeof value === "object" && value !== null ? (value as Record<string, unknown>)["pageSize"] : undefined;
  return typeof size === "number" && Number.isInteger(size) && size > 0 ? size : undefined;
}

/** Filters from a programmatic argument or globalState: only known fields with valid values. */
export function filtersOf(value: unknown): HubSearchFilters | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value) || "kind" in value) return undefined;
  const record = value as Record<string, unknown>;
  const text = (key: string): string | undefined => {
    const field = record[key];
    return typeof field === "string" && field.trim() !== "" ? field.trim() : undefined;
  };
  const sizeClass = text("sizeClass");
  const format = text("format");
  const sort = text("sort");
  const filters: { -readonly [K in keyof HubSearchFilters]: HubSearchFilters[K] } = {};
  const query = record["query"];
  if (typeof query === "string") filters.query = query.trim();
  if (sizeClass !== undefined && isSizeClass(sizeClass)) filters.sizeClass = sizeClass;
  if (format === "gguf" || format === "safetensors") filters.format = format;
  if (sort === "downloads" || sort === "likes" || sort === "lastModified") filters.sort = sort;
  for (const key of ["license", "task", "library"] as const) {
    const field = text(key);
    if (field !== undefined) filters[key] = field;
  }
  return filters;
}
