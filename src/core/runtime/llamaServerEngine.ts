/**
 * Completion through llama.cpp's `llama-server` `POST /infill` (tools/server/README.md): the server builds the FIM
 * prompt itself from `input_prefix`, `input_suffix` and `input_extra` (format_prompt_infill in
 * tools/server/server-common.cpp) and, with `cache_prompt`, reuses its KV cache for the prompt's common prefix.
 */
import { detectFimTemplateFromName } from "../completion/modelFamilyDetection";
import type { CompletionEngine, CompletionRequest, CompletionResult } from "./completionEngine";
import type { RemoteEngineConfig } from "./engineFactory";
import { field, malformedAnswer, numberField, postJson } from "./remoteHttp";

export const DEFAULT_REMOTE_TIMEOUT_MS = 30_000;

/** `stop_type` of llama-server's final result (server-task.cpp `stop_type_to_str`). */
function stoppedBy(stopType: unknown): CompletionResult["stoppedBy"] {
  if (stopType === "word") return "stop-sequence";
  if (stopType === "limit") return "max-tokens";
  return "eos";
}

/** Completes through a llama-server `/infill`. */
export class LlamaServerEngine implements CompletionEngine {
  readonly kind = "llama-server";
  readonly description: string;
  private readonly stopSequences: readonly string[];

  constructor(private readonly config: RemoteEngineConfig) {
    this.description = `llama-server · ${config.endpoint}`;
    this.stopSequences = detectFimTemplateFromName(config.model ?? "").template.stopSequences;
  }

  async complete(request: CompletionRequest, signal: AbortSignal): Promise<CompletionResult> {
    const started = performance.now();
    const answer = await postJson({
      serverLabel: "llama-server",
      endpoint: this.config.endpoint,
      path: "/infill",
      apiKey: this.config.apiKey,
      timeoutMs: this.config.requestTimeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS,
      signal,
      body: {
        input_prefix: request.prefix,
        input_suffix: request.suffix,
        input_extra: request.extraContext.map((file) => ({ filename: file.filePath, text: file.text })),
        n_predict: request.maxTokens,
        cache_prompt: true,
        // Greedy, as the local engine: the same prompt gives the same suggestion.
        top_k: 1,
        temperature: 0,
        return_tokens: true,
        ...(request.timeBudgetMs === undefined ? {} : { t_max_predict_ms: request.timeBudgetMs }),
      },
    });
    const content = field(answer, "content");
    if (typeof content !== "string") throw malformedAnswer("llama-server", this.config.endpoint, "a \"content\" text");
    const timings = field(answer, "timings");
    const tokens = field(answer, "tokens");
    const numbers: readonly unknown[] = Array.isArray(tokens) ? tokens : [];
    const tokenIds = numbers.filter((token): token is number => typeof token === "number");
    return {
      text: content,
      stopSequences: this.stopSequences,
      fromCache: false,
      stoppedBy: stoppedBy(field(answer, "stop_type")),
      timings: {
        promptTokens: numberField(answer, "tokens_evaluated") ?? 0,
        evaluatedPromptTokens: numberField(timings, "prompt_n"),
        generatedTokens: numberField(answer, "tokens_predicted") ?? numberField(timings, "predicted_n") ?? 0,
        firstTokenMs: undefined,
        totalMs: performance.now() - started,
      },
      ...(tokenIds.length === numbers.length && Array.isArray(tokens) ? { tokens: tokenIds } : {}),
    };
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}
