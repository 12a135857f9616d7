// downloadHubFile against the local hub: the HF cache layout, resume after drops / cancel, verification, and every
// fault the issue lists (drop, drop beyond retries, wrong bytes, 404, 401/403 gated, private, 429, `..`, disk full).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, beforeEach, test } from "node:test";
import { CancelledError } from "../../src/core/errors";
import { DownloadInProgressError } from "../../src/core/hub/downloadLock";
import { type DownloadProgress } from "../../src/core/hub/downloadProgress";
import { downloadHubFile, type DownloadHubFileOptions } from "../../src/core/hub/hubFileDownload";
import {
  HubAccessError,
  HubDiskSpaceError,
  HubIntegrityError,
  HubNetworkError,
  HubNotFoundError,
  HubRateLimitError,
  HubUnsafePathError,
} from "../../src/core/hub/hubErrors";
import { fixtureHubRepoSources, startLocalHub, type LocalHub } from "../fixtures/localHub";

const REPO = "slm-lab-fixtures/small-GGUF";
const FILE = "small-Q4_0.gguf";
const TOKEN_GRANTED = "hf_granted_test_token_123";
const TOKEN_PLAIN = "hf_plain_test_token_456";
const fastRetry = { maxRetries: 3, baseDelayMs: 5, maxDelayMs: 20 };

let hub: LocalHub;
let work = "";

before(async () => {
  hub = await startLocalHub({
    repos: await fixtureHubRepoSources([]),
    tokens: { [TOKEN_GRANTED]: { access: ["slm-lab-fixtures/gated-GGUF", "slm-lab-fixtures/private-GGUF"] }, [TOKEN_PLAIN]: { access: [] } },
  });
  work = mkdtempSync(path.join(os.tmpdir(), "slm-hub-download-"));
});

after(async () => {
  await hub.close();
  rmSync(work, { recursive: true, force: true });
});

beforeEach(() => {
  hub.clearFaults();
});

let counter = 0;
function freshDir(): string {
  const dir = path.join(work, `d${counter++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function options(overrides: Partial<DownloadHubFileOptions> = {}): DownloadHubFileOptions {
  return { endpoint: hub.endpoint, repo: REPO, revision: "main", path: FILE, retry: fastRetry, targetDir: freshDir(), ...overrides };
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

test("downloads into the Hugging Face cache layout: blobs/<sha256>, a relative snapshot symlink, refs/main", async () => {
  const cacheDir = freshDir();
  const expected = hub.file(REPO, "sub/dir/extra-Q5_1.gguf");
  const result = await downloadHubFile({ endpoint: hub.endpoint, repo: REPO, revision: "main", path: "sub/dir/extra-Q5_1.gguf", cacheDir });
  const repoDir = path.join(cacheDir, "models--slm-lab-fixtures--small-GGUF");
  const commit = hub.repos.get(REPO)?.commit ?? "";
  assert.equal(result.commit, commit);
  assert.equal(result.blobPath, path.join(repoDir, "blobs", expected.sha256));
  assert.equal(result.localPath, path.join(repoDir, "snapshots", commit, "sub", "dir", "extra-Q5_1.gguf"));
  assert.equal(readlinkSync(result.localPath), `../../../../blobs/${expected.sha256}`);
  assert.equal(readFileSync(path.join(repoDir, "refs", "main"), "utf8"), commit);
  assert.equal(sha256(result.localPath), expected.sha256);
  assert.equal(result.alreadyPresent, false);
  assert.ok(!existsSync(`${result.blobPath}.incomplete`));

  // A second call finds the blob and downloads nothing.
  const before = hub.bytesServed();
  const again = await downloadHubFile({ endpoint: hub.endpoint, repo: REPO, revision: "main", path: "sub/dir/extra-Q5_1.gguf", cacheDir });
  assert.equal(again.alreadyPresent, true);
  assert.equal(hub.bytesServed(), before);
});

test("a regular (non-LFS) file is verified against its git blob id and a commit revision writes no ref", async () => {
  const cacheDir = freshDir();
  const commit = hub.repos.get(REPO)?.commit ?? "";
  const result = await downloadHubFile({ endpoint: hub.endpoint, repo: REPO, revision: commit, path: "config.json", cacheDir });
  assert.equal(result.sha256, undefined);
  assert.equal(result.etag, hub.file(REPO, "config.json").gitOid);
  assert.match(readFileSync(result.localPath, "utf8"), /qwen2/);
  assert.ok(!existsSync(path.join(cacheDir, "models--slm-lab-fixtures--small-GGUF", "refs")));
});

test("progress reports bytes, speed and ETA, and ends with done", async () => {
  hub.addFault({ stage: "cdn", file: FILE, throttleBytesPerSecond: 4 * 1024 * 1024 });
  const reports: DownloadProgress[] = [];
  const result = await downloadHubFile(options({ onProgress: (progress) => reports.push(progress) }));
  const last = reports.at(-1);
  assert.equal(last?.phase, "done");
  assert.equal(last.receivedBytes, result.size);
  assert.ok(reports.some((report) => report.phase === "downloading" && report.bytesPerSecond > 0 && report.etaSeconds !== undefined));
  assert.ok(reports.every((report, index) => index === 0 || report.receivedBytes >= (reports[index - 1]?.receivedBytes ?? 0)));
});

test("a dropped connection resumes with Range and the file is verified", async () => {
  hub.addFault({ stage: "cdn", file: FILE, dropAfterBytes: 700_000, times: 2 });
  const result = await downloadHubFile(options());
  assert.equal(sha256(result.localPath), hub.file(REPO, FILE).sha256);
  // Resumed from where the bytes on disk ended (at most the drop point: bytes still buffered when the connection
  // closed are lost and asked for again), never past what the server sent.
  const starts = hub.requests
    .filter((request) => request.path.startsWith("/__cdn/") && request.range !== undefined)
    .map((request) => Number(/^bytes=(\d+)-$/.exec(request.range ?? "")?.[1]));
  assert.ok(starts.length >= 1 && starts.length <= 2, `resume requests: ${starts.join(", ")}`);
  assert.ok(starts.every((start) => start > 0 && start <= 1_400_000), starts.join(", "));
});

test("drops beyond the retries fail clearly and keep the partial; the next run resumes from it", async () => {
  const targetDir = freshDir();
  hub.addFault({ stage: "cdn", file: FILE, dropAtOffset: 1_000_000 });
  await assert.rejects(downloadHubFile(options({ targetDir })), (error: unknown) => {
    assert.ok(error instanceof HubNetworkError, String(error));
    assert.match(error.toOneLine(), /small-Q4_0\.gguf failed after 3 retries.*resumes/);
    return true;
  });
  const partial = path.join(targetDir, `${FILE}.partial`);
  const kept = statSync(partial).size;
  assert.ok(kept > 0 && kept <= 1_000_000, `kept ${kept} bytes`);
  assert.ok(!existsSync(path.join(targetDir, FILE)));
  hub.clearFaults();
  const result = await downloadHubFile(options({ targetDir }));
  assert.equal(result.resumedFromBytes, kept);
  assert.equal(sha256(result.localPath), hub.file(REPO, FILE).sha256);
  assert.ok(!existsSync(partial) && !existsSync(`${partial}.json`));
});

test("wrong bytes for the advertised hash: the partial is removed and the error names the file and both hashes", async () => {
  const targetDir = freshDir();
  hub.addFault({ stage: "cdn", file: FILE, corrupt: true });
  const expected = hub.file(REPO, FILE).sha256;
  await assert.rejects(downloadHubFile(options({ targetDir })), (error: unknown) => {
    assert.ok(error instanceof HubIntegrityError, String(error));
    assert.match(error.message, new RegExp(`small-Q4_0\\.gguf.*expected sha256 ${expected}.*got [0-9a-f]{64}`));
    assert.notEqual(error.actual, expected);
    return true;
  });
  assert.deepEqual(
    readdir(targetDir).filter((name) => name.startsWith("small")),
    [],
  );
});

function readdir(dir: string): string[] {
  return spawnSync("ls", ["-A", dir], { encoding: "utf8" }).stdout.split("\n").filter((name) => name !== "");
}

test("a server that ignores Range on resume gets the whole file again, still verified", async () => {
  const targetDir = freshDir();
  hub.addFault({ stage: "cdn", file: FILE, dropAfterBytes: 500_000, times: 1 });
  hub.addFault({ stage: "cdn", file: FILE, ignoreRange: true, times: 1 });
  const result = await downloadHubFile(options({ targetDir }));
  assert.equal(sha256(result.localPath), hub.file(REPO, FILE).sha256);
});

test("a stalled connection (a very slow server) times out and is retried from where it stopped", async () => {
  hub.addFault({ stage: "cdn", file: FILE, throttleBytesPerSecond: 1000, times: 1 });
  const result = await downloadHubFile(options({ idleTimeoutMs: 300 }));
  assert.equal(sha256(result.localPath), hub.file(REPO, FILE).sha256);
  const cdn = hub.requests.filter((request) => request.path.startsWith("/__cdn/") && request.path.includes(hub.file(REPO, FILE).sha256));
  assert.equal(cdn.at(-2)?.status, -1, "the stalled response was cut");
  assert.match(cdn.at(-1)?.range ?? "", /^bytes=\d+-$/);
});

test("transient 500s are retried", async () => {
  hub.addFault({ stage: "resolve", file: FILE, method: "GET", status: 500, times: 2 });
  const result = await downloadHubFile(options());
  assert.equal(sha256(result.localPath), hub.file(REPO, FILE).sha256);
});

test("404: no such repo, no such file, no such revision", async () => {
  await assert.rejects(downloadHubFile(options({ repo: "slm-lab-fixtures/nope" })), (error: unknown) => {
    assert.ok(error instanceof HubNotFoundError);
    assert.match(error.message, /No such repo 'slm-lab-fixtures\/nope'/);
    return true;
  });
  await assert.rejects(downloadHubFile(options({ path: "missing.gguf" })), (error: unknown) => {
    assert.ok(error instanceof HubNotFoundError);
    assert.match(error.message, /No such file 'missing\.gguf' in slm-lab-fixtures\/small-GGUF/);
    return true;
  });
  await assert.rejects(downloadHubFile(options({ revision: "v9" })), (error: unknown) => {
    assert.ok(error instanceof HubNotFoundError);
    assert.match(error.message, /No such revision 'v9'/);
    return true;
  });
});

test("gated repo: 401 without a token, 403 with a token not granted, works with a granted token; the token is never shown", async () => {
  const gated = { repo: "slm-lab-fixtures/gated-GGUF" };
  await assert.rejects(downloadHubFile(options(gated)), (error: unknown) => {
    assert.ok(error instanceof HubAccessError);
    assert.equal(error.reason, "gated");
    assert.match(error.toOneLine(), /gated.*Accept the license on http:\/\/127\.0\.0\.1:\d+\/slm-lab-fixtures\/gated-GGUF.*sign in/);
    return true;
  });
  await assert.rejects(downloadHubFile(options({ ...gated, token: TOKEN_PLAIN })), (error: unknown) => {
    assert.ok(error instanceof HubAccessError);
    assert.match(error.toOneLine(), /not been granted access.*accept the license conditions/);
    assert.doesNotMatch(`${error.toOneLine()} ${String(error.stack)}`, /hf_plain/);
    return true;
  });
  const result = await downloadHubFile(options({ ...gated, token: TOKEN_GRANTED }));
  assert.equal(sha256(result.localPath), hub.file(gated.repo, FILE).sha256);
  assert.ok(hub.requests.some((request) => request.path.startsWith("/slm-lab-fixtures/gated-GGUF/resolve/") && request.authorized));
});

test("private repo: not found without a token (saying to sign in), readable with a granted token", async () => {
  const privateRepo = { repo: "slm-lab-fixtures/private-GGUF" };
  await assert.rejects(downloadHubFile(options(privateRepo)), (error: unknown) => {
    assert.ok(error instanceof HubNotFoundError);
    assert.match(error.toOneLine(), /or it is private.*sign in/);
    return true;
  });
  await assert.rejects(downloadHubFile(options({ ...privateRepo, token: "hf_unknown_token" })), (error: unknown) => {
    assert.ok(error instanceof HubAccessError);
    assert.equal(error.reason, "token");
    assert.doesNotMatch(error.toOneLine(), /hf_unknown/);
    return true;
  });
  const result = await downloadHubFile(options({ ...privateRepo, token: TOKEN_GRANTED }));
  assert.equal(sha256(result.localPath), hub.file(privateRepo.repo, FILE).sha256);
});

test("429 with Retry-After is waited out, on the metadata request and on the download", async () => {
  hub.addFault({ stage: "resolve", file: FILE, method: "HEAD", status: 429, retryAfterSeconds: 1, times: 1 });
  hub.addFault({ stage: "cdn", file: FILE, status: 429, retryAfterSeconds: 1, times: 1 });
  const result = await downloadHubFile(options());
  assert.equal(sha256(result.localPath), hub.file(REPO, FILE).sha256);
  assert.equal(hub.requests.filter((request) => request.status === 429).length, 2);
});

test("a 429 asking to wait longer than we are willing to fails with a rate-limit error", async () => {
  hub.addFault({ stage: "resolve", file: FILE, status: 429, retryAfterSeconds: 3600 });
  await assert.rejects(downloadHubFile(options()), (error: unknown) => {
    assert.ok(error instanceof HubRateLimitError);
    assert.match(error.message, /asks to wait 3600 s/);
    return true;
  });
});

test("file names with '..' or absolute paths are refused before any request", async () => {
  const before = hub.requests.length;
  for (const bad of ["../evil.gguf", "a/../../evil.gguf", "/etc/passwd", "a\\..\\b", "C:/x.gguf", "a//b"]) {
    await assert.rejects(downloadHubFile(options({ path: bad })), HubUnsafePathError, bad);
  }
  await assert.rejects(downloadHubFile(options({ repo: "../../etc" })), HubUnsafePathError);
  await assert.rejects(downloadHubFile(options({ revision: "../x" })), HubUnsafePathError);
  assert.equal(hub.requests.length, before);
});

test("cancel keeps the partial; the next run re-hashes it and resumes", async () => {
  const targetDir = freshDir();
  hub.addFault({ stage: "cdn", file: FILE, throttleBytesPerSecond: 2 * 1024 * 1024 });
  const controller = new AbortController();
  await assert.rejects(
    downloadHubFile(
      options({
        targetDir,
        signal: controller.signal,
        onProgress: (progress) => {
          if (progress.receivedBytes > 600_000) controller.abort();
        },
      }),
    ),
    CancelledError,
  );
  const kept = statSync(path.join(targetDir, `${FILE}.partial`)).size;
  assert.ok(kept > 0);
  hub.clearFaults();
  const phases = new Set<string>();
  const result = await downloadHubFile(options({ targetDir, onProgress: (progress) => phases.add(progress.phase) }));
  assert.equal(result.resumedFromBytes, kept);
  assert.ok(phases.has("checking"));
  assert.equal(sha256(result.localPath), hub.file(REPO, FILE).sha256);
});

test("a corrupted partial (bytes changed on disk) fails verification instead of producing a bad file", async () => {
  const targetDir = freshDir();
  hub.addFault({ stage: "cdn", file: FILE, throttleBytesPerSecond: 2 * 1024 * 1024 });
  const controller = new AbortController();
  const onProgress = (progress: DownloadProgress): void => {
    if (progress.receivedBytes > 300_000) controller.abort();
  };
  await assert.rejects(downloadHubFile(options({ targetDir, signal: controller.signal, onProgress })), CancelledError);
  hub.clearFaults();
  const partial = path.join(targetDir, `${FILE}.partial`);
  const bytes = readFileSync(partial);
  assert.ok(bytes.length > 300_000);
  bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
  writeFileSync(partial, bytes);
  await assert.rejects(downloadHubFile(options({ targetDir })), HubIntegrityError);
  assert.ok(!existsSync(partial) && !existsSync(path.join(targetDir, FILE)));
  // And the run after that starts clean and succeeds.
  const result = await downloadHubFile(options({ targetDir }));
  assert.equal(sha256(result.localPath), hub.file(REPO, FILE).sha256);
});

test("two downloads of the same file at once: the second is refused, the first completes; a stale lock is taken over", async () => {
  const targetDir = freshDir();
  hub.addFault({ stage: "cdn", file: FILE, throttleBytesPerSecond: 4 * 1024 * 1024 });
  let started: () => void = () => undefined;
  const firstStarted = new Promise<void>((resolve) => (started = resolve));
  const first = downloadHubFile(options({ targetDir, onProgress: (progress) => { if (progress.receivedBytes > 0) started(); } }));
  await firstStarted;
  await assert.rejects(downloadHubFile(options({ targetDir })), (error: unknown) => {
    assert.ok(error instanceof DownloadInProgressError);
    assert.match(error.message, /small-GGUF\/small-Q4_0\.gguf is already being downloaded/);
    return true;
  });
  const result = await first;
  assert.equal(sha256(result.localPath), hub.file(REPO, FILE).sha256);
  assert.ok(!existsSync(path.join(targetDir, `${FILE}.partial.lock`)));

  // A lock left by a process that no longer exists (kill -9) does not block.
  hub.clearFaults();
  const other = freshDir();
  const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  writeFileSync(path.join(other, `${FILE}.partial.lock`), `${dead.stdout}\n`);
  const again = await downloadHubFile(options({ targetDir: other }));
  assert.equal(sha256(again.localPath), hub.file(REPO, FILE).sha256);
});

/** Mounts a tmpfs of `size` (needs root); undefined where that is not possible. */
function mountTmpfs(size: string): string | undefined {
  const dir = mkdtempSync(path.join(os.tmpdir(), "slm-tmpfs-"));
  const result = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { encoding: "utf8" });
  if (result.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return dir;
}

function unmount(dir: string): void {
  spawnSync("umount", [dir]);
  rmSync(dir, { recursive: true, force: true });
}

test("not enough space (a real 2 MiB tmpfs): refused before starting, saying how much is needed", async (t) => {
  const dir = mountTmpfs("2m");
  if (dir === undefined) {
    t.skip("cannot mount a tmpfs here (needs root)");
    return;
  }
  try {
    await assert.rejects(downloadHubFile(options({ targetDir: dir })), (error: unknown) => {
      assert.ok(error instanceof HubDiskSpaceError, String(error));
      assert.equal(error.neededBytes, hub.file(REPO, FILE).size);
      assert.match(error.message, /needs 3\.00 MiB more, and only 2\.00 MiB is free/);
      return true;
    });
  } finally {
    unmount(dir);
  }
});

test("the disk filling up mid-download (a real tmpfs): stops, keeps the partial, resumes once space is freed", async (t) => {
  const dir = mountTmpfs("4m");
  if (dir === undefined) {
    t.skip("cannot mount a tmpfs here (needs root)");
    return;
  }
  try {
    hub.addFault({ stage: "cdn", file: FILE, throttleBytesPerSecond: 2 * 1024 * 1024 });
    const filler = path.join(dir, "filler");
    let filled = false;
    await assert.rejects(
      downloadHubFile(
        options({
          targetDir: dir,
          onProgress: (progress) => {
            if (!filled && progress.receivedBytes > 500_000) {
              filled = true;
              // Another program takes the rest of the space while we download.
              writeFileSync(filler, Buffer.alloc(3 * 1024 * 1024 - 64 * 1024));
            }
          },
        }),
      ),
      (error: unknown) => {
        assert.ok(error instanceof HubDiskSpaceError, String(error));
        assert.match(error.toOneLine(), /disk filled up while downloading small-Q4_0\.gguf: .* more is needed.*already downloaded are kept/);
        return true;
      },
    );
    const kept = statSync(path.join(dir, `${FILE}.partial`)).size;
    assert.ok(kept > 500_000);
    rmSync(filler);
    hub.clearFaults();
    const result = await downloadHubFile(options({ targetDir: dir }));
    assert.equal(result.resumedFromBytes, kept);
    assert.equal(sha256(result.localPath), hub.file(REPO, FILE).sha256);
  } finally {
    unmount(dir);
  }
});
