/** The text of `slm-lab --help` and `slm-lab help <command>`, generated from the command declarations. */
import { type CliOptionSpec } from "./cliArguments";
import { type CliCommand } from "./cliCommand";

/** Options every command accepts, handled by the dispatcher. */
export const helpOption: CliOptionSpec = { name: "help", short: "h", kind: "flag", description: "Show this help." };
export const versionOption: CliOptionSpec = { name: "version", short: "V", kind: "flag", description: "Print the version of slm-lab." };

function optionSynopsis(option: CliOptionSpec): string {
  const long = option.kind === "value" ? `--${option.name} <${option.valueName ?? "value"}>` : `--${option.name}`;
  return option.short === undefined ? `    ${long}` : `-${option.short}, ${long}`;
}

/** Two aligned columns, the left one padded to its longest entry. */
function columns(rows: readonly (readonly [string, string])[], indent = "  "): string {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${indent}${left.padEnd(width)}  ${right}`.trimEnd()).join("\n");
}

/** `slm-lab --help`. */
export function formatGlobalHelp(commands: readonly CliCommand[], version: string): string {
  return [
    `slm-lab ${version}: small language models on your own machine (the command line of SLM Lab).`,
    "",
    "Usage: slm-lab <command> [options] [arguments]",
    "",
    "Commands:",
    columns([...commands.map((command) => [command.name, command.summary] as const), ["help [command]", "Show help for a command."]]),
    "",
    "Options:",
    columns([helpOption, versionOption].map((option) => [optionSynopsis(option), option.description] as const)),
    "",
    "Exit status: 0 success, 1 bad input or failure, 2 bad command line, 130 interrupted.",
    "Set SLM_LAB_DEBUG=1 to see stack traces.",
    "",
  ].join("\n");
}

/** `slm-lab help <command>` and `slm-lab <command> --help`. */
export function formatCommandHelp(command: CliCommand): string {
  const options = [...command.options, helpOption];
  return [
    `Usage: slm-lab ${command.usage}`,
    "",
    command.description,
    "",
    "Options:",
    columns(options.map((option) => [optionSynopsis(option), option.description] as const)),
    ...(command.examples.length > 0 ? ["", "Examples:", ...command.examples.map((example) => `  ${example}`)] : []),
    "",
  ].join("\n");
}
