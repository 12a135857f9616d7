/**
 * The `slm-lab` argument parser: GNU-style long options (`--json`, `--threads 4`, `--threads=4`), single-letter
 * short options (`-h`), `--` to end options. Small on purpose: every command declares its options, and anything
 * undeclared is a usage error instead of being silently ignored.
 */
import { CliUsageError } from "./cliUsageError";

/** One option a command accepts. */
export interface CliOptionSpec {
  /** Long name without the dashes: "json" for `--json`. */
  readonly name: string;
  /** Optional one-letter alias without the dash: "h" for `-h`. */
  readonly short?: string;
  /** A flag is present or not; a value option takes the next argument (or `=value`). */
  readonly kind: "flag" | "value";
  /** Placeholder for the value in help text, e.g. "N" for `--threads <N>`. */
  readonly valueName?: string;
  readonly description: string;
}

/** What the parser found, in a shape commands can read without re-checking types. */
export class ParsedArguments {
  constructor(
    readonly positionals: readonly string[],
    private readonly flags: ReadonlySet<string>,
    private readonly values: ReadonlyMap<string, string>,
  ) {}

  /** Whether the flag `--name` was given. */
  flag(name: string): boolean {
    return this.flags.has(name);
  }

  /** The value of `--name <value>`, the last one when given several times. */
  value(name: string): string | undefined {
    return this.values.get(name);
  }
}

/** Parses `argv` (the arguments after the command name) against the options the command declares. */
export function parseArguments(argv: readonly string[], specs: readonly CliOptionSpec[], helpCommand: string): ParsedArguments {
  const byLong = new Map(specs.map((spec) => [spec.name, spec]));
  const byShort = new Map(specs.flatMap((spec) => (spec.short === undefined ? [] : [[spec.short, spec] as const])));
  const positionals: string[] = [];
  const flags = new Set<string>();
  const values = new Map<string, string>();

  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] ?? "";
    if (argument === "--") {
      positionals.push(...argv.slice(index + 1));
      break;
    }
    // "-" alone is an ordinary argument (by convention: standard input).
    if (!argument.startsWith("-") || argument === "-") {
      positionals.push(argument);
      continue;
    }

    const isLong = argument.startsWith("--");
    const equals = isLong ? argument.indexOf("=") : -1;
    const key = isLong ? argument.slice(2, equals === -1 ? undefined : equals) : argument.slice(1);
    const inlineValue = equals === -1 ? undefined : argument.slice(equals + 1);
    const spec = isLong ? byLong.get(key) : byShort.get(key);
    if (spec === undefined) throw new CliUsageError(`unknown option '${isLong ? `--${key}` : argument}'.`, helpCommand);

    if (spec.kind === "flag") {
      if (inlineValue !== undefined) throw new CliUsageError(`option '--${spec.name}' takes no value.`, helpCommand);
      flags.add(spec.name);
      continue;
    }
    let value = inlineValue;
    if (value === undefined) {
      const next = argv[index + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-")) {
        throw new CliUsageError(`option '--${spec.name}' needs a value.`, helpCommand);
      }
      value = next;
      index++;
    }
    values.set(spec.name, value);
  }
  return new ParsedArguments(positionals, flags, values);
}
