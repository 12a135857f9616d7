/**
 * One `llama_model_quantize` job, the work itself: loads libllama (once per process), runs the call and reports
 * llama.cpp's log line by line. The same code runs in the quantize child process (quantizeWorker.ts, messages over
 * IPC) and, for the CLI, in the calling process (quantizeSession.ts, messages by callback). Loads koffi: import it
 * lazily, never from a module the extension host loads at start.
 */
import { describeError, UserError } from "../errors";
import { importanceMatrixOverrides, readImportanceMatrix } from "./importanceMatrix";
import { KV_OVERRIDE_INT, KV_OVERRIDE_STR, loadLibllamaQuantize, type ImatrixEntry, type KvOverrideEntry } from "./libllamaQuantizeBinding";
import { LogLineSplitter } from "./quantizeLogParser";
import { type QuantizeChildMessage, type QuantizeJobMessage } from "./quantizeWorkerProtocol";

/** GGML_LOG_LEVEL_CONT (ggml.h): the text continues the line of the previous call. */
const GGML_LOG_LEVEL_CONT = 5;
/** GGML_LOG_LEVEL_INFO, for text left without a newline at the end. */
const GGML_LOG_LEVEL_INFO = 2;

/** Loads libllama now (it takes a few tens of milliseconds) so that the first job starts at once; a failure is reported again by that job. */
export function preloadQuantizeLibrary(): void {
  try {
    loadLibllamaQuantize();
  } catch {
    // Reported by runQuantizeJob.
  }
}

/**
 * Runs `job` and reports through `emit`: "ready" (which library), a "line" per log line, then "done" with the return
 * code, or "failed" when it could not run (library, importance matrix). Never rejects.
 */
export async function runQuantizeJob(job: QuantizeJobMessage, emit: (message: QuantizeChildMessage) => void): Promise<void> {
  try {
    const library = loadLibllamaQuantize();
    emit({ type: "ready", location: library.location, llamaVersion: library.llamaVersion });
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
        // A continuation keeps the level of the line it continues.
        if (level !== GGML_LOG_LEVEL_CONT || lineLevel === undefined) lineLevel = level;
        for (const line of splitter.push(text)) {
          emit({ type: "line", level: lineLevel ?? level, line });
          lineLevel = undefined;
        }
      },
    );
    for (const line of splitter.flush()) emit({ type: "line", level: lineLevel ?? GGML_LOG_LEVEL_INFO, line });
    emit({ type: "done", returnCode });
  } catch (error: unknown) {
    emit({ type: "failed", message: error instanceof UserError ? error.message : describeError(error), action: error instanceof UserError ? error.action : undefined });
  }
}
