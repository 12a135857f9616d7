/** Finds `.gguf` files under a folder: recursive with a depth bound, skipping temporary and partial files. */

import { promises as fs, type Dirent } from "node:fs";
import path from "node:path";
import { throwIfAborted } from "../errors";

/** A `.gguf` file found on disk; `error` is set (and the numbers are 0) when it could not be stat'ed. */
export interface DiscoveredGgufFile {
  /** The path as found (through any symlinks). */
  readonly path: string;
  /** Relative to the folder that was searched, with `/` separators. */
  readonly relativePath: string;
  /** The file's real path (symlinks resolved); equal to `path` when it could not be resolved. */
  readonly realPath: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly error: string | undefined;
}

export interface GgufDiscoveryOptions {
  /** Folder levels to descend below the root: `<publisher>/<repo>/<file>.gguf` needs 2. Default 4. */
  readonly maxDepth?: number;
  /** Stop after looking at this many directory entries (someone may point the setting at `/`). Default 20,000. */
  readonly maxEntries?: number;
  readonly signal?: AbortSignal;
}

export interface GgufDiscoveryResult {
  readonly files: readonly DiscoveredGgufFile[];
  /** Folders that could not be read, or a note that the search stopped early; one line each. */
  readonly problems: readonly string[];
}

/**
 * True for the names SLM Lab treats as a model: `*.gguf`, but not hidden files or the temporary names that
 * downloads and writers use before the final rename (`*.partial`, `*.tmp-*`, `*.incomplete`).
 */
export function isModelFileName(name: string): boolean {
  const lower = name.toLowerCase();
  if (!lower.endsWith(".gguf")) return false;
  if (lower.startsWith(".")) return false;
  return !lower.includes(".tmp-") && !lower.includes(".partial") && !lower.includes(".incomplete");
}

/** Lists the model files under `root`, sorted by relative path. A missing root gives an empty result. */
export async function findGgufFiles(root: string, options: GgufDiscoveryOptions = {}): Promise<GgufDiscoveryResult> {
  const maxDepth = options.maxDepth ?? 4;
  const maxEntries = options.maxEntries ?? 20_000;
  const files: DiscoveredGgufFile[] = [];
  const problems: string[] = [];
  // Real paths of folders already walked: a symlinked folder that loops back must not be walked twice.
  const visited = new Set<string>();
  let entriesSeen = 0;
  const limit = { reached: false };

  const walk = async (directory: string, relative: string, depth: number): Promise<void> => {
    throwIfAborted(options.signal);
    let realDirectory: string;
    let entries: Dirent[];
    try {
      realDirectory = await fs.realpath(directory);
      if (visited.has(realDirectory)) return;
      visited.add(realDirectory);
      entries = await fs.readdir(directory, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (depth === 0 && code === "ENOENT") return;
      problems.push(`Cannot read folder ${directory}: ${code ?? String(error)}`);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entriesSeen >= maxEntries) {
        limit.reached = true;
        return;
      }
      entriesSeen++;
      const full = path.join(directory, entry.name);
      const relativePath = relative === "" ? entry.name : `${relative}/${entry.name}`;
      let isDirectory = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        // The Hugging Face cache is all symlinks (snapshots → blobs); follow them, broken ones included below.
        try {
          const target = await fs.stat(full);
          isDirectory = target.isDirectory();
          isFile = target.isFile();
        } catch {
          isFile = true;
        }
      }
      if (isDirectory) {
        if (depth < maxDepth && !entry.name.startsWith(".")) await walk(full, relativePath, depth + 1);
      } else if (isFile && isModelFileName(entry.name)) {
        files.push(await describeFile(full, relativePath));
      }
    }
  };

  await walk(root, "", 0);
  if (limit.reached) problems.push(`Stopped looking for models under ${root} after ${maxEntries} entries; point the models folder at a smaller folder.`);
  return { files, problems };
}

async function describeFile(full: string, relativePath: string): Promise<DiscoveredGgufFile> {
  try {
    const stat = await fs.stat(full);
    const realPath = await fs.realpath(full);
    return { path: full, relativePath, realPath, size: stat.size, mtimeMs: stat.mtimeMs, error: undefined };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "the link points to a file that does not exist (deleted blob?)" : code === "EACCES" ? "permission denied" : String(error);
    return { path: full, relativePath, realPath: full, size: 0, mtimeMs: 0, error: `Cannot read ${path.basename(full)}: ${why}.` };
  }
}
