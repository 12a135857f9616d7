// Small real GGUF files and folder layouts for the store tests (written with our own GGUF writer).
import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { GgmlType } from "../../src/core/gguf/ggmlTypes";
import type { GgufValue } from "../../src/core/gguf/ggufTypes";
import { encodeGguf } from "../../src/core/gguf/ggufWriter";

export interface TinyGgufOptions {
  readonly architecture?: string;
  readonly name?: string;
  /** Element count of each F32 tensor. */
  readonly tensorElements?: readonly number[];
  readonly extraMetadata?: readonly (readonly [string, GgufValue])[];
  /** Leave out general.architecture (a later part of a split model). */
  readonly noGeneralMetadata?: boolean;
}

/** The bytes of a tiny valid GGUF: a few F32 tensors and enough metadata for a summary. */
export function tinyGgufBytes(options: TinyGgufOptions = {}): Uint8Array {
  const architecture = options.architecture ?? "llama";
  const metadata = new Map<string, GgufValue>();
  if (options.noGeneralMetadata !== true) {
    metadata.set("general.architecture", { type: "string", value: architecture });
    metadata.set("general.name", { type: "string", value: options.name ?? "tiny" });
    metadata.set("general.file_type", { type: "u32", value: 0 });
    metadata.set(`${architecture}.context_length`, { type: "u32", value: 128 });
  }
  for (const [key, value] of options.extraMetadata ?? []) metadata.set(key, value);
  const tensors = (options.tensorElements ?? [8]).map((elements, index) => ({
    name: `t${index}.weight`,
    dims: [elements],
    ggmlType: GgmlType.F32,
    data: new Uint8Array(elements * 4),
  }));
  return encodeGguf({ metadata, tensors });
}

/** Writes a tiny GGUF (creating folders). */
export async function writeTinyGguf(file: string, options: TinyGgufOptions = {}): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, tinyGgufBytes(options));
  return file;
}

/**
 * Lays out one Hugging Face cache repo the way huggingface_hub does: blobs by hash, snapshot files as relative
 * symlinks to them, and `refs/main`. `snapshots` maps a commit to { path in repo → blob name }.
 */
export async function writeHubRepo(
  hubDir: string,
  repoId: string,
  blobs: Readonly<Record<string, Uint8Array>>,
  snapshots: Readonly<Record<string, Readonly<Record<string, string>>>>,
  mainRevision: string,
): Promise<string> {
  const repoDir = path.join(hubDir, `models--${repoId.replace("/", "--")}`);
  await mkdir(path.join(repoDir, "blobs"), { recursive: true });
  await mkdir(path.join(repoDir, "refs"), { recursive: true });
  for (const [hash, bytes] of Object.entries(blobs)) await writeFile(path.join(repoDir, "blobs", hash), bytes);
  for (const [revision, files] of Object.entries(snapshots)) {
    for (const [fileInRepo, hash] of Object.entries(files)) {
      const link = path.join(repoDir, "snapshots", revision, fileInRepo);
      await mkdir(path.dirname(link), { recursive: true });
      await symlink(path.relative(path.dirname(link), path.join(repoDir, "blobs", hash)), link);
    }
  }
  await writeFile(path.join(repoDir, "refs", "main"), mainRevision);
  return repoDir;
}
