/**
 * The curated SLM catalog: the bundled `curatedModels.json`, validated once at first use, and the ways the views
 * and the CLI read it (by size class, by tag, by id). The JSON is bundled by esbuild, so no file is read at run time.
 */
import curatedModelsJson from "./curatedModels.json";
import { parseCuratedCatalog } from "./catalogValidation";
import { type CatalogEntry, type CatalogTag, type CuratedCatalog } from "./catalogTypes";
export { factVerifications, unconfirmedFacts, type FactVerification } from "./catalogFacts";
import { SIZE_CLASSES, sizeClassOf, type SizeClass } from "./sizeClasses";

/** File name used in validation messages about the bundled catalog. */
export const CURATED_CATALOG_FILE = "src/core/catalog/curatedModels.json";

let bundled: CuratedCatalog | undefined;

/** The bundled curated catalog, validated on first call (throws CatalogFormatError if the data is broken). */
export function loadCuratedCatalog(): CuratedCatalog {
  // The JSON module's inferred type is not trusted: parseCuratedCatalog takes unknown and checks every field.
  bundled ??= parseCuratedCatalog(curatedModelsJson, CURATED_CATALOG_FILE);
  return bundled;
}

/** The size class of a catalog entry, derived from its parameter count. */
export function entrySizeClass(entry: CatalogEntry): SizeClass {
  const sizeClass = sizeClassOf(entry.parameters);
  // Validation refuses entries outside every class, so this only fires on hand-built entries.
  if (sizeClass === undefined) throw new RangeError(`${entry.id}: ${entry.parameters} parameters fit no size class`);
  return sizeClass;
}

/** Entries grouped by size class, Micro → Medium, each group ordered by parameter count then name; empty groups kept. */
export function groupBySizeClass(entries: readonly CatalogEntry[]): ReadonlyMap<SizeClass, readonly CatalogEntry[]> {
  const groups = new Map<SizeClass, CatalogEntry[]>(SIZE_CLASSES.map((sizeClass) => [sizeClass, []]));
  for (const entry of entries) groups.get(entrySizeClass(entry))?.push(entry);
  for (const group of groups.values()) {
    group.sort((a, b) => a.parameters - b.parameters || a.displayName.localeCompare(b.displayName));
  }
  return groups;
}

export interface CatalogFilter {
  readonly sizeClass?: SizeClass;
  /** Keep entries carrying every one of these tags. */
  readonly tags?: readonly CatalogTag[];
}

/** The entries matching `filter`, in their catalog order. */
export function filterCatalog(entries: readonly CatalogEntry[], filter: CatalogFilter): CatalogEntry[] {
  return entries.filter(
    (entry) =>
      (filter.sizeClass === undefined || entrySizeClass(entry) === filter.sizeClass) &&
      (filter.tags ?? []).every((tag) => entry.tags.includes(tag)),
  );
}

/** The entries usable for inline completion: tagged "fim", with their FIM tokens. */
export function fimCapableEntries(entries: readonly CatalogEntry[]): CatalogEntry[] {
  return filterCatalog(entries, { tags: ["fim"] });
}

/** The entry with this id, if any. */
export function findCatalogEntry(entries: readonly CatalogEntry[], id: string): CatalogEntry | undefined {
  const wanted = id.toLowerCase();
  return entries.find((entry) => entry.id === wanted);
}
