/**
 * Where the core writes a file before it is complete: `<name>.tmp-<random>` beside it, renamed over `<name>` at the
 * end. One naming, so that code that cleans up after a killed writer (convertCheckpoint.ts) and the model list, which
 * skips half-written files (ggufFileDiscovery.ts), find exactly what the writers leave.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";

const INFIX = ".tmp-";

/** A fresh temp path beside `filePath`. */
export function tempSiblingPath(filePath: string): string {
  return `${filePath}${INFIX}${randomBytes(6).toString("hex")}`;
}

/** Whether `name` (a file name in the same folder) is one of `filePath`'s temp siblings. */
export function isTempSiblingOf(name: string, filePath: string): boolean {
  return name.startsWith(`${path.basename(filePath)}${INFIX}`);
}
