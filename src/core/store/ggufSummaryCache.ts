/**
 * Model summaries keyed by real path + size + mtime, so an unchanged file is parsed once (and, with `load`/`save`,
 * once across sessions). A file that failed to parse keeps its error until it changes.
 */

import { promises as fs } from "node:fs";
import path from "node:path";
import { describeError } from "../errors";
import type { GgufModelSummary } from "../gguf/ggufTypes";

/** What the cache knows about one file version: its summary, or the one-line reason it could not be read. */
export type CachedSummary = { readonly summary: GgufModelSummary; readonly error?: undefined } | { readonly summary?: undefined; readonly error: string };

export interface FileVersion {
  readonly realPath: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export type SummaryReader = (file: string, signal?: AbortSignal) => Promise<GgufModelSummary>;

/** Bump when GgufModelSummary's meaning changes, so summaries saved by an older version are dropped. */
const CACHE_FORMAT = 1;

interface SavedCache {
  readonly format: number;
  readonly entries: readonly (readonly [string, CachedSummary])[];
}

export class GgufSummaryCache {
  private readonly entries = new Map<string, CachedSummary>();
  private readonly pending = new Map<string, Promise<CachedSummary>>();
  private _parses = 0;

  constructor(private readonly readSummary: SummaryReader) {}

  /** How many files this cache has parsed (not served from memory); for tests and logs. */
  get parses(): number {
    return this._parses;
  }

  /** The summary of this version of the file: from the cache, or parsed now. Never throws but for cancellation. */
  async get(file: FileVersion, signal?: AbortSignal): Promise<CachedSummary> {
    const key = cacheKey(file);
    const known = this.entries.get(key);
    if (known !== undefined) return known;
    const running = this.pending.get(key);
    if (running !== undefined) return running;
    const parse = (async (): Promise<CachedSummary> => {
      this._parses++;
      try {
        const summary = await this.readSummary(file.realPath, signal);
        return { summary };
      } catch (error) {
        if (signal?.aborted === true) throw error;
        return { error: describeError(error) };
      }
    })();
    this.pending.set(key, parse);
    try {
      const result = await parse;
      this.entries.set(key, result);
      return result;
    } finally {
      this.pending.delete(key);
    }
  }

  /** Drops entries for files not in `keep` (versions that changed or files that went away). */
  retainOnly(keep: Iterable<FileVersion>): void {
    const keys = new Set<string>();
    for (const file of keep) keys.add(cacheKey(file));
    for (const key of [...this.entries.keys()]) if (!keys.has(key)) this.entries.delete(key);
  }

  /** Loads entries saved by `save`; a missing, unreadable or older-format file is ignored (the cache only speeds up). */
  async load(file: string): Promise<void> {
    let saved: SavedCache;
    try {
      saved = JSON.parse(await fs.readFile(file, "utf8")) as SavedCache;
    } catch {
      return;
    }
    if (saved.format !== CACHE_FORMAT || !Array.isArray(saved.entries)) return;
    for (const [key, value] of saved.entries) {
      if (typeof key === "string" && !this.entries.has(key) && isCachedSummary(value)) this.entries.set(key, value);
    }
  }

  /** Writes the cache to `file` (temp name in the same folder, then rename). */
  async save(file: string): Promise<void> {
    const saved: SavedCache = { format: CACHE_FORMAT, entries: [...this.entries.entries()] };
    await fs.mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.tmp-${process.pid}-${Date.now()}`;
    try {
      await fs.writeFile(temp, JSON.stringify(saved));
      await fs.rename(temp, file);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
  }
}

function cacheKey(file: FileVersion): string {
  return `${file.realPath}\0${file.size}\0${file.mtimeMs}`;
}

function isCachedSummary(value: unknown): value is CachedSummary {
  if (typeof value !== "object" || value === null) return false;
  const record = value as { summary?: unknown; error?: unknown };
  if (typeof record.error === "string") return true;
  const summary = record.summary as { path?: unknown; parameterCount?: unknown; fileSize?: unknown } | undefined;
  return typeof summary === "object" && typeof summary.path === "string" && typeof summary.parameterCount === "number" && typeof summary.fileSize === "number";
}
