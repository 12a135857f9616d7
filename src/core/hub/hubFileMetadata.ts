/**
 * What the Hub says about one file before downloading it: `HEAD /{repo}/resolve/{rev}/{path}` without following the
 * CDN redirect, read as huggingface_hub `get_hf_file_metadata` does: `X-Repo-Commit`, `X-Linked-Etag` (LFS: the
 * sha256 of the content) or `ETag` (regular files: the git blob id), `X-Linked-Size` or `Content-Length`.
 */
import { HubProtocolError } from "./hubErrors";
import { RetryableHubError, hubErrorForStatus, hubRequest, readSmallBody } from "./hubHttp";
import { sleep } from "../abortableSleep";
import { RetryBudget, type RetryPolicy } from "./hubRetry";

export interface HubFileLocation {
  /** e.g. https://huggingface.co (HF_ENDPOINT); a mirror or the local test hub. */
  readonly endpoint: string;
  readonly repo: string;
  readonly revision: string;
  readonly path: string;
  readonly token?: string | undefined;
}

export interface HubFileMetadata {
  /** The commit the revision resolved to. */
  readonly commit: string;
  /** The blob name in the HF cache: sha256 for LFS files, git blob id otherwise. */
  readonly etag: string;
  readonly size: number;
  /** Present for LFS files: the content's sha256, checked after download. */
  readonly sha256: string | undefined;
  /** Present for regular files: the git blob id, checked after download. */
  readonly gitBlobId: string | undefined;
  /** Where the bytes are (the CDN URL for LFS files). */
  readonly downloadUrl: string;
  /** The resolve URL, to start again from when a signed CDN URL expired. */
  readonly resolveUrl: string;
}

/** `<endpoint>/<repo>/resolve/<revision>/<path>`, each part URL-encoded. */
export function hubResolveUrl(location: HubFileLocation): string {
  const endpoint = location.endpoint.replace(/\/+$/, "");
  const encodedPath = location.path.split("/").map(encodeURIComponent).join("/");
  return `${endpoint}/${location.repo}/resolve/${encodeURIComponent(location.revision)}/${encodedPath}`;
}

/** `W/"abc"` → `abc`. */
function normalizeEtag(value: string | string[] | undefined): string | undefined {
  if (typeof value !== "string") return undefined;
  return value.replace(/^W\//, "").replace(/^"|"$/g, "");
}

/** Asks the Hub for a file's commit, size and hash, with bounded retries on network errors, 5xx and 429. */
export async function fetchHubFileMetadata(location: HubFileLocation, options: { signal?: AbortSignal | undefined; retry?: RetryPolicy | undefined } = {}): Promise<HubFileMetadata> {
  const resolveUrl = hubResolveUrl(location);
  const budget = new RetryBudget(options.retry ?? {}, location.path);
  const subject = { endpoint: location.endpoint, repo: location.repo, revision: location.revision, file: location.path, hasToken: location.token !== undefined && location.token !== "" };
  for (;;) {
    try {
      const { response, url } = await hubRequest(resolveUrl, {
        method: "HEAD",
        headers: { "accept-encoding": "identity" },
        token: location.token,
        signal: options.signal,
        redirects: "relative",
      });
      const status = response.statusCode ?? 0;
      if (status >= 400) throw hubErrorForStatus(status, response.headers, await readSmallBody(response), subject);
      response.resume();
      const headers = response.headers;
      const commit = headers["x-repo-commit"];
      const etag = normalizeEtag(headers["x-linked-etag"]) ?? normalizeEtag(headers.etag);
      const sizeText = headers["x-linked-size"] ?? headers["content-length"];
      const size = typeof sizeText === "string" ? Number(sizeText) : NaN;
      if (typeof commit !== "string" || etag === undefined || !Number.isSafeInteger(size)) {
        throw new HubProtocolError(`The Hub's answer for ${location.repo}/${location.path} lacks the commit, ETag or size headers.`, {
          action: "If the endpoint is a mirror or a proxy, make sure it passes X-Repo-Commit, X-Linked-Etag and X-Linked-Size through.",
        });
      }
      const lfs = typeof headers["x-linked-etag"] === "string" || /^[0-9a-f]{64}$/.test(etag);
      const locationHeader = headers.location;
      return {
        commit,
        etag,
        size,
        sha256: lfs && /^[0-9a-f]{64}$/.test(etag) ? etag : undefined,
        gitBlobId: !lfs && /^[0-9a-f]{40}$/.test(etag) ? etag : undefined,
        downloadUrl: status >= 300 && locationHeader !== undefined ? new URL(locationHeader, url).toString() : resolveUrl,
        resolveUrl,
      };
    } catch (error) {
      if (!(error instanceof RetryableHubError)) throw error;
      await sleep(budget.nextDelay(error), options.signal);
    }
  }
}
