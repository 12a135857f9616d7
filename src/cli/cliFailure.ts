/**
 * Turns anything a command throws into what the person at the terminal sees: one line on stderr, prefixed
 * `slm-lab:`, and an exit code. The stack trace only with SLM_LAB_DEBUG=1.
 */
import { CancelledError, UserError, describeError } from "../core/errors";
import { CliUsageError } from "./cliUsageError";
import { type CliContext } from "./cliCommand";

/** Exit codes of `slm-lab`, as documented in `slm-lab --help`. */
export const ExitCode = {
  ok: 0,
  /** Bad input: a missing or unreadable file, not a GGUF model, or an internal error. */
  failure: 1,
  /** Bad command line. */
  usage: 2,
  /** Interrupted (Ctrl+C): 128 + SIGINT, as shells report it. */
  cancelled: 130,
} as const;

/** Node's file-system error codes that mean "bad input", phrased for people. */
const FILE_SYSTEM_PROBLEMS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "is a directory",
  ENOTDIR: "a part of the path is not a directory",
  ELOOP: "too many symbolic links",
  ENAMETOOLONG: "file name too long",
};

interface ErrnoLike {
  readonly code: string;
  readonly path?: string;
}

function isErrnoLike(error: unknown): error is ErrnoLike & Error {
  return error instanceof Error && typeof (error as Partial<ErrnoLike>).code === "string";
}

/** The one line and exit code for `error`. */
export function classifyFailure(error: unknown): { readonly exitCode: number; readonly line: string } {
  if (error instanceof CancelledError) return { exitCode: ExitCode.cancelled, line: error.message };
  if (error instanceof CliUsageError) return { exitCode: ExitCode.usage, line: describeError(error) };
  if (error instanceof UserError) return { exitCode: ExitCode.failure, line: describeError(error) };
  if (isErrnoLike(error)) {
    const problem = FILE_SYSTEM_PROBLEMS[error.code];
    if (problem !== undefined) {
      return { exitCode: ExitCode.failure, line: error.path === undefined ? `${problem}.` : `${error.path}: ${problem}.` };
    }
  }
  return {
    exitCode: ExitCode.failure,
    line: `internal error: ${describeError(error)} (set SLM_LAB_DEBUG=1 to see the stack trace, and please report it)`,
  };
}

/** Writes `slm-lab: <line>` (plus the stack traces with SLM_LAB_DEBUG=1) and returns the exit code. */
export function reportFailure(error: unknown, context: CliContext): number {
  const { exitCode, line } = classifyFailure(error);
  // One line whatever the message holds: scripts read stderr line by line.
  context.stderr(`slm-lab: ${line.replace(/\s*[\r\n]+\s*/g, " ")}\n`);
  if (context.env["SLM_LAB_DEBUG"] === "1") {
    for (let current: unknown = error, depth = 0; current !== undefined && depth < 5; depth++) {
      context.stderr(`${current instanceof Error ? (current.stack ?? current.message) : describeError(current)}\n`);
      current = current instanceof UserError ? current.inner : current instanceof Error ? current.cause : undefined;
      if (current !== undefined) context.stderr("caused by: ");
    }
  }
  return exitCode;
}
