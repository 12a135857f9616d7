/**
 * Every `slm-lab` subcommand, in the order `slm-lab --help` lists them. Add new commands here. Each is loaded only
 * when it is needed, so that starting one command does not load (and evaluate) the core modules of all the others.
 */
import { type CliCommand } from "./cliCommand";

interface CommandEntry {
  readonly name: string;
  readonly load: () => Promise<CliCommand>;
}

const commandEntries: readonly CommandEntry[] = [
  { name: "info", load: async () => (await import("./commands/infoCommand.js")).infoCommand },
  { name: "catalog", load: async () => (await import("./commands/catalogCommand.js")).catalogCommand },
  { name: "download", load: async () => (await import("./commands/downloadCommand.js")).downloadCommand },
  { name: "convert", load: async () => (await import("./commands/convertCommand.js")).convertCommand },
  { name: "quantize", load: async () => (await import("./commands/quantizeCommand.js")).quantizeCommand },
  { name: "bench", load: async () => (await import("./commands/benchCommand.js")).benchCommand },
  { name: "complete", load: async () => (await import("./commands/completeCommand.js")).completeCommand },
];

/** All commands (for `slm-lab --help`). */
export function loadCliCommands(): Promise<CliCommand[]> {
  return Promise.all(commandEntries.map((entry) => entry.load()));
}

/** The command called `name`, if there is one. */
export async function findCommand(name: string): Promise<CliCommand | undefined> {
  return await commandEntries.find((entry) => entry.name === name)?.load();
}
