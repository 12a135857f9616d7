/** Which machine a bench ran on, as the record keeps it. */
import os from "node:os";
import { type BenchMachine } from "./benchRecord";

/** This machine's name, CPU, core count and memory. */
export function currentBenchMachine(): BenchMachine {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cpuCount: os.availableParallelism(),
    totalMemoryBytes: os.totalmem(),
    platform: `${process.platform}-${process.arch}`,
  };
}
