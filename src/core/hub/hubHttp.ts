/**
 * HTTP to the Hub with node's own client (not fetch): bodies are streamed straight to disk with back-pressure, and
 * redirects are followed by hand so the token is only ever sent to the Hub's own origin (huggingface_hub drops it on
 * cross-host redirects too). The token is never put in a message or a log.
 */
import http from "node:http";
import https from "node:https";
import { CancelledError } from "../errors";
import { HubAccessError, HubNotFoundError, HubProtocolError } from "./hubErrors";

export interface HubRequestOptions {
  readonly method: "GET" | "HEAD";
  readonly headers?: Readonly<Record<string, string>>;
  readonly token?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  /** "all": follow every redirect (a download); "relative": only same-host ones, so a HEAD sees the Hub's 302 headers. */
  readonly redirects: "all" | "relative";
  /** Destroy the socket after this long without data (then the caller retries). */
  readonly idleTimeoutMs?: number;
}

export interface HubResponse {
  readonly response: http.IncomingMessage;
  /** The URL that answered (after redirects). */
  readonly url: string;
}

/** An HTTP answer we may retry: a network failure, a 5xx, or a 429 with its Retry-After. */
export class RetryableHubError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "RetryableHubError";
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function requestOnce(url: URL, options: HubRequestOptions, withToken: boolean): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === "https:" ? https : url.protocol === "http:" ? http : undefined;
    if (client === undefined) {
      reject(new HubProtocolError(`Unsupported URL scheme in ${url.origin}.`));
      return;
    }
    const headers: Record<string, string> = { "user-agent": "slm-lab", ...options.headers };
    if (withToken && options.token !== undefined && options.token !== "") headers["authorization"] = `Bearer ${options.token}`;
    const request = client.request(url, { method: options.method, headers, signal: options.signal });
    request.setTimeout(options.idleTimeoutMs ?? 60_000, () => {
      request.destroy(new RetryableHubError(`no data from ${url.host} for ${Math.round((options.idleTimeoutMs ?? 60_000) / 1000)} s`));
    });
    request.once("response", resolve);
    request.once("error", (error: Error) => {
      if (options.signal?.aborted === true) reject(new CancelledError());
      else reject(error instanceof RetryableHubError || error instanceof HubProtocolError ? error : new RetryableHubError(`network error talking to ${url.host}: ${error.message}`));
    });
    request.end();
  });
}

/** Sends a request, following redirects as asked (at most 10 hops); the token goes only to the first origin. */
export async function hubRequest(startUrl: string, options: HubRequestOptions): Promise<HubResponse> {
  let url = new URL(startUrl);
  const origin = url.origin;
  for (let hop = 0; hop <= 10; hop++) {
    const response = await requestOnce(url, options, url.origin === origin);
    const location = response.headers.location;
    if (!REDIRECTS.has(response.statusCode ?? 0) || location === undefined) return { response, url: url.toString() };
    const relative = !/^[a-z][a-z0-9+.-]*:\/\//i.test(location);
    if (options.redirects === "relative" && !relative) return { response, url: url.toString() };
    response.resume();
    url = new URL(location, url);
  }
  throw new HubProtocolError(`Too many redirects from ${startUrl.split("?")[0] ?? ""}.`);
}

/** Reads a small response body (an error's JSON), at most 64 KiB. */
export async function readSmallBody(response: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of response) {
      const buffer = chunk as Buffer;
      if (length < 65536) chunks.push(buffer);
      length += buffer.length;
    }
  } catch {
    // A body cut short only loses the server's message.
  }
  return Buffer.concat(chunks).toString("utf8").slice(0, 65536);
}

/** "Retry-After: 7" or an HTTP date → milliseconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** What a request was about, to phrase errors. */
export interface HubRequestSubject {
  readonly endpoint: string;
  readonly repo: string;
  readonly revision?: string;
  readonly file?: string;
  readonly hasToken: boolean;
}

function serverMessage(headers: http.IncomingHttpHeaders, body: string): string | undefined {
  const fromHeader = headers["x-error-message"];
  if (typeof fromHeader === "string" && fromHeader !== "") return fromHeader;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null && "error" in parsed && typeof parsed.error === "string") return parsed.error;
  } catch {
    // Not JSON.
  }
  return undefined;
}

/**
 * The error for a non-2xx answer, read the way huggingface_hub `hf_raise_for_status` reads `X-Error-Code`:
 * RepoNotFound / RevisionNotFound / EntryNotFound / GatedRepo; 429 and 5xx are retryable.
 */
export function hubErrorForStatus(status: number, headers: http.IncomingHttpHeaders, body: string, subject: HubRequestSubject): Error {
  const code = headers["x-error-code"];
  const message = serverMessage(headers, body);
  const modelPage = `${subject.endpoint.replace(/\/+$/, "")}/${subject.repo}`;
  if (status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(typeof headers["retry-after"] === "string" ? headers["retry-after"] : undefined);
    return new RetryableHubError(`the Hub answered ${status}${message === undefined ? "" : ` (${message})`}`, retryAfterMs);
  }
  if (code === "GatedRepo") {
    return subject.hasToken
      ? new HubAccessError(`${subject.repo} is a gated model and your Hugging Face account has not been granted access to it.`, "gated", {
          action: `Open ${modelPage}, accept the license conditions (some need the authors' approval), then try again.`,
        })
      : new HubAccessError(`${subject.repo} is a gated model: downloading it needs a signed-in account that accepted its license.`, "gated", {
          action: `Accept the license on ${modelPage}, then sign in to Hugging Face (or set HF_TOKEN to an access token) and try again.`,
        });
  }
  if (code === "RevisionNotFound") {
    return new HubNotFoundError(`No such revision '${subject.revision ?? "main"}' in ${subject.repo}.`, { action: "Check the branch, tag or commit name." });
  }
  if (code === "EntryNotFound" || (status === 404 && subject.file !== undefined && code === undefined)) {
    return new HubNotFoundError(`No such file '${subject.file ?? ""}' in ${subject.repo} at revision ${subject.revision ?? "main"}.`, {
      action: "Check the file name (it is case-sensitive) with `slm-lab download <repo>` to list the files.",
    });
  }
  if (code === "RepoNotFound" || status === 404 || status === 401) {
    if (status === 401 && code !== "RepoNotFound" && subject.hasToken) {
      return new HubAccessError("The Hugging Face token was refused (invalid or expired).", "token", { action: "Sign in again with a valid access token (HF_TOKEN)." });
    }
    return subject.hasToken
      ? new HubNotFoundError(`No such repo '${subject.repo}' on ${subject.endpoint}, or it is private and your account cannot read it.`, {
          action: "Check the repo id; for a private repo, ask its owner for access.",
        })
      : new HubNotFoundError(`No such repo '${subject.repo}' on ${subject.endpoint} (or it is private).`, {
          action: "Check the repo id; if it is a private repo, sign in to Hugging Face (or set HF_TOKEN) and try again.",
        });
  }
  if (status === 403) {
    return new HubAccessError(`Access to ${subject.repo} was refused (403${message === undefined ? "" : `: ${message}`}).`, "private", {
      action: "Make sure your token has read permission for this repo (a fine-grained token needs it explicitly).",
    });
  }
  return new HubProtocolError(`The Hub answered ${status}${message === undefined ? "" : ` (${message})`} for ${subject.repo}${subject.file === undefined ? "" : `/${subject.file}`}.`);
}
