/** Free disk space as an unprivileged writer sees it (what `df` shows as available). */
import { statfs } from "node:fs/promises";

/** Bytes available to an unprivileged writer on the file system holding `directory`. */
export async function freeBytes(directory: string): Promise<number> {
  const stats = await statfs(directory);
  return stats.bavail * stats.bsize;
}
