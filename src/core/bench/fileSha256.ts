/** sha256 of a file's content, streamed (models are GiB), stoppable. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { throwIfAborted } from "../errors";

/** Hex sha256 of the file; rejects with CancelledError when the signal aborts. */
export async function fileSha256(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) {
    throwIfAborted(signal);
    hash.update(chunk as Buffer);
  }
  return hash.digest("hex");
}
