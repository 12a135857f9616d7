/**
 * Copies a byte range of one open file into another inside the kernel: Linux `copy_file_range(2)` through koffi (what
 * coreutils `cp` uses), so tensor data that needs no conversion never passes through JavaScript buffers. Each call runs
 * on koffi's worker thread (`.async`), so the event loop stays free, and copies at most one step, so an abort is seen
 * between steps. Where the call is missing or refused (another OS, an old kernel, files on different file systems),
 * callers fall back to reading and writing: this module only says how far it got.
 */
import { throwIfAborted } from "../errors";
import { loadKoffi } from "../koffiModule";


/** Bytes per kernel call: large enough that the call overhead vanishes, small enough to see an abort within ~30 ms. */
export const RANGE_COPY_STEP_BYTES = 64 * 1024 * 1024;

type CopyFileRangeCall = (
  fdIn: number,
  offIn: [number],
  fdOut: number,
  offOut: [number],
  length: number,
  flags: number,
  callback: (error: unknown, copied: number | bigint) => void,
) => void;

let binding: CopyFileRangeCall | null | undefined;

/** `copy_file_range` of the C library, or null where there is none (loaded once, on first use). */
function copyFileRangeBinding(): CopyFileRangeCall | null {
  if (binding !== undefined) return binding;
  binding = null;
  if (process.platform !== "linux" || process.env["SLM_LAB_NO_RANGE_COPY"] === "1") return binding;
  try {
    const libc = loadKoffi().load("libc.so.6");
    const call = libc.func("intptr_t copy_file_range(int fd_in, _Inout_ int64_t *off_in, int fd_out, _Inout_ int64_t *off_out, size_t len, unsigned int flags)");
    binding = (fdIn, offIn, fdOut, offOut, length, flags, callback) => {
      call.async(fdIn, offIn, fdOut, offOut, length, flags, callback);
    };
  } catch {
    // No glibc (musl), no koffi build for this platform: binding stays null, the read/write path does the work.
  }
  return binding;
}

/** Whether in-kernel range copies can be tried here. */
export function rangeCopyAvailable(): boolean {
  return copyFileRangeBinding() !== null;
}

function copyStep(call: CopyFileRangeCall, fdIn: number, inOffset: number, fdOut: number, outOffset: number, length: number): Promise<number> {
  return new Promise((resolve, reject) => {
    call(fdIn, [inOffset], fdOut, [outOffset], length, 0, (error, copied) => {
      if (error !== null && error !== undefined) reject(error instanceof Error ? error : new Error("copy_file_range through koffi failed", { cause: error }));
      else resolve(Number(copied));
    });
  });
}

/**
 * Copies `length` bytes from `fdIn` at `inOffset` to `fdOut` at `outOffset`. Returns the bytes copied: `length`, or
 * fewer when the kernel refused or the source ended early, in which case the caller finishes (or reports) with
 * ordinary reads and writes, which give the proper error. `onCopied` gets each step's byte count.
 */
export async function copyFileRange(
  fdIn: number,
  inOffset: number,
  fdOut: number,
  outOffset: number,
  length: number,
  options: { readonly signal?: AbortSignal; readonly onCopied?: (bytes: number) => void } = {},
): Promise<number> {
  const call = copyFileRangeBinding();
  if (call === null) return 0;
  let done = 0;
  while (done < length) {
    throwIfAborted(options.signal);
    const copied = await copyStep(call, fdIn, inOffset + done, fdOut, outOffset + done, Math.min(RANGE_COPY_STEP_BYTES, length - done));
    // -1: refused (EXDEV, ENOSYS, EOPNOTSUPP, ENOSPC, …); 0: the source ended.
    if (!(copied > 0)) break;
    done += copied;
    options.onCopied?.(copied);
  }
  return done;
}
