/**
 * The Catalog view: the curated SLM catalog (src/core/catalog) grouped Micro / Small / Medium, each entry with its
 * size, license and context in the description and every fact (with what could not be confirmed) in the tooltip.
 * Entries with a GGUF repository get the "Download Model" action.
 */

import * as vscode from "vscode";
import { unconfirmedFacts } from "../core/catalog/catalogFacts";
import type { AvailabilityState, CatalogEntry } from "../core/catalog/catalogTypes";
import { recommendedQuantizations } from "../core/catalog/recommendedQuantizations";
import { SIZE_CLASS_SPECS, type SizeClass } from "../core/catalog/sizeClasses";
import { TreeItemContext } from "./contributionIds";

export interface CatalogGroupNode {
  readonly kind: "group";
  readonly sizeClass: SizeClass;
  readonly entries: readonly CatalogEntry[];
}

export interface CatalogEntryNode {
  readonly kind: "entry";
  readonly entry: CatalogEntry;
}

export type CatalogNode = CatalogGroupNode | CatalogEntryNode;

export class CatalogTreeProvider implements vscode.TreeDataProvider<CatalogNode> {
  private groups: CatalogGroupNode[] | undefined;

  async getChildren(element?: CatalogNode): Promise<CatalogNode[]> {
    if (element === undefined) return this.rootGroups();
    if (element.kind === "group") return element.entries.map((entry) => ({ kind: "entry", entry }));
    return [];
  }

  getTreeItem(node: CatalogNode): vscode.TreeItem {
    if (node.kind === "group") {
      const spec = SIZE_CLASS_SPECS[node.sizeClass];
      const item = new vscode.TreeItem(spec.label, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `catalog-group:${node.sizeClass}`;
      item.description = `${spec.range} · ${node.entries.length} models`;
      item.contextValue = TreeItemContext.group;
      return item;
    }
    const { entry } = node;
    const item = new vscode.TreeItem(entry.displayName, vscode.TreeItemCollapsibleState.None);
    item.id = `catalog-entry:${entry.id}`;
    item.description = catalogEntryDescription(entry);
    item.tooltip = catalogEntryTooltip(entry);
    item.iconPath = new vscode.ThemeIcon(entry.tags.includes("fim") ? "symbol-method" : "hubot");
    item.contextValue = defaultGgufRepo(entry) === undefined ? TreeItemContext.catalogEntry : TreeItemContext.downloadableCatalogEntry;
    return item;
  }

  private async rootGroups(): Promise<CatalogGroupNode[]> {
    if (this.groups === undefined) {
      // Loaded on first view, not at activation: the catalog data is the largest part of the bundle.
      const { groupBySizeClass, loadCuratedCatalog } = await import("../core/catalog/curatedCatalog.js");
      this.groups = [...groupBySizeClass(loadCuratedCatalog().entries)].map(([sizeClass, entries]) => ({ kind: "group", sizeClass, entries }));
    }
    return this.groups;
  }
}

/** The GGUF repository a download from this entry starts with: the official one, else ggml-org's, else the first. */
export function defaultGgufRepo(entry: CatalogEntry): string | undefined {
  const sources = entry.repositories.gguf;
  return (sources.find((source) => source.publisher === "official") ?? sources.find((source) => source.publisher === "ggml-org") ?? sources[0])?.repo;
}

/** "0.6B · Apache-2.0 · 32K ctx". */
export function catalogEntryDescription(entry: CatalogEntry): string {
  return `${formatBillions(entry.parameters)} · ${entry.license.id} · ${formatContext(entry.contextLength)} ctx`;
}

/** 0.6e9 → "0.6B", 3.8e9 → "3.8B", 27e9 → "27B", 135e6 → "135M" (as model cards name sizes). */
function formatBillions(parameters: number): string {
  if (parameters < 1e9 && parameters % 1e8 !== 0) return `${Math.round(parameters / 1e6)}M`;
  const billions = parameters / 1e9;
  return `${Number(billions.toFixed(billions >= 10 ? 0 : 1))}B`;
}

/** 32768 → "32K", 131072 → "128K". */
function formatContext(tokens: number): string {
  return tokens >= 1024 ? `${Math.round(tokens / 1024)}K` : String(tokens);
}

const AVAILABILITY_WORDS: Readonly<Record<AvailabilityState, string>> = { listed: "listed", "not-listed": "not listed", unknown: "unknown" };

/** Everything about an entry, as Markdown; unconfirmed facts get a visible "unverified" line each. */
export function catalogEntryTooltip(entry: CatalogEntry): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${escape(entry.displayName)}** — ${escape(catalogEntryDescription(entry))}\n\n`);
  md.appendMarkdown(`Good for: ${escape(entry.goodFor)}\n\n`);
  md.appendMarkdown(`Tags: ${entry.tags.map((tag) => `\`${tag}\``).join(" ")}\n\n`);
  md.appendMarkdown(`License: [${escape(entry.license.name)}](${entry.license.url})${entry.gated ? " (gated: accept it on the model page first)" : ""}\n\n`);
  md.appendMarkdown(`Repos: \`${entry.repositories.safetensors}\` (safetensors, ${entry.repositories.variant})`);
  for (const source of entry.repositories.gguf) md.appendMarkdown(`, \`${source.repo}\` (GGUF, ${source.publisher}, ${source.variant})`);
  md.appendMarkdown("\n\n");
  const quants = recommendedQuantizations(entry).map((rec) => `\`${rec.type}\` (${rec.preset}${rec.publishedIn.length > 0 ? ", published" : ", quantize yourself"})`);
  md.appendMarkdown(`Recommended quantizations: ${quants.join(", ")}\n\n`);
  const alias = entry.availability.foundryLocalAlias === undefined ? "" : ` (\`${entry.availability.foundryLocalAlias}\`)`;
  md.appendMarkdown(`Azure AI Foundry: ${AVAILABILITY_WORDS[entry.availability.azureAiFoundry]} · Foundry Local: ${AVAILABILITY_WORDS[entry.availability.foundryLocal]}${alias}\n\n`);
  for (const fact of unconfirmedFacts(entry)) {
    md.appendMarkdown(`⚠ unverified: ${fact.group}${fact.status === "secondary" ? " (secondary sources only)" : ""}${fact.note === undefined ? "" : ` — ${escape(fact.note)}`}\n\n`);
  }
  for (const note of entry.notes ?? []) md.appendMarkdown(`_${escape(note)}_\n\n`);
  return md;
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]<>#|]/g, (char) => `\\${char}`);
}
