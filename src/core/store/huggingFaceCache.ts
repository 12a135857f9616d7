/**
 * The Hugging Face hub cache, read-only. Layout (huggingface_hub `file_download.py`, "Cache layout" in its docs):
 * `<hub>/models--<org>--<name>/snapshots/<commit>/<path in repo>` are symlinks to `../../blobs/<hash>`;
 * `refs/<branch>` holds the commit a branch points to.
 */

import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { throwIfAborted } from "../errors";
import { findGgufFiles, type DiscoveredGgufFile } from "./ggufFileDiscovery";

/**
 * The hub cache folder as huggingface_hub `constants.py` resolves it: `$HF_HUB_CACHE`, the older
 * `$HUGGINGFACE_HUB_CACHE`, `$HF_HOME/hub`, `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`.
 */
export function resolveHuggingFaceHubCache(env: NodeJS.ProcessEnv = process.env, homeDirectory: string = os.homedir()): string {
  const expand = (value: string): string => (value === "~" || value.startsWith("~/") ? path.join(homeDirectory, value.slice(1)) : value);
  const hubCache = env["HF_HUB_CACHE"] ?? env["HUGGINGFACE_HUB_CACHE"];
  if (hubCache !== undefined && hubCache !== "") return path.resolve(expand(hubCache));
  const hfHome = env["HF_HOME"];
  if (hfHome !== undefined && hfHome !== "") return path.resolve(expand(hfHome), "hub");
  const xdgCache = env["XDG_CACHE_HOME"];
  if (xdgCache !== undefined && xdgCache !== "") return path.resolve(expand(xdgCache), "huggingface", "hub");
  return path.join(homeDirectory, ".cache", "huggingface", "hub");
}

/** `models--Qwen--Qwen2.5-0.5B-Instruct-GGUF` → `Qwen/Qwen2.5-0.5B-Instruct-GGUF`; undefined for other folders. */
export function repoIdFromCacheFolder(folderName: string): string | undefined {
  const prefix = "models--";
  if (!folderName.startsWith(prefix) || folderName.length === prefix.length) return undefined;
  // Repo ids cannot contain "--" (huggingface_hub `validate_repo_id`), so the first "--" separates org and name.
  const rest = folderName.slice(prefix.length);
  const separator = rest.indexOf("--");
  return separator < 0 ? rest : `${rest.slice(0, separator)}/${rest.slice(separator + 2)}`;
}

/** A GGUF file in a snapshot of the cache. */
export interface HubCacheGgufFile extends DiscoveredGgufFile {
  /** "org/name". */
  readonly repoId: string;
  /** Snapshot folder name: the commit hash. */
  readonly revision: string;
  /** Branches (from `refs/`) that point at this revision, e.g. ["main"]. */
  readonly refs: readonly string[];
  /** The file's path inside the repository (`relativePath` is relative to the snapshot folder too). */
  readonly fileInRepo: string;
}

export interface HubCacheScan {
  readonly files: readonly HubCacheGgufFile[];
  readonly problems: readonly string[];
}

/** Lists every GGUF file in every snapshot of every model repo in the hub cache. A missing cache is empty. */
export async function findHubCacheGgufFiles(hubDirectory: string, signal?: AbortSignal): Promise<HubCacheScan> {
  let repoFolders: string[];
  try {
    repoFolders = (await fs.readdir(hubDirectory, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { files: [], problems: [] };
    return { files: [], problems: [`Cannot read the Hugging Face cache ${hubDirectory}: ${code ?? String(error)}`] };
  }
  const files: HubCacheGgufFile[] = [];
  const problems: string[] = [];
  for (const folder of repoFolders.sort()) {
    throwIfAborted(signal);
    const repoId = repoIdFromCacheFolder(folder);
    if (repoId === undefined) continue;
    const repoDirectory = path.join(hubDirectory, folder);
    const refsByRevision = await readRefs(repoDirectory);
    let revisions: string[];
    try {
      revisions = (await fs.readdir(path.join(repoDirectory, "snapshots"), { withFileTypes: true }))
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort();
    } catch {
      continue; // A repo folder with no snapshots (an interrupted download) holds nothing to show.
    }
    for (const revision of revisions) {
      const found = await findGgufFiles(path.join(repoDirectory, "snapshots", revision), { maxDepth: 4, ...(signal ? { signal } : {}) });
      problems.push(...found.problems);
      for (const file of found.files) {
        files.push({ ...file, repoId, revision, refs: refsByRevision.get(revision) ?? [], fileInRepo: file.relativePath });
      }
    }
  }
  return { files, problems };
}

/** `refs/<branch>` files (branch names may contain "/") → branches by commit. */
async function readRefs(repoDirectory: string): Promise<Map<string, string[]>> {
  const byRevision = new Map<string, string[]>();
  const refsDirectory = path.join(repoDirectory, "refs");
  const walk = async (directory: string, prefix: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(directory, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const name = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      const full = path.join(directory, entry.name);
      if (entry.isDirectory() && depth < 4) {
        await walk(full, name, depth + 1);
      } else if (entry.isFile()) {
        try {
          const revision = (await fs.readFile(full, "utf8")).trim();
          byRevision.set(revision, [...(byRevision.get(revision) ?? []), name]);
        } catch {
          // An unreadable ref only loses the branch label.
        }
      }
    }
  };
  await walk(refsDirectory, "", 0);
  return byRevision;
}
