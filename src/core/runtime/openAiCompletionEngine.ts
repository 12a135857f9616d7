/**
 * Completion through an OpenAI-compatible `POST /v1/completions` with `prompt` and `suffix` (the legacy completions
 * API's insert mode; vLLM, Foundry Local, LM Studio): the server applies the model's FIM format. Extra context is
 * not sent: the API has no field for it.
 */
import { detectFimTemplateFromName } from "../completion/modelFamilyDetection";
import type { CompletionEngine, CompletionRequest, CompletionResult } from "./completionEngine";
import type { RemoteEngineConfig } from "./engineFactory";
import { DEFAULT_REMOTE_TIMEOUT_MS } from "./llamaServerEngine";
import { field, malformedAnswer, numberField, postJson } from "./remoteHttp";

const LABEL = "OpenAI-compatible server";

/** Completes through `/v1/completions` with a suffix. */
export class OpenAiCompletionEngine implements CompletionEngine {
  readonly kind = "openai";
  readonly description: string;
  private readonly stopSequences: readonly string[];

  constructor(private readonly config: RemoteEngineConfig) {
    this.description = `OpenAI-compatible · ${config.model ?? "default model"} · ${config.endpoint}`;
    this.stopSequences = detectFimTemplateFromName(config.model ?? "").template.stopSequences;
  }

  async complete(request: CompletionRequest, signal: AbortSignal): Promise<CompletionResult> {
    const started = performance.now();
    const answer = await postJson({
      serverLabel: LABEL,
      endpoint: this.config.endpoint,
      // The base URL may or may not already end in /v1 (both forms are common in these servers' docs).
      path: /\/v1\/?$/.test(this.config.endpoint) ? "/completions" : "/v1/completions",
      apiKey: this.config.apiKey,
      timeoutMs: this.config.requestTimeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS,
      signal,
      body: {
        ...(this.config.model === undefined ? {} : { model: this.config.model }),
        prompt: request.prefix,
        suffix: request.suffix,
        max_tokens: request.maxTokens,
        temperature: 0,
        stream: false,
      },
    });
    const choices = field(answer, "choices");
    const first: unknown = Array.isArray(choices) ? choices[0] : undefined;
    const text = field(first, "text");
    if (typeof text !== "string") throw malformedAnswer(LABEL, this.config.endpoint, "choices[0].text");
    const usage = field(answer, "usage");
    const finish = field(first, "finish_reason");
    return {
      text,
      stopSequences: this.stopSequences,
      fromCache: false,
      stoppedBy: finish === "length" ? "max-tokens" : "eos",
      timings: {
        promptTokens: numberField(usage, "prompt_tokens") ?? 0,
        evaluatedPromptTokens: undefined,
        generatedTokens: numberField(usage, "completion_tokens") ?? 0,
        firstTokenMs: undefined,
        totalMs: performance.now() - started,
      },
    };
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}
