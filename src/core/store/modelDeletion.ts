/**
 * Deleting models: only files inside SLM Lab's models folder, never the Hugging Face cache (its blobs are shared
 * and reference-counted by huggingface_hub) and never anything else on disk.
 */

import { promises as fs } from "node:fs";
import path from "node:path";
import { sidecarPathFor } from "./modelSidecar";
import { isPathInside } from "./modelsDirectory";
import { ModelDeletionRefusedError } from "./storeErrors";

export interface ModelDeletionOptions {
  /** Resolved models folder: the only place deletes may happen. */
  readonly modelsDirectory: string;
  /** Resolved HF hub cache, to name it in the refusal; deletes there are refused even without it. */
  readonly huggingFaceCacheDirectory?: string | undefined;
}

export interface ModelDeletionResult {
  /** Every path removed: model files, sidecars and folders left empty. */
  readonly deleted: readonly string[];
  readonly freedBytes: number;
}

/** Checks that every file may be deleted, deleting nothing; throws ModelDeletionRefusedError for the first that may not. */
export async function checkModelDeletion(files: readonly string[], options: ModelDeletionOptions): Promise<void> {
  if (files.length === 0) throw new ModelDeletionRefusedError("", "No model file given to delete.");
  const modelsRoot = await realpathOrUndefined(options.modelsDirectory);
  const hubRoot = options.huggingFaceCacheDirectory === undefined ? undefined : await realpathOrUndefined(options.huggingFaceCacheDirectory);
  for (const file of files) await checkOne(file, modelsRoot, hubRoot, options);
}

/**
 * Deletes a model's files (all parts of a split model) and their sidecars, then the `<publisher>/<repo>` folders left
 * empty. Every file is checked first: if any may not be deleted, nothing is.
 */
export async function deleteModelFiles(files: readonly string[], options: ModelDeletionOptions): Promise<ModelDeletionResult> {
  await checkModelDeletion(files, options);
  const modelsRoot = await fs.realpath(options.modelsDirectory);
  const deleted: string[] = [];
  let freedBytes = 0;
  const folders = new Set<string>();
  for (const file of files) {
    const location = path.join(await fs.realpath(path.dirname(file)), path.basename(file));
    // lstat: a symlink in the models folder is removed itself; the file it points to is not touched.
    const stat = await fs.lstat(location);
    await fs.unlink(location);
    deleted.push(file);
    if (stat.isFile()) freedBytes += stat.size;
    const sidecar = sidecarPathFor(location);
    try {
      await fs.unlink(sidecar);
      deleted.push(sidecarPathFor(file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    folders.add(path.dirname(location));
  }
  for (const folder of folders) deleted.push(...(await removeEmptyFolders(folder, modelsRoot)));
  return { deleted, freedBytes };
}

async function checkOne(file: string, modelsRoot: string | undefined, hubRoot: string | undefined, options: ModelDeletionOptions): Promise<void> {
  const name = path.basename(file);
  if (!path.isAbsolute(file)) throw new ModelDeletionRefusedError(file, `Not deleting "${file}": not an absolute path.`);
  if (!name.toLowerCase().endsWith(".gguf")) {
    throw new ModelDeletionRefusedError(file, `Not deleting ${file}: SLM Lab only deletes .gguf model files.`);
  }
  const parent = await realpathOrUndefined(path.dirname(file));
  if (parent === undefined) throw new ModelDeletionRefusedError(file, `Not deleting ${name}: its folder ${path.dirname(file)} does not exist.`);
  const location = path.join(parent, name);
  const target = await realpathOrUndefined(location);
  const inHub =
    looksLikeHubCache(file) ||
    (hubRoot !== undefined && (isPathInside(location, hubRoot) || (target !== undefined && isPathInside(target, hubRoot)) || isPathInside(path.resolve(file), hubRoot)));
  if (inHub && (modelsRoot === undefined || !isPathInside(location, modelsRoot) || looksLikeHubCache(location))) {
    throw new ModelDeletionRefusedError(file, `Not deleting ${name}: it is in the Hugging Face cache${hubRoot === undefined ? "" : ` (${hubRoot})`}, which SLM Lab only reads.`, {
      action: "Use `huggingface-cli delete-cache` to remove it, so the cache's other snapshots stay consistent.",
    });
  }
  if (modelsRoot === undefined || !isPathInside(location, modelsRoot) || location === modelsRoot) {
    throw new ModelDeletionRefusedError(file, `Not deleting ${file}: it is outside the models folder ${options.modelsDirectory}.`, {
      action: "SLM Lab only deletes models in its own models folder; delete other files with your file manager.",
    });
  }
  let stat;
  try {
    stat = await fs.lstat(location);
  } catch {
    throw new ModelDeletionRefusedError(file, `Not deleting ${name}: the file does not exist (already deleted?).`, { action: "Refresh My Models." });
  }
  if (!stat.isFile() && !stat.isSymbolicLink()) throw new ModelDeletionRefusedError(file, `Not deleting ${file}: not a file.`);
}

/** A path inside `models--org--name/{snapshots,blobs}/`: the HF cache layout, wherever that cache lives. */
function looksLikeHubCache(file: string): boolean {
  return /(^|[\\/])models--[^\\/]+[\\/](snapshots|blobs)[\\/]/.test(file);
}

/** Removes `folder` and its parents while they are empty, stopping at (and never removing) `root`. */
async function removeEmptyFolders(folder: string, root: string): Promise<string[]> {
  const removed: string[] = [];
  let current = folder;
  while (current !== root && isPathInside(current, root)) {
    try {
      await fs.rmdir(current);
    } catch {
      break; // Not empty (or not ours to remove): stop climbing.
    }
    removed.push(current);
    current = path.dirname(current);
  }
  return removed;
}

async function realpathOrUndefined(file: string): Promise<string | undefined> {
  try {
    return await fs.realpath(file);
  } catch {
    return undefined;
  }
}
