/**
 * Converts a Hugging Face safetensors checkpoint to GGUF in this process (the worker runs it; `convertCheckpoint`
 * is the entry point for callers). Everything that can be checked is checked before a byte is written: config.json,
 * the architecture, every shard header, tensor names, shapes and dtypes, the tokenizer, free disk. Tensors are then
 * streamed one at a time from the safetensors files through the GGUF writer (temp file, renamed when complete;
 * removed on error or cancel), so memory stays bounded by the largest tensor whatever the size of the model.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { throwIfAborted } from "../errors";
import { formatBytes } from "../format/humanUnits";
import { freeBytes } from "../fs/freeDiskSpace";
import { elementCount, tensorByteLength } from "../gguf/ggmlTypes";
import { type GgufMetadata, type GgufValue } from "../gguf/ggufTypes";
import { writeGgufFile, type GgufTensorToWrite } from "../gguf/ggufWriter";
import { openSafetensorsCheckpoint, type SafetensorsCheckpoint } from "../safetensors/safetensorsCheckpoint";
import { requireSupportedDtype } from "../safetensors/safetensorsDtypes";
import { architectureFor } from "./architectures/architectureRegistry";
import { type PlannedTensor } from "./architectures/convertArchitecture";
import { str, u32 } from "./architectures/ggufMetadataValues";
import { ConvertError } from "./convertErrors";
import { modelName } from "./checkpointModelName";
import { readHfConfig } from "./hfConfig";
import { outTypeFileType, resolveOutType, tensorGgmlType, type ConvertOutType, type ConvertOutTypeRequest } from "./outputType";
import { plannedTensorSource } from "./tensorDataSource";
import { exportTokenizer, type ExportTokenizerOptions } from "./tokenizer/tokenizerExport";

/** gguf-py's GGML_QUANT_VERSION, written as general.quantization_version. */
const GGML_QUANT_VERSION = 2;

/** Where a conversion is. */
export interface ConvertProgress {
  readonly phase: "checking" | "converting" | "finishing";
  /** Tensors started so far. */
  readonly tensorsDone: number;
  readonly tensorCount: number;
  /** The GGUF name of the tensor being written. */
  readonly tensorName?: string;
  /** 0..1 by bytes written. */
  readonly fraction: number;
}

export interface ConvertOptions {
  /** The checkpoint folder (config.json, *.safetensors, tokenizer files). */
  readonly checkpointDir: string;
  readonly outFile: string;
  /** Default "auto": bf16 for a BF16 checkpoint, else f16. */
  readonly outType?: ConvertOutTypeRequest;
  /** Replace an existing output file (default: refuse). */
  readonly overwrite?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ConvertProgress) => void;
}

/** Test seams of the in-process conversion; not part of the worker protocol. */
export interface ConvertInProcessOptions extends ConvertOptions {
  /** Replaces the tokenizer export (tests of the tensor path while the tokenizer export is elsewhere). */
  readonly exportTokenizer?: (checkpointDir: string, options: ExportTokenizerOptions) => Promise<GgufMetadata>;
  /** Free bytes to assume instead of asking the file system (tests of the disk check). */
  readonly freeBytes?: number;
}

export interface ConvertResult {
  readonly checkpointDir: string;
  readonly outFile: string;
  /** config.json's architectures[0]. */
  readonly hfArchitecture: string;
  /** general.architecture. */
  readonly architecture: string;
  readonly outType: ConvertOutType;
  /** general.file_type. */
  readonly fileType: number;
  readonly tensorCount: number;
  readonly parameterCount: number;
  /** Bytes of tensor data read from the checkpoint. */
  readonly sourceBytes: number;
  readonly outputSize: number;
  readonly durationMs: number;
}

/** Converts in the calling thread (see `convertCheckpoint` for the worker-backed entry point). */
export async function convertCheckpointInProcess(options: ConvertInProcessOptions): Promise<ConvertResult> {
  const started = Date.now();
  const { signal, onProgress } = options;
  throwIfAborted(signal);
  const checkpointDir = path.resolve(options.checkpointDir);
  const outFile = path.resolve(options.outFile);
  await checkOutput(checkpointDir, outFile, options.overwrite === true);

  const config = await readHfConfig(checkpointDir);
  const architecture = architectureFor(config);
  const hyperParameters = architecture.hyperParameters(config);
  const checkpoint = await openSafetensorsCheckpoint(checkpointDir, signal === undefined ? {} : { signal });
  const tokenizer = await (options.exportTokenizer ?? exportTokenizer)(checkpointDir, { architecture: architecture.ggufName, config, ...(signal === undefined ? {} : { signal }) });
  const tokens = tokenizer.get("tokenizer.ggml.tokens");
  if (tokens?.type !== "array") throw new ConvertError("vocabulary-mismatch", "The tokenizer export gave no tokenizer.ggml.tokens list");
  const tokenCount = tokens.values.length;

  const planned = architecture.planTensors({ config, checkpoint, tokenCount });
  const outType = resolveOutType(options.outType ?? "auto", checkpoint);
  checkVocabulary(planned, tokenCount);
  const tensors = planned.map((tensor) => {
    const info = tensor.source.kind === "checkpoint" ? checkpoint.byName.get(tensor.source.tensor) : undefined;
    // An I8/F8/… tensor fails here, before anything is written.
    if (info !== undefined) requireSupportedDtype(info);
    const dims = [...tensor.shape].reverse();
    return { planned: tensor, info, dims, ggmlType: tensorGgmlType(tensor.name, dims, outType) };
  });

  const parameterCount = tensors.reduce((sum, tensor) => sum + elementCount(tensor.dims), 0);
  const metadata = new Map<string, GgufValue>([
    ["general.architecture", str(architecture.ggufName)],
    ["general.type", str("model")],
    ["general.name", str(loadableModelName(modelName(checkpointDir), tokens.values))],
    ["general.size_label", str(sizeLabel(parameterCount))],
    ...hyperParameters,
    ["general.file_type", u32(outTypeFileType(outType))],
    ["general.quantization_version", u32(GGML_QUANT_VERSION)],
    ...tokenizer,
  ]);

  const dataBytes = tensors.reduce((sum, tensor) => sum + tensorByteLength(tensor.dims, tensor.ggmlType), 0);
  await checkFreeSpace(outFile, dataBytes + metadataBytes(metadata), options.freeBytes);

  let started_ = 0;
  const report = (fraction: number, tensorName?: string): void => {
    onProgress?.({ phase: "converting", tensorsDone: started_, tensorCount: tensors.length, fraction, ...(tensorName === undefined ? {} : { tensorName }) });
  };
  onProgress?.({ phase: "checking", tensorsDone: 0, tensorCount: tensors.length, fraction: 0 });
  let current: string | undefined;
  const toWrite: GgufTensorToWrite[] = tensors.map((tensor) => ({
    name: tensor.planned.name,
    dims: tensor.dims,
    ggmlType: tensor.ggmlType,
    data: plannedTensorSource(tensor.planned, tensor.info, tensor.ggmlType, signal === undefined ? {} : { signal }),
  }));
  let lastReport = 0;
  await writeGgufFile(
    outFile,
    { metadata, tensors: toWrite },
    {
      ...(signal === undefined ? {} : { signal }),
      onTensorStart: (index, name) => {
        started_ = index + 1;
        current = name;
      },
      onProgress: (written, total) => {
        const now = Date.now();
        if (now - lastReport < 100 && written < total) return;
        lastReport = now;
        report(total > 0 ? written / total : 1, current);
      },
    },
  );
  onProgress?.({ phase: "finishing", tensorsDone: tensors.length, tensorCount: tensors.length, fraction: 1 });
  const sourceBytes = tensors.reduce((sum, tensor) => sum + (tensor.info?.byteLength ?? 0), 0);
  return {
    checkpointDir,
    outFile,
    hfArchitecture: config.architecture,
    architecture: architecture.ggufName,
    outType,
    fileType: outTypeFileType(outType),
    tensorCount: tensors.length,
    parameterCount,
    sourceBytes,
    outputSize: (await stat(outFile)).size,
    durationMs: Date.now() - started,
  };
}

/** The embedding (and an untied output) must have one row per token: llama.cpp's loader checks {n_embd, n_vocab}. */
function checkVocabulary(planned: readonly PlannedTensor[], tokenCount: number): void {
  for (const tensor of planned) {
    if (tensor.name !== "token_embd.weight" && tensor.name !== "output.weight") continue;
    const rows = tensor.shape[0] ?? 0;
    if (rows !== tokenCount) {
      throw new ConvertError("vocabulary-mismatch", `${tensor.name} has ${rows} rows, but the tokenizer has ${tokenCount} tokens`, {
        action: "The tokenizer files do not belong to this checkpoint (or vocab_size in config.json is wrong); download it again.",
      });
    }
  }
}

async function checkOutput(checkpointDir: string, outFile: string, overwrite: boolean): Promise<void> {
  if (!outFile.endsWith(".gguf")) throw new ConvertError("invalid-output", `The output ${path.basename(outFile)} must end in .gguf`, { action: "Name the output file <model>.gguf." });
  const existing = await stat(outFile).catch(() => undefined);
  if (existing?.isDirectory() === true) throw new ConvertError("invalid-output", `The output ${outFile} is a folder`, { action: "Give a file name ending in .gguf." });
  if (existing !== undefined && !overwrite) {
    throw new ConvertError("invalid-output", `${path.basename(outFile)} already exists`, { file: outFile, action: "Choose another name, or allow overwriting (--force)." });
  }
  const dir = await stat(path.dirname(outFile)).catch(() => undefined);
  if (dir?.isDirectory() !== true) throw new ConvertError("invalid-output", `The output folder ${path.dirname(outFile)} does not exist`, { action: "Create it first or choose another output path." });
  if (path.dirname(outFile) === checkpointDir && path.basename(outFile) === "config.json") throw new ConvertError("invalid-output", "The output would overwrite the checkpoint");
}

async function checkFreeSpace(outFile: string, needed: number, assumedFree: number | undefined): Promise<void> {
  const free = assumedFree ?? (await freeBytes(path.dirname(outFile)));
  if (free < needed) {
    throw new ConvertError("not-enough-disk", `Not enough disk space for the GGUF: it needs ${formatBytes(needed)}, ${formatBytes(free)} is free in ${path.dirname(outFile)}`, {
      action: "Free some space, write the output to another disk, or pick a smaller output type (q8_0).",
    });
  }
}

/** An upper bound of the GGUF header: the metadata's strings and arrays (the tokenizer dominates) plus tensor infos. */
function metadataBytes(metadata: ReadonlyMap<string, GgufValue>): number {
  let bytes = 1024 * 1024;
  for (const [key, value] of metadata) {
    bytes += key.length + 16;
    if (value.type === "string") bytes += Buffer.byteLength(value.value) + 8;
    else if (value.type === "array") bytes += value.itemType === "string" ? value.values.reduce((sum, item) => sum + Buffer.byteLength(item) + 8, 0) : value.values.length * 8;
  }
  return bytes;
}

/**
 * llama.cpp (src/llama-vocab.cpp) sets token attributes by model name: a name containing "phi-3"/"phi3" makes it look
 * up `</s>`, and loading fails when the vocabulary has none (Phi-4-mini's o200k vocabulary, e.g. in a fine-tune folder
 * named "my-phi3-…"). Such a name gets "phi 3" instead, which llama.cpp does not match; every other name is kept.
 */
export function loadableModelName(name: string, tokens: readonly unknown[]): string {
  if (!/phi-?3/i.test(name) || tokens.includes("</s>")) return name;
  return name.replace(/phi-?3/gi, (match) => `${match.slice(0, 3)} 3`);
}

/** gguf-py `model_weight_count_rounded_notation(total, min_digits=2)`: "135M", "0.5B", "1.2B", "7.6B". */
export function sizeLabel(parameters: number): string {
  let scaled: number;
  let suffix: string;
  if (parameters > 1e12) [scaled, suffix] = [parameters * 1e-12, "T"];
  else if (parameters > 1e9) [scaled, suffix] = [parameters * 1e-9, "B"];
  else if (parameters > 1e6) [scaled, suffix] = [parameters * 1e-6, "M"];
  else [scaled, suffix] = [parameters * 1e-3, "K"];
  const digits = String(Math.round(scaled)).replace(/^0+/, "").length;
  return `${scaled.toFixed(Math.max(2 - digits, 0))}${suffix}`;
}

/** The checkpoint helpers the CLI and the extension use to describe a folder before converting it. */
export type { SafetensorsCheckpoint };
