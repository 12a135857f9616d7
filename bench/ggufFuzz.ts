/**
 * Soak run of the GGUF fuzzer (test/unit/ggufFuzzer.ts): N deterministic mutated/truncated files through the
 * in-memory parser, every 10th also through the streaming reader from disk. Prints the outcome counts, the slowest
 * case and the heap; exits non-zero on any crash (anything but a parse or a GgufFormatError).
 *
 *   npx tsx bench/ggufFuzz.ts [--cases 10000] [--seed 1] [--stream-every 10]
 */
import { runFuzz } from "../test/unit/ggufFuzzer";

function parseArgs(argv: readonly string[]): { cases: number; seed: number; streamEvery: number } {
  const options = { cases: 10_000, seed: 1, streamEvery: 10 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = Number(argv[i + 1]);
    if (arg === "--cases") options.cases = value;
    else if (arg === "--seed") options.seed = value;
    else if (arg === "--stream-every") options.streamEvery = value;
    else throw new Error(`unknown argument ${String(arg)}; usage: bench/ggufFuzz.ts [--cases N] [--seed S] [--stream-every K]`);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${arg} needs a non-negative integer`);
    i++;
  }
  return options;
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function main(): Promise<void> {
  const { cases, seed, streamEvery } = parseArgs(process.argv.slice(2));
  const report = await runFuzz({
    seed,
    cases,
    streamEvery,
    onProgress: (done) => {
      if (done % 5_000 === 0 && done > 0) console.error(`  ${done} cases…`);
    },
  });
  console.log(`GGUF fuzz: ${report.cases} cases, seed ${report.seed}, ${report.streamedCases} also streamed from disk, ${(report.totalMs / 1000).toFixed(1)} s`);
  const outcomes = Object.entries(report.outcomes).sort((a, b) => b[1] - a[1]);
  for (const [outcome, count] of outcomes) console.log(`  ${outcome.padEnd(26)} ${String(count).padStart(7)}  ${((100 * count) / report.cases).toFixed(1)}%`);
  console.log(`crashes (neither parsed nor GgufFormatError): ${report.crashes.length}`);
  console.log(`slowest case: ${report.maxCaseMs.toFixed(2)} ms in memory (${report.slowestCase}); ${report.maxStreamedCaseMs.toFixed(2)} ms streamed from disk`);
  console.log(`V8 heap: ${mib(report.baselineHeapBytes)} at start, peak ${mib(report.peakHeapBytes)}; peak ArrayBuffer memory ${mib(report.peakExternalBytes)}`);
  for (const crash of report.crashes.slice(0, 5)) console.log(`\n#${crash.index} ${crash.base}: ${crash.mutation}\n${crash.error}`);
  if (report.crashes.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
