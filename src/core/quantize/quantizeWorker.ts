/**
 * The quantize child process (bundled to dist/workers/quantizeWorker.js): runs one `llama_model_quantize` job
 * (quantizeJob.ts) per message and streams llama.cpp's log back line by line. It is a forked process, not a
 * worker_thread, because the native call blocks until the whole model is done and nothing can interrupt it:
 * terminating a worker_thread stops its JavaScript but the native quantization keeps running and writing; killing a
 * process stops it at once (see quantizeSession.ts).
 */
import { preloadQuantizeLibrary, runQuantizeJob } from "./quantizeJob";
import { isQuantizeJobMessage, type QuantizeChildMessage } from "./quantizeWorkerProtocol";

function send(message: QuantizeChildMessage): void {
  process.send?.(message);
}

process.on("message", (message: unknown) => {
  if (isQuantizeJobMessage(message)) void runQuantizeJob(message, send);
});

// Load the library while the parent reads the model's header.
preloadQuantizeLibrary();

// The parent is gone (closed or crashed): stop, rather than finish a quantization nobody will rename.
process.on("disconnect", () => process.exit(1));
