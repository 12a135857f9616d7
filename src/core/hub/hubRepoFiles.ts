/** The files of a Hub repo at a revision, through `@huggingface/hub` `listFiles` (the tree API, paged by `Link`). */
import { listFiles } from "@huggingface/hub";
import { RetryableHubError, hubErrorForStatus } from "./hubHttp";
import { HubNetworkError } from "./hubErrors";
import { assertValidRepoId } from "./hubPaths";

export interface HubRepoFile {
  readonly path: string;
  readonly size: number;
  /** sha256 of the content for LFS files (the tree's `lfs.oid`). */
  readonly sha256: string | undefined;
}

export interface HubRepoQuery {
  readonly endpoint: string;
  readonly repo: string;
  readonly revision?: string;
  readonly token?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** A fetch that turns the Hub's error answers into our typed errors (keeping X-Error-Code, which HubApiError drops). */
export function checkedFetch(query: HubRepoQuery): typeof fetch {
  return async (input, init) => {
    let response: Response;
    try {
      response = await fetch(input, { ...init, ...(query.signal === undefined ? {} : { signal: query.signal }) });
    } catch (error) {
      if (query.signal?.aborted === true) throw error;
      throw new HubNetworkError(`Cannot reach ${query.endpoint}: ${error instanceof Error ? error.message : String(error)}.`, {
        action: "Check the network connection and the Hub endpoint setting.",
      });
    }
    if (!response.ok) {
      const headers = Object.fromEntries(response.headers.entries());
      const error = hubErrorForStatus(response.status, headers, await response.text(), {
        endpoint: query.endpoint,
        repo: query.repo,
        revision: query.revision ?? "main",
        hasToken: query.token !== undefined && query.token !== "",
      });
      throw error instanceof RetryableHubError ? new HubNetworkError(`${query.repo === "" ? "Searching the Hub" : `Listing ${query.repo}`} failed: ${error.message}.`, { action: "Try again in a moment." }) : error;
    }
    return response;
  };
}

/** Every file of the repo (recursive), with sizes and LFS sha256s. */
export async function listHubRepoFiles(query: HubRepoQuery): Promise<HubRepoFile[]> {
  assertValidRepoId(query.repo);
  const files: HubRepoFile[] = [];
  for await (const entry of listFiles({
    repo: { type: "model", name: query.repo },
    recursive: true,
    revision: query.revision ?? "main",
    hubUrl: query.endpoint.replace(/\/+$/, ""),
    fetch: checkedFetch(query),
    ...(query.token === undefined || query.token === "" ? {} : { accessToken: query.token }),
  })) {
    if (entry.type !== "file") continue;
    files.push({ path: entry.path, size: entry.lfs?.size ?? entry.size, sha256: entry.lfs?.oid });
  }
  return files;
}

/** Whether a repo file is a GGUF model (by name, as the Hub's own GGUF filter does). */
export function isGgufFileName(filePath: string): boolean {
  return filePath.toLowerCase().endsWith(".gguf");
}
