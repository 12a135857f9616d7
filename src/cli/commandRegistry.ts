/** Every `slm-lab` subcommand, in the order `slm-lab --help` lists them. Add new commands here. */
import { type CliCommand } from "./cliCommand";
import { benchCommand } from "./commands/benchCommand";
import { catalogCommand } from "./commands/catalogCommand";
import { completeCommand } from "./commands/completeCommand";
import { convertCommand } from "./commands/convertCommand";
import { downloadCommand } from "./commands/downloadCommand";
import { infoCommand } from "./commands/infoCommand";
import { quantizeCommand } from "./commands/quantizeCommand";

export const cliCommands: readonly CliCommand[] = [infoCommand, catalogCommand, downloadCommand, convertCommand, quantizeCommand, benchCommand, completeCommand];

/** The command called `name`, if there is one. */
export function findCommand(name: string): CliCommand | undefined {
  return cliCommands.find((command) => command.name === name);
}
