/** `slm-lab convert <hf-dir> --out <file.gguf> [--outtype …]`: a Hugging Face safetensors checkpoint to GGUF. */
import { stat } from "node:fs/promises";
import path from "node:path";
import { supportedArchitecturesText } from "../../core/convert/architectures/architectureRegistry";
import { CONVERT_OUT_TYPES, convertCheckpoint, isConvertOutTypeRequest, type ConvertProgress, type ConvertResult } from "../../core/convert/convertCheckpoint";
import { UserError } from "../../core/errors";
import { formatBytes, formatParameterCount } from "../../core/format/humanUnits";
import { type CliCommand } from "../cliCommand";
import { ExitCode } from "../cliFailure";
import { CliUsageError } from "../cliUsageError";

const HELP = "slm-lab help convert";

export const convertCommand: CliCommand = {
  name: "convert",
  summary: "Convert a Hugging Face safetensors checkpoint to GGUF (no Python needed).",
  usage: "convert <hf-dir> --out <file.gguf> [--outtype f32|f16|bf16|q8_0|auto] [--force] [--json]",
  description: [
    "Reads config.json, the safetensors weights (one file or shards with model.safetensors.index.json) and the tokenizer",
    "files of a checkpoint folder and writes a GGUF that llama.cpp loads, following llama.cpp's convert_hf_to_gguf.py:",
    "the same metadata, tensor names and transformations. Tensors are streamed one at a time; the output is written to a",
    "temporary name and renamed when complete. Ctrl+C stops and leaves no output file.",
    "",
    `Architectures: ${supportedArchitecturesText()}.`,
    "--outtype auto (the default) keeps BF16 checkpoints in bf16 and writes f16 otherwise; q8_0 quantizes 2-D weights",
    "with llama.cpp's reference Q8_0. Norms and other 1-D tensors are always f32.",
  ].join("\n"),
  options: [
    { name: "out", kind: "value", valueName: "FILE", description: "The GGUF file to write (required)." },
    { name: "outtype", kind: "value", valueName: "TYPE", description: `Output type: ${CONVERT_OUT_TYPES.join(", ")} (default auto).` },
    { name: "force", kind: "flag", description: "Overwrite the output file if it exists." },
    { name: "json", kind: "flag", description: "Print the result as JSON." },
  ],
  examples: ["slm-lab convert ./SmolLM2-135M --out smollm2-135m-f16.gguf", "slm-lab convert ./Qwen2.5-0.5B --out qwen2.5-0.5b-q8_0.gguf --outtype q8_0"],

  async run(args, context) {
    const [input, ...extra] = args.positionals;
    if (input === undefined) throw new CliUsageError("convert: needs the checkpoint folder <hf-dir>.", HELP);
    if (extra.length > 0) throw new CliUsageError(`convert: unexpected argument '${extra[0] ?? ""}'.`, HELP);
    const out = args.value("out");
    if (out === undefined) throw new CliUsageError("convert: needs --out <file.gguf>.", HELP);
    const outType = args.value("outtype") ?? "auto";
    if (!isConvertOutTypeRequest(outType)) throw new CliUsageError(`option '--outtype' must be one of ${CONVERT_OUT_TYPES.join(", ")}, not '${outType}'.`, HELP);
    const dir = path.resolve(input);
    const stats = await stat(dir).catch(() => undefined);
    if (stats?.isDirectory() !== true) throw new UserError(`${input}: no such folder.`, { action: "Give the folder of a Hugging Face checkpoint (with config.json and *.safetensors)." });
    const json = args.flag("json");
    const showProgress = !json && process.stderr.isTTY;
    const result = await convertCheckpoint({
      checkpointDir: dir,
      outFile: out,
      outType,
      overwrite: args.flag("force"),
      signal: context.signal,
      ...(showProgress ? { onProgress: (progress: ConvertProgress) => { context.stderr(`\r\x1b[2K${formatProgress(progress)}`); } } : {}),
    });
    if (showProgress) context.stderr("\r\x1b[2K");
    context.stdout(json ? `${JSON.stringify(result, null, 2)}\n` : `${formatResult(result, out)}\n`);
    return ExitCode.ok;
  },
};

function formatProgress(progress: ConvertProgress): string {
  if (progress.phase !== "converting") return `${progress.phase}…`;
  return `converting ${`${Math.floor(progress.fraction * 100)}%`.padStart(4)} [${progress.tensorsDone}/${progress.tensorCount}] ${progress.tensorName ?? ""}`;
}

function formatResult(result: ConvertResult, given: string): string {
  const seconds = (result.durationMs / 1000).toFixed(1);
  return `Wrote ${given}: ${result.architecture} (${result.hfArchitecture}), ${result.outType}, ${formatParameterCount(result.parameterCount)} parameters, ${result.tensorCount} tensors, ${formatBytes(result.outputSize)} in ${seconds} s.`;
}
