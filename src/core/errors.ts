/**
 * Typed, user-facing errors: what happened, the likely cause, and what to do about it.
 * Every face (extension, CLI, webview) shows `message` as one line; `detail`/`action` add context where there is room.
 */

export interface UserErrorOptions {
  /** Why it probably happened, in the user's terms. */
  readonly cause?: string;
  /** What the user can do about it. */
  readonly action?: string;
  /** The underlying error, for logs only. */
  readonly inner?: unknown;
}

export class UserError extends Error {
  readonly causeHint: string | undefined;
  readonly action: string | undefined;
  readonly inner: unknown;

  constructor(message: string, options: UserErrorOptions = {}) {
    super(message);
    this.name = "UserError";
    this.causeHint = options.cause;
    this.action = options.action;
    this.inner = options.inner;
  }

  /** One line for notifications and the CLI: message, then cause and action when known. */
  toOneLine(): string {
    return [this.message, this.causeHint, this.action]
      .filter((part): part is string => part !== undefined && part !== "")
      .map(endAsSentence)
      .join(" ");
  }
}

/** Ends a part of a one-line message with a full stop unless it already ends in punctuation. */
function endAsSentence(part: string): string {
  const trimmed = part.trimEnd();
  return /[.!?:)\]"'`]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/** The user cancelled: not an error to report, just a stop. */
export class CancelledError extends Error {
  constructor(message = "Cancelled.") {
    super(message);
    this.name = "CancelledError";
  }
}

/** Throws CancelledError when the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new CancelledError();
}

/** One line for anything thrown: UserError's own line, else the message, never a stack trace. */
export function describeError(error: unknown): string {
  if (error instanceof UserError) return error.toOneLine();
  if (error instanceof Error) return error.message;
  return String(error);
}
