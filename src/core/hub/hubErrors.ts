/** Typed errors of Hub access and downloads: each says what happened and what to do, never the token. */
import { UserError, type UserErrorOptions } from "../errors";

/** The repo, revision or file does not exist (or is hidden from this account). */
export class HubNotFoundError extends UserError {
  constructor(message: string, options: UserErrorOptions = {}) {
    super(message, options);
    this.name = "HubNotFoundError";
  }
}

/** Gated or private content the request may not read: sign in, or accept the license on the model page. */
export class HubAccessError extends UserError {
  constructor(
    message: string,
    readonly reason: "gated" | "private" | "token",
    options: UserErrorOptions = {},
  ) {
    super(message, options);
    this.name = "HubAccessError";
  }
}

/** The Hub kept answering 429 longer than we are willing to wait. */
export class HubRateLimitError extends UserError {
  constructor(message: string, options: UserErrorOptions = {}) {
    super(message, options);
    this.name = "HubRateLimitError";
  }
}

/** The network kept failing after the bounded retries; the partial file is kept for the next attempt. */
export class HubNetworkError extends UserError {
  constructor(message: string, options: UserErrorOptions = {}) {
    super(message, options);
    this.name = "HubNetworkError";
  }
}

/** The downloaded bytes do not match the Hub's hash or size; the partial file was removed. */
export class HubIntegrityError extends UserError {
  constructor(
    message: string,
    readonly expected: string,
    readonly actual: string,
    options: UserErrorOptions = {},
  ) {
    super(message, options);
    this.name = "HubIntegrityError";
  }
}

/** A repo id or a file name from the Hub that would escape the target folder (`..`, absolute paths). */
export class HubUnsafePathError extends UserError {
  constructor(message: string, options: UserErrorOptions = {}) {
    super(message, options);
    this.name = "HubUnsafePathError";
  }
}

/** Not enough disk space, before starting or when the disk filled up; the partial file is kept. */
export class HubDiskSpaceError extends UserError {
  constructor(
    message: string,
    readonly neededBytes: number,
    options: UserErrorOptions = {},
  ) {
    super(message, options);
    this.name = "HubDiskSpaceError";
  }
}

/** The Hub answered something we cannot use (an unexpected status or missing headers). */
export class HubProtocolError extends UserError {
  constructor(message: string, options: UserErrorOptions = {}) {
    super(message, options);
    this.name = "HubProtocolError";
  }
}
