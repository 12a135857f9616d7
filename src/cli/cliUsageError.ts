import { UserError } from "../core/errors";

/** The command line was wrong (unknown option, missing argument): exit code 2, with a pointer to the help. */
export class CliUsageError extends UserError {
  constructor(message: string, helpCommand = "slm-lab --help") {
    super(message, { action: `Run '${helpCommand}' for usage.` });
    this.name = "CliUsageError";
  }
}
