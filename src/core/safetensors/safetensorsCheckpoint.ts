/**
 * A Hugging Face checkpoint folder as one set of tensors: `model.safetensors.index.json` (its `weight_map` names the
 * shard of every tensor), else a single `model.safetensors`, else numbered parts `model-00001-of-00003.safetensors`
 * (which `convert_hf_to_gguf.py` also accepts without an index). Every shard's header is read and validated; tensor
 * data stays on disk until `readSafetensorsTensor` streams it.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { throwIfAborted } from "../errors";
import { SafetensorsCheckpointError } from "./safetensorsErrors";
import { readSafetensorsHeader, type SafetensorsHeader, type SafetensorsReadOptions, type SafetensorsTensorInfo } from "./safetensorsHeader";
import { readSafetensorsTensorBytes, type SafetensorsTensorReadOptions } from "./safetensorsTensorData";

export const SAFETENSORS_INDEX_FILE = "model.safetensors.index.json";
export const SAFETENSORS_SINGLE_FILE = "model.safetensors";
const PART_FILE = /^model-(\d+)-of-(\d+)\.safetensors$/;

/** All tensors of a checkpoint folder, across its shards. */
export interface SafetensorsCheckpoint {
  readonly dir: string;
  /** The index file when the checkpoint has one. */
  readonly indexFile: string | undefined;
  /** The validated header of each shard (one for a single-file checkpoint), in file-name order. */
  readonly shards: readonly SafetensorsHeader[];
  /** Every tensor: shard by shard, in the order of their data. */
  readonly tensors: readonly SafetensorsTensorInfo[];
  readonly byName: ReadonlyMap<string, SafetensorsTensorInfo>;
  /** Sum of the tensors' data bytes. */
  readonly totalTensorBytes: number;
}

/** Opens a checkpoint folder: finds its safetensors files, validates every header and checks them against the index. */
export async function openSafetensorsCheckpoint(dir: string, options: SafetensorsReadOptions = {}): Promise<SafetensorsCheckpoint> {
  throwIfAborted(options.signal);
  const entries = await readdir(dir);
  const present = new Set(entries);
  let indexFile: string | undefined;
  let shardNames: string[];
  let weightMap: ReadonlyMap<string, string> | undefined;
  if (present.has(SAFETENSORS_INDEX_FILE)) {
    indexFile = path.join(dir, SAFETENSORS_INDEX_FILE);
    weightMap = await readWeightMap(indexFile, dir);
    shardNames = [...new Set(weightMap.values())].sort();
  } else if (present.has(SAFETENSORS_SINGLE_FILE)) {
    shardNames = [SAFETENSORS_SINGLE_FILE];
  } else {
    shardNames = numberedParts(entries, dir);
  }

  for (const shard of shardNames) {
    if (!(await isFile(path.join(dir, shard)))) {
      const listed = weightMap === undefined ? "" : ` (the index puts ${[...weightMap.values()].filter((name) => name === shard).length} tensors in it)`;
      throw new SafetensorsCheckpointError(
        "missing-shard",
        path.join(dir, shard),
        `${path.basename(dir)}: shard ${shard} is missing${listed}`,
        "The download is incomplete; download the model again (all its .safetensors files).",
      );
    }
  }

  const shards: SafetensorsHeader[] = [];
  const byName = new Map<string, SafetensorsTensorInfo>();
  const tensors: SafetensorsTensorInfo[] = [];
  let totalTensorBytes = 0;
  for (const shard of shardNames) {
    throwIfAborted(options.signal);
    const header = await readSafetensorsHeader(path.join(dir, shard), options);
    shards.push(header);
    for (const tensor of header.tensors) {
      const other = byName.get(tensor.name);
      if (other !== undefined) {
        throw new SafetensorsCheckpointError(
          "duplicate-tensor",
          header.file,
          `${path.basename(dir)}: tensor "${tensor.name}" is in both ${path.basename(other.file)} and ${path.basename(header.file)}`,
          "The checkpoint's files come from different versions of the model; download it again.",
        );
      }
      byName.set(tensor.name, tensor);
      tensors.push(tensor);
      totalTensorBytes += tensor.byteLength;
    }
  }

  if (weightMap !== undefined) {
    for (const [name, shard] of weightMap) {
      const tensor = byName.get(name);
      if (tensor === undefined || path.resolve(tensor.file) !== path.resolve(dir, shard)) {
        const found = tensor === undefined ? "" : ` (it is in ${path.basename(tensor.file)})`;
        throw new SafetensorsCheckpointError(
          "tensor-missing-from-shard",
          path.join(dir, shard),
          `${path.basename(dir)}: the index puts tensor "${name}" in ${shard}, but that file does not hold it${found}`,
          "The index and the shards come from different versions of the model; download it again.",
        );
      }
    }
  }
  return { dir, indexFile, shards, tensors, byName, totalTensorBytes };
}

/** The tensor of that name, or a SafetensorsCheckpointError naming the checkpoint. */
export function checkpointTensor(checkpoint: SafetensorsCheckpoint, name: string): SafetensorsTensorInfo {
  const tensor = checkpoint.byName.get(name);
  if (tensor === undefined) {
    throw new SafetensorsCheckpointError(
      "unknown-tensor",
      checkpoint.dir,
      `${path.basename(checkpoint.dir)}: no tensor named "${name}" (the checkpoint has ${checkpoint.tensors.length})`,
      "The checkpoint does not match its config.json, or is a different architecture.",
    );
  }
  return tensor;
}

/** Streams the bytes of one tensor of the checkpoint in bounded chunks (see `readSafetensorsTensorBytes`). */
export function readSafetensorsTensor(checkpoint: SafetensorsCheckpoint, name: string, options: SafetensorsTensorReadOptions = {}): AsyncGenerator<Uint8Array> {
  return readSafetensorsTensorBytes(checkpointTensor(checkpoint, name), options);
}

/** Reads and checks `weight_map` of an index file; shard names must stay inside the folder. */
async function readWeightMap(indexFile: string, dir: string): Promise<ReadonlyMap<string, string>> {
  const invalid = (problem: string): SafetensorsCheckpointError =>
    new SafetensorsCheckpointError(
      "invalid-index",
      indexFile,
      `${SAFETENSORS_INDEX_FILE}: ${problem}`,
      "The index file is corrupt; download the model again.",
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(indexFile, "utf8"));
  } catch (error) {
    throw invalid(`not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const weightMap = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>)["weight_map"] : undefined;
  if (typeof weightMap !== "object" || weightMap === null || Array.isArray(weightMap)) throw invalid('no "weight_map" object');
  const map = new Map<string, string>();
  for (const [name, shard] of Object.entries(weightMap)) {
    if (typeof shard !== "string" || shard === "") throw invalid(`the shard of tensor "${name}" is not a file name`);
    const resolved = path.resolve(dir, shard);
    if (path.isAbsolute(shard) || !resolved.startsWith(path.resolve(dir) + path.sep)) throw invalid(`the shard "${shard}" of tensor "${name}" is outside the model folder`);
    map.set(name, shard);
  }
  if (map.size === 0) throw invalid('"weight_map" lists no tensors');
  return map;
}

/** `model-0000i-of-0000n.safetensors` parts without an index: all n must be there. */
function numberedParts(entries: readonly string[], dir: string): string[] {
  const parts = entries.filter((name) => PART_FILE.test(name)).sort();
  if (parts.length === 0) {
    const other = entries.filter((name) => name.endsWith(".bin") || name.endsWith(".pt") || name.endsWith(".pth") || name.endsWith(".safetensors"));
    const found = other.length === 0 ? "no weight files" : `only ${other.slice(0, 5).join(", ")}${other.length > 5 ? ", …" : ""}`;
    throw new SafetensorsCheckpointError(
      "no-weights",
      dir,
      `${path.basename(dir)}: no ${SAFETENSORS_INDEX_FILE} or ${SAFETENSORS_SINGLE_FILE} (found ${found})`,
      "Pick a Hugging Face model folder with safetensors weights; PyTorch .bin checkpoints are not supported.",
    );
  }
  const total = Number(PART_FILE.exec(parts[0] ?? "")?.[2]);
  const width = (PART_FILE.exec(parts[0] ?? "")?.[1] ?? "").length;
  const expected = Array.from({ length: total }, (_, index) => `model-${String(index + 1).padStart(width, "0")}-of-${String(total).padStart(width, "0")}.safetensors`);
  return expected;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
