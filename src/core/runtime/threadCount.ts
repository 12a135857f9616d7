/**
 * How many CPU threads llama.cpp work gets. `slmLab.threads` (and the CLI's --threads) of 0 means the machine's
 * physical cores, llama.cpp's own default (common/common.cpp `cpu_get_num_physical_cores`): hyper-threads share a
 * core's vector units, and more threads than cores makes generation much slower, not faster.
 */
import { readFileSync } from "node:fs";
import os from "node:os";

/** Physical cores from the text of /proc/cpuinfo: distinct (physical id, core id) pairs, at most `logical`; else `logical`. */
export function physicalCoresInCpuinfo(cpuinfo: string, logical: number): number {
  const cores = new Set<string>();
  for (const block of cpuinfo.split(/\n\s*\n/)) {
    const physical = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1];
    const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
    if (physical !== undefined && core !== undefined) cores.add(`${physical}:${core}`);
  }
  return cores.size > 0 ? Math.min(cores.size, logical) : logical;
}

/** This machine's physical cores (Linux: /proc/cpuinfo; elsewhere the logical CPUs), at least 1. */
export function physicalCoreCount(): number {
  const logical = Math.max(1, os.availableParallelism());
  if (process.platform !== "linux") return logical;
  try {
    return physicalCoresInCpuinfo(readFileSync("/proc/cpuinfo", "utf8"), logical);
  } catch {
    return logical;
  }
}

/** The thread count for a setting where 0 means "the physical cores". */
export function threadsFromSetting(configured: number): number {
  return configured > 0 ? Math.floor(configured) : physicalCoreCount();
}
