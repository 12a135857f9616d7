/**
 * Quantizes a GGUF model with llama.cpp's own `llama_model_quantize` (the libllama bundled with node-llama-cpp), so
 * the output is what `llama-quantize` of the same commit writes. Checks everything it can before starting (the input
 * is a readable, unquantized GGUF; the type needs no importance matrix; there is room for the output), then runs the
 * native call in a child process with per-tensor progress, writes to a temp name and renames it when complete.
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { rename, rm, stat, statfs, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CancelledError, throwIfAborted, UserError } from "../errors";
import { formatBytes } from "../format/humanUnits";
import { ggmlTypeByName, ggmlTypeInfo } from "../gguf/ggmlTypes";
import { readGgufFile } from "../gguf/ggufReader";
import { summarizeGguf } from "../gguf/ggufModelSummary";
import { type GgufFile, type GgufMetadataEntry } from "../gguf/ggufTypes";
import { sidecarPathFor } from "../store/modelSidecar";
import { llamaCppSourceCommit, type LibllamaLocation } from "./libllamaLocation";
import { importanceMatrixOverrides, readImportanceMatrix, type QuantizeKvOverride } from "./importanceMatrix";
import { isImatrixRequiredWarning, parseFailureLine, parseTensorLine, TensorLineAssembler, type QuantizeTensorLine } from "./quantizeLogParser";
import { findQuantizationType, quantizationTypes, type QuantizationType } from "./quantizationTypes";
import { predictQuantizedFileSize } from "./quantizedSizePrediction";
import { GGML_TYPE_COUNT, isQuantizeChildMessage, type QuantizeJobMessage } from "./quantizeWorkerProtocol";
import { workerScript } from "../workerScript";

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

  // One child for the dry run and the real run, started now so that it loads libllama while the header is read.
  const session = new QuantizeChildSession(signal);
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
  session: QuantizeChildSession,
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
  let dryRunInfo: { readonly location: LibllamaLocation; readonly llamaVersion: string } | undefined;
  if (options.dryRun === true || (await freeBytes(outputPath)) < outputSizeBound(file, type, extraMetadata)) {
    const dry = await session.run({ ...job, output: path.join(path.dirname(outputPath), ".slm-lab-dry-run"), dryRun: true }, undefined);
    if (dry.returnCode !== 0) throw quantizeFailedError(dry);
    if (dry.imatrixRequired) throw imatrixRequiredError(type);
    predictedSize = await predict(dry.tensors);
    dryRunInfo = dry;
    if (options.dryRun === true) {
      const llamaCpp = buildInfo(dry.location, dry.llamaVersion);
      return { input: inputPath, type, threads, inputSize: file.fileSize, predictedSize, llamaCpp, output: undefined, outputSize: undefined, tensors: dry.tensors, sidecarPath: undefined, durationMs: Date.now() - started };
    }
    await checkFreeSpace(outputPath, predictedSize);
  }

  const temp = `${outputPath}.tmp-${randomBytes(6).toString("hex")}`;
  const sidecarPath = sidecarPathFor(outputPath);
  const sidecarTemp = `${sidecarPath}.tmp-${randomBytes(6).toString("hex")}`;
  try {
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
    if (run.returnCode !== 0) throw run.failure !== undefined && /requires an imatrix/i.test(run.failure) ? imatrixRequiredError(type) : quantizeFailedError(run);
    predictedSize ??= await predict(run.tensors);
    const info = dryRunInfo ?? run;
    const llamaCpp = buildInfo(info.location, info.llamaVersion);
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
    await rm(temp, { force: true });
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

async function freeBytes(outputPath: string): Promise<number> {
  const stats = await statfs(path.dirname(outputPath));
  return stats.bavail * stats.bsize;
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
  const free = await freeBytes(outputPath);
  if (free < needed) {
    throw new UserError(`Not enough disk space for the output: it needs ${formatBytes(needed)}, ${formatBytes(free)} is free in ${path.dirname(outputPath)}.`, {
      action: "Free some space or write the output to another disk.",
    });
  }
}

function buildInfo(location: LibllamaLocation, version: string): LlamaCppBuildInfo {
  return { version, release: location.llamaCppRelease, commit: llamaCppSourceCommit(location), binariesPackageVersion: location.binariesPackageVersion };
}

interface ChildRun {
  readonly returnCode: number;
  readonly tensors: readonly QuantizeTensorLine[];
  readonly imatrixRequired: boolean;
  /** llama.cpp's own reason for a failure, from its log. */
  readonly failure: string | undefined;
  readonly location: LibllamaLocation;
  readonly llamaVersion: string;
}

function quantizeFailedError(run: ChildRun): UserError {
  return new UserError(`llama.cpp could not quantize the model: ${run.failure ?? `llama_model_quantize returned ${run.returnCode}`}.`, {
    action: "Check that the model loads in llama.cpp; see the log with SLM_LAB_DEBUG=1.",
  });
}

/**
 * A forked child that runs `llama_model_quantize` calls one after the other (the dry run, then the real one, without
 * loading the library twice). A child process rather than a worker_thread because the native call blocks and cannot
 * be interrupted: terminating a worker_thread only stops its JavaScript once the call returns, while the native code
 * would go on burning CPU and writing the temp file; SIGKILL stops a child at once, and the caller then removes what
 * it wrote. Cancellation therefore kills the child and the pending run rejects with CancelledError.
 */
class QuantizeChildSession {
  private readonly child: ChildProcess;
  private stderrTail = "";
  private location: LibllamaLocation | undefined;
  private llamaVersion = "";
  /** Why the child exited, once it has. */
  private exitReason: Error | undefined;
  private pending: { readonly onMessage: (message: unknown) => void; readonly onExit: (reason: Error) => void } | undefined;

  constructor(private readonly signal: AbortSignal | undefined) {
    throwIfAborted(signal);
    const { script, execArgv } = workerScript("quantizeWorker", __dirname, "quantize worker");
    this.child = fork(script, [], {
      execArgv: [...execArgv],
      // In VS Code's extension host process.execPath is Electron: make it behave as Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-4000);
    });
    this.child.on("message", (message: unknown) => this.pending?.onMessage(message));
    this.child.on("error", (error) => this.pending?.onExit(new UserError(`Cannot start the quantize worker: ${error.message}`, { inner: error })));
    this.child.on("exit", (code, exitSignal) => {
      const detail = this.stderrTail.trim().split("\n").slice(-3).join(" ");
      this.exitReason =
        this.signal?.aborted === true
          ? new CancelledError()
          : new UserError(`llama.cpp stopped while quantizing (${exitSignal ?? `exit code ${code ?? "?"}`})${detail === "" ? "" : `: ${detail}`}.`, {
              action: "The model may be corrupt or use an architecture this llama.cpp does not support.",
            });
      this.pending?.onExit(this.exitReason);
    });
    signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  private readonly onAbort = (): void => {
    // The pending run rejects with CancelledError on the exit, so the caller's clean-up does not race the dying
    // process's writes.
    this.child.kill("SIGKILL");
  };

  /** Runs one job; per-tensor lines go to `onTensor` as llama.cpp finishes each tensor. */
  run(job: QuantizeJobMessage, onTensor: ((tensor: QuantizeTensorLine) => void) | undefined): Promise<ChildRun> {
    throwIfAborted(this.signal);
    if (this.exitReason !== undefined) return Promise.reject(this.exitReason);
    return new Promise<ChildRun>((resolve, reject) => {
      const tensors: QuantizeTensorLine[] = [];
      const assembler = new TensorLineAssembler();
      let imatrixRequired = false;
      let failure: string | undefined;
      const settle = (outcome: () => void): void => {
        this.pending = undefined;
        outcome();
      };
      this.pending = {
        onExit: (reason) => { settle(() => { reject(reason); }); },
        onMessage: (message) => {
          if (!isQuantizeChildMessage(message) || this.signal?.aborted === true) return;
          switch (message.type) {
            case "ready":
              this.location = message.location;
              this.llamaVersion = message.llamaVersion;
              break;
            case "line": {
              const line = assembler.push(message.line);
              const tensor = line === undefined ? undefined : parseTensorLine(line);
              if (tensor !== undefined) {
                tensors.push(tensor);
                onTensor?.(tensor);
              }
              if (isImatrixRequiredWarning(message.line)) imatrixRequired = true;
              failure = parseFailureLine(message.line) ?? failure;
              if (process.env["SLM_LAB_DEBUG"] === "1") process.stderr.write(`llama.cpp: ${message.line}\n`);
              break;
            }
            case "done": {
              const location = this.location;
              if (location === undefined) {
                settle(() => { reject(new Error("the quantize worker finished without saying which library it loaded")); });
                break;
              }
              const { llamaVersion } = this;
              settle(() => { resolve({ returnCode: message.returnCode, tensors, imatrixRequired, failure, location, llamaVersion }); });
              break;
            }
            case "failed":
              settle(() => { reject(new UserError(message.message, message.action === undefined ? {} : { action: message.action })); });
              break;
          }
        },
      };
      this.child.send(job);
    });
  }

  /** Ends the child (at once: it holds nothing worth waiting for between jobs). */
  dispose(): void {
    this.signal?.removeEventListener("abort", this.onAbort);
    if (this.exitReason === undefined) this.child.kill("SIGKILL");
  }
}
