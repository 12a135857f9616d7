/**
 * Extra context for completions: a ring buffer of chunks of recently edited and opened files, most recent first,
 * deduplicated (a newer chunk of the same file and an overlapping range replaces the older one; identical text is kept
 * once), and selected within a token budget without the part of the current file the prompt already holds.
 * The idea follows llama.vscode's ring buffer of chunks (`ring_n_chunks`, `ring_chunk_size`) and llama-server's
 * `input_extra`.
 */
import type { TokenCounter } from "./contextWindow";

export interface ContextChunk {
  /** Workspace-relative path with `/` separators (the model sees it). */
  readonly filePath: string;
  /** First line of the chunk, 0-based. */
  readonly startLine: number;
  /** Line after the chunk's last line (exclusive). */
  readonly endLine: number;
  readonly text: string;
}

/** Lines of the current file already in the prompt's prefix/suffix window. */
export interface ContextExclusion {
  readonly filePath: string;
  readonly startLine: number;
  /** Exclusive. */
  readonly endLine: number;
}

export interface ExtraContextOptions {
  /** Most chunks kept; older ones are dropped. */
  readonly maxChunks: number;
}

/** A chunk of `lineCount` lines of a file centred on `line` (clamped to the file); undefined for a blank chunk. */
export function fileChunkAround(filePath: string, text: string, line: number, lineCount: number): ContextChunk | undefined {
  const lines = text.split("\n");
  const count = Math.max(1, Math.floor(lineCount));
  const centre = Math.max(0, Math.min(lines.length - 1, Math.floor(line)));
  const startLine = Math.max(0, Math.min(centre - Math.floor(count / 2), lines.length - count));
  const endLine = Math.min(lines.length, startLine + count);
  const chunkText = lines.slice(startLine, endLine).join("\n");
  if (chunkText.trim() === "") return undefined;
  return { filePath, startLine, endLine, text: chunkText };
}

/** Ring buffer of context chunks, most recent first. */
export class ExtraContextRing {
  private readonly maxChunks: number;
  private items: ContextChunk[] = [];

  constructor(options: ExtraContextOptions) {
    this.maxChunks = Math.max(0, Math.floor(options.maxChunks));
  }

  /** Adds a chunk as the most recent; drops older chunks it overlaps or duplicates, and the oldest beyond capacity. */
  add(chunk: ContextChunk): void {
    if (chunk.text.trim() === "" || chunk.endLine <= chunk.startLine) return;
    this.items = [chunk, ...this.items.filter((item) => !overlaps(item, chunk) && item.text !== chunk.text)].slice(0, this.maxChunks);
  }

  /** Forgets every chunk of a file (closed, deleted, or excluded by the user). */
  removeFile(filePath: string): void {
    this.items = this.items.filter((item) => item.filePath !== filePath);
  }

  /** Renames a file's chunks (the file was moved). */
  renameFile(oldPath: string, newPath: string): void {
    this.items = this.items.map((item) => (item.filePath === oldPath ? { ...item, filePath: newPath } : item));
  }

  /** Forgets everything (workspace closed). */
  clear(): void {
    this.items = [];
  }

  /** Number of chunks held. */
  get size(): number {
    return this.items.length;
  }

  /** All chunks, most recent first. */
  chunks(): readonly ContextChunk[] {
    return this.items;
  }

  /**
   * The most recent chunks that fit `budgetTokens` together (a chunk that does not fit is skipped, a smaller later one
   * may still fit), leaving out chunks that overlap the current file's window.
   */
  select(budgetTokens: number, countTokens: TokenCounter, exclude?: ContextExclusion): ContextChunk[] {
    const selected: ContextChunk[] = [];
    let used = 0;
    for (const item of this.items) {
      if (exclude !== undefined && overlaps(item, exclude)) continue;
      // The path header is part of the prompt too.
      const tokens = countTokens(`${item.filePath}\n${item.text}\n`);
      if (used + tokens > budgetTokens) continue;
      used += tokens;
      selected.push(item);
    }
    return selected;
  }
}

function overlaps(a: ContextExclusion, b: ContextExclusion): boolean {
  return a.filePath === b.filePath && a.startLine < b.endLine && b.startLine < a.endLine;
}
