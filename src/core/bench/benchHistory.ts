/**
 * The bench history: one JSON BenchRecord per line (JSONL) in the store, append-only. A crash mid-append can leave a
 * truncated last line, which reading skips (as any line that is not a record).
 */
import { appendFile, mkdir, open, readFile } from "node:fs/promises";
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

/**
 * Appends one record (creates the file and its folder when missing). One `appendFile` of one line: O_APPEND keeps
 * concurrent appends from interleaving, and a line cut short by a crash is skipped on reading. When the file does
 * not end in a newline (an earlier append was cut short), the record starts on a fresh line.
 */
export async function appendBenchRecord(historyFile: string, record: BenchRecord): Promise<void> {
  await mkdir(path.dirname(historyFile), { recursive: true });
  let prefix = "";
  try {
    const handle = await open(historyFile, "r");
    try {
      const { size } = await handle.stat();
      const last = Buffer.alloc(1);
      if (size > 0 && (await handle.read(last, 0, 1, size - 1)).bytesRead === 1 && last[0] !== 0x0a) prefix = "\n";
    } finally {
      await handle.close();
    }
  } catch {
    // No history yet.
  }
  await appendFile(historyFile, `${prefix}${JSON.stringify(record)}\n`, "utf8");
}

/** All records in file order; a missing file is an empty history; lines that are not records are skipped. */
export async function readBenchHistory(historyFile: string): Promise<BenchRecord[]> {
  let content: string;
  try {
    content = await readFile(historyFile, "utf8");
  } catch (error: unknown) {
    if (typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT") return [];
    throw error;
  }
  const records: BenchRecord[] = [];
  for (const line of content.split("\n")) {
    if (line.trim() === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    if (isBenchRecord(parsed)) records.push(parsed);
  }
  return records;
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
