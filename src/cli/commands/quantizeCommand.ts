/** `slm-lab quantize <in.gguf> <out.gguf> <TYPE>`: llama.cpp's own quantizer (the bundled libllama) on a GGUF model. */
import path from "node:path";
import { formatBytes } from "../../core/format/humanUnits";
import { quantizeModel, type QuantizeProgress, type QuantizeResult } from "../../core/quantize/quantizeModel";
import { quantizationPresets, quantizationTypes } from "../../core/quantize/quantizationTypes";
import { type CliCommand } from "../cliCommand";
import { ExitCode } from "../cliFailure";
import { CliUsageError } from "../cliUsageError";
import { resolveInputFile } from "../inputFile";

const HELP = "slm-lab help quantize";

export const quantizeCommand: CliCommand = {
  name: "quantize",
  summary: "Quantize a GGUF model with llama.cpp's own quantizer (Q8_0, Q4_K_M, IQ4_XS, …).",
  usage: "quantize <in.gguf> <out.gguf> <TYPE> [--threads N] [--dry-run] [--allow-requantize] [--pure] [--json]",
  description: [
    "Runs llama.cpp's llama_model_quantize (the libllama bundled with SLM Lab), so the output is byte for byte what",
    "llama-quantize of the same llama.cpp writes. The output is written to a temporary name and renamed when complete;",
    "a sidecar <out.gguf>.slm-lab.json records the parent model, the type and the llama.cpp version.",
    "Checks before starting: the input is a readable GGUF that is not already quantized (unless --allow-requantize),",
    "the type needs no importance matrix, and there is enough free disk for the output (a dry run sizes it when space is short).",
    "",
    `TYPE is a type name (case-insensitive): ${quantizationTypes.map((type) => type.name).join(", ")};`,
    `or a preset: ${quantizationPresets.map((preset) => `${preset.id} = ${preset.type}`).join(", ")}.`,
    "Ctrl+C stops at once and leaves no output file.",
  ].join("\n"),
  options: [
    { name: "threads", kind: "value", valueName: "N", description: "Threads for llama.cpp (default: the number of CPUs)." },
    { name: "dry-run", kind: "flag", description: "Only print the size the output would have; write nothing." },
    { name: "allow-requantize", kind: "flag", description: "Quantize an already-quantized model again (loses more quality)." },
    { name: "pure", kind: "flag", description: "Every tensor at the type's base type (no k-quant mixes)." },
    { name: "output-tensor-type", kind: "value", valueName: "T", description: "ggml type for output.weight, e.g. q8_0." },
    { name: "token-embedding-type", kind: "value", valueName: "T", description: "ggml type for token_embd.weight, e.g. q8_0." },
    { name: "imatrix", kind: "value", valueName: "FILE", description: "Importance matrix from llama-imatrix (.gguf or legacy .dat); needed by IQ1_*/IQ2_*/IQ3_XXS/Q2_K_S." },
    { name: "json", kind: "flag", description: "Print the result as JSON." },
  ],
  examples: [
    "slm-lab quantize model-f16.gguf model-q4_k_m.gguf Q4_K_M --threads 4",
    "slm-lab quantize model-f16.gguf model-q4_0.gguf mobile",
    "slm-lab quantize --dry-run model-f16.gguf model-q8_0.gguf Q8_0",
  ],

  async run(args, context) {
    const [input, output, type, ...extra] = args.positionals;
    if (input === undefined || output === undefined || type === undefined) {
      throw new CliUsageError("quantize: needs <in.gguf> <out.gguf> <TYPE>.", HELP);
    }
    if (extra.length > 0) throw new CliUsageError(`quantize: unexpected argument '${extra[0] ?? ""}'.`, HELP);
    const threadsText = args.value("threads");
    const threads = threadsText === undefined ? undefined : Number(threadsText);
    if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
      throw new CliUsageError(`option '--threads' needs a whole number of at least 1, not '${threadsText ?? ""}'.`, HELP);
    }
    const json = args.flag("json");
    const showProgress = !json && process.stderr.isTTY;
    const optional = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
      value === undefined ? {} : ({ [key]: value } as Record<K, V>);

    const result = await quantizeModel(await resolveInputFile(input), output, {
      type,
      ...optional("threads", threads),
      allowRequantize: args.flag("allow-requantize"),
      pure: args.flag("pure"),
      dryRun: args.flag("dry-run"),
      ...optional("outputTensorType", args.value("output-tensor-type")),
      ...optional("tokenEmbeddingType", args.value("token-embedding-type")),
      ...optional("imatrix", args.value("imatrix")),
      signal: context.signal,
      // Its own process: no child process to start (the extension host always uses one).
      ...(context.ownsProcess === true ? { process: "this-process" as const } : {}),
      ...(showProgress ? { onProgress: (progress: QuantizeProgress) => { context.stderr(`\r\x1b[2K${formatProgress(progress)}`); } } : {}),
    });
    if (showProgress) context.stderr("\r\x1b[2K");
    context.stdout(json ? `${JSON.stringify(resultToJson(result), null, 2)}\n` : `${formatResult(result, output)}\n`);
    return ExitCode.ok;
  },
};

function formatProgress(progress: QuantizeProgress): string {
  const percent = `${Math.floor(progress.fraction * 100)}%`.padStart(4);
  if (progress.phase !== "quantizing") return `${progress.phase}…`;
  return `quantizing ${percent} [${progress.tensorsDone}/${progress.tensorCount}] ${progress.tensorName ?? ""} → ${progress.tensorType ?? ""}`;
}

function formatResult(result: QuantizeResult, given: string): string {
  const ratio = result.inputSize > 0 ? ` (${((result.predictedSize / result.inputSize) * 100).toFixed(1)}% of ${formatBytes(result.inputSize)})` : "";
  if (result.outputSize === undefined) {
    return `${path.basename(given)} would be ${formatBytes(result.predictedSize)}${ratio} as ${result.type.name} (dry run, nothing written).`;
  }
  const seconds = (result.durationMs / 1000).toFixed(1);
  return `Wrote ${given}: ${result.type.name}, ${formatBytes(result.outputSize)}${ratio}, ${result.tensors.length} tensors, ${seconds} s with ${result.threads} threads (llama.cpp ${result.llamaCpp.release ?? result.llamaCpp.version}).`;
}

function resultToJson(result: QuantizeResult): Record<string, unknown> {
  return {
    input: result.input,
    output: result.output ?? null,
    type: result.type.name,
    ftype: result.type.ftype,
    threads: result.threads,
    dryRun: result.outputSize === undefined,
    inputSize: result.inputSize,
    predictedSize: result.predictedSize,
    outputSize: result.outputSize ?? null,
    durationMs: result.durationMs,
    sidecar: result.sidecarPath ?? null,
    llamaCpp: result.llamaCpp,
    tensors: result.tensors.map((tensor) => ({ name: tensor.name, shape: tensor.shape, from: tensor.sourceType, to: tensor.targetType })),
  };
}
