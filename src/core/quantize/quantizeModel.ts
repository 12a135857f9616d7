/**
 * Quantizes a GGUF model with llama.cpp's own `llama_model_quantize` (the libllama bundled with node-llama-cpp), so
 * the output is what `llama-quantize` of the same commit writes. Checks everything it can before starting (the input
 * is a readable, unquantized GGUF; the type needs no importance matrix; there is room for the output), then runs the
 * native call in a child process (or, for the CLI, in its own process: quantizeSession.ts) with per-tensor progress,
 * writes to a temp name and renames it when complete.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { throwIfAborted, UserError } from "../errors";
import { formatBytes } from "../format/humanUnits";
import { ggmlTypeByName, ggmlTypeInfo } from "../gguf/ggmlTypes";
import { readGgufFile } from "../gguf/ggufReader";
import { summarizeGguf } from "../gguf/ggufModelSummary";
import { type GgufFile, type GgufMetadataEntry } from "../gguf/ggufTypes";
import { freeBytes } from "../fs/freeDiskSpace";
import { sidecarPathFor } from "../store/modelSidecar";
import { llamaCppSourceCommit, type LibllamaLocation } from "./libllamaLocation";
import { importanceMatrixOverrides, readImportanceMatrix, type QuantizeKvOverride } from "./importanceMatrix";
import { isImatrixRequiredFailure, type QuantizeTensorLine } from "./quantizeLogParser";
import { findQuantizationType, quantizationTypes, type QuantizationType } from "./quantizationTypes";
import { predictQuantizedFileSize } from "./quantizedSizePrediction";
import { startQuantizeSession, type QuantizeProcess, type QuantizeRun, type QuantizeSession } from "./quantizeSession";
import { GGML_TYPE_COUNT, type QuantizeJobMessage } from "./quantizeWorkerProtocol";
import { tempSiblingPath } from "../fs/tempSibling";

/** Where a quantization is. */
export interface QuantizeProgress {
  readonly phase: "checking" | "quantizing" | "finishing";
  /** Tensors done so far (during "quantizing"). */
  readonly tensorsDone: number;
  readonly tensorCount: number;
  /** The tensor just finished, as llama.cpp names it. */
  readonly tensorName?: string;
  /** Its type in the output ("q4_K"). */
  readonly tensorType?: string;
  /** 0..1, by input bytes of the tensors done. */
  readonly fraction: number;
}

export interface QuantizeOptions {
  /** A type name ("Q4_K_M", case-insensitive), an alias ("Q4_K"), a preset ("mobile"), or a type from the table. */
  readonly type: string | QuantizationType;
  /** Threads for llama.cpp; default: the machine's available parallelism. */
  readonly threads?: number;
  /** Quantize an already-quantized model again (quality suffers; llama.cpp refuses without it). */
  readonly allowRequantize?: boolean;
  /** Every tensor at the type's default tensor type (no k-quant mixes). */
  readonly pure?: boolean;
  /** ggml type for output.weight ("q8_0", "f16"). */
  readonly outputTensorType?: string;
  /** ggml type for token_embd.weight. */
  readonly tokenEmbeddingType?: string;
  /**
   * Importance matrix file (llama-imatrix's GGUF or legacy .dat): needed by the IQ1/IQ2 types and Q2_K_S, improves the
   * others. Its path is recorded in the output's metadata as given (`quantize.imatrix.file`), as llama-quantize does.
   */
  readonly imatrix?: string;
  /** Only predict the output size (llama.cpp's dry_run); writes nothing. */
  readonly dryRun?: boolean;
  /**
   * Where llama.cpp runs (quantizeSession.ts): "child-process" (the default; what the extension host must use), or
   * "this-process" for a process that is the quantization's own, like the `slm-lab` CLI. There a cancel rejects at
   * once with CancelledError and leaves no file, but the native call goes on, so the process must end right after.
   */
  readonly process?: QuantizeProcess;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: QuantizeProgress) => void;
}

/** Which llama.cpp did the work. */
export interface LlamaCppBuildInfo {
  /** `llama_version()`, e.g. "0.5.0-dev". */
  readonly version: string;
  /** The release tag node-llama-cpp built its binaries from, e.g. "v0.5.0". */
  readonly release: string | undefined;
  /** The llama.cpp commit of the source node-llama-cpp ships with the binaries. */
  readonly commit: string | undefined;
  /** `@node-llama-cpp/<platform>`'s version. */
  readonly binariesPackageVersion: string | undefined;
}

export interface QuantizeResult {
  readonly input: string;
  /** The output path; undefined for a dry run. */
  readonly output: string | undefined;
  readonly type: QuantizationType;
  readonly threads: number;
  readonly inputSize: number;
  /** The output size predicted by the dry run (exact: header plus each tensor's new size, padded). */
  readonly predictedSize: number;
  /** The real output size; undefined for a dry run. */
  readonly outputSize: number | undefined;
  /** Per-tensor output types, as llama.cpp chose them. */
  readonly tensors: readonly QuantizeTensorLine[];
  readonly sidecarPath: string | undefined;
  readonly llamaCpp: LlamaCppBuildInfo;
  /** Wall time of the whole call. */
  readonly durationMs: number;
}

/** The sidecar SLM Lab writes next to a quantized model (`<out>.slm-lab.json`). */
export interface QuantizedModelSidecar {
  readonly kind: "quantized";
  readonly createdAt: string;
  readonly parent: { readonly path: string; readonly fileName: string; readonly size: number; readonly fileType: string };
  readonly quantization: {
    readonly type: string;
    readonly ftype: number;
    readonly threads: number;
    readonly allowRequantize: boolean;
    readonly pure: boolean;
    readonly outputTensorType: string | null;
    readonly tokenEmbeddingType: string | null;
    /** The importance matrix file used, if any. */
    readonly imatrix: string | null;
  };
  readonly llamaCpp: LlamaCppBuildInfo;
  readonly output: { readonly size: number; readonly durationMs: number };
}

/** Quantizes `input` to `output` with llama.cpp's own quantizer; a dry run only predicts the size. */
export async function quantizeModel(input: string, output: string, options: QuantizeOptions): Promise<QuantizeResult> {
  const started = Date.now();
  const { signal, onProgress } = options;
  throwIfAborted(signal);
  const type = resolveType(options.type);
  const threads = resolveThreads(options.threads);
  const outputTensorType = resolveTensorType(options.outputTensorType, "--output-tensor-type");
  const tokenEmbeddingType = resolveTensorType(options.tokenEmbeddingType, "--token-embedding-type");
  const inputPath = path.resolve(input);
  const outputPath = path.resolve(output);

  // One session for the dry run and the real run, started now so that it loads libllama while the header is read.
  const session = startQuantizeSession(options.process ?? "child-process", signal);
  try {
    // The reader's error (not a GGUF, truncated, …) comes before any other work.
    const file = await readGgufFile(inputPath, { maxArrayValues: 64, ...(signal === undefined ? {} : { signal }) });
    onProgress?.({ phase: "checking", tensorsDone: 0, tensorCount: file.tensors.length, fraction: 0 });
    checkNotQuantized(file, options.allowRequantize === true);
    // Read here too (the child reads it again for the call): a bad file is refused before any work, and the size
    // prediction needs the metadata keys it adds.
    const imatrix = options.imatrix === undefined ? undefined : await readImportanceMatrix(path.resolve(options.imatrix), signal);
    if (imatrix === undefined && (options.pure === true ? type.requiresImatrixWhenPure : type.requiresImatrix)) throw imatrixRequiredError(type);
    if (!options.dryRun) await checkOutputPath(inputPath, outputPath);

    const job: Omit<QuantizeJobMessage, "output" | "dryRun"> = {
      type: "quantize",
      input: inputPath,
      threads,
      ftype: type.ftype,
      outputTensorType,
      tokenEmbeddingType,
      allowRequantize: options.allowRequantize === true,
      pure: options.pure === true,
      ...(imatrix === undefined || options.imatrix === undefined ? {} : { imatrix: { file: imatrix.path, fileAsGiven: options.imatrix } }),
    };
    const extraMetadata = imatrix === undefined || options.imatrix === undefined ? [] : importanceMatrixOverrides(imatrix, options.imatrix);
    return await quantizeInSession(session, file, job, type, outputPath, options, started, extraMetadata);
  } finally {
    session.dispose();
  }
}

async function quantizeInSession(
  session: QuantizeSession,
  file: GgufFile<GgufMetadataEntry>,
  job: Omit<QuantizeJobMessage, "output" | "dryRun">,
  type: QuantizationType,
  outputPath: string,
  options: QuantizeOptions,
  started: number,
  extraMetadata: readonly QuantizeKvOverride[],
): Promise<QuantizeResult> {
  const { signal, onProgress } = options;
  const { input: inputPath, threads } = job;
  const predict = (tensors: readonly QuantizeTensorLine[]): Promise<number> =>
    predictQuantizedFileSize(
      file,
      type.ftype,
      tensors,
      async () => (await readGgufFile(inputPath, signal === undefined ? {} : { signal })).metadata,
      // llama.cpp writes kv overrides as u32 (INT) or string (src/llama-quant.cpp).
      extraMetadata.map((entry) => [entry.key, entry.kind === "int" ? { type: "u32", value: Math.abs(entry.value) } : { type: "string", value: entry.value }]),
    );
  // llama.cpp's dry run (it writes nothing) gives the exact per-tensor types (k-quant mixes, fallbacks), so the exact
  // size. A real run only needs it when the disk might be too small: with room for any output this input can give,
  // it is skipped (it costs a model load, a noticeable part of quantizing a small model) and the size is computed
  // from the real run's own per-tensor lines instead.
  let predictedSize: number | undefined;
  if (options.dryRun === true || (await freeBytes(path.dirname(outputPath))) < outputSizeBound(file, type, extraMetadata)) {
    const dry = await session.run({ ...job, output: path.join(path.dirname(outputPath), ".slm-lab-dry-run"), dryRun: true }, undefined);
    if (dry.returnCode !== 0) throw quantizeFailedError(dry);
    if (dry.imatrixRequired) throw imatrixRequiredError(type);
    predictedSize = await predict(dry.tensors);
    if (options.dryRun === true) {
      const llamaCpp = buildInfo(dry.location, dry.llamaVersion);
      return { input: inputPath, type, threads, inputSize: file.fileSize, predictedSize, llamaCpp, output: undefined, outputSize: undefined, tensors: dry.tensors, sidecarPath: undefined, durationMs: Date.now() - started };
    }
    await checkFreeSpace(outputPath, predictedSize);
  }

  // llama.cpp writes into a folder of our own next to the output: when a cancelled native call cannot be stopped
  // (this-process), removing the folder also removes a temp file it creates after the cancel, or makes that creation
  // fail (fs.rm retries a folder that is not empty yet). The folder is hidden and neither name looks like a model
  // (ggufFileDiscovery.ts), so the model list never shows the half-written file.
  const tempDir = path.join(path.dirname(outputPath), `.${path.basename(outputPath)}.tmp-${randomBytes(6).toString("hex")}`);
  const temp = path.join(tempDir, "quantized.gguf.tmp");
  const sidecarPath = sidecarPathFor(outputPath);
  const sidecarTemp = tempSiblingPath(sidecarPath);
  try {
    await mkdir(tempDir);
    const tensorBytes = new Map<string, number>(file.tensors.map((tensor) => [tensor.name, tensor.byteLength]));
    const totalBytes = file.tensors.reduce((sum, tensor) => sum + tensor.byteLength, 0);
    let doneBytes = 0;
    const run = await session.run({ ...job, output: temp, dryRun: false }, (tensor) => {
      doneBytes += tensorBytes.get(tensor.name) ?? 0;
      onProgress?.({
        phase: "quantizing",
        tensorsDone: tensor.index,
        tensorCount: tensor.count,
        tensorName: tensor.name,
        tensorType: tensor.targetType,
        fraction: totalBytes > 0 ? doneBytes / totalBytes : tensor.index / tensor.count,
      });
    });
    if (run.returnCode !== 0) throw isImatrixRequiredFailure(run.failure) ? imatrixRequiredError(type) : quantizeFailedError(run);
    predictedSize ??= await predict(run.tensors);
    // The dry run, if any, ran in the same session: the same library.
    const llamaCpp = buildInfo(run.location, run.llamaVersion);
    const base = { input: inputPath, type, threads, inputSize: file.fileSize, predictedSize, llamaCpp };
    onProgress?.({ phase: "finishing", tensorsDone: file.tensors.length, tensorCount: file.tensors.length, fraction: 1 });
    const outputSize = (await stat(temp)).size;
    const durationMs = Date.now() - started;
    const sidecar: QuantizedModelSidecar = {
      kind: "quantized",
      createdAt: new Date().toISOString(),
      parent: { path: inputPath, fileName: path.basename(inputPath), size: file.fileSize, fileType: summarizeGguf(file).fileType },
      quantization: {
        type: type.name,
        ftype: type.ftype,
        threads,
        allowRequantize: options.allowRequantize === true,
        pure: options.pure === true,
        outputTensorType: options.outputTensorType ?? null,
        tokenEmbeddingType: options.tokenEmbeddingType ?? null,
        imatrix: options.imatrix === undefined ? null : path.resolve(options.imatrix),
      },
      llamaCpp,
      output: { size: outputSize, durationMs },
    };
    await writeFile(sidecarTemp, `${JSON.stringify(sidecar, null, 2)}\n`);
    throwIfAborted(signal);
    await rename(temp, outputPath);
    await rename(sidecarTemp, sidecarPath);
    return { ...base, output: outputPath, outputSize, tensors: run.tensors, sidecarPath, durationMs };
  } finally {
    await rm(tempDir, { recursive: true, force: true, maxRetries: 5 });
    await rm(sidecarTemp, { force: true });
  }
}

function resolveType(given: string | QuantizationType): QuantizationType {
  if (typeof given !== "string") return given;
  const type = findQuantizationType(given);
  if (type === undefined) {
    throw new UserError(`Unknown quantization type '${given}'.`, {
      action: `Use one of ${quantizationTypes.map((entry) => entry.name).join(", ")}, or a preset: mobile, edge, production, balanced.`,
    });
  }
  return type;
}

function resolveThreads(threads: number | undefined): number {
  if (threads === undefined) return Math.max(1, os.availableParallelism());
  if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
    throw new UserError(`Invalid thread count ${threads}.`, { action: "Give a whole number of threads, at least 1." });
  }
  return threads;
}

function resolveTensorType(name: string | undefined, option: string): number {
  if (name === undefined) return GGML_TYPE_COUNT;
  const type = ggmlTypeByName(name);
  if (type === undefined) throw new UserError(`Unknown tensor type '${name}' for ${option}.`, { action: "Use a ggml type name such as q8_0, q6_K, f16." });
  return type.id;
}

/** llama.cpp only quantizes F32/F16/BF16 tensors unless allow_requantize is set (src/llama-quant.cpp). */
function checkNotQuantized(file: GgufFile<GgufMetadataEntry>, allowRequantize: boolean): void {
  if (allowRequantize) return;
  const quantized = file.tensors.find((tensor) => tensor.dims.length >= 2 && ggmlTypeInfo(tensor.ggmlType)?.quantized === true);
  if (quantized === undefined) return;
  const fileType = summarizeGguf(file).fileType;
  throw new UserError(`${path.basename(file.path)} is already quantized (${fileType}; e.g. ${quantized.name} is ${ggmlTypeInfo(quantized.ggmlType)?.name ?? "quantized"}).`, {
    cause: "Quantizing a quantized model again loses more quality than quantizing the F16/BF16 original.",
    action: "Quantize the F16/BF16 original, or pass --allow-requantize to do it anyway.",
  });
}

function imatrixRequiredError(type: QuantizationType): UserError {
  return new UserError(`${type.name} needs an importance matrix: without one, llama.cpp's result at this bit width is garbage.`, {
    action: "Compute one with llama.cpp's llama-imatrix on representative text and quantize with it, or pick a type that needs none (IQ4_XS, IQ3_S, Q3_K_M, Q4_K_M…).",
  });
}

async function checkOutputPath(inputPath: string, outputPath: string): Promise<void> {
  if (inputPath === outputPath) throw new UserError("The output would overwrite the input model.", { action: "Choose another output file name." });
  const dir = path.dirname(outputPath);
  let dirStats;
  try {
    dirStats = await stat(dir);
  } catch (error: unknown) {
    throw new UserError(`The output folder ${dir} does not exist.`, { action: "Create it first, or choose another output path.", inner: error });
  }
  if (!dirStats.isDirectory()) throw new UserError(`${dir} is not a folder.`, { action: "Choose another output path." });
  if (existsSync(outputPath) && (await stat(outputPath)).isDirectory()) {
    throw new UserError(`${outputPath} is a folder.`, { action: "Give the output a file name ending in .gguf." });
  }
}

/**
 * No output of `type` from this input is bigger than this: a tensor is written at the type's bits, or kept, or falls
 * back to F16/Q8_0-class types when its rows do not fit the blocks (llama_tensor_get_type), so at most max(its input
 * bytes, 2 bytes per element) — 4 for F32 — plus the header, the imatrix keys and the padding of each tensor.
 */
export function outputSizeBound(file: GgufFile<GgufMetadataEntry>, type: QuantizationType, extraMetadata: readonly QuantizeKvOverride[]): number {
  const bytesPerElement = type.name === "F32" ? 4 : 2;
  let bound = file.dataOffset + 64 * 1024 + extraMetadata.reduce((sum, entry) => sum + entry.key.length + String(entry.value).length + 32, 0);
  for (const tensor of file.tensors) {
    const elements = tensor.dims.reduce((product, dim) => product * dim, 1);
    bound += Math.max(tensor.byteLength, elements * bytesPerElement) + file.alignment;
  }
  return bound;
}

async function checkFreeSpace(outputPath: string, needed: number): Promise<void> {
  const free = await freeBytes(path.dirname(outputPath));
  if (free < needed) {
    throw new UserError(`Not enough disk space for the output: it needs ${formatBytes(needed)}, ${formatBytes(free)} is free in ${path.dirname(outputPath)}.`, {
      action: "Free some space or write the output to another disk.",
    });
  }
}

function buildInfo(location: LibllamaLocation, version: string): LlamaCppBuildInfo {
  return { version, release: location.llamaCppRelease, commit: llamaCppSourceCommit(location), binariesPackageVersion: location.binariesPackageVersion };
}

function quantizeFailedError(run: QuantizeRun): UserError {
  return new UserError(`llama.cpp could not quantize the model: ${run.failure ?? `llama_model_quantize returned ${run.returnCode}`}.`, {
    action: "Check that the model loads in llama.cpp; see the log with SLM_LAB_DEBUG=1.",
  });
}
