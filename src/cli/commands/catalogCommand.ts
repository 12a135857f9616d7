/** `slm-lab catalog [--size micro|small|medium] [--tag code] [--json]`: the curated SLM catalog, grouped by size class. */
import { CATALOG_TAGS, FACT_GROUPS, type CatalogEntry, type CatalogTag } from "../../core/catalog/catalogTypes";
import {
  entrySizeClass,
  factVerifications,
  filterCatalog,
  groupBySizeClass,
  loadCuratedCatalog,
  type CatalogFilter,
} from "../../core/catalog/curatedCatalog";
import { recommendedQuantizations } from "../../core/catalog/recommendedQuantizations";
import { SIZE_CLASSES, SIZE_CLASS_SPECS, isSizeClass, type SizeClass } from "../../core/catalog/sizeClasses";
import { formatParameterCount } from "../../core/format/humanUnits";
import { type CliCommand } from "../cliCommand";
import { ExitCode } from "../cliFailure";
import { CliUsageError } from "../cliUsageError";

const HELP = "slm-lab help catalog";

export const catalogCommand: CliCommand = {
  name: "catalog",
  summary: "List the curated small language models, grouped by size class.",
  usage: "catalog [--size micro|small|medium] [--tag TAG[,TAG...]] [--json]",
  description: [
    "Lists the curated catalog: for each model its parameters, context length, license, tags, whether Foundry Local",
    "offers it, and how many of its facts were verified from a primary source (model card, config.json, vendor docs).",
    `Size classes: ${SIZE_CLASSES.map((sizeClass) => `${SIZE_CLASS_SPECS[sizeClass].label} ${SIZE_CLASS_SPECS[sizeClass].range}`).join(", ")}.`,
    `Tags: ${CATALOG_TAGS.join(", ")}. Several tags keep models carrying all of them; "fim" lists the inline-completion models.`,
    "--json prints every field, with the size class, the recommended quantizations and each fact's verification record.",
  ].join("\n"),
  options: [
    { name: "size", kind: "value", valueName: "class", description: "Only this size class: micro, small or medium." },
    { name: "tag", kind: "value", valueName: "tags", description: "Only models with these tags (comma-separated), e.g. code or fim." },
    { name: "json", kind: "flag", description: "Print JSON: an array of entries." },
  ],
  examples: ["slm-lab catalog", "slm-lab catalog --size micro", "slm-lab catalog --tag fim", "slm-lab catalog --tag code --json"],

  run(args, context) {
    if (args.positionals.length > 0) throw new CliUsageError(`catalog: unexpected argument '${args.positionals[0] ?? ""}'.`, HELP);
    const filter = readFilter(args.value("size"), args.value("tag"));
    const entries = filterCatalog(loadCuratedCatalog().entries, filter);

    if (args.flag("json")) {
      context.stdout(`${JSON.stringify(entries.map(entryToJson), null, 2)}\n`);
    } else {
      context.stdout(formatCatalogText(entries, filter));
    }
    return Promise.resolve(ExitCode.ok);
  },
};

function readFilter(size: string | undefined, tagList: string | undefined): CatalogFilter {
  let sizeClass: SizeClass | undefined;
  if (size !== undefined) {
    const wanted = size.toLowerCase();
    if (!isSizeClass(wanted)) throw new CliUsageError(`catalog: unknown size class '${size}' (expected ${SIZE_CLASSES.join(", ")}).`, HELP);
    sizeClass = wanted;
  }
  let tags: CatalogTag[] | undefined;
  if (tagList !== undefined) {
    tags = tagList.split(",").map((tag) => tag.trim().toLowerCase()).filter((tag) => tag !== "").map((tag) => {
      if (!(CATALOG_TAGS as readonly string[]).includes(tag)) throw new CliUsageError(`catalog: unknown tag '${tag}' (expected ${CATALOG_TAGS.join(", ")}).`, HELP);
      return tag as CatalogTag;
    });
    if (tags.length === 0) throw new CliUsageError("catalog: --tag needs at least one tag.", HELP);
  }
  return { ...(sizeClass === undefined ? {} : { sizeClass }), ...(tags === undefined ? {} : { tags }) };
}

/** The JSON record of one entry: the catalog fields plus what is derived from them. */
function entryToJson(entry: CatalogEntry): unknown {
  return { ...entry, sizeClass: entrySizeClass(entry), recommendedQuantizations: recommendedQuantizations(entry) };
}

const COLUMNS = ["ID", "PARAMS", "CONTEXT", "LICENSE", "GATED", "FOUNDRY LOCAL", "VERIFIED", "TAGS"] as const;

function tableRow(entry: CatalogEntry): readonly string[] {
  const facts = factVerifications(entry);
  const verified = facts.filter((fact) => fact.status === "verified").length;
  return [
    entry.id,
    formatParameterCount(entry.parameters),
    `${Math.round(entry.contextLength / 1024)}K`,
    entry.license.id,
    entry.gated ? "yes" : "no",
    entry.availability.foundryLocal === "listed" ? (entry.availability.foundryLocalAlias ?? "yes") : entry.availability.foundryLocal === "unknown" ? "?" : "-",
    `${verified}/${facts.length}`,
    entry.tags.join(","),
  ];
}

/** Aligned columns; the last column is not padded so lines carry no trailing blanks. */
function formatTable(rows: readonly (readonly string[])[], indent: string): string {
  const widths = COLUMNS.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
  return rows
    .map((row) => `${indent}${row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join("  ")}`.trimEnd())
    .join("\n");
}

function formatCatalogText(entries: readonly CatalogEntry[], filter: CatalogFilter): string {
  if (entries.length === 0) return "No model in the catalog matches.\n";
  const sections: string[] = [];
  for (const [sizeClass, group] of groupBySizeClass(entries)) {
    if (group.length === 0 && (filter.sizeClass !== undefined || filter.tags !== undefined)) continue;
    const spec = SIZE_CLASS_SPECS[sizeClass];
    const heading = `${spec.label} (${spec.range}): ${group.length} model${group.length === 1 ? "" : "s"}`;
    sections.push(group.length === 0 ? `${heading}\n` : `${heading}\n${formatTable([COLUMNS, ...group.map(tableRow)], "  ")}\n`);
  }
  const legend = [
    `VERIFIED: fact groups (${FACT_GROUPS.join(", ")}) confirmed from a primary source;`,
    "the others are marked secondary or unverified, with a note, in --json.",
    "FOUNDRY LOCAL: the alias when listed, '-' when not in the catalog snapshot read, '?' when unknown.",
  ].join("\n");
  return `${sections.join("\n")}\n${legend}\n`;
}
