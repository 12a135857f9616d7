/** `slm-lab info <file.gguf>... [--json]`: what a GGUF model is, read from its header only (fast on multi-GB files). */
import { CancelledError, throwIfAborted } from "../../core/errors";
import { readGgufSummary } from "../../core/gguf/ggufModelSummary";
import { type GgufModelSummary } from "../../core/gguf/ggufTypes";
import { type CliCommand } from "../cliCommand";
import { ExitCode, reportFailure } from "../cliFailure";
import { CliUsageError } from "../cliUsageError";
import { modelSummaryToJson } from "../format/modelSummaryJson";
import { formatModelSummaryText } from "../format/modelSummaryText";
import { resolveInputFile } from "../inputFile";

export const infoCommand: CliCommand = {
  name: "info",
  summary: "Show what a GGUF model is: architecture, parameters, quantization, context, tokenizer, size.",
  usage: "info <file.gguf>... [--json]",
  description: [
    "Reads the header of each GGUF file (not the weights, so it is fast on multi-GB files) and prints the",
    "architecture, parameter count, file type (quantization), bits per weight, tensor count, context length,",
    "vocabulary size, tokenizer, size on disk, GGUF version and the main hyper-parameters.",
    "With several files, each is shown in turn; a file that cannot be read is reported on stderr and the others",
    "are still shown (the exit status is then 1).",
  ].join("\n"),
  options: [{ name: "json", kind: "flag", description: "Print JSON: one object per file, an array when several files are given." }],
  examples: ["slm-lab info model.gguf", "slm-lab info --json models/*.gguf"],

  async run(args, context) {
    if (args.positionals.length === 0) throw new CliUsageError("info: missing <file.gguf>.", "slm-lab help info");
    const json = args.flag("json");
    const summaries: GgufModelSummary[] = [];
    let exitCode: number = ExitCode.ok;

    for (const given of args.positionals) {
      throwIfAborted(context.signal);
      try {
        const summary = await readGgufSummary(await resolveInputFile(given), { signal: context.signal });
        summaries.push(summary);
        if (!json) context.stdout(`${summaries.length > 1 ? "\n" : ""}${formatModelSummaryText(summary, given)}`);
      } catch (error: unknown) {
        if (error instanceof CancelledError) throw error;
        // Report and go on with the next file, as `ls` and `stat` do; the exit status says something failed.
        exitCode = Math.max(exitCode, reportFailure(error, context));
      }
    }

    if (json && summaries.length > 0) {
      const records = summaries.map(modelSummaryToJson);
      // One file: one object; several: an array (also when some of them failed).
      context.stdout(`${JSON.stringify(args.positionals.length === 1 ? records[0] : records, null, 2)}\n`);
    }
    return exitCode;
  },
};
