/** `slm-lab bench <model.gguf…>`: llama-bench-style speed (pp/tg), load time, peak RSS, and perplexity / KLD. */
import os from "node:os";
import path from "node:path";
import { benchBaselineCacheDir, benchHistoryPath, appendBenchRecord } from "../../core/bench/benchHistory";
import { type BenchRecord } from "../../core/bench/benchRecord";
import { runBench, type BenchProgress, type BenchRequest } from "../../core/bench/runBench";
import { formatBytes, formatParameterCount } from "../../core/format/humanUnits";
import { type CliCommand } from "../cliCommand";
import { ExitCode } from "../cliFailure";
import { CliUsageError } from "../cliUsageError";
import { resolveInputFile } from "../inputFile";
import { physicalCoreCount } from "../../core/runtime/threadCount";

const HELP = "slm-lab help bench";

/** The store the CLI keeps its bench history and baselines in: $SLM_LAB_MODELS_DIR or ~/.cache/slm-lab. */
function defaultStoreDir(env: Readonly<Record<string, string | undefined>>): string {
  return env["SLM_LAB_MODELS_DIR"] ?? path.join(os.homedir(), ".cache", "slm-lab");
}

export const benchCommand: CliCommand = {
  name: "bench",
  summary: "Benchmark GGUF models like llama-bench (pp/tg tok/s, load time, memory) and measure perplexity / KL divergence.",
  usage: "bench <model.gguf>... [--threads N] [-p 512] [-n 128] [-r 3] [--ctx N] [--text FILE] [--baseline F16.gguf] [--json]",
  description: [
    "Measures each model with llama.cpp itself (the libllama bundled with SLM Lab) the way llama-bench does: pp = the",
    "prompt processed in batches of 2048 (micro-batch 512), tg = tokens generated one at a time, each after a warm-up,",
    "as mean ± standard deviation over the repetitions; flash attention 'auto'; a fresh KV cache per repetition.",
    "Load time is measured over the same number of loads; peak RSS is the bench process's own.",
    "",
    "--ctx N (or --text / --baseline) adds quality: perplexity as llama-perplexity computes it (chunks of N tokens,",
    "the second half of each scored) on SLM Lab's bundled text or --text FILE, and the mean KL divergence and top-1",
    "agreement against the F16/BF16 parent (--baseline, or the parent recorded when SLM Lab quantized the model).",
    "The parent's top-64 log-probabilities are stored once per text and context and reused for every variant.",
    "",
    "Each result is appended to the bench history (<store>/.slm-lab/bench-history.jsonl; the store is",
    "$SLM_LAB_MODELS_DIR or ~/.cache/slm-lab, or --store D). Ctrl+C stops at once.",
  ].join("\n"),
  options: [
    { name: "threads", short: "t", kind: "value", valueName: "N", description: "Threads for llama.cpp (default: the physical cores, as llama-bench)." },
    { name: "prompt", short: "p", kind: "value", valueName: "N", description: "Prompt tokens for pp (default 512; 0 skips)." },
    { name: "gen", short: "n", kind: "value", valueName: "N", description: "Generated tokens for tg (default 128; 0 skips)." },
    { name: "repetitions", short: "r", kind: "value", valueName: "N", description: "Repetitions (default 3)." },
    { name: "batch", short: "b", kind: "value", valueName: "N", description: "Batch size (default 2048)." },
    { name: "ubatch", kind: "value", valueName: "N", description: "Micro-batch size (default 512)." },
    { name: "ctx", kind: "value", valueName: "N", description: "Measure perplexity with chunks of N tokens (default 512 when --text or --baseline is given)." },
    { name: "text", kind: "value", valueName: "FILE", description: "Text for perplexity (default: SLM Lab's bundled English + code text)." },
    { name: "baseline", kind: "value", valueName: "F16.gguf", description: "The F16/BF16 model to compute KL divergence against." },
    { name: "no-kld", kind: "flag", description: "No KL divergence, even when the parent is known." },
    { name: "store", kind: "value", valueName: "D", description: "Models folder whose .slm-lab/ keeps the history and baselines." },
    { name: "no-history", kind: "flag", description: "Do not append the results to the bench history." },
    { name: "force", kind: "flag", description: "Run even when the model looks too big for this machine's memory." },
    { name: "json", kind: "flag", description: "Print the records as JSON (an array)." },
  ],
  examples: [
    "slm-lab bench model-q4_0.gguf --threads 4",
    "slm-lab bench model-q8_0.gguf model-q4_0.gguf -p 512 -n 128 -r 5 --ctx 512 --baseline model-f16.gguf",
    "slm-lab bench model-q4_k_m.gguf --ctx 256 --text README.md --json",
  ],

  async run(args, context) {
    if (args.positionals.length === 0) throw new CliUsageError("bench: needs at least one <model.gguf>.", HELP);
    const whole = (name: string, fallback: number, min: number): number => {
      const text = args.value(name);
      if (text === undefined) return fallback;
      const value = Number(text);
      if (!Number.isInteger(value) || value < min) throw new CliUsageError(`option '--${name}' needs a whole number of at least ${min}, not '${text}'.`, HELP);
      return value;
    };
    const threads = whole("threads", physicalCoreCount(), 1);
    const promptTokens = whole("prompt", 512, 0);
    const generatedTokens = whole("gen", 128, 0);
    const repetitions = whole("repetitions", 3, 1);
    const batchSize = whole("batch", 2048, 1);
    const ubatchSize = whole("ubatch", 512, 1);
    const textFile = args.value("text");
    const baseline = args.value("baseline");
    const wantsQuality = args.value("ctx") !== undefined || textFile !== undefined || baseline !== undefined;
    const qualityContext = whole("ctx", 512, 8);
    const store = args.value("store") ?? defaultStoreDir(context.env);
    const json = args.flag("json");
    const showProgress = !json && process.stderr.isTTY;

    const records: BenchRecord[] = [];
    for (const given of args.positionals) {
      const modelPath = await resolveInputFile(given);
      const request: BenchRequest = {
        modelPath,
        threads,
        promptTokens,
        generatedTokens,
        repetitions,
        batchSize,
        ubatchSize,
        skipMemoryCheck: args.flag("force"),
        ...(wantsQuality
          ? {
              quality: {
                text: textFile === undefined ? { kind: "bundled" } : { kind: "file", path: path.resolve(textFile) },
                contextSize: qualityContext,
                cacheDir: benchBaselineCacheDir(store),
                klDivergence: !args.flag("no-kld"),
                ...(baseline === undefined ? {} : { baselineModelPath: await resolveInputFile(baseline) }),
              },
            }
          : {}),
      };
      const record = await runBench(request, {
        signal: context.signal,
        ...(showProgress ? { onProgress: (progress: BenchProgress) => { context.stderr(`\r\x1b[2K${path.basename(modelPath)}: ${formatProgress(progress)}`); } } : {}),
      });
      if (showProgress) context.stderr("\r\x1b[2K");
      if (!args.flag("no-history")) await appendBenchRecord(benchHistoryPath(store), record);
      records.push(record);
    }
    context.stdout(json ? `${JSON.stringify(records, null, 2)}\n` : formatBenchTable(records));
    return ExitCode.ok;
  },
};

function formatProgress(progress: BenchProgress): string {
  return `${`${Math.floor(progress.fraction * 100)}%`.padStart(4)} ${progress.message}`;
}

/** `12.34 ± 0.56` with llama-bench's two decimals. */
function meanPlusMinus(mean: number, stddev: number, digits = 2): string {
  return `${mean.toFixed(digits)} ± ${stddev.toFixed(digits)}`;
}

/** llama-bench's markdown table (model, size, params, backend, threads, test, t/s), then load/memory and quality rows. */
export function formatBenchTable(records: readonly BenchRecord[]): string {
  const header = ["model", "size", "params", "backend", "threads", "fa", "test", "t/s"];
  const rows: string[][] = [];
  for (const record of records) {
    const model = `${record.architecture} ${record.fileType}`;
    const common = [model, formatBytes(record.modelFileBytes), formatParameterCount(record.parameters), "CPU", String(record.settings.threads), record.settings.flashAttention ? "1" : "0"];
    if (record.promptTokensPerSecond.samples.length > 0) rows.push([...common, `pp${record.settings.promptTokens}`, meanPlusMinus(record.promptTokensPerSecond.mean, record.promptTokensPerSecond.stddev)]);
    if (record.generationTokensPerSecond.samples.length > 0) rows.push([...common, `tg${record.settings.generatedTokens}`, meanPlusMinus(record.generationTokensPerSecond.mean, record.generationTokensPerSecond.stddev)]);
  }
  const lines = [markdownTable(header, rows, new Set([1, 2, 4, 7]))];
  const details = records.map((record) => {
    const parts = [
      `${path.basename(record.modelPath)}: load ${meanPlusMinus(record.loadMs.mean, record.loadMs.stddev, 0)} ms`,
      `peak RSS ${formatBytes(record.peakRssBytes)}`,
      ...(record.estimatedMemoryBytes === undefined ? [] : [`estimate ${formatBytes(record.estimatedMemoryBytes)}`]),
    ];
    const quality = record.quality;
    if (quality !== undefined) {
      parts.push(`PPL ${quality.perplexity.toFixed(4)} ± ${quality.perplexityError.toFixed(4)} (ctx ${quality.contextSize}, ${quality.chunks} chunks, ${quality.textSource})`);
      if (quality.meanKlDivergence !== undefined) {
        const baselinePpl = quality.baselinePerplexity === undefined ? "" : `, baseline PPL ${quality.baselinePerplexity.toFixed(4)}`;
        parts.push(`KLD ${quality.meanKlDivergence.toFixed(6)}, top-1 ${((quality.top1Agreement ?? 0) * 100).toFixed(2)}% vs ${path.basename(quality.baselineModel ?? "?")}${baselinePpl}`);
      }
    }
    return parts.join("; ");
  });
  const engine = records[0]?.engine;
  return `${lines.join("\n")}\n\n${details.join("\n")}\n${engine === undefined ? "" : `\nengine: ${engine}\n`}`;
}

function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], rightAligned: ReadonlySet<number>): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const cell = (text: string, column: number): string => (rightAligned.has(column) ? text.padStart(widths[column] ?? 0) : text.padEnd(widths[column] ?? 0));
  const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(" | ")} |`;
  const rule = `| ${widths.map((width, column) => (rightAligned.has(column) ? `${"-".repeat(Math.max(1, width - 1))}:` : "-".repeat(width))).join(" | ")} |`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}
