/**
 * A Writable that appends to a file and feeds a hash with the same bytes: when the upstream fails (a dropped
 * connection) the hash state matches the file, so a retry continues from `bytesWritten` without re-reading what is on
 * disk. When a write itself fails (ENOSPC) `hashMatchesFile` turns false and the download stops; the next run
 * re-hashes the partial file. With `durable`, the data is flushed to the disk (fdatasync) before `finish`.
 */
import { type Hash } from "node:crypto";
import { promises as fs } from "node:fs";
import { Writable } from "node:stream";

export class HashingFileWriter extends Writable {
  private handle: fs.FileHandle | undefined;
  /** False once a write failed after its bytes were hashed. */
  hashMatchesFile = true;
  /** The write in progress: closing waits for it, so `bytesWritten` is final once the stream has closed. */
  private inflight: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly hash: Hash,
    /** Bytes already in the file (and in the hash). */
    public bytesWritten: number,
    private readonly onWritten: (bytesWritten: number) => void,
    private readonly durable: boolean,
  ) {
    super({ highWaterMark: 4 * 1024 * 1024 });
  }

  override _construct(callback: (error?: Error | null) => void): void {
    fs.open(this.file, "a").then(
      (handle) => {
        this.handle = handle;
        callback();
      },
      (error: unknown) => {
        callback(error as Error);
      },
    );
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.writeAll(chunks.map((entry) => entry.chunk)).then(
      () => {
        callback();
      },
      (error: unknown) => {
        callback(error as Error);
      },
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeAll([chunk]).then(
      () => {
        callback();
      },
      (error: unknown) => {
        callback(error as Error);
      },
    );
  }

  private writeAll(buffers: Buffer[]): Promise<void> {
    this.inflight = this.writeAllNow(buffers);
    return this.inflight;
  }

  private async writeAllNow(buffers: Buffer[]): Promise<void> {
    const handle = this.handle;
    if (handle === undefined) throw new Error("HashingFileWriter: file not open");
    // One writev (no copy into a bigger buffer) runs on libuv's thread pool while this thread hashes the same bytes.
    const writing = handle.writev(buffers);
    for (const buffer of buffers) this.hash.update(buffer);
    try {
      let { bytesWritten } = await writing;
      this.bytesWritten += bytesWritten;
      // A short write (the disk nearly full): write the rest, buffer by buffer.
      for (const buffer of buffers) {
        if (bytesWritten >= buffer.length) {
          bytesWritten -= buffer.length;
          continue;
        }
        let offset = bytesWritten;
        bytesWritten = 0;
        while (offset < buffer.length) {
          const written = (await handle.write(buffer, offset, buffer.length - offset)).bytesWritten;
          offset += written;
          this.bytesWritten += written;
        }
      }
    } catch (error) {
      // The hash has bytes the file lacks: this writer's hash must not be continued (a new run re-hashes the file).
      this.hashMatchesFile = false;
      throw error;
    }
    this.onWritten(this.bytesWritten);
  }

  override _final(callback: (error?: Error | null) => void): void {
    // Flush to the disk before the caller renames the file into place.
    (this.durable ? (this.handle?.datasync() ?? Promise.resolve()) : Promise.resolve()).then(
      () => {
        callback();
      },
      (error: unknown) => {
        callback(error as Error);
      },
    );
  }

  /** Stops the stream and resolves once every started write has landed and the file is closed. */
  async settle(): Promise<void> {
    if (this.closed) return;
    const closed = new Promise<void>((resolve) => this.once("close", () => { resolve(); }));
    this.destroy();
    await closed;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const settled = this.inflight.catch(() => undefined);
    settled
      .then(async () => {
        const handle = this.handle;
        this.handle = undefined;
        await handle?.close();
      })
      .then(
      () => {
        callback(error);
      },
      () => {
        callback(error);
      },
    );
  }
}
