/**
 * Benchmark: how long reading the header (metadata + tensor infos) of a multi-GB GGUF model takes, ours against
 * node-llama-cpp's `readGgufFileInfo` on the same file in the same run.
 *
 * The model is written with our writer: Qwen2.5-1.5B's shape in F16 (~3.1 GB, 338 tensors) with a synthetic
 * Qwen-sized vocabulary (151,936 byte-level BPE tokens, token types, 151,387 merges, a chat template). Its tensor
 * data is all zeros, which the writer leaves as holes, so the file takes a few MB of disk.
 *
 *   npx tsx bench/ggufRead.ts [--reps 30] [--dir <folder>] [--keep]
 */
import { mkdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { GgmlType } from "../src/core/gguf/ggmlTypes";
import { readGgufSummary } from "../src/core/gguf/ggufModelSummary";
import { readGgufFile } from "../src/core/gguf/ggufReader";
import type { GgufValue } from "../src/core/gguf/ggufTypes";
import { writeGgufFile, type GgufTensorDataSource, type GgufTensorToWrite } from "../src/core/gguf/ggufWriter";
import { LlamaFileType } from "../src/core/gguf/llamaFileTypes";
import { Random } from "../test/fixtures/seededRandom";

interface Args {
  readonly reps: number;
  readonly dir: string;
  readonly keep: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  let reps = 30;
  let dir = path.join(os.tmpdir(), "slm-lab-bench");
  let keep = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--reps") reps = Number(argv[++i]);
    else if (arg === "--dir") dir = argv[++i] ?? dir;
    else if (arg === "--keep") keep = true;
    else throw new Error(`unknown argument ${String(arg)}; usage: bench/ggufRead.ts [--reps N] [--dir DIR] [--keep]`);
  }
  if (!Number.isInteger(reps) || reps < 1) throw new Error("--reps must be a positive integer");
  return { reps, dir, keep };
}

/** A deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
  const generator = new Random(seed);
  return () => generator.next();
}

/** GPT-2's byte-to-unicode map (the alphabet of byte-level BPE vocabularies such as Qwen's). */
function byteLevelAlphabet(): string[] {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const alphabet: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) alphabet.push(String.fromCodePoint(printable(b) ? b : 256 + extra++));
  return alphabet;
}

const VOCAB_SIZE = 151_936;
const MERGE_COUNT = 151_387;
const SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"];

/** Qwen-sized tokenizer metadata: byte-level tokens (many with the "Ġ" space marker), types and merges. */
function syntheticVocabulary(): Map<string, GgufValue> {
  const next = random(2024);
  const alphabet = byteLevelAlphabet();
  const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";
  const tokens: string[] = [...alphabet];
  const seen = new Set(tokens);
  const merges: string[] = [];
  const regular = VOCAB_SIZE - SPECIAL_TOKENS.length;
  while (tokens.length < regular) {
    const length = 2 + Math.floor(next() * 7);
    let token = next() < 0.45 ? "Ġ" : "";
    for (let i = 0; i < length; i++) token += letters.charAt(Math.floor(next() * letters.length));
    if (next() < 0.01) token += "ä¸Ń"; // byte-level rendering of CJK bytes
    if (seen.has(token)) continue;
    seen.add(token);
    tokens.push(token);
    if (merges.length < MERGE_COUNT) {
      const cut = 1 + Math.floor(next() * (token.length - 1));
      merges.push(`${token.slice(0, cut)} ${token.slice(cut)}`);
    }
  }
  while (merges.length < MERGE_COUNT) merges.push(`${tokens[merges.length % tokens.length] ?? "a"} x`);
  tokens.push(...SPECIAL_TOKENS);
  const tokenTypes = tokens.map((_, id) => (id >= regular ? 3 : 1));
  const chatTemplate =
    "{%- if tools %}\n{{- '<|im_start|>system\\n' }}\n{%- if messages[0]['role'] == 'system' %}\n{{- messages[0]['content'] }}\n{%- else %}\n{{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}\n{%- endif %}\n".repeat(
      6,
    );
  return new Map<string, GgufValue>([
    ["tokenizer.ggml.model", { type: "string", value: "gpt2" }],
    ["tokenizer.ggml.pre", { type: "string", value: "qwen2" }],
    ["tokenizer.ggml.tokens", { type: "array", itemType: "string", values: tokens }],
    ["tokenizer.ggml.token_type", { type: "array", itemType: "i32", values: tokenTypes }],
    ["tokenizer.ggml.merges", { type: "array", itemType: "string", values: merges }],
    ["tokenizer.ggml.eos_token_id", { type: "u32", value: regular + 2 }],
    ["tokenizer.ggml.padding_token_id", { type: "u32", value: regular }],
    ["tokenizer.ggml.bos_token_id", { type: "u32", value: regular }],
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: false }],
    ["tokenizer.chat_template", { type: "string", value: chatTemplate }],
  ]);
}

/** Qwen2.5-1.5B's hyperparameters and tensor shapes, F16 matrices and F32 norms/biases. */
const SHAPE = { layers: 28, width: 1536, heads: 12, kvHeads: 2, ffn: 8960, context: 32768 };

const zeroChunk = new Uint8Array(64 * 1024 * 1024);
function zeros(byteLength: number): GgufTensorDataSource {
  return {
    byteLength,
    async *chunks() {
      for (let done = 0; done < byteLength; done += zeroChunk.byteLength) {
        yield zeroChunk.subarray(0, Math.min(zeroChunk.byteLength, byteLength - done));
        await Promise.resolve();
      }
    },
  };
}

function tensors(): GgufTensorToWrite[] {
  const { layers, width, heads, kvHeads, ffn } = SHAPE;
  const kvWidth = (width / heads) * kvHeads;
  const out: GgufTensorToWrite[] = [];
  const add = (name: string, dims: number[], ggmlType: number): void => {
    const bytes = dims.reduce((a, b) => a * b, 1) * (ggmlType === GgmlType.F16 ? 2 : 4);
    out.push({ name, dims, ggmlType, data: zeros(bytes) });
  };
  add("token_embd.weight", [width, VOCAB_SIZE], GgmlType.F16);
  for (let i = 0; i < layers; i++) {
    add(`blk.${i}.attn_norm.weight`, [width], GgmlType.F32);
    add(`blk.${i}.attn_q.weight`, [width, width], GgmlType.F16);
    add(`blk.${i}.attn_q.bias`, [width], GgmlType.F32);
    add(`blk.${i}.attn_k.weight`, [width, kvWidth], GgmlType.F16);
    add(`blk.${i}.attn_k.bias`, [kvWidth], GgmlType.F32);
    add(`blk.${i}.attn_v.weight`, [width, kvWidth], GgmlType.F16);
    add(`blk.${i}.attn_v.bias`, [kvWidth], GgmlType.F32);
    add(`blk.${i}.attn_output.weight`, [width, width], GgmlType.F16);
    add(`blk.${i}.ffn_norm.weight`, [width], GgmlType.F32);
    add(`blk.${i}.ffn_gate.weight`, [width, ffn], GgmlType.F16);
    add(`blk.${i}.ffn_up.weight`, [width, ffn], GgmlType.F16);
    add(`blk.${i}.ffn_down.weight`, [ffn, width], GgmlType.F16);
  }
  add("output_norm.weight", [width], GgmlType.F32);
  return out;
}

function metadata(): Map<string, GgufValue> {
  const { layers, width, heads, kvHeads, ffn, context } = SHAPE;
  const meta = new Map<string, GgufValue>([
    ["general.architecture", { type: "string", value: "qwen2" }],
    ["general.type", { type: "string", value: "model" }],
    ["general.name", { type: "string", value: "Bench Qwen2.5 1.5B Shaped" }],
    ["general.file_type", { type: "u32", value: LlamaFileType.F16 }],
    ["general.quantization_version", { type: "u32", value: 2 }],
    ["qwen2.block_count", { type: "u32", value: layers }],
    ["qwen2.context_length", { type: "u32", value: context }],
    ["qwen2.embedding_length", { type: "u32", value: width }],
    ["qwen2.feed_forward_length", { type: "u32", value: ffn }],
    ["qwen2.attention.head_count", { type: "u32", value: heads }],
    ["qwen2.attention.head_count_kv", { type: "u32", value: kvHeads }],
    ["qwen2.rope.freq_base", { type: "f32", value: 1_000_000 }],
    ["qwen2.attention.layer_norm_rms_epsilon", { type: "f32", value: 1e-6 }],
  ]);
  for (const [key, value] of syntheticVocabulary()) meta.set(key, value);
  return meta;
}

interface Stats {
  readonly mean: number;
  readonly sd: number;
  readonly min: number;
  /** Mean CPU time of this process (user + system, all threads): less disturbed by other load on a shared machine. */
  readonly cpuMean: number;
}

async function measure(reps: number, run: () => Promise<unknown>): Promise<Stats> {
  for (let i = 0; i < 3; i++) await run(); // warm-up: JIT and page cache
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1000);
  }
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const sd = Math.sqrt(times.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, times.length - 1));
  return { mean, sd, min: Math.min(...times), cpuMean: cpu.reduce((a, b) => a + b, 0) / cpu.length };
}

const format = (stats: Stats): string =>
  `${stats.mean.toFixed(1)} ± ${stats.sd.toFixed(1)} ms (min ${stats.min.toFixed(1)}, CPU ${stats.cpuMean.toFixed(1)} ms)`;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  await mkdir(args.dir, { recursive: true });
  const file = path.join(args.dir, "bench-qwen2.5-1.5b-shaped-f16.gguf");
  const writeStart = performance.now();
  await writeGgufFile(file, { metadata: metadata(), tensors: tensors() });
  const written = await stat(file);
  const header = await readGgufFile(file);
  console.log(`file: ${file}`);
  console.log(
    `size ${(written.size / 1e9).toFixed(2)} GB, on disk ${((written.blocks * 512) / 1e6).toFixed(1)} MB, header ${(header.dataOffset / 1e6).toFixed(2)} MB, ` +
      `${header.tensors.length} tensors, ${header.metadata.size} keys; written in ${((performance.now() - writeStart) / 1000).toFixed(1)} s`,
  );

  const { readGgufFileInfo } = await import("node-llama-cpp");
  console.log(`${args.reps} repetitions each (after 3 warm-ups), file in the page cache; load average ${os.loadavg()[0]?.toFixed(2)} on ${os.cpus().length} CPUs:`);
  const ours = await measure(args.reps, () => readGgufFile(file));
  console.log(`  readGgufFile (all arrays decoded)          ${format(ours)}`);
  const oursSummary = await measure(args.reps, () => readGgufFile(file, { maxArrayValues: 64 }));
  console.log(`  readGgufFile (maxArrayValues: 64)          ${format(oursSummary)}`);
  const summary = await measure(args.reps, () => readGgufSummary(file));
  console.log(`  readGgufSummary                            ${format(summary)}`);
  const theirs = await measure(args.reps, () => readGgufFileInfo(file, { logWarnings: false }));
  console.log(`  node-llama-cpp readGgufFileInfo            ${format(theirs)}`);
  console.log(`ratio node-llama-cpp / ours: ${(theirs.mean / ours.mean).toFixed(2)}x (full), ${(theirs.mean / oursSummary.mean).toFixed(2)}x (summary)`);
  if (!args.keep) await rm(file, { force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
