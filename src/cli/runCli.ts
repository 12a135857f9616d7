/** The `slm-lab` dispatcher: global options, `help`, then the subcommand. Never throws; resolves to the exit code. */
import { version } from "../../package.json";
import { parseArguments } from "./cliArguments";
import { type CliContext } from "./cliCommand";
import { ExitCode, reportFailure } from "./cliFailure";
import { CliUsageError } from "./cliUsageError";
import { findCommand, loadCliCommands } from "./commandRegistry";
import { formatCommandHelp, formatGlobalHelp, helpOption } from "./helpText";

/** The version printed by `slm-lab --version`: the package's. */
export const cliVersion: string = version;

/** Runs `slm-lab <argv...>` and resolves to the exit code; failures are reported on `context.stderr`. */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  try {
    return await dispatch(argv, context);
  } catch (error: unknown) {
    return reportFailure(error, context);
  }
}

async function dispatch(argv: readonly string[], context: CliContext): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) throw new CliUsageError("missing command.");
  if (first === "--help" || first === "-h") {
    context.stdout(formatGlobalHelp(await loadCliCommands(), cliVersion));
    return ExitCode.ok;
  }
  if (first === "--version" || first === "-V") {
    context.stdout(`${cliVersion}\n`);
    return ExitCode.ok;
  }
  if (first.startsWith("-")) throw new CliUsageError(`unknown option '${first}'.`);

  if (first === "help") {
    const [topic, ...extra] = rest;
    if (extra.length > 0) throw new CliUsageError("'help' takes at most one command name.");
    if (topic === undefined) {
      context.stdout(formatGlobalHelp(await loadCliCommands(), cliVersion));
      return ExitCode.ok;
    }
    const command = await findCommand(topic);
    if (command === undefined) throw new CliUsageError(`unknown command '${topic}'.`);
    context.stdout(formatCommandHelp(command));
    return ExitCode.ok;
  }

  const command = await findCommand(first);
  if (command === undefined) throw new CliUsageError(`unknown command '${first}'.`);
  const args = parseArguments(rest, [...command.options, helpOption], `slm-lab help ${command.name}`);
  if (args.flag(helpOption.name)) {
    context.stdout(formatCommandHelp(command));
    return ExitCode.ok;
  }
  return await command.run(args, context);
}
