/**
 * The engines' cache of recent completion results, keyed by everything that shapes the prompt and the generation
 * (prefix, suffix, file, repository, extra context, mode, max tokens; not the time budget). Least recently used
 * entries go first. A hit is a Map lookup: well under a millisecond.
 */
import type { CompletionRequest, CompletionResult } from "./completionEngine";

/** The cache key of a request: equal keys mean equal prompts and generation settings. */
export function completionCacheKey(request: CompletionRequest): string {
  return JSON.stringify([
    request.prefix,
    request.suffix,
    request.filePath,
    request.repoName ?? null,
    request.languageId,
    request.extraContext.map((file) => [file.filePath, file.text]),
    request.mode,
    request.maxTokens,
  ]);
}

/** An LRU map of results by `completionCacheKey`. */
export class CompletionResultCache {
  private readonly entries = new Map<string, CompletionResult>();

  constructor(private readonly capacity: number) {}

  /** The result for a key, marking it most recently used. */
  get(key: string): CompletionResult | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: CompletionResult): void {
    if (this.capacity <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
