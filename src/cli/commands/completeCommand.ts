/** `slm-lab complete <model.gguf> --file F --line L --col C`: one inline completion from a local GGUF, as the editor gets it. */
import { readFile } from "node:fs/promises";
import { completionModeAt } from "../../core/completion/completionMode";
import { contextWindow, estimateTokens } from "../../core/completion/contextWindow";
import { postprocessCompletion } from "../../core/completion/postprocess";
import { UserError } from "../../core/errors";
import { LocalCompletionEngine } from "../../core/runtime/localEngine";
import { type CliCommand } from "../cliCommand";
import { ExitCode } from "../cliFailure";
import { CliUsageError } from "../cliUsageError";
import { resolveInputFile } from "../inputFile";
import { physicalCoreCount } from "../../core/runtime/threadCount";

const HELP = "slm-lab help complete";

function positiveInteger(text: string | undefined, option: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new CliUsageError(`option '--${option}' needs a whole number of at least 1, not '${text}'.`, HELP);
  return value;
}

/** The document offset of a 1-based line and column; a position past the end of its line is a UserError. */
function offsetOf(text: string, line: number, column: number, file: string): number {
  let offset = 0;
  for (let current = 1; current < line; current++) {
    const next = text.indexOf("\n", offset);
    if (next < 0) throw new UserError(`${file} has only ${current} lines, not ${line}.`, { action: "Give a line number inside the file." });
    offset = next + 1;
  }
  const end = text.indexOf("\n", offset);
  const lineLength = (end < 0 ? text.length : end) - offset;
  if (column - 1 > lineLength) throw new UserError(`Line ${line} of ${file} has ${lineLength} characters; column ${column} is past its end.`, { action: `Give a column from 1 to ${lineLength + 1}.` });
  return offset + column - 1;
}

export const completeCommand: CliCommand = {
  name: "complete",
  summary: "Complete code at a position of a file with a local GGUF model (the engine behind inline suggestions).",
  usage: "complete <model.gguf> --file F --line L --col C [--threads N] [--max-tokens N] [--context N] [--json]",
  description: [
    "Cuts the prefix and suffix windows around line L, column C (both 1-based) of file F, builds the model's",
    "fill-in-the-middle prompt (the format is detected from the GGUF's vocabulary), generates greedily in a child",
    "process with llama.cpp, and prints the suggestion after the editor's postprocessing (stop at the end of the",
    "block, no repeat of the suffix, balanced brackets). --json also prints the raw text and the timings.",
  ].join("\n"),
  options: [
    { name: "file", kind: "value", valueName: "F", description: "The source file to complete in." },
    { name: "line", kind: "value", valueName: "L", description: "Line of the cursor (1-based)." },
    { name: "col", kind: "value", valueName: "C", description: "Column of the cursor (1-based)." },
    { name: "threads", kind: "value", valueName: "N", description: "Threads for llama.cpp (default: the physical cores)." },
    { name: "max-tokens", kind: "value", valueName: "N", description: "Most tokens to generate (default 64)." },
    { name: "context", kind: "value", valueName: "N", description: "Context size in tokens (default 4096)." },
    { name: "json", kind: "flag", description: "Print JSON with the suggestion, the raw text and the timings." },
  ],
  examples: ["slm-lab complete qwen2.5-coder-0.5b-q4_0.gguf --file src/main.ts --line 42 --col 9"],

  async run(args, context) {
    const [model, ...extra] = args.positionals;
    if (model === undefined) throw new CliUsageError("complete: missing <model.gguf>.", HELP);
    if (extra.length > 0) throw new CliUsageError(`complete: unexpected argument '${extra[0] ?? ""}'.`, HELP);
    const file = args.value("file");
    if (file === undefined) throw new CliUsageError("complete: needs --file F --line L --col C.", HELP);
    const line = positiveInteger(args.value("line"), "line", 0);
    const column = positiveInteger(args.value("col"), "col", 0);
    if (line === 0 || column === 0) throw new CliUsageError("complete: needs --line L and --col C.", HELP);
    const threads = positiveInteger(args.value("threads"), "threads", physicalCoreCount());
    const maxTokens = positiveInteger(args.value("max-tokens"), "max-tokens", 64);
    const contextSize = positiveInteger(args.value("context"), "context", 4096);

    const sourcePath = await resolveInputFile(file);
    const text = await readFile(sourcePath, "utf8");
    const cursor = offsetOf(text, line, column, file);
    // Budgets as the editor uses: most of the context for the prefix, a quarter of it for the suffix.
    const promptBudget = Math.max(64, contextSize - maxTokens - 64);
    const window = contextWindow(text, cursor, estimateTokens, { prefixTokens: Math.floor(promptBudget * 0.75), suffixTokens: Math.floor(promptBudget * 0.2) });
    const mode = completionModeAt(window.prefix, window.suffix);
    const engine = new LocalCompletionEngine({ kind: "local", modelPath: await resolveInputFile(model), threads, contextSize, idleUnloadMs: 0 });
    try {
      const result = await engine.complete(
        { prefix: window.prefix, suffix: window.suffix, filePath: file.replace(/\\/g, "/"), languageId: "", extraContext: [], mode, maxTokens },
        context.signal,
      );
      const suggestion = postprocessCompletion(result.text, { prefix: window.prefix, suffix: window.suffix, mode, stopSequences: result.stopSequences }) ?? "";
      if (result.notice !== undefined) context.stderr(`${result.notice}\n`);
      if (args.flag("json")) {
        const info = engine.modelInfo;
        context.stdout(`${JSON.stringify({ suggestion, raw: result.text, mode, stoppedBy: result.stoppedBy, template: info?.templateLabel, layout: info?.layout, timings: result.timings }, null, 2)}\n`);
      } else {
        context.stdout(`${suggestion}\n`);
      }
      return ExitCode.ok;
    } finally {
      await engine.dispose();
    }
  },
};
