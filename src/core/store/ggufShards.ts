/**
 * Split GGUF models: llama.cpp's gguf-split names the parts `<prefix>-%05d-of-%05d.gguf` (`llama_split_path` in
 * `src/llama.cpp`), numbered from 1. The first part holds all metadata; every part holds its own tensors.
 */

export interface GgufShardName {
  /** The name without the `-00001-of-00003.gguf` tail. */
  readonly prefix: string;
  /** 1-based part number. */
  readonly index: number;
  readonly count: number;
}

const SHARD_PATTERN = /^(.+)-(\d{5})-of-(\d{5})\.gguf$/i;

/** Parses a split-GGUF file name; undefined for a plain (single-file) name or impossible numbers. */
export function parseShardName(fileName: string): GgufShardName | undefined {
  const match = SHARD_PATTERN.exec(fileName);
  if (match === null) return undefined;
  const [, prefix, index, count] = match;
  if (prefix === undefined || index === undefined || count === undefined) return undefined;
  const shard = { prefix, index: Number(index), count: Number(count) };
  if (shard.count < 1 || shard.index < 1 || shard.index > shard.count) return undefined;
  return shard;
}

/** The file name of part `index` of `count` (as `llama_split_path` writes it). */
export function shardFileName(prefix: string, index: number, count: number): string {
  return `${prefix}-${String(index).padStart(5, "0")}-of-${String(count).padStart(5, "0")}.gguf`;
}

export interface ShardGroup<T> {
  /** Parts in order; a single-file model has one. */
  readonly parts: readonly T[];
  /** The split name when the model is split; undefined for a single file. */
  readonly shard: GgufShardName | undefined;
  /** File names of the parts that should be there and are not (split models only). */
  readonly missing: readonly string[];
}

/**
 * Groups files into models: the parts of one split model (same folder, prefix and count) become one group; every
 * other file is a group of its own. `relativePath` uses `/` separators.
 */
export function groupShards<T extends { readonly relativePath: string }>(files: readonly T[]): ShardGroup<T>[] {
  const groups: ShardGroup<T>[] = [];
  const splits = new Map<string, { shard: GgufShardName; folder: string; parts: Map<number, T> }>();
  for (const file of files) {
    const slash = file.relativePath.lastIndexOf("/");
    const folder = slash < 0 ? "" : file.relativePath.slice(0, slash + 1);
    const shard = parseShardName(file.relativePath.slice(slash + 1));
    if (shard === undefined) {
      groups.push({ parts: [file], shard: undefined, missing: [] });
      continue;
    }
    const key = `${folder}\0${shard.prefix}\0${shard.count}`;
    let split = splits.get(key);
    if (split === undefined) {
      split = { shard: { ...shard, index: 1 }, folder, parts: new Map() };
      splits.set(key, split);
    }
    if (!split.parts.has(shard.index)) split.parts.set(shard.index, file);
  }
  for (const { shard, parts } of splits.values()) {
    const ordered = [...parts.entries()].sort(([a], [b]) => a - b).map(([, part]) => part);
    const missing: string[] = [];
    for (let index = 1; index <= shard.count; index++) {
      if (!parts.has(index)) missing.push(shardFileName(shard.prefix, index, shard.count));
    }
    groups.push({ parts: ordered, shard, missing });
  }
  return groups;
}
