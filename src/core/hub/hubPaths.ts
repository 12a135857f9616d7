/**
 * Checks on names that come from the user or the Hub before they touch the disk, and the Hugging Face cache layout
 * (huggingface_hub `file_download.py`: `<cache>/models--<org>--<name>/{blobs,snapshots,refs}`).
 */
import path from "node:path";
import { HubUnsafePathError } from "./hubErrors";

/** `org/name` as huggingface_hub `validate_repo_id` accepts it (letters, digits, `-_.`, no `--`/`..`, ≤ 96 chars). */
export function assertValidRepoId(repo: string): void {
  const parts = repo.split("/");
  const valid =
    repo.length <= 96 &&
    parts.length >= 1 &&
    parts.length <= 2 &&
    parts.every((part) => /^[\w.-]+$/.test(part) && part !== "." && part !== "..") &&
    !repo.includes("--") &&
    !repo.includes("..") &&
    !/^[-.]|[-.]$/.test(parts[parts.length - 1] ?? "");
  if (!valid) {
    throw new HubUnsafePathError(`'${repo}' is not a valid Hugging Face repo id.`, { action: "Use the form org/name, e.g. Qwen/Qwen2.5-0.5B-Instruct-GGUF." });
  }
}

/**
 * A file path inside a repo, refused when it could land outside the target folder: absolute, a drive letter,
 * backslashes, empty or `.`/`..` segments, NUL.
 */
export function assertSafeRepoFilePath(filePath: string): void {
  const segments = filePath.split("/");
  const unsafe =
    filePath === "" ||
    filePath.startsWith("/") ||
    filePath.includes("\\") ||
    filePath.includes("\0") ||
    /^[A-Za-z]:/.test(filePath) ||
    segments.some((segment) => segment === "" || segment === "." || segment === "..");
  if (unsafe) {
    throw new HubUnsafePathError(`Refusing the file name '${filePath}': it is absolute or contains '..', so it could be written outside the download folder.`);
  }
}

/** The cache folder of a model repo: `models--org--name`. */
export function cacheRepoFolderName(repo: string): string {
  return `models--${repo.split("/").join("--")}`;
}

/** Where a file of a repo lands in the HF cache. */
export interface HubCachePaths {
  readonly repoDirectory: string;
  /** `blobs/<etag>`: the content, named by its sha256 (LFS) or git blob id. */
  readonly blob: string;
  /** `blobs/<etag>.incomplete`: where huggingface_hub writes (and resumes) a download, so both tools share partials. */
  readonly incomplete: string;
  /** `snapshots/<commit>/<path>`: a relative symlink to the blob. */
  readonly pointer: string;
  /** `refs/<revision>` holds the commit (written only when the revision is not itself the commit). */
  readonly ref: string;
  /** Our lock, under huggingface_hub's `.locks/<repo folder>/` but with our own name (it uses `<etag>.lock`). */
  readonly lock: string;
}

/** The cache paths for `filePath` of `repo` at `commit`, its content named `etag`. */
export function hubCachePaths(cacheDir: string, repo: string, revision: string, commit: string, filePath: string, etag: string): HubCachePaths {
  const repoDirectory = path.join(cacheDir, cacheRepoFolderName(repo));
  const blob = path.join(repoDirectory, "blobs", etag);
  return {
    repoDirectory,
    blob,
    incomplete: `${blob}.incomplete`,
    pointer: path.join(repoDirectory, "snapshots", commit, ...filePath.split("/")),
    ref: path.join(repoDirectory, "refs", ...revision.split("/")),
    lock: path.join(cacheDir, ".locks", cacheRepoFolderName(repo), `${etag}.slm-lab.lock`),
  };
}
