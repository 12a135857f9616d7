/**
 * A lock between processes on this machine: a directory created atomically, holding its owner's pid. A lock whose
 * owner has died is taken over. Used so that two e2e runs (or two installs of the tools) never run at once.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Waits until the lock at `lockDir` is free, takes it, and returns the function that releases it. */
export async function acquireProcessLock(lockDir: string, onWait: (ownerPid: number | undefined) => void): Promise<() => void> {
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(path.join(lockDir, "pid"), String(process.pid));
      const release = (): void => { rmSync(lockDir, { recursive: true, force: true }); };
      process.once("exit", release);
      return () => {
        process.off("exit", release);
        release();
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = Number(readOrEmpty(path.join(lockDir, "pid")));
    const hasOwner = Number.isInteger(owner) && owner > 0;
    // Between mkdir and writing the pid the file is empty: give a fresh lock a moment before calling it stale.
    const justCreated = Date.now() - mtimeOrZero(lockDir) < 10_000;
    if ((hasOwner && !isAlive(owner)) || (!hasOwner && !justCreated)) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!announced) onWait(hasOwner ? owner : undefined);
    announced = true;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function mtimeOrZero(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
