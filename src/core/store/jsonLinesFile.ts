/**
 * Append-only JSON Lines files (the bench history, the completion-quality history): one record per line, so a line
 * cut short by a crash costs that record only.
 */
import { appendFile, mkdir, open, readFile } from "node:fs/promises";
import path from "node:path";

/**
 * Appends one value as a line (creates the file and its folder when missing). One `appendFile` of one line: O_APPEND
 * keeps concurrent appends from interleaving. When the file does not end in a newline (an earlier append was cut
 * short), the value starts on a fresh line; only the last byte is read to know.
 */
export async function appendJsonLine(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  let prefix = "";
  try {
    const handle = await open(file, "r");
    try {
      const { size } = await handle.stat();
      const last = Buffer.alloc(1);
      if (size > 0 && (await handle.read(last, 0, 1, size - 1)).bytesRead === 1 && last[0] !== 0x0a) prefix = "\n";
    } finally {
      await handle.close();
    }
  } catch {
    // No file yet.
  }
  await appendFile(file, `${prefix}${JSON.stringify(value)}\n`, "utf8");
}

/** The lines that parse and that `accept` takes, in file order; a missing file has none. Other read errors throw. */
export async function readJsonLines<T>(file: string, accept: (value: unknown) => value is T): Promise<T[]> {
  let content: string;
  try {
    content = await readFile(file, "utf8");
  } catch (error: unknown) {
    if (typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT") return [];
    throw error;
  }
  const values: T[] = [];
  for (const line of content.split("\n")) {
    if (line.trim() === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      // A line cut short by a crash.
      continue;
    }
    if (accept(parsed)) values.push(parsed);
  }
  return values;
}
