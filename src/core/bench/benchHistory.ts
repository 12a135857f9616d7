/**
 * The bench history: one JSON BenchRecord per line (JSONL) in the store, append-only. A crash mid-append can leave a
 * truncated last line, which reading skips (as any line that is not a record).
 */
import { appendJsonLine, readJsonLines } from "../store/jsonLinesFile";
import path from "node:path";
import { type BenchRecord } from "./benchRecord";

/** SLM Lab's own folder inside a models directory. */
function storeStateDir(modelsDir: string): string {
  return path.join(modelsDir, ".slm-lab");
}

/** The history file of a models directory. */
export function benchHistoryPath(modelsDir: string): string {
  return path.join(storeStateDir(modelsDir), "bench-history.jsonl");
}

/** Where the baselines' stored top-k log-probs live in a models directory. */
export function benchBaselineCacheDir(modelsDir: string): string {
  return path.join(storeStateDir(modelsDir), "bench-baselines");
}

/** Appends one record (creates the file and its folder when missing; see jsonLinesFile.ts). */
export async function appendBenchRecord(historyFile: string, record: BenchRecord): Promise<void> {
  await appendJsonLine(historyFile, record);
}

/** All records in file order; a missing file is an empty history; lines that are not records are skipped. */
export async function readBenchHistory(historyFile: string): Promise<BenchRecord[]> {
  return readJsonLines(historyFile, isBenchRecord);
}

/** Whether a parsed line has the shape of a version-1 record (the fields every reader relies on). */
export function isBenchRecord(value: unknown): value is BenchRecord {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  const isMeanStd = (field: unknown): boolean => typeof field === "object" && field !== null && typeof (field as Record<string, unknown>)["mean"] === "number";
  return (
    record["version"] === 1 &&
    typeof record["modelPath"] === "string" &&
    typeof record["modelSha256"] === "string" &&
    typeof record["fileType"] === "string" &&
    typeof record["finishedAt"] === "string" &&
    isMeanStd(record["promptTokensPerSecond"]) &&
    isMeanStd(record["generationTokensPerSecond"]) &&
    isMeanStd(record["loadMs"])
  );
}
