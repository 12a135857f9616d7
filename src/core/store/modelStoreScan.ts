/** Looks at the models folder and the Hugging Face cache and lists every model with its summary (cached). */

import { promises as fs } from "node:fs";
import path from "node:path";
import { throwIfAborted } from "../errors";
import type { GgufModelSummary } from "../gguf/ggufTypes";
import { findGgufFiles, type DiscoveredGgufFile } from "./ggufFileDiscovery";
import { type GgufSummaryCache } from "./ggufSummaryCache";
import { groupShards, type ShardGroup } from "./ggufShards";
import { findHubCacheGgufFiles, type HubCacheGgufFile } from "./huggingFaceCache";
import { findLmStudioModels } from "./lmStudioModels";
import { findOllamaModels, type OllamaModelFile } from "./ollamaModels";
import type { ModelSource, ModelStoreScan, StoredModel } from "./storedModel";

export interface ModelStoreScanOptions {
  /** Resolved models folder (see `resolveModelsDirectory`). */
  readonly modelsDirectory: string;
  /** Resolved hub cache folder (see `resolveHuggingFaceHubCache`), or undefined not to look there. */
  readonly huggingFaceCacheDirectory: string | undefined;
  readonly cache: GgufSummaryCache;
  /** Ollama's models folder (see `resolveOllamaModelsDirectory`), or undefined not to look there. */
  readonly ollamaModelsDirectory?: string | undefined;
  /** LM Studio's models folders (see `lmStudioModelsDirectories`); none by default. */
  readonly lmStudioModelsDirectories?: readonly string[] | undefined;
  readonly signal?: AbortSignal;
}

/** Lists all local models. Unreadable files are listed with their error; only cancellation throws. */
export async function scanModelStore(options: ModelStoreScanOptions): Promise<ModelStoreScan> {
  const { signal } = options;
  const problems: string[] = [];
  const modelsFolder = await findGgufFiles(options.modelsDirectory, { maxDepth: 4, ...(signal ? { signal } : {}) });
  problems.push(...modelsFolder.problems);
  // A file reachable twice (a symlink in the models folder, two snapshots sharing a blob) is listed once.
  const claimed = new Set<string>();
  const ownFiles = modelsFolder.files.filter((file) => claim(claimed, file));
  const drafts: ModelDraft[] = groupShards(ownFiles).map((group) => draftFromGroup("models-folder", group, undefined));

  let hubCache: ModelStoreScan["huggingFaceCache"];
  if (options.huggingFaceCacheDirectory !== undefined) {
    const hub = await findHubCacheGgufFiles(options.huggingFaceCacheDirectory, signal);
    problems.push(...hub.problems);
    hubCache = { path: options.huggingFaceCacheDirectory, exists: await isDirectory(options.huggingFaceCacheDirectory) };
    const byRepoRevision = new Map<string, HubCacheGgufFile[]>();
    for (const file of preferBranchRevisions(hub.files)) {
      if (!claim(claimed, file)) continue;
      const key = `${file.repoId}\0${file.revision}`;
      byRepoRevision.set(key, [...(byRepoRevision.get(key) ?? []), file]);
    }
    for (const files of byRepoRevision.values()) {
      for (const group of groupShards(files)) {
        const first = group.parts[0];
        if (first !== undefined) drafts.push(draftFromGroup("huggingface-cache", group, first));
      }
    }
  }

  const otherStores: { source: "lm-studio" | "ollama"; path: string; exists: boolean }[] = [];
  for (const root of options.lmStudioModelsDirectories ?? []) otherStores.push({ source: "lm-studio", path: root, exists: await isDirectory(root) });
  if (options.lmStudioModelsDirectories !== undefined && options.lmStudioModelsDirectories.length > 0) {
    const lmStudio = await findLmStudioModels(options.lmStudioModelsDirectories, signal);
    problems.push(...lmStudio.problems);
    const files = lmStudio.files.filter((file) => claim(claimed, file));
    for (const root of options.lmStudioModelsDirectories) {
      for (const group of groupShards(files.filter((file) => file.root === root))) drafts.push(draftFromGroup("lm-studio", group, undefined));
    }
  }
  if (options.ollamaModelsDirectory !== undefined) {
    otherStores.push({ source: "ollama", path: options.ollamaModelsDirectory, exists: await isDirectory(options.ollamaModelsDirectory) });
    const ollama = await findOllamaModels(options.ollamaModelsDirectory, signal);
    problems.push(...ollama.problems);
    // Two tags of one blob are two names for one model: each is listed, since `ollama run` takes either.
    for (const file of ollama.files) drafts.push(draftFromOllama(file));
  }

  const models: StoredModel[] = [];
  for (const draft of assignLabels(drafts)) {
    throwIfAborted(signal);
    models.push(await summarize(draft, options.cache, signal));
  }
  options.cache.retainOnly(models.flatMap((model) => model.files));
  return {
    modelsDirectory: { path: options.modelsDirectory, exists: await isDirectory(options.modelsDirectory) },
    huggingFaceCache: hubCache,
    ...(otherStores.length === 0 ? {} : { otherStores }),
    models,
    problems,
  };
}

interface ModelDraft {
  readonly source: ModelSource;
  readonly group: ShardGroup<DiscoveredGgufFile>;
  readonly first: DiscoveredGgufFile;
  readonly relativePath: string;
  readonly displayName: string;
  readonly repoId: string | undefined;
  readonly revision: string | undefined;
  /** Branch names pointing at the revision (HF cache). */
  readonly refs: readonly string[];
  label: string;
}

function claim(claimed: Set<string>, file: DiscoveredGgufFile): boolean {
  if (claimed.has(file.realPath)) return false;
  claimed.add(file.realPath);
  return true;
}

/** Of HF files that share a blob, keep the one on a branch (main first), so the label shows the current revision. */
function preferBranchRevisions(files: readonly HubCacheGgufFile[]): HubCacheGgufFile[] {
  const rank = (file: HubCacheGgufFile): number => (file.refs.includes("main") ? 0 : file.refs.length > 0 ? 1 : 2);
  return [...files].sort((a, b) => rank(a) - rank(b));
}

function draftFromGroup(source: ModelSource, group: ShardGroup<DiscoveredGgufFile>, hub: HubCacheGgufFile | undefined): ModelDraft {
  const first = group.parts[0];
  if (first === undefined) throw new Error("a shard group always has a part");
  const folder = first.relativePath.includes("/") ? first.relativePath.slice(0, first.relativePath.lastIndexOf("/") + 1) : "";
  const fileName = group.shard === undefined ? path.basename(first.relativePath) : `${group.shard.prefix}.gguf`;
  const segments = first.relativePath.split("/");
  // `<publisher>/<repo>/<file>.gguf`, the layout downloads use.
  const ownRepoId = segments.length === 3 ? `${segments[0] ?? ""}/${segments[1] ?? ""}` : undefined;
  const repoId = hub?.repoId ?? ownRepoId;
  return {
    source,
    group,
    first,
    relativePath: first.relativePath,
    displayName: `${folder}${fileName}`,
    repoId,
    revision: hub?.revision,
    refs: hub?.refs ?? [],
    // LM Studio's `<publisher>/<repo>/` folders name the model; its labels keep them.
    label: source === "huggingface-cache" ? `${repoId ?? ""}/${folder}${fileName}` : source === "lm-studio" ? `${folder}${fileName}` : fileName,
  };
}

/** An Ollama model: one blob, labelled with the name `ollama run` takes. */
function draftFromOllama(file: OllamaModelFile): ModelDraft {
  return {
    source: "ollama",
    group: { parts: [file], shard: undefined, missing: [] },
    first: file,
    relativePath: file.relativePath,
    displayName: file.name,
    repoId: undefined,
    revision: undefined,
    refs: [],
    label: file.name,
  };
}

const SOURCE_ORDER: readonly ModelSource[] = ["models-folder", "huggingface-cache", "lm-studio", "ollama"];

/** Labels unique within each source: a short label that collides becomes longer (path, then revision). */
function assignLabels(drafts: ModelDraft[]): ModelDraft[] {
  const collisions = (source: ModelSource): Map<string, ModelDraft[]> => {
    const byLabel = new Map<string, ModelDraft[]>();
    for (const draft of drafts.filter((d) => d.source === source)) byLabel.set(draft.label, [...(byLabel.get(draft.label) ?? []), draft]);
    return byLabel;
  };
  for (const same of collisions("models-folder").values()) {
    if (same.length > 1) for (const draft of same) draft.label = draft.displayName;
  }
  for (const same of collisions("huggingface-cache").values()) {
    if (same.length > 1) for (const draft of same) if (!draft.refs.includes("main")) draft.label = `${draft.label}@${(draft.revision ?? "").slice(0, 7)}`;
  }
  for (const same of collisions("lm-studio").values()) {
    if (same.length > 1) for (const draft of same) draft.label = draft.first.path;
  }
  return drafts.sort((a, b) => (a.source === b.source ? a.label.localeCompare(b.label) : SOURCE_ORDER.indexOf(a.source) - SOURCE_ORDER.indexOf(b.source)));
}

async function summarize(draft: ModelDraft, cache: GgufSummaryCache, signal: AbortSignal | undefined): Promise<StoredModel> {
  const { group, first } = draft;
  const partCount = group.shard?.count ?? 1;
  const base = {
    id: `${draft.source}:${first.path}`,
    source: draft.source,
    label: draft.label,
    path: first.path,
    files: group.parts.map(({ path: file, realPath, size, mtimeMs }) => ({ path: file, realPath, size, mtimeMs })),
    partCount,
    sizeBytes: group.parts.reduce((sum, part) => sum + part.size, 0),
    relativePath: draft.relativePath,
    repoId: draft.repoId,
    revision: draft.revision,
  };
  if (group.missing.length > 0) {
    const missing = group.missing.length <= 3 ? group.missing.join(", ") : `${group.missing.slice(0, 3).join(", ")} and ${group.missing.length - 3} more`;
    const error = `${group.missing.length} of ${partCount} parts missing: ${missing}. Download the missing parts or delete the rest.`;
    return { ...base, summary: undefined, error };
  }
  const summaries: GgufModelSummary[] = [];
  for (const [index, part] of group.parts.entries()) {
    const prefix = partCount > 1 ? `Part ${index + 1} of ${partCount}: ` : "";
    if (part.error !== undefined) return { ...base, summary: undefined, error: `${prefix}${part.error}` };
    const result = await cache.get(part, signal);
    if (result.error !== undefined) return { ...base, summary: undefined, error: `${prefix}${result.error}` };
    summaries.push(result.summary);
  }
  return { ...base, summary: combinePartSummaries(summaries), error: undefined };
}

/**
 * One summary for a split model: metadata from the first part (gguf-split writes all metadata there), counts and
 * sizes summed over the parts, bits per weight weighted by each part's parameters.
 */
export function combinePartSummaries(parts: readonly GgufModelSummary[]): GgufModelSummary {
  const [first] = parts;
  if (first === undefined) throw new Error("combinePartSummaries needs at least one part");
  if (parts.length === 1) return first;
  const parameterCount = parts.reduce((sum, part) => sum + part.parameterCount, 0);
  const weightedBits = parts.reduce((sum, part) => sum + part.bitsPerWeight * part.parameterCount, 0);
  return {
    ...first,
    parameterCount,
    tensorCount: parts.reduce((sum, part) => sum + part.tensorCount, 0),
    fileSize: parts.reduce((sum, part) => sum + part.fileSize, 0),
    bitsPerWeight: parameterCount > 0 ? weightedBits / parameterCount : first.bitsPerWeight,
  };
}

async function isDirectory(directory: string): Promise<boolean> {
  try {
    return (await fs.stat(directory)).isDirectory();
  } catch {
    return false;
  }
}
