/**
 * Bounded retries with exponential backoff, as huggingface_hub `http_backoff` does (1 s doubling to 8 s, 5 retries),
 * honouring a 429's Retry-After. A download resets the budget whenever an attempt made progress, so a flaky link
 * that keeps delivering finishes, while one that delivers nothing fails after the bounded retries.
 */
import { HubNetworkError, HubRateLimitError } from "./hubErrors";
import { type RetryableHubError } from "./hubHttp";

export interface RetryPolicy {
  /** Retries after the first attempt (default 5). */
  readonly maxRetries?: number;
  /** First backoff delay (default 1000 ms), doubled each time up to `maxDelayMs` (default 8000 ms). */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Longest Retry-After we wait for (default 5 minutes); longer ones fail with a message saying when to retry. */
  readonly maxRetryAfterMs?: number;
}

/** Counts failed attempts and says how long to wait before the next, or throws when the budget is spent. */
export class RetryBudget {
  private failures = 0;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly what: string,
  ) {}

  /** An attempt made progress: start counting again. */
  reset(): void {
    this.failures = 0;
  }

  /** The delay before retrying after `error`; throws HubNetworkError / HubRateLimitError when out of retries. */
  nextDelay(error: RetryableHubError): number {
    this.failures++;
    const maxRetries = this.policy.maxRetries ?? 5;
    const maxRetryAfter = this.policy.maxRetryAfterMs ?? 300_000;
    if (error.retryAfterMs !== undefined && error.retryAfterMs > maxRetryAfter) {
      throw new HubRateLimitError(`The Hub is rate-limiting ${this.what} and asks to wait ${Math.ceil(error.retryAfterMs / 1000)} s.`, {
        action: "Try again later; signing in to Hugging Face raises the limits.",
      });
    }
    if (this.failures > maxRetries) {
      if (error.retryAfterMs !== undefined) {
        throw new HubRateLimitError(`The Hub kept rate-limiting ${this.what} after ${maxRetries} retries.`, { action: "Try again later; signing in raises the limits.", inner: error });
      }
      throw new HubNetworkError(`Downloading ${this.what} failed after ${maxRetries} retries: ${error.message}.`, {
        action: "Check the network connection and run the download again: it resumes where it stopped.",
        inner: error,
      });
    }
    if (error.retryAfterMs !== undefined) return error.retryAfterMs;
    const base = this.policy.baseDelayMs ?? 1000;
    return Math.min(this.policy.maxDelayMs ?? 8000, base * 2 ** (this.failures - 1));
  }
}
