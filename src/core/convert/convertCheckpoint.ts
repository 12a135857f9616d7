/**
 * Converts a Hugging Face checkpoint folder to GGUF off the caller's thread: in a child process running
 * convertWorker.ts, so the extension host stays responsive while tensors are decoded and encoded. Cancelling asks the
 * child to stop (it removes its temp file); a child that does not stop within a few seconds is killed and its temp
 * files are removed here. Errors come back as the same user-facing errors the in-process conversion throws.
 */
import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { CancelledError, throwIfAborted, UserError } from "../errors";
import { type ConvertOptions, type ConvertResult } from "./checkpointConversion";
import { ConvertError, type ConvertErrorCode } from "./convertErrors";
import { isConvertChildMessage, type ConvertParentMessage, type SerializedConvertError } from "./convertWorkerProtocol";
import { WorkerChildProcess } from "../workerChildProcess";
import { workerScript } from "../workerScript";
import { isTempSiblingOf } from "../fs/tempSibling";

export type { ConvertOptions, ConvertProgress, ConvertResult } from "./checkpointConversion";
export { CONVERT_OUT_TYPES, isConvertOutTypeRequest, type ConvertOutType, type ConvertOutTypeRequest } from "./outputType";

const KILL_AFTER_CANCEL_MS = 5000;

/** Converts `checkpointDir` to the GGUF `outFile` (see ConvertOptions) in a child process. */
export async function convertCheckpoint(options: ConvertOptions): Promise<ConvertResult> {
  const { signal, onProgress } = options;
  throwIfAborted(signal);
  const outFile = path.resolve(options.outFile);
  return new Promise<ConvertResult>((resolve, reject) => {
    let settled: { readonly result?: ConvertResult; readonly error?: Error } | undefined;
    const finish = async (reason: Error): Promise<void> => {
      child.dispose();
      if (reason instanceof CancelledError) {
        // A killed child cannot clean up: remove what it may have left.
        await removeTempFiles(outFile);
        if (settled?.result !== undefined) await rm(outFile, { force: true });
        reject(reason);
      } else if (settled?.result !== undefined) {
        resolve(settled.result);
      } else if (settled?.error !== undefined) {
        reject(settled.error);
      } else {
        await removeTempFiles(outFile);
        reject(reason);
      }
    };
    const child = new WorkerChildProcess({
      script: workerScript("convertWorker", __dirname, "convert worker"),
      description: "convert worker",
      signal,
      serialization: "advanced",
      cancel: { message: { type: "cancel" } satisfies ConvertParentMessage, killAfterMs: KILL_AFTER_CANCEL_MS },
      onMessage: (message) => {
        if (!isConvertChildMessage(message)) return;
        if (message.type === "progress") onProgress?.(message.progress);
        else if (message.type === "done") settled = { result: message.result };
        else settled = { error: deserialize(message.error) };
      },
      onExit: (reason) => { void finish(reason); },
      exitError: (how, detail) => new Error(`the convert worker exited (${how}) without a result${detail === "" ? "" : `: ${detail}`}`),
    });
    const job: ConvertParentMessage = {
      type: "convert",
      options: {
        checkpointDir: options.checkpointDir,
        outFile: options.outFile,
        ...(options.outType === undefined ? {} : { outType: options.outType }),
        ...(options.overwrite === undefined ? {} : { overwrite: options.overwrite }),
      },
    };
    child.send(job);
  });
}

function deserialize(error: SerializedConvertError): Error {
  if (error.name === "CancelledError") return new CancelledError(error.message);
  if (!error.user) return new Error(error.message);
  const options = { ...(error.action === undefined ? {} : { action: error.action }), ...(error.causeHint === undefined ? {} : { cause: error.causeHint }), ...(error.file === undefined ? {} : { file: error.file }) };
  if (error.name === "ConvertError" && error.code !== undefined) return new ConvertError(error.code as ConvertErrorCode, error.message, options);
  const rebuilt = new UserError(error.message, options);
  rebuilt.name = error.name;
  return Object.assign(rebuilt, error.code === undefined ? {} : { code: error.code });
}

/** Temp files of the GGUF writer for this output (tempSibling.ts). */
async function removeTempFiles(outFile: string): Promise<void> {
  const entries = await readdir(path.dirname(outFile)).catch(() => [] as string[]);
  await Promise.all(entries.filter((entry) => isTempSiblingOf(entry, outFile)).map((entry) => rm(path.join(path.dirname(outFile), entry), { force: true })));
}

