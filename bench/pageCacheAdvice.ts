/**
 * Puts files in a known page-cache state before a timed run (bench/convert.ts):
 * - cold: their clean pages dropped, with Linux `posix_fadvise(POSIX_FADV_DONTNEED)` through koffi (no root needed,
 *   unlike /proc/sys/vm/drop_caches; run `sync` first so that no page is dirty);
 * - warm: read through just before. Needed on this VM, whose kernel pages out memory it has not seen used for a
 *   while (DAMON "pageout"), page cache included: cp of the same cached gigabyte took 0.5–2.2 s without it.
 */
import { open } from "node:fs/promises";
import { loadKoffi } from "../src/core/koffiModule";


export type PageCacheState = "warm" | "cold";

/** Linux include/uapi/linux/fadvise.h. */
const POSIX_FADV_DONTNEED = 4;

type Fadvise = (fd: number, offset: number, length: number, advice: number) => number;
let fadvise: Fadvise | undefined;

function fadviseCall(): Fadvise {
  if (fadvise === undefined) {
    if (process.platform !== "linux") throw new Error("dropping files from the page cache needs Linux");
    fadvise = loadKoffi().load("libc.so.6").func("int posix_fadvise(int fd, int64_t offset, int64_t len, int advice)") as Fadvise;
  }
  return fadvise;
}

/** Drops the files' clean pages from the page cache, so that the next reads come from disk. */
async function evict(files: readonly string[]): Promise<void> {
  for (const file of files) {
    const handle = await open(file, "r");
    try {
      // posix_fadvise returns an error number rather than setting errno.
      const result = fadviseCall()(handle.fd, 0, (await handle.stat()).size, POSIX_FADV_DONTNEED);
      if (result !== 0) throw new Error(`posix_fadvise(DONTNEED) of ${file} failed with error ${result}`);
    } finally {
      await handle.close();
    }
  }
}

/** Reads the files through, so that they are in the page cache. */
async function warmUp(files: readonly string[]): Promise<void> {
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  for (const file of files) {
    const handle = await open(file, "r");
    try {
      for (let position = 0; ; ) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, position);
        if (bytesRead === 0) break;
        position += bytesRead;
      }
    } finally {
      await handle.close();
    }
  }
}

/** Puts the files in `state`: all in the page cache, or none of them. */
export async function preparePageCache(files: readonly string[], state: PageCacheState): Promise<void> {
  if (state === "cold") await evict(files);
  else await warmUp(files);
}
