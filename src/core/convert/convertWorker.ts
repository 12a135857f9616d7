/**
 * The convert child process: runs `convertCheckpointInProcess` off the extension host (decoding, rounding and Q8_0
 * quantization are CPU-bound JavaScript) and reports progress over IPC. A "cancel" message aborts the conversion,
 * which removes its temp file before the child exits.
 */
import { CancelledError, UserError } from "../errors";
import { convertCheckpointInProcess } from "./checkpointConversion";
import { isConvertParentMessage, type ConvertChildMessage, type SerializedConvertError } from "./convertWorkerProtocol";

const controller = new AbortController();

function send(message: ConvertChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) resolve();
    else process.send(message, undefined, {}, () => {
      resolve();
    });
  });
}

function serialize(error: unknown): SerializedConvertError {
  const record = error as { code?: unknown; file?: unknown };
  return {
    name: error instanceof Error ? error.name : "Error",
    message: error instanceof Error ? error.message : String(error),
    action: error instanceof UserError ? error.action : undefined,
    causeHint: error instanceof UserError ? error.causeHint : undefined,
    code: typeof record.code === "string" ? record.code : undefined,
    file: typeof record.file === "string" ? record.file : undefined,
    user: error instanceof UserError || error instanceof CancelledError,
  };
}

process.on("message", (message: unknown) => {
  if (!isConvertParentMessage(message)) return;
  if (message.type === "cancel") {
    controller.abort();
    return;
  }
  void (async () => {
    try {
      const result = await convertCheckpointInProcess({
        ...message.options,
        signal: controller.signal,
        onProgress: (progress) => {
          void send({ type: "progress", progress });
        },
      });
      await send({ type: "done", result });
    } catch (error) {
      await send({ type: "failed", error: serialize(error) });
    }
    process.disconnect();
  })();
});
process.on("disconnect", () => {
  controller.abort();
});
