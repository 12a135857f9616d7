/**
 * One writer per partial file: two downloads of the same file (the extension and the CLI, or two windows) appending
 * to one partial would corrupt it. The lock is a file created exclusively beside the partial holding the owner's pid;
 * a lock whose process is gone (a kill -9, a crash) is stale and taken over.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { UserError } from "../errors";

/** Another live process (or another download in this one) is writing the same file. */
export class DownloadInProgressError extends UserError {
  constructor(file: string, pid: number) {
    super(`${file} is already being downloaded${pid === process.pid ? " (by this window)" : ` by another process (pid ${pid})`}.`, {
      action: "Wait for that download to finish, or stop it first.",
    });
    this.name = "DownloadInProgressError";
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

const heldHere = new Set<string>();

/** Takes the lock file `lock` for `displayName`; resolves to its release function. */
export async function acquireDownloadLock(lock: string, displayName: string): Promise<() => Promise<void>> {
  await fs.mkdir(path.dirname(lock), { recursive: true });
  if (heldHere.has(lock)) throw new DownloadInProgressError(displayName, process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fs.writeFile(lock, `${process.pid}\n`, { flag: "wx" });
      heldHere.add(lock);
      return async () => {
        heldHere.delete(lock);
        await fs.rm(lock, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = Number.parseInt(await fs.readFile(lock, "utf8").catch(() => ""), 10);
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) throw new DownloadInProgressError(displayName, owner);
    // Stale (its process is gone, or an unreadable/half-written lock): take it over.
    await fs.rm(lock, { force: true });
  }
  throw new DownloadInProgressError(displayName, 0);
}
