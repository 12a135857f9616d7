import { type CliOptionSpec, type ParsedArguments } from "./cliArguments";

/** Where a command writes and what it can observe: the process in production, a buffer in tests. */
export interface CliContext {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Aborted on Ctrl+C, for long commands (download, quantize, bench). */
  readonly signal: AbortSignal;
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * True in the `slm-lab` process itself (main.ts), which ends on Ctrl+C: a command may then run native work that
   * cannot be interrupted in this process instead of a child. Absent when the CLI runs inside another program (tests).
   */
  readonly ownsProcess?: boolean;
}

/** One `slm-lab <name>` subcommand. Each lives in its own module under `commands/` and is listed in the registry. */
export interface CliCommand {
  readonly name: string;
  /** One line for `slm-lab --help`. */
  readonly summary: string;
  /** The synopsis after `slm-lab `, e.g. "info <file.gguf>... [--json]". */
  readonly usage: string;
  /** Paragraphs for `slm-lab help <name>`. */
  readonly description: string;
  readonly options: readonly CliOptionSpec[];
  readonly examples: readonly string[];
  /** Runs the command; resolves to the exit code. Bad input throws a UserError (exit 1), bad usage a CliUsageError (exit 2). */
  run(args: ParsedArguments, context: CliContext): Promise<number>;
}
