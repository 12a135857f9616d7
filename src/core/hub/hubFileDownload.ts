/**
 * Downloads one file from the Hub, resumably and verified: the bytes stream to a partial file while being hashed,
 * a dropped connection resumes with `Range: bytes=N-` (bounded retries with backoff, 429 Retry-After honoured),
 * an interrupted run (cancel, crash, kill -9) resumes on the next call after re-hashing the partial bytes, and the
 * file gets its final name only after its size and hash match what the Hub advertised.
 *
 * In the Hugging Face cache layout (`cacheDir`) the partial file is `blobs/<etag>.incomplete`, the name
 * huggingface_hub uses (`file_download.py` `_download_to_tmp_and_move`), so either tool can resume the other's
 * download; in a plain folder (`targetDir`) it is `<file>.partial` beside a `<file>.partial.json` resume record.
 */
import { createHash, randomBytes, type Hash } from "node:crypto";
import { createReadStream, promises as fs } from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { CancelledError, throwIfAborted } from "../errors";
import { formatBytes } from "../format/humanUnits";
import { DownloadProgressTracker, type DownloadProgress } from "./downloadProgress";
import { acquireDownloadLock } from "./downloadLock";
import { HashingFileWriter } from "./hashingFileWriter";
import { HubDiskSpaceError, HubIntegrityError, HubProtocolError, HubUnsafePathError } from "./hubErrors";
import { fetchHubFileMetadata, type HubFileLocation, type HubFileMetadata } from "./hubFileMetadata";
import { RetryableHubError, hubErrorForStatus, hubRequest, readSmallBody } from "./hubHttp";
import { assertSafeRepoFilePath, assertValidRepoId, hubCachePaths } from "./hubPaths";
import { sleep } from "../abortableSleep";
import { RetryBudget, type RetryPolicy } from "./hubRetry";
import { freeBytes } from "../fs/freeDiskSpace";

export interface DownloadHubFileOptions extends HubFileLocation {
  /** The Hugging Face hub cache (e.g. `~/.cache/huggingface/hub`): files land as `models--org--name/…`. */
  readonly cacheDir?: string;
  /** Or a plain folder: the file lands at `<targetDir>/<path>`. Exactly one of the two. */
  readonly targetDir?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: DownloadProgress) => void;
  readonly retry?: RetryPolicy;
  /** Abort a connection that sends nothing for this long, then retry (default 60 s). */
  readonly idleTimeoutMs?: number;
  /**
   * Flush the file to the disk (fdatasync) before renaming it into place, so a power cut cannot leave a file with
   * lost blocks under its final name (default true). Costs the time the disk needs to write it.
   */
  readonly durable?: boolean;
}

export interface DownloadedHubFile {
  readonly repo: string;
  readonly revision: string;
  readonly commit: string;
  /** The file's path in the repo. */
  readonly file: string;
  /** Where to open it: the snapshot symlink in the cache, or the file in `targetDir`. */
  readonly localPath: string;
  /** The content file: `blobs/<etag>` in the cache, the same as `localPath` otherwise. */
  readonly blobPath: string;
  readonly size: number;
  /** The verified sha256 (LFS files); regular files are verified against their git blob id instead. */
  readonly sha256: string | undefined;
  readonly etag: string;
  /** Bytes that were already in a partial file and were kept. */
  readonly resumedFromBytes: number;
  /** True when the file was already complete and nothing was downloaded. */
  readonly alreadyPresent: boolean;
}

interface ResumeRecord {
  readonly repo: string;
  readonly file: string;
  readonly commit: string;
  readonly etag: string;
  readonly size: number;
}

interface Layout {
  readonly final: string;
  readonly partial: string;
  /** The resume record (targetDir only; in the cache the partial's name carries the etag). */
  readonly record: string | undefined;
  /** Held while writing the partial. */
  readonly lock: string;
  readonly localPath: string;
  readonly pointer: string | undefined;
  readonly ref: string | undefined;
}

/** A fresh hash over the file's content: sha256 for LFS files, git's blob sha1 (`blob <size>\0` + bytes) otherwise. */
function newHash(metadata: HubFileMetadata): Hash {
  if (metadata.sha256 !== undefined) return createHash("sha256");
  return createHash("sha1").update(`blob ${metadata.size}\0`);
}

function layoutFor(options: DownloadHubFileOptions, metadata: HubFileMetadata): Layout {
  if ((options.cacheDir === undefined) === (options.targetDir === undefined)) {
    throw new TypeError("downloadHubFile needs exactly one of cacheDir and targetDir");
  }
  if (options.cacheDir !== undefined) {
    // The etag names a file in blobs/ and the commit a folder: both come from the server, so both are checked.
    if (!/^[0-9a-f]{40}$|^[0-9a-f]{64}$/.test(metadata.etag) || !/^[0-9a-f]{40}$/.test(metadata.commit)) {
      throw new HubProtocolError(`The Hub sent an unexpected ETag or commit id for ${options.path}; refusing to use it as a file name.`);
    }
    const paths = hubCachePaths(options.cacheDir, options.repo, options.revision, metadata.commit, options.path, metadata.etag);
    return { final: paths.blob, partial: paths.incomplete, record: undefined, lock: paths.lock, localPath: paths.pointer, pointer: paths.pointer, ref: options.revision === metadata.commit ? undefined : paths.ref };
  }
  const root = path.resolve(options.targetDir ?? ".");
  const final = path.join(root, ...options.path.split("/"));
  if (!final.startsWith(root + path.sep)) throw new HubUnsafePathError(`Refusing the file name '${options.path}': it resolves outside ${root}.`);
  return { final, partial: `${final}.partial`, record: `${final}.partial.json`, lock: `${final}.partial.lock`, localPath: final, pointer: undefined, ref: undefined };
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await fs.stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Writes `content` to a temp name beside `file`, then renames it into place. */
async function writeFileAtomic(file: string, content: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  // Unique per call: two files of one repo finishing together both write refs/main.
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await fs.writeFile(temp, content);
  await fs.rename(temp, file);
}

/** Points `snapshots/<commit>/<path>` at the blob with a relative symlink, as huggingface_hub `_create_symlink` does. */
async function linkSnapshot(pointer: string, blob: string): Promise<void> {
  await fs.mkdir(path.dirname(pointer), { recursive: true });
  const target = path.relative(path.dirname(pointer), blob);
  try {
    if ((await fs.readlink(pointer)) === target) return;
  } catch {
    // Absent or not a link: (re)create it.
  }
  const temp = `${pointer}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await fs.rm(temp, { force: true });
  await fs.symlink(target, temp);
  await fs.rename(temp, pointer);
}

/** Feeds the first `length` bytes of `file` to `hash` (streaming: bounded memory on multi-GB partials). */
async function hashExisting(file: string, length: number, hash: Hash, onBytes: (bytes: number) => void, signal: AbortSignal | undefined): Promise<void> {
  if (length === 0) return;
  let done = 0;
  for await (const chunk of createReadStream(file, { start: 0, end: length - 1, highWaterMark: 4 * 1024 * 1024 })) {
    throwIfAborted(signal);
    const buffer = chunk as Buffer;
    hash.update(buffer);
    done += buffer.length;
    onBytes(done);
  }
}

async function removeQuietly(...files: (string | undefined)[]): Promise<void> {
  for (const file of files) if (file !== undefined) await fs.rm(file, { force: true });
}

/** Free bytes for an unprivileged writer on the file system holding `directory`, or undefined when it cannot tell. */
async function freeBytesIfKnown(directory: string): Promise<number | undefined> {
  try {
    return await freeBytes(directory);
  } catch {
    return undefined; // Not all platforms/file systems answer; the write path still catches ENOSPC.
  }
}

function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

/** Downloads `path` of `repo` at `revision` into the HF cache or a folder; resumes, retries, verifies, renames. */
export async function downloadHubFile(options: DownloadHubFileOptions): Promise<DownloadedHubFile> {
  assertValidRepoId(options.repo);
  assertSafeRepoFilePath(options.path);
  assertSafeRepoFilePath(options.revision);
  const { signal } = options;
  throwIfAborted(signal);

  const metadata = await fetchHubFileMetadata(options, { signal, retry: options.retry });
  const layout = layoutFor(options, metadata);
  const expected = metadata.sha256 ?? metadata.gitBlobId;
  if (expected === undefined) throw new HubProtocolError(`The Hub sent no usable hash (ETag '${metadata.etag}') for ${options.path}; cannot verify it.`);
  const tracker = new DownloadProgressTracker(options.repo, options.path, metadata.size, options.onProgress);
  const result = (resumedFromBytes: number, alreadyPresent: boolean): DownloadedHubFile => ({
    repo: options.repo,
    revision: options.revision,
    commit: metadata.commit,
    file: options.path,
    localPath: layout.localPath,
    blobPath: layout.final,
    size: metadata.size,
    sha256: metadata.sha256,
    etag: metadata.etag,
    resumedFromBytes,
    alreadyPresent,
  });
  const finishLinks = async (): Promise<void> => {
    if (layout.ref !== undefined) await writeFileAtomic(layout.ref, metadata.commit);
    if (layout.pointer !== undefined) await linkSnapshot(layout.pointer, layout.final);
  };

  // Already complete? In the cache a blob only ever appears by rename after verification (ours or huggingface_hub's),
  // so its size is enough; a plain folder may hold anything under that name, so it is re-hashed.
  const finalSize = await sizeOf(layout.final);
  if (finalSize === metadata.size) {
    if (layout.record === undefined) {
      await finishLinks();
      tracker.update("done", metadata.size, true);
      return result(0, true);
    }
    const hash = newHash(metadata);
    await hashExisting(layout.final, finalSize, hash, (bytes) => { tracker.update("checking", bytes); }, signal);
    if (hash.digest("hex") === expected) {
      tracker.update("done", metadata.size, true);
      return result(0, true);
    }
  }

  await fs.mkdir(path.dirname(layout.partial), { recursive: true });
  const release = await acquireDownloadLock(layout.lock, `${options.repo}/${options.path}`);
  try {
    return await downloadLocked(options, metadata, layout, expected, tracker, result, finishLinks);
  } finally {
    await release();
  }
}

/** The download proper, with the partial file locked for this process. */
async function downloadLocked(
  options: DownloadHubFileOptions,
  metadata: HubFileMetadata,
  layout: Layout,
  expected: string,
  tracker: DownloadProgressTracker,
  result: (resumedFromBytes: number, alreadyPresent: boolean) => DownloadedHubFile,
  finishLinks: () => Promise<void>,
): Promise<DownloadedHubFile> {
  const { signal } = options;
  // Another process may have finished this blob while we waited for the lock.
  if (layout.record === undefined && (await sizeOf(layout.final)) === metadata.size) {
    await finishLinks();
    tracker.update("done", metadata.size, true);
    return result(0, true);
  }
  // A partial from another version of the file (targetDir: its record says so) is useless.
  let kept = (await sizeOf(layout.partial)) ?? 0;
  if (kept > 0 && layout.record !== undefined) {
    let record: Partial<ResumeRecord> | undefined;
    try {
      record = JSON.parse(await fs.readFile(layout.record, "utf8")) as Partial<ResumeRecord>;
    } catch {
      record = undefined;
    }
    if (record?.etag !== metadata.etag || record.size !== metadata.size) kept = 0;
  }
  if (kept > metadata.size) kept = 0;
  if (kept === 0) await fs.writeFile(layout.partial, "");

  const needed = metadata.size - kept;
  const free = await freeBytesIfKnown(path.dirname(layout.partial));
  if (free !== undefined && free < needed) {
    throw new HubDiskSpaceError(
      `Not enough disk space for ${options.path}: it needs ${formatBytes(needed)} more, and only ${formatBytes(free)} is free in ${path.dirname(layout.partial)}.`,
      needed,
      { action: "Free some space or choose another folder, then run the download again." },
    );
  }
  if (layout.record !== undefined) {
    const record: ResumeRecord = { repo: options.repo, file: options.path, commit: metadata.commit, etag: metadata.etag, size: metadata.size };
    await writeFileAtomic(layout.record, `${JSON.stringify(record)}\n`);
  }

  let hash = newHash(metadata);
  if (kept > 0) await hashExisting(layout.partial, kept, hash, (bytes) => { tracker.update("checking", bytes); }, signal);
  const resumedFromBytes = kept;
  tracker.startAt(kept);

  const budget = new RetryBudget(options.retry ?? {}, options.path);
  const subject = { endpoint: options.endpoint, repo: options.repo, revision: options.revision, file: options.path, hasToken: options.token !== undefined && options.token !== "" };
  let received = kept;
  while (received < metadata.size) {
    throwIfAborted(signal);
    const startedAt = received;
    let writer: HashingFileWriter | undefined;
    try {
      const { response } = await hubRequest(metadata.resolveUrl, {
        method: "GET",
        headers: { "accept-encoding": "identity", ...(received > 0 ? { range: `bytes=${received}-` } : {}) },
        token: options.token,
        signal,
        redirects: "all",
        ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
      });
      const status = response.statusCode ?? 0;
      if (status === 416) {
        // Our partial is as long as (or longer than) the file: start over rather than trust it.
        response.resume();
        await fs.writeFile(layout.partial, "");
        received = 0;
        hash = newHash(metadata);
        throw new RetryableHubError("the server refused the resume range");
      }
      if (status >= 400) throw hubErrorForStatus(status, response.headers, await readSmallBody(response), subject);
      if (status === 206) {
        const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers["content-range"] ?? "");
        if (match?.[1] === undefined || Number(match[1]) !== received) {
          response.resume();
          throw new HubProtocolError(`The server answered a different range than asked for ${options.path} (${response.headers["content-range"] ?? "no Content-Range"}).`);
        }
      } else if (status === 200 && received > 0) {
        // The server ignored Range and sends the whole file: start the partial over.
        await fs.writeFile(layout.partial, "");
        received = 0;
        hash = newHash(metadata);
      } else if (status !== 200) {
        response.resume();
        throw new HubProtocolError(`The Hub answered ${status} for ${options.path}.`);
      }
      writer = new HashingFileWriter(layout.partial, hash, received, (bytes) => {
        tracker.update("downloading", bytes);
      }, options.durable ?? true);
      await pipeline(response, writer, { signal: signal ?? new AbortController().signal });
      await writer.settle();
      received = writer.bytesWritten;
      if (!response.complete) throw new RetryableHubError("the connection was closed before the end of the file");
    } catch (error) {
      if (writer !== undefined) {
        await writer.settle();
        received = writer.bytesWritten;
      }
      if (signal?.aborted === true) throw new CancelledError();
      const hashUsable = writer?.hashMatchesFile ?? true;
      if (isDiskFull(error)) {
        const stillNeeded = metadata.size - received;
        const nowFree = await freeBytesIfKnown(path.dirname(layout.partial));
        throw new HubDiskSpaceError(
          `The disk filled up while downloading ${options.path}: ${formatBytes(stillNeeded)} more is needed${nowFree === undefined ? "" : ` (${formatBytes(nowFree)} free now)`}.`,
          stillNeeded,
          { action: `Free some space and run the download again: the ${formatBytes(received)} already downloaded are kept and it resumes from there.`, inner: error },
        );
      }
      const retryable = error instanceof RetryableHubError ? error : isNetworkError(error) ? new RetryableHubError(`the connection failed: ${(error as Error).message}`) : undefined;
      if (retryable === undefined || !hashUsable) throw error;
      if (received > startedAt) budget.reset();
      await sleep(budget.nextDelay(retryable), signal);
    }
  }

  tracker.update("verifying", received, true);
  const actual = hash.digest("hex");
  if (received !== metadata.size || actual !== expected) {
    await removeQuietly(layout.partial, layout.record);
    const kind = metadata.sha256 !== undefined ? "sha256" : "git blob id";
    throw new HubIntegrityError(
      `${options.path} from ${options.repo} is corrupt: expected ${kind} ${expected} (${metadata.size} bytes), got ${actual} (${received} bytes); the partial download was removed.`,
      expected,
      actual,
      { action: "Run the download again; if it keeps failing, the mirror or proxy in between may be altering the file." },
    );
  }
  await fs.rename(layout.partial, layout.final);
  await removeQuietly(layout.record);
  await finishLinks();
  tracker.update("done", received, true);
  return result(resumedFromBytes, false);
}

/** Errors of a connection cut short, as node reports them from a response stream. */
function isNetworkError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (
    code === "ECONNRESET" ||
    code === "ECONNREFUSED" ||
    code === "EPIPE" ||
    code === "ETIMEDOUT" ||
    code === "ERR_STREAM_PREMATURE_CLOSE" ||
    code === "UND_ERR_SOCKET" ||
    code === "ECONNABORTED" ||
    (error instanceof Error && error.message === "aborted")
  );
}
