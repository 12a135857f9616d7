/**
 * The local completion engine's child process (bundled to dist/workers/localEngineWorker.js): loads one GGUF with
 * node-llama-cpp (CPU, explicit threads), keeps ONE context and sequence for its whole life, and answers completion
 * requests one at a time. A separate process so that a native crash or an out-of-memory kill ends this process, not
 * the extension host; the parent (localEngine.ts) restarts it.
 *
 * KV reuse: each prompt is compared with the tokens already in the sequence; only the tokens after the first
 * difference are evaluated (the cached prefix stays in the KV cache), as node-llama-cpp's own LlamaCompletion does
 * with `compareContextTokens` + `eraseContextTokenRanges`.
 */
import type { LlamaContextSequence, LlamaModel, Token, TokenBias } from "node-llama-cpp" with { "resolution-mode": "import" };
import { detectFimTemplate, fallbackNotice, firstTokenIds } from "../completion/modelFamilyDetection";
import { buildFimPrompt, cutAtStopSequence, type FimFamily, type FimTemplate } from "../completion/fimTemplates";
import { tokenizeFimPrompt } from "../completion/fimPromptTokens";
import { describeError, UserError } from "../errors";
import { metadataStringArray } from "../gguf/ggufMetadata";
import { summarizeGguf } from "../gguf/ggufModelSummary";
import { readGgufFile } from "../gguf/ggufReader";
import {
  isLocalEngineParentMessage,
  type CompleteMessage,
  type CompletionReply,
  type LoadMessage,
  type LocalEngineChildMessage,
  type PromptLayout,
} from "./localEngineProtocol";
import { currentMachineMemory, estimateRunMemory, memoryFitLabel, runMemoryInputFromGguf } from "./memoryFit";

/**
 * Families whose FIM training included the suffix-first (SPM) order, so the prompt can put the suffix before the
 * prefix: typing then only appends to the end of the prompt and the whole rest stays in the KV cache. StarCoder
 * (arXiv 2305.06161, FIM with SPM half the time) and Qwen2.5-Coder (same special tokens; llama-server offers
 * `--spm-infill` for such models). CodeLlama's SPM format differs from a plain swap and DeepSeek-Coder trained PSM only.
 */
const SPM_FAMILIES: ReadonlySet<FimFamily> = new Set<FimFamily>(["qwen2.5-coder", "starcoder"]);
/** Families for which swapping the two halves is a valid prompt at all. */
const SWAPPABLE_FAMILIES: ReadonlySet<FimFamily> = new Set<FimFamily>(["qwen2.5-coder", "starcoder", "codegemma", "generic"]);

interface LoadedModel {
  readonly model: LlamaModel;
  readonly sequence: LlamaContextSequence;
  readonly template: FimTemplate;
  readonly vocabularyIds: ReadonlyMap<string, number>;
  readonly bos: Token | undefined;
  readonly batchSize: number;
  /** Bans end-of-generation tokens when the parent asked to ignore them (benchmarks). */
  readonly tokenBias: TokenBias | undefined;
}

let loaded: Promise<LoadedModel> | undefined;
/** Requests run one after the other on the one sequence. */
let queue: Promise<void> = Promise.resolve();
const abortedIds = new Set<number>();

function send(message: LocalEngineChildMessage): void {
  process.send?.(message);
}

function effectiveLayout(template: FimTemplate, wanted: PromptLayout | "auto"): PromptLayout {
  if (template.tokens === undefined || !SWAPPABLE_FAMILIES.has(template.family)) return template.order;
  if (wanted === "auto") return SPM_FAMILIES.has(template.family) ? "spm" : template.order;
  return wanted;
}

async function load(message: LoadMessage): Promise<LoadedModel> {
  const started = Date.now();
  // Our own reader first: a corrupt or truncated file is a clear GgufFormatError, not a native crash.
  const file = await readGgufFile(message.modelPath, { maxArrayValues: 16_000_000 });
  const estimate = estimateRunMemory(runMemoryInputFromGguf(summarizeGguf(file), message.contextSize));
  const fit = memoryFitLabel(estimate, currentMachineMemory());
  if (fit.label === "too-big") {
    throw new UserError(`The model will not fit in memory: it ${fit.explanation}`, {
      action: "Pick a smaller model or quantization, or lower the completion context size.",
    });
  }
  const vocabulary = metadataStringArray(file.metadata, "tokenizer.ggml.tokens") ?? [];
  const vocabularyIds = firstTokenIds(vocabulary);
  const detection = detectFimTemplate(file.metadata, vocabularyIds);
  const layout = effectiveLayout(detection.template, message.layout);
  const template: FimTemplate = { ...detection.template, order: layout };

  const nodeLlamaCpp = await import("node-llama-cpp");
  const llama = await nodeLlamaCpp.getLlama({
    build: "never",
    gpu: message.gpuLayers > 0 ? "auto" : false,
    maxThreads: message.threads,
    logLevel: nodeLlamaCpp.LlamaLogLevel.error,
  });
  const model = await llama.loadModel({ modelPath: message.modelPath, gpuLayers: message.gpuLayers });
  const context = await model.createContext({
    contextSize: message.contextSize,
    batchSize: message.batchSize,
    threads: message.threads,
    sequences: 1,
    flashAttention: message.flashAttention,
  });
  const sequence = context.getSequence();
  const bos = model.tokens.shouldPrependBosToken ? (model.tokens.bos ?? undefined) : undefined;
  let tokenBias: TokenBias | undefined;
  if (message.ignoreEos) {
    // As llama-server's ignore_eos: a -inf bias on every token llama_vocab_is_eog says ends generation.
    tokenBias = new nodeLlamaCpp.TokenBias(model.tokenizer);
    for (let id = 0; id < vocabulary.length; id++) {
      if (model.isEogToken(id as Token)) tokenBias.set(id as Token, "never");
    }
  }
  const notice = fallbackNotice(detection);
  send({
    type: "loaded",
    info: {
      templateLabel: template.label,
      family: template.family,
      layout,
      ...(notice === undefined ? {} : { fallbackNotice: notice }),
      contextSize: context.contextSize,
      loadMs: Date.now() - started,
    },
  });
  return { model, sequence, template, vocabularyIds, bos, batchSize: message.batchSize, tokenBias };
}

async function complete(state: LoadedModel, message: CompleteMessage): Promise<CompletionReply | "aborted"> {
  const received = Date.now();
  const { request } = message;
  const { model, sequence } = state;
  const isAborted = (): boolean => abortedIds.has(message.id);
  const prompt = buildFimPrompt(state.template, {
    prefix: request.prefix,
    suffix: request.suffix,
    filePath: request.filePath,
    ...(request.repoName === undefined ? {} : { repoName: request.repoName }),
    extraContext: request.extraContext,
  });
  const tokens = tokenizeFimPrompt<Token>(prompt, {
    tokenizeText: (text) => model.tokenize(text, false),
    specialToken: (vocabText) => state.vocabularyIds.get(vocabText) as Token | undefined,
    bos: state.bos,
  });
  if (tokens.length + request.maxTokens > sequence.contextSize) {
    throw new UserError(`The completion prompt has ${tokens.length} tokens, more than the context of ${sequence.contextSize} tokens allows.`, {
      action: "Lower the prefix/suffix budgets or raise the completion context size.",
    });
  }

  // Reuse the KV cache of the tokens this prompt shares with what the sequence holds; at least one token is
  // evaluated so that there are logits to sample from.
  const { firstDifferentIndex } = sequence.compareContextTokens(tokens);
  const keep = Math.min(firstDifferentIndex, tokens.length - 1);
  if (keep < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
  let rest = tokens.slice(keep);
  const evaluatedPromptTokens = rest.length;
  // Long prompts go in batch-sized chunks so that an abort stops between chunks instead of after the whole prompt.
  while (rest.length > state.batchSize) {
    if (isAborted()) return "aborted";
    await sequence.evaluateWithoutGeneratingNewTokens(rest.slice(0, state.batchSize));
    rest = rest.slice(state.batchSize);
  }
  if (isAborted()) return "aborted";

  const generated: Token[] = [];
  let text = "";
  let firstTokenMs: number | undefined;
  let stoppedBy: CompletionReply["stoppedBy"] = "eos";
  // Greedy (temperature 0): deterministic, and the same choice llama-server makes with top_k 1.
  const iterator = sequence.evaluate(rest, { temperature: 0, ...(state.tokenBias === undefined ? {} : { tokenBias: state.tokenBias }) });
  try {
    for (;;) {
      if (generated.length >= request.maxTokens) {
        stoppedBy = "max-tokens";
        break;
      }
      const next = await iterator.next();
      if (next.done === true) break;
      if (isAborted()) return "aborted";
      firstTokenMs ??= Date.now() - received;
      generated.push(next.value);
      text = model.detokenize(generated, true);
      const cut = state.tokenBias === undefined ? cutAtStopSequence(text, prompt.stopSequences) : text;
      if (cut.length < text.length) {
        text = cut;
        stoppedBy = "stop-sequence";
        break;
      }
      if (message.deadline !== undefined && Date.now() >= message.deadline && generated.length < request.maxTokens) {
        stoppedBy = "time-budget";
        break;
      }
    }
  } finally {
    await iterator.return();
  }
  return {
    text,
    tokens: generated.map((token) => Number(token)),
    stopSequences: prompt.stopSequences,
    stoppedBy,
    promptTokens: tokens.length,
    evaluatedPromptTokens,
    generatedTokens: generated.length,
    firstTokenMs,
  };
}

function failure(error: unknown): { readonly message: string; readonly action: string | undefined } {
  if (error instanceof UserError) return { message: error.message, action: error.action };
  return { message: describeError(error), action: undefined };
}

function onComplete(message: CompleteMessage): void {
  queue = queue.then(async () => {
    try {
      if (abortedIds.has(message.id)) {
        send({ type: "aborted", id: message.id });
        return;
      }
      if (loaded === undefined) throw new Error("the model was not loaded before the first request");
      const reply = await complete(await loaded, message);
      send(reply === "aborted" ? { type: "aborted", id: message.id } : { type: "result", id: message.id, reply });
    } catch (error: unknown) {
      send({ type: "failed", id: message.id, ...failure(error) });
    } finally {
      abortedIds.delete(message.id);
    }
  });
}

process.on("message", (message: unknown) => {
  if (!isLocalEngineParentMessage(message)) return;
  switch (message.type) {
    case "load": {
      if (loaded !== undefined) return;
      const loading = load(message);
      loaded = loading;
      loading.catch((error: unknown) => {
        send({ type: "load-failed", ...failure(error) });
      });
      break;
    }
    case "complete":
      onComplete(message);
      break;
    case "abort":
      abortedIds.add(message.id);
      break;
  }
});

// The parent is gone (closed or crashed): nothing left to answer.
process.on("disconnect", () => process.exit(0));
