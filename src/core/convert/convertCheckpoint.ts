/**
 * Converts a Hugging Face checkpoint folder to GGUF off the caller's thread: in a child process running
 * convertWorker.ts, so the extension host stays responsive while tensors are decoded and encoded. Cancelling asks the
 * child to stop (it removes its temp file); a child that does not stop within a few seconds is killed and its temp
 * files are removed here. Errors come back as the same user-facing errors the in-process conversion throws.
 */
import { fork } from "node:child_process";
import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { CancelledError, throwIfAborted, UserError } from "../errors";
import { type ConvertOptions, type ConvertResult } from "./checkpointConversion";
import { ConvertError, type ConvertErrorCode } from "./convertErrors";
import { isConvertChildMessage, type ConvertParentMessage, type SerializedConvertError } from "./convertWorkerProtocol";
import { workerScript } from "../workerScript";

export type { ConvertOptions, ConvertProgress, ConvertResult } from "./checkpointConversion";
export { CONVERT_OUT_TYPES, isConvertOutTypeRequest, type ConvertOutType, type ConvertOutTypeRequest } from "./outputType";

const KILL_AFTER_CANCEL_MS = 5000;

/** Converts `checkpointDir` to the GGUF `outFile` (see ConvertOptions) in a child process. */
export async function convertCheckpoint(options: ConvertOptions): Promise<ConvertResult> {
  const { signal, onProgress } = options;
  throwIfAborted(signal);
  const { script, execArgv } = workerScript("convertWorker", __dirname, "convert worker");
  const child = fork(script, [], { execArgv: [...execArgv], stdio: ["ignore", "ignore", "pipe", "ipc"], serialization: "advanced" });
  let stderr = "";
  child.stderr?.on("data", (data: Buffer) => {
    stderr = (stderr + data.toString("utf8")).slice(-4000);
  });
  const outFile = path.resolve(options.outFile);
  return new Promise<ConvertResult>((resolve, reject) => {
    let settled: { readonly result?: ConvertResult; readonly error?: unknown } | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      if (child.connected) child.send({ type: "cancel" } satisfies ConvertParentMessage);
      killTimer = setTimeout(() => child.kill("SIGKILL"), KILL_AFTER_CANCEL_MS);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    child.on("message", (message: unknown) => {
      if (!isConvertChildMessage(message)) return;
      if (message.type === "progress") onProgress?.(message.progress);
      else if (message.type === "done") settled = { result: message.result };
      else settled = { error: deserialize(message.error) };
    });
    child.on("error", (error) => {
      settled ??= { error };
    });
    child.on("exit", (code, exitSignal) => {
      clearTimeout(killTimer);
      signal?.removeEventListener("abort", onAbort);
      void (async () => {
        if (signal?.aborted === true) {
          // A killed child cannot clean up: remove what it may have left.
          await removeTempFiles(outFile);
          if (settled?.result !== undefined) await rm(outFile, { force: true });
          reject(new CancelledError());
          return;
        }
        if (settled?.result !== undefined) resolve(settled.result);
        else if (settled?.error !== undefined) reject(settled.error instanceof Error ? settled.error : new Error("the convert worker failed"));
        else {
          await removeTempFiles(outFile);
          reject(new Error(`the convert worker exited (${exitSignal ?? `code ${code ?? "?"}`}) without a result${stderr === "" ? "" : `: ${stderr.trim()}`}`));
        }
      })();
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

/** Temp files of the GGUF writer for this output (`<name>.tmp-<random>`). */
async function removeTempFiles(outFile: string): Promise<void> {
  const prefix = `${path.basename(outFile)}.tmp-`;
  const entries = await readdir(path.dirname(outFile)).catch(() => [] as string[]);
  await Promise.all(entries.filter((entry) => entry.startsWith(prefix)).map((entry) => rm(path.join(path.dirname(outFile), entry), { force: true })));
}

