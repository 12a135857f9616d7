/**
 * One JSON POST to a remote completion endpoint with the global fetch, under the caller's AbortSignal and a timeout,
 * turning every way it can fail (refused, DNS, timeout, HTTP error, not JSON) into a UserError that names the
 * endpoint and says what to do. Never logs or echoes the request body: it holds the user's code.
 */
import { CancelledError, UserError } from "../errors";

export interface RemotePostOptions {
  /** For messages: "llama-server", "OpenAI-compatible server", "Ollama". */
  readonly serverLabel: string;
  /** Base URL the user configured (named in messages). */
  readonly endpoint: string;
  /** Path appended to the endpoint, e.g. "/infill". */
  readonly path: string;
  readonly body: unknown;
  readonly apiKey?: string | undefined;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

/** Joins a base URL and a path without doubling or dropping the slash; a malformed URL is a UserError. */
export function endpointUrl(serverLabel: string, endpoint: string, pathname: string): URL {
  let base: URL;
  try {
    base = new URL(endpoint);
  } catch {
    throw new UserError(`The ${serverLabel} endpoint "${endpoint}" is not a URL.`, { action: "Set it to a URL such as http://127.0.0.1:8012." });
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new UserError(`The ${serverLabel} endpoint "${endpoint}" is not an http(s) URL.`, { action: "Set it to a URL such as http://127.0.0.1:8012." });
  }
  const basePath = base.pathname.endsWith("/") ? base.pathname.slice(0, -1) : base.pathname;
  return new URL(`${basePath}${pathname}${base.search}`, base);
}

/** POSTs JSON and returns the parsed JSON answer. */
export async function postJson(options: RemotePostOptions): Promise<unknown> {
  const { serverLabel, endpoint, signal } = options;
  const url = endpointUrl(serverLabel, endpoint, options.path);
  if (signal.aborted) throw new CancelledError();
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const combined = AbortSignal.any([signal, timeout]);
  const where = `${serverLabel} at ${url.origin}`;
  const checkAction = `Check that the server is running and that the endpoint setting (${endpoint}) is right.`;
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (options.apiKey !== undefined && options.apiKey !== "") headers["authorization"] = `Bearer ${options.apiKey}`;

  const failed = (error: unknown): Error => {
    if (signal.aborted) return new CancelledError();
    if (timeout.aborted) {
      return new UserError(`The ${where} did not answer within ${(options.timeoutMs / 1000).toFixed(1)} s.`, {
        cause: "The server is overloaded, still loading the model, or the model is too big for it.",
        action: "Try again later, use a smaller model, or raise the request timeout.",
        inner: error,
      });
    }
    const code = networkErrorCode(error);
    const what = code === "ECONNREFUSED" ? "nothing is listening there" : code === "ENOTFOUND" ? "the host name is unknown" : code ?? (error instanceof Error ? error.message : String(error));
    return new UserError(`Cannot reach the ${where}: ${what}.`, { action: checkAction, inner: error });
  };

  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { method: "POST", headers, body: JSON.stringify(options.body), signal: combined });
    text = await response.text();
  } catch (error: unknown) {
    throw failed(error);
  }
  if (!response.ok) {
    const detail = errorDetail(text);
    const auth = response.status === 401 || response.status === 403;
    throw new UserError(`The ${where} answered HTTP ${response.status}${detail === "" ? "" : `: ${detail}`}.`, {
      action: auth
        ? "Check the API key (SLM Lab keeps it in VS Code's secret storage)."
        : response.status === 404
          ? `Check that the endpoint is a ${serverLabel} and that the model name is right.`
          : checkAction,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error: unknown) {
    throw new UserError(`The ${where} answered something that is not JSON (${describeSnippet(text)}).`, {
      action: `Check that the endpoint is a ${serverLabel}.`,
      inner: error,
    });
  }
}

/** The error code of a failed fetch (undici puts the system error in `cause`). */
function networkErrorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    if (typeof current === "object" && "code" in current && typeof current.code === "string") return current.code;
    current = typeof current === "object" && "cause" in current ? current.cause : undefined;
  }
  return undefined;
}

/** The server's own error message when it sent a JSON error (llama-server, OpenAI and Ollama all do), else a snippet. */
function errorDetail(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && "error" in parsed) {
      const error = parsed.error;
      if (typeof error === "string") return error.slice(0, 200);
      if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string") return error.message.slice(0, 200);
    }
  } catch {
    // Not JSON: fall through to a snippet.
  }
  return text.trim().slice(0, 120);
}

function describeSnippet(text: string): string {
  const trimmed = text.trim();
  if (trimmed === "") return "an empty body";
  return `it starts with "${trimmed.slice(0, 40)}"`;
}

/** A remote answer lacks a field it must have: a UserError naming the server. */
export function malformedAnswer(serverLabel: string, endpoint: string, what: string): UserError {
  return new UserError(`The ${serverLabel} at ${endpoint} answered without ${what}.`, {
    action: `Check that the endpoint is a ${serverLabel} (and a version that supports this API).`,
  });
}

/** Reads a field of a parsed JSON object. */
export function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && key in value ? (value as Record<string, unknown>)[key] : undefined;
}

/** A finite number field, or undefined. */
export function numberField(value: unknown, key: string): number | undefined {
  const found = field(value, key);
  return typeof found === "number" && Number.isFinite(found) ? found : undefined;
}
