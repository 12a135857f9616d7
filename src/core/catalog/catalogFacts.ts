/**
 * How well each fact of a catalog entry is confirmed. Kept apart from curatedCatalog.ts, which loads the catalog data,
 * so that showing an entry does not need the whole catalog.
 */
import { FACT_GROUPS, type CatalogEntry, type FactGroup, type VerificationStatus } from "./catalogTypes";

export interface FactVerification {
  readonly group: FactGroup;
  readonly status: VerificationStatus;
  readonly note: string | undefined;
}

/** Every fact group of an entry with its verification status, in FACT_GROUPS order. */
export function factVerifications(entry: CatalogEntry): FactVerification[] {
  return FACT_GROUPS.flatMap((group) => {
    const check = entry.verification[group];
    return check === undefined ? [] : [{ group, status: check.status, note: check.note }];
  });
}

/** The fact groups of an entry that are not verified from a primary source (secondary or unverified). */
export function unconfirmedFacts(entry: CatalogEntry): FactVerification[] {
  return factVerifications(entry).filter((fact) => fact.status !== "verified");
}
