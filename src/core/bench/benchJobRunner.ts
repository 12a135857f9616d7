/**
 * One bench job on the bundled libllama, step for step as llama.cpp's own tools do it:
 * - speed: tools/llama-bench/llama-bench.cpp — a context per test (n_ctx = -p for pp, -n for tg), batch 2048 /
 *   ubatch 512, flash attention "auto", a CPU threadpool with poll 50, a warm-up run (the whole pp; one tg token),
 *   then per repetition: clear the KV cache, pp = random tokens in batches of n_batch (BOS first), tg = one token per
 *   decode; tok/s per repetition.
 * - quality: tools/perplexity/perplexity.cpp — the text tokenized with BOS, chunks of n_ctx tokens, the first token
 *   of each chunk replaced by BOS, logits of the second half of each chunk scored against the next token.
 * Runs in the bench child process (benchWorker.ts); the caller gets progress through `onProgress`.
 */
import { createHash } from "node:crypto";
import { UserError } from "../errors";
import { BASELINE_TOP_K, readBaselineLogProbs, writeBaselineLogProbs, type BaselineLogProbs } from "./baselineLogProbs";
import { type BenchJobMessage, type BenchJobProgress, type BenchJobResult, type QualityJob, type QualityResult } from "./benchWorkerProtocol";
import { FLASH_ATTN_AUTO, type LibllamaInference, type NativePointer } from "./libllamaInferenceBinding";
import { logProbability, PerplexityAccumulator, summarizeLogits, topKKlDivergence, topKLogProbabilities } from "./logitStatistics";

/** llama-bench's default `--poll`: how busy the threadpool's threads wait for work (0–100). */
const THREADPOOL_POLL = 50;

/** Lets queued IPC messages (progress) go out between native calls. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A small deterministic PRNG for the random tokens (llama-bench uses std::rand()). */
class TokenRandom {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(bound: number): number {
    // xorshift32
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.state = x;
    return x % bound;
  }
}

interface LoadedModel {
  readonly model: NativePointer;
  readonly vocab: NativePointer;
  readonly vocabSize: number;
  readonly addsBos: boolean;
  readonly bos: number;
}

/** Runs one job; resolves to its measurements. */
export async function runBenchJob(lib: LibllamaInference, job: BenchJobMessage, onProgress: (progress: BenchJobProgress) => void): Promise<BenchJobResult> {
  const logTail: string[] = [];
  let flashAttention = false;
  lib.setLogListener((_level, text) => {
    if (text.includes("Flash Attention enabled")) flashAttention = true;
    logTail.push(text);
    if (logTail.length > 40) logTail.shift();
  });
  const failure = (what: string): UserError => {
    const detail = logTail.join("").trim().split("\n").filter((line) => /error|failed|unsupported|unknown/i.test(line)).slice(-2).join(" ");
    return new UserError(`llama.cpp could not ${what}${detail === "" ? "" : `: ${detail}`}.`, {
      action: "Check that the file is a complete GGUF model of an architecture this llama.cpp supports.",
    });
  };

  // Load time: each load timed on its own; the last model is kept.
  const loadMs: number[] = [];
  let model: NativePointer | null = null;
  for (let rep = 0; rep < job.loadRepetitions; rep++) {
    onProgress({ phase: "loading", repetition: rep + 1, repetitions: job.loadRepetitions });
    await yieldToEventLoop();
    if (model !== null) lib.freeModel(model);
    const started = process.hrtime.bigint();
    model = lib.loadModel(job.modelPath, { ...lib.defaultModelParams, n_gpu_layers: 0 });
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    if (model === null) throw failure("load the model");
    loadMs.push(elapsed);
  }
  if (model === null) throw failure("load the model");
  const vocab = lib.vocab(model);
  const loaded: LoadedModel = { model, vocab, vocabSize: lib.vocabSize(vocab), addsBos: lib.addsBos(vocab), bos: lib.bosToken(vocab) };

  try {
    const random = new TokenRandom(1234);
    const promptTokensPerSecond: number[] = [];
    const generationTokensPerSecond: number[] = [];
    if (job.speed !== undefined && job.speed.promptTokens > 0) {
      promptTokensPerSecond.push(...(await measurePrompt(lib, job, loaded, job.speed.promptTokens, job.speed.repetitions, random, onProgress, failure)));
    }
    if (job.speed !== undefined && job.speed.generatedTokens > 0) {
      generationTokensPerSecond.push(...(await measureGeneration(lib, job, loaded, job.speed.generatedTokens, job.speed.repetitions, random, onProgress, failure)));
    }
    const quality = job.quality === undefined ? undefined : await measureQuality(lib, job, loaded, job.quality, onProgress, failure);
    return {
      loadMs,
      promptTokensPerSecond,
      generationTokensPerSecond,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      flashAttention,
      parameterCount: lib.parameterCount(model),
      ...(quality === undefined ? {} : { quality }),
    };
  } finally {
    lib.freeModel(model);
    lib.setLogListener(undefined);
  }
}

interface BenchContext {
  readonly context: NativePointer;
  readonly threadpool: NativePointer;
}

function createContext(lib: LibllamaInference, job: BenchJobMessage, model: LoadedModel, contextSize: number, failure: (what: string) => UserError): BenchContext {
  // llama-bench's to_llama_cparams(): n_ctx, n_batch, n_ubatch, flash attention auto, swa_full off.
  const context = lib.createContext(model.model, {
    ...lib.defaultContextParams,
    n_ctx: contextSize,
    n_batch: job.batchSize,
    n_ubatch: job.ubatchSize,
    n_seq_max: 1,
    n_threads: job.threads,
    n_threads_batch: job.threads,
    flash_attn_type: FLASH_ATTN_AUTO,
    swa_full: false,
  });
  if (context === null) throw failure(`create a context of ${contextSize} tokens`);
  return { context, threadpool: lib.attachThreadpool(context, job.threads, THREADPOOL_POLL) };
}

function freeContext(lib: LibllamaInference, context: BenchContext): void {
  lib.freeContext(context.context);
  lib.freeThreadpool(context.threadpool);
}

/** llama-bench test_prompt(): random tokens (BOS first when the model adds one) in batches of n_batch. */
function runPrompt(lib: LibllamaInference, context: NativePointer, model: LoadedModel, count: number, batchSize: number, random: TokenRandom, failure: (what: string) => UserError): void {
  const tokens = new Int32Array(batchSize);
  let processed = 0;
  while (processed < count) {
    const n = Math.min(count - processed, batchSize);
    tokens[0] = processed === 0 && model.addsBos ? model.bos : random.next(model.vocabSize);
    for (let i = 1; i < n; i++) tokens[i] = random.next(model.vocabSize);
    if (lib.decode(context, tokens, n, null) !== 0) throw failure("decode a prompt batch");
    processed += n;
  }
  lib.synchronize(context);
}

/** llama-bench test_gen(): one token per decode, synchronized each time. */
function runGeneration(lib: LibllamaInference, context: NativePointer, model: LoadedModel, count: number, random: TokenRandom, failure: (what: string) => UserError): void {
  const token = new Int32Array(1);
  token[0] = model.addsBos ? model.bos : random.next(model.vocabSize);
  for (let i = 0; i < count; i++) {
    if (lib.decode(context, token, 1, null) !== 0) throw failure("decode a generated token");
    lib.synchronize(context);
    token[0] = random.next(model.vocabSize);
  }
}

async function measurePrompt(
  lib: LibllamaInference, job: BenchJobMessage, model: LoadedModel, promptTokens: number, repetitions: number, random: TokenRandom,
  onProgress: (progress: BenchJobProgress) => void, failure: (what: string) => UserError,
): Promise<number[]> {
  const context = createContext(lib, job, model, promptTokens, failure);
  try {
    lib.clearMemory(context.context, false);
    onProgress({ phase: "warmup" });
    await yieldToEventLoop();
    runPrompt(lib, context.context, model, promptTokens, job.batchSize, random, failure);
    const samples: number[] = [];
    for (let rep = 0; rep < repetitions; rep++) {
      onProgress({ phase: "prompt", repetition: rep + 1, repetitions });
      await yieldToEventLoop();
      lib.clearMemory(context.context, false);
      const started = process.hrtime.bigint();
      runPrompt(lib, context.context, model, promptTokens, job.batchSize, random, failure);
      samples.push((promptTokens * 1e9) / Number(process.hrtime.bigint() - started));
    }
    return samples;
  } finally {
    freeContext(lib, context);
  }
}

async function measureGeneration(
  lib: LibllamaInference, job: BenchJobMessage, model: LoadedModel, generatedTokens: number, repetitions: number, random: TokenRandom,
  onProgress: (progress: BenchJobProgress) => void, failure: (what: string) => UserError,
): Promise<number[]> {
  const context = createContext(lib, job, model, generatedTokens, failure);
  try {
    lib.clearMemory(context.context, false);
    onProgress({ phase: "warmup" });
    await yieldToEventLoop();
    runGeneration(lib, context.context, model, 1, random, failure);
    const samples: number[] = [];
    for (let rep = 0; rep < repetitions; rep++) {
      onProgress({ phase: "generation", repetition: rep + 1, repetitions });
      await yieldToEventLoop();
      lib.clearMemory(context.context, false);
      const started = process.hrtime.bigint();
      runGeneration(lib, context.context, model, generatedTokens, random, failure);
      samples.push((generatedTokens * 1e9) / Number(process.hrtime.bigint() - started));
    }
    return samples;
  } finally {
    freeContext(lib, context);
  }
}

function tokensSha256(tokens: Int32Array): string {
  return createHash("sha256").update(Buffer.from(tokens.buffer, tokens.byteOffset, tokens.byteLength)).digest("hex");
}

/** llama-perplexity's perplexity() with one sequence per chunk, plus top-k KLD against a stored baseline. */
async function measureQuality(
  lib: LibllamaInference, job: BenchJobMessage, model: LoadedModel, quality: QualityJob,
  onProgress: (progress: BenchJobProgress) => void, failure: (what: string) => UserError,
): Promise<QualityResult> {
  const nCtx = quality.contextSize;
  if (lib.addsEos(model.vocab)) throw new UserError("This model's tokenizer appends an end-of-sequence token, which llama-perplexity does not support.");
  const tokens = lib.tokenize(model.vocab, quality.text, true);
  if (tokens.length < 2 * nCtx) {
    throw new UserError(`The evaluation text is too short for a context of ${nCtx}: it is ${tokens.length} tokens, perplexity needs at least ${2 * nCtx}.`, {
      action: "Use a longer text or a smaller context (--ctx).",
    });
  }
  const chunks = Math.floor(tokens.length / nCtx);
  const first = Math.floor(nCtx / 2);
  const perChunk = nCtx - first - 1;
  const positions = chunks * perChunk;
  const k = BASELINE_TOP_K;
  const tokensHash = tokensSha256(tokens);

  let baseline: BaselineLogProbs | undefined;
  if (quality.readBaseline !== undefined) {
    baseline = await readBaselineLogProbs(quality.readBaseline);
    if (baseline.header.tokensSha256 !== tokensHash || baseline.header.vocabSize !== model.vocabSize || baseline.header.positions !== positions) {
      throw new UserError("The baseline model tokenizes the evaluation text differently from this model, so their outputs cannot be compared.", {
        action: "KL divergence needs the F16/BF16 parent this model was quantized from (same vocabulary).",
      });
    }
  }
  const written = quality.writeBaseline === undefined ? undefined : { ids: new Int32Array(positions * k), logProbs: new Float32Array(positions * k) };

  // perplexity.cpp: n_batch = min(n_batch, n_ctx); one chunk per llama_decode batch group.
  const batchSize = Math.min(job.batchSize, nCtx);
  const context = createContext(lib, { ...job, batchSize, ubatchSize: Math.min(job.ubatchSize, batchSize) }, model, nCtx, failure);
  const accumulator = new PerplexityAccumulator();
  let klSum = 0;
  let top1Same = 0;
  let position = 0;
  try {
    const batchTokens = new Int32Array(batchSize);
    const outputs = new Int8Array(batchSize);
    for (let chunk = 0; chunk < chunks; chunk++) {
      onProgress({ phase: "perplexity", chunk, chunks });
      await yieldToEventLoop();
      const start = chunk * nCtx;
      lib.clearMemory(context.context, true);
      for (let batchStart = 0; batchStart < nCtx; batchStart += batchSize) {
        const n = Math.min(nCtx - batchStart, batchSize);
        for (let i = 0; i < n; i++) {
          const pos = batchStart + i;
          batchTokens[i] = pos === 0 && model.addsBos ? model.bos : (tokens[start + pos] ?? 0);
          outputs[i] = pos >= first ? 1 : 0;
        }
        if (lib.decode(context.context, batchTokens, n, outputs) !== 0) throw failure("evaluate the text");
        // Score the logits of positions first … n_ctx − 2 against the next token.
        for (let i = 0; i < n; i++) {
          const pos = batchStart + i;
          if (pos < first || pos >= nCtx - 1) continue;
          const logits = lib.logits(context.context, i, model.vocabSize);
          const summary = summarizeLogits(logits);
          accumulator.add(logProbability(logits, summary, tokens[start + pos + 1] ?? 0));
          if (written !== undefined) topKLogProbabilities(logits, summary, k, written.ids, written.logProbs, position * k);
          if (baseline !== undefined) {
            klSum += topKKlDivergence(baseline.ids, baseline.logProbs, position * k, k, logits, summary);
            if (baseline.ids[position * k] === summary.argmax) top1Same++;
          }
          position++;
        }
      }
    }
  } finally {
    freeContext(lib, context);
  }
  const { perplexity, error } = accumulator.result();
  if (written !== undefined && quality.writeBaseline !== undefined) {
    await writeBaselineLogProbs(quality.writeBaseline.file, {
      header: {
        version: 1,
        modelSha256: quality.writeBaseline.modelSha256,
        textSha256: quality.writeBaseline.textSha256,
        contextSize: nCtx,
        topK: k,
        vocabSize: model.vocabSize,
        positions,
        chunks,
        tokensSha256: tokensHash,
        perplexity,
        perplexityError: error,
      },
      ids: written.ids,
      logProbs: written.logProbs,
    });
  }
  return {
    tokenCount: tokens.length,
    chunks,
    perplexity,
    perplexityError: error,
    ...(baseline === undefined
      ? {}
      : { meanKlDivergence: klSum / positions, top1Agreement: top1Same / positions, baselinePerplexity: baseline.header.perplexity }),
  };
}
