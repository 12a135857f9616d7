/**
 * The bench child process (bundled to dist/workers/benchWorker.js): loads the bundled libllama through koffi and runs
 * bench jobs one after the other (benchJobRunner.ts). A forked process, not a worker_thread: llama_decode blocks and
 * cannot be interrupted, and the peak RSS must be this process's alone; cancelling kills it (runBench.ts).
 */
import { describeError, UserError } from "../errors";
import { runBenchJob } from "./benchJobRunner";
import { isBenchJobMessage, type BenchChildMessage, type BenchJobMessage } from "./benchWorkerProtocol";
import { loadLibllamaInference } from "./libllamaInferenceBinding";

function send(message: BenchChildMessage): void {
  process.send?.(message);
}

let queue: Promise<void> = Promise.resolve();

async function runJob(job: BenchJobMessage): Promise<void> {
  const lib = loadLibllamaInference();
  send({ type: "ready", location: lib.location, llamaVersion: lib.llamaVersion });
  const result = await runBenchJob(lib, job, (progress) => { send({ type: "progress", progress }); });
  send({ type: "done", result });
}

process.on("message", (message: unknown) => {
  if (!isBenchJobMessage(message)) return;
  queue = queue.then(() =>
    runJob(message).catch((error: unknown) => {
      send({ type: "failed", message: error instanceof UserError ? error.message : describeError(error), action: error instanceof UserError ? error.action : undefined });
    }),
  );
});

// Load the library while the parent checks the model; a failure is reported again with the first job.
try {
  loadLibllamaInference();
} catch {
  // Reported by runJob.
}

// The parent is gone: stop rather than go on measuring for nobody.
process.on("disconnect", () => process.exit(1));
