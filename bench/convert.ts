/**
 * Benchmark of the HF → GGUF converter on a generated Llama-3.2-1B-shaped checkpoint (hidden 2048, MLP 8192, 32/8
 * heads, the real Llama 3 tokenizer, tied 128256 × 2048 embedding = the largest tensor, 525 MB in bf16) with random
 * bf16 weights, at two sizes (layer counts) to show that peak memory does not grow with the model:
 *
 * - throughput: the conversion's wall time against `cp` of the same safetensors bytes in the same run, reported as
 *   (cp seconds ÷ convert seconds) — 1.0 means as fast as copying the file; the target is ≥ 0.5. Also shown without
 *   the tokenizer export (a fixed cost per vocabulary, paid before the first tensor is written);
 * - peak RSS of the process that converts (the conversion runs in a child exactly as the worker runs it), against
 *   2 × the largest tensor + 200 MB.
 *
 * The default sizes are 5 layers (1.1 GB) and 16 layers (2.5 GB: the real Llama 3.2 1B). cp and the conversion are
 * each run `--reps` times, alternating, each after `sync` (the page cache then starts clean for both: a run that
 * follows gigabytes of writes is otherwise throttled by their writeback, which made single runs vary 3×); medians.
 *
 * Each is measured twice over (`--cache`): "warm", the checkpoint read through just before (cp is then a memory copy,
 * and the converter's fixed costs weigh most), and "cold", the checkpoint's files dropped from the page cache first
 * (posix_fadvise DONTNEED, for cp's source as for the converter's folder), as for a checkpoint downloaded earlier.
 *
 * Checkpoints are cached in .cache/bench-convert/ (written by our safetensors writer, once).
 *
 *   npx tsx bench/convert.ts [--sizes 5,16] [--outtypes auto,f16,q8_0] [--cache warm,cold] [--reps 3] [--dir .cache/bench-convert]
 */
import { execFile, spawn } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { convertCheckpointInProcess } from "../src/core/convert/checkpointConversion";
import { isConvertOutTypeRequest, type ConvertOutTypeRequest } from "../src/core/convert/outputType";
import { exportTokenizer } from "../src/core/convert/tokenizer/tokenizerExport";
import { writeSafetensorsFile, type SafetensorsTensorToWrite } from "../src/core/safetensors/safetensorsWriter";
import { repositoryRoot } from "../test/fixtures/llamaCppSource";
import { median } from "./benchNumbers";
import { preparePageCache, type PageCacheState } from "./pageCacheAdvice";

const execFileAsync = promisify(execFile);

const HIDDEN = 2048;
const FFN = 8192;
const HEADS = 32;
const KV_HEADS = 8;
const HEAD_DIM = 64;
const VOCAB = 128256;
const GENERATOR_VERSION = 1;

/** Random bf16 weights with exponents in [2^-7, 2): finite, varied, no NaN (random bits alone give NaN/Inf). */
function randomBf16(elements: number): SafetensorsTensorToWrite["data"] {
  const chunkElements = 4 * 1024 * 1024;
  return {
    byteLength: elements * 2,
    async *chunks() {
      for (let done = 0; done < elements; done += chunkElements) {
        const count = Math.min(chunkElements, elements - done);
        const halves = new Uint16Array(count);
        randomFillSync(halves);
        for (let index = 0; index < count; index += 1) halves[index] = ((halves[index] ?? 0) & 0x83ff) | 0x3c00;
        yield await Promise.resolve(new Uint8Array(halves.buffer));
      }
    },
  };
}

/** A Llama-3.2-1B-shaped checkpoint with `layers` layers, generated into the cache once. */
async function ensureCheckpoint(root: string, layers: number): Promise<string> {
  const dir = path.join(root, `llama-1b-shape-${layers}l-v${GENERATOR_VERSION}`);
  if (existsSync(path.join(dir, "model.safetensors"))) return dir;
  const temp = `${dir}.tmp-${process.pid}`;
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp, { recursive: true });
  const config = {
    architectures: ["LlamaForCausalLM"],
    attention_bias: false,
    bos_token_id: 128000,
    eos_token_id: 128001,
    head_dim: HEAD_DIM,
    hidden_act: "silu",
    hidden_size: HIDDEN,
    intermediate_size: FFN,
    max_position_embeddings: 131072,
    model_type: "llama",
    num_attention_heads: HEADS,
    num_hidden_layers: layers,
    num_key_value_heads: KV_HEADS,
    rms_norm_eps: 1e-5,
    rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: "llama3" },
    rope_theta: 500000.0,
    tie_word_embeddings: true,
    torch_dtype: "bfloat16",
    vocab_size: VOCAB,
  };
  await writeFile(path.join(temp, "config.json"), JSON.stringify(config, null, 2));
  for (const file of ["tokenizer.json", "tokenizer_config.json"]) {
    await copyFile(path.join(repositoryRoot(), "node_modules", "@lenml", "tokenizer-llama3", "models", file), path.join(temp, file));
  }
  const tensors: SafetensorsTensorToWrite[] = [{ name: "model.embed_tokens.weight", dtype: "BF16", shape: [VOCAB, HIDDEN], data: randomBf16(VOCAB * HIDDEN) }];
  const linear = (name: string, out: number, inFeatures: number): SafetensorsTensorToWrite => ({ name, dtype: "BF16", shape: [out, inFeatures], data: randomBf16(out * inFeatures) });
  for (let layer = 0; layer < layers; layer += 1) {
    const prefix = `model.layers.${layer}`;
    tensors.push(
      { name: `${prefix}.input_layernorm.weight`, dtype: "BF16", shape: [HIDDEN], data: randomBf16(HIDDEN) },
      linear(`${prefix}.self_attn.q_proj.weight`, HEADS * HEAD_DIM, HIDDEN),
      linear(`${prefix}.self_attn.k_proj.weight`, KV_HEADS * HEAD_DIM, HIDDEN),
      linear(`${prefix}.self_attn.v_proj.weight`, KV_HEADS * HEAD_DIM, HIDDEN),
      linear(`${prefix}.self_attn.o_proj.weight`, HIDDEN, HEADS * HEAD_DIM),
      { name: `${prefix}.post_attention_layernorm.weight`, dtype: "BF16", shape: [HIDDEN], data: randomBf16(HIDDEN) },
      linear(`${prefix}.mlp.gate_proj.weight`, FFN, HIDDEN),
      linear(`${prefix}.mlp.up_proj.weight`, FFN, HIDDEN),
      linear(`${prefix}.mlp.down_proj.weight`, HIDDEN, FFN),
    );
  }
  tensors.push({ name: "model.norm.weight", dtype: "BF16", shape: [HIDDEN], data: randomBf16(HIDDEN) });
  await writeSafetensorsFile(path.join(temp, "model.safetensors"), tensors, { metadata: { format: "pt" } });
  await rename(temp, dir);
  return dir;
}

interface ChildReport {
  readonly seconds: number;
  /** Of which the tokenizer export (src/core/convert/tokenizer), which runs before any tensor is written. */
  readonly tokenizerSeconds: number;
  readonly maxRssBytes: number;
  readonly outputSize: number;
}

/** `--child <dir> <out> <type>`: converts in this process and prints its time and peak RSS as JSON. */
async function runChild(dir: string, out: string, outType: ConvertOutTypeRequest): Promise<void> {
  const started = performance.now();
  let tokenizerSeconds = 0;
  const result = await convertCheckpointInProcess({
    checkpointDir: dir,
    outFile: out,
    outType,
    overwrite: true,
    exportTokenizer: async (checkpointDir, options) => {
      const exportStarted = performance.now();
      const metadata = await exportTokenizer(checkpointDir, options);
      tokenizerSeconds = (performance.now() - exportStarted) / 1000;
      return metadata;
    },
  });
  const report: ChildReport = { seconds: (performance.now() - started) / 1000, tokenizerSeconds, maxRssBytes: process.resourceUsage().maxRSS * 1024, outputSize: result.outputSize };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

function convertInChild(dir: string, out: string, outType: ConvertOutTypeRequest): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", __filename, "--child", dir, out, outType], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.on("data", (data: Buffer) => (stdout += data.toString("utf8")));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`conversion child exited with ${String(code)}`));
      else resolve(JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as ChildReport);
    });
  });
}

/** Flushes dirty pages, so that every timed run starts from the same page-cache state (writes of an earlier run would otherwise throttle it). */
async function settle(): Promise<void> {
  await execFileAsync("sync");
}

async function checkpointFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).map((name) => path.join(dir, name));
}

async function timeCp(source: string, target: string, cache: PageCacheState): Promise<number> {
  await rm(target, { force: true });
  await settle();
  await preparePageCache([source], cache);
  const started = performance.now();
  await execFileAsync("cp", [source, target]);
  const seconds = (performance.now() - started) / 1000;
  await rm(target, { force: true });
  return seconds;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === "--child") {
    const [, dir = "", out = "", outType = "auto"] = argv;
    if (!isConvertOutTypeRequest(outType)) throw new Error(`bad outtype ${outType}`);
    await runChild(dir, out, outType);
    return;
  }
  const options = new Map<string, string>();
  for (let index = 0; index < argv.length; index += 2) options.set((argv[index] ?? "").replace(/^--/, ""), argv[index + 1] ?? "");
  const sizes = (options.get("sizes") ?? "5,16").split(",").map(Number);
  const outTypes = (options.get("outtypes") ?? "auto,f16,q8_0").split(",");
  const caches = (options.get("cache") ?? "warm,cold").split(",").filter((cache): cache is PageCacheState => cache === "warm" || cache === "cold");
  const reps = Number(options.get("reps") ?? "3");
  const root = path.resolve(options.get("dir") ?? path.join(repositoryRoot(), ".cache", "bench-convert"));
  await mkdir(root, { recursive: true });
  const largestTensor = VOCAB * HIDDEN * 2;
  const rssTarget = 2 * largestTensor + 200 * 1024 * 1024;
  const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  console.log(`largest tensor ${mb(largestTensor)} (bf16 embedding); RSS target ≤ ${mb(rssTarget)}; throughput target ≥ 0.5 × cp`);
  console.log(`each line: the median of ${reps} runs of cp and of the conversion, alternating, each after \`sync\` and with the checkpoint read through (warm) or dropped from the page cache (cold); ratio = cp ÷ convert`);
  for (const layers of sizes) {
    const dir = await ensureCheckpoint(root, layers);
    const source = path.join(dir, "model.safetensors");
    const sourceSize = (await stat(source)).size;
    for (const [cache, outType] of caches.flatMap((cache) => outTypes.map((outType) => [cache, outType] as const))) {
      if (!isConvertOutTypeRequest(outType)) throw new Error(`bad outtype ${outType}`);
      const out = path.join(root, `out-${layers}l-${outType}.gguf`);
      const cpRuns: number[] = [];
      const reports: ChildReport[] = [];
      for (let rep = 0; rep < reps; rep += 1) {
        cpRuns.push(await timeCp(source, path.join(root, "cp-copy.safetensors"), cache));
        await rm(out, { force: true });
        await settle();
        await preparePageCache(await checkpointFiles(dir), cache);
        reports.push(await convertInChild(dir, out, outType));
        await rm(out, { force: true });
      }
      const cpSeconds = median(cpRuns);
      const seconds = median(reports.map((report) => report.seconds));
      const tokenizerSeconds = median(reports.map((report) => report.tokenizerSeconds));
      const tensorSeconds = median(reports.map((report) => report.seconds - report.tokenizerSeconds));
      const maxRss = Math.max(...reports.map((report) => report.maxRssBytes));
      const outputSize = reports[0]?.outputSize ?? 0;
      console.log(
        `${layers} layers, ${mb(sourceSize)} bf16 → ${outType}, ${cache === "warm" ? "warm (checkpoint in the page cache)" : "cold (checkpoint read from disk)"}: convert ${seconds.toFixed(2)} s (tokenizer export ${tokenizerSeconds.toFixed(2)} s, ` +
          `rest ${tensorSeconds.toFixed(2)} s = ${mb(sourceSize / tensorSeconds)}/s), cp ${cpSeconds.toFixed(2)} s; ` +
          `ratio ${(cpSeconds / seconds).toFixed(2)} × cp (without the tokenizer ${(cpSeconds / tensorSeconds).toFixed(2)} × cp); peak RSS ${mb(maxRss)} (${maxRss <= rssTarget ? "≤" : ">"} target); output ${mb(outputSize)}`,
      );
      console.log(`    runs: cp ${cpRuns.map((value) => value.toFixed(2)).join(" ")} s; convert ${reports.map((report) => report.seconds.toFixed(2)).join(" ")} s`);
    }
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
