/**
 * The quantize child process (bundled to dist/workers/quantizeWorker.js): loads libllama, runs one
 * `llama_model_quantize` per job message and streams llama.cpp's log back line by line. It is a forked process, not a
 * worker_thread, because the native call blocks until the whole model is done and nothing can interrupt it:
 * terminating a worker_thread stops its JavaScript but the native quantization keeps running and writing; killing a
 * process stops it at once (see quantizeModel.ts).
 */
import { describeError, UserError } from "../errors";
import { importanceMatrixOverrides, readImportanceMatrix } from "./importanceMatrix";
import { KV_OVERRIDE_INT, KV_OVERRIDE_STR, loadLibllamaQuantize, type ImatrixEntry, type KvOverrideEntry } from "./libllamaQuantizeBinding";
import { LogLineSplitter } from "./quantizeLogParser";
import { isQuantizeJobMessage, type QuantizeChildMessage, type QuantizeJobMessage } from "./quantizeWorkerProtocol";

function send(message: QuantizeChildMessage): void {
  process.send?.(message);
}

async function runJob(job: QuantizeJobMessage): Promise<void> {
  const library = loadLibllamaQuantize();
  send({ type: "ready", location: library.location, llamaVersion: library.llamaVersion });
  let imatrix: ImatrixEntry[] | null = null;
  let kvOverrides: KvOverrideEntry[] | null = null;
  if (job.imatrix !== undefined) {
    const matrix = await readImportanceMatrix(job.imatrix.file);
    imatrix = [...matrix.entries].map(([name, data]) => ({ name, data, size: data.length }));
    kvOverrides = importanceMatrixOverrides(matrix, job.imatrix.fileAsGiven).map((override) =>
      override.kind === "int"
        ? { tag: KV_OVERRIDE_INT, key: override.key, value: { val_i64: override.value } }
        : { tag: KV_OVERRIDE_STR, key: override.key, value: { val_str: override.value } },
    );
  }
  const splitter = new LogLineSplitter();
  let lineLevel: number | undefined;
  const returnCode = await library.quantize(
    job.input,
    job.output,
    {
      ...library.defaultParams,
      nthread: job.threads,
      ftype: job.ftype,
      output_tensor_type: job.outputTensorType,
      token_embedding_type: job.tokenEmbeddingType,
      allow_requantize: job.allowRequantize,
      pure: job.pure,
      dry_run: job.dryRun,
      imatrix,
      kv_overrides: kvOverrides,
    },
    (level, text) => {
      // GGML_LOG_LEVEL_CONT (5) continues the line of the previous call: keep that line's level.
      if (level !== 5 || lineLevel === undefined) lineLevel = level;
      for (const line of splitter.push(text)) {
        send({ type: "line", level: lineLevel ?? level, line });
        lineLevel = undefined;
      }
    },
  );
  for (const line of splitter.flush()) send({ type: "line", level: lineLevel ?? 2, line });
  send({ type: "done", returnCode });
}

process.on("message", (message: unknown) => {
  if (!isQuantizeJobMessage(message)) return;
  runJob(message).catch((error: unknown) => {
    send({ type: "failed", message: error instanceof UserError ? error.message : describeError(error), action: error instanceof UserError ? error.action : undefined });
  });
});

// Load the library while the parent reads the model's header; a failure is reported again with the first job.
try {
  loadLibllamaQuantize();
} catch {
  // Reported by runJob.
}

// The parent is gone (closed or crashed): stop, rather than finish a quantization nobody will rename.
process.on("disconnect", () => process.exit(1));
