/**
 * Completion through Ollama's `POST /api/generate` with `prompt` and `suffix` (docs/api.md): with `raw: false`
 * Ollama applies the model's own FIM template (its Modelfile's `.Suffix` handling). Extra context is not sent.
 */
import { detectFimTemplateFromName } from "../completion/modelFamilyDetection";
import { UserError } from "../errors";
import type { CompletionEngine, CompletionRequest, CompletionResult } from "./completionEngine";
import type { RemoteEngineConfig } from "./engineFactory";
import { DEFAULT_REMOTE_TIMEOUT_MS } from "./llamaServerEngine";
import { field, malformedAnswer, numberField, postJson } from "./remoteHttp";

/** Completes through Ollama's `/api/generate`. */
export class OllamaEngine implements CompletionEngine {
  readonly kind = "ollama";
  readonly description: string;
  private readonly model: string;
  private readonly stopSequences: readonly string[];

  constructor(private readonly config: RemoteEngineConfig) {
    if (config.model === undefined || config.model === "") {
      throw new UserError("The Ollama completion engine needs a model name.", { action: "Set the model, e.g. qwen2.5-coder:1.5b (see `ollama list`)." });
    }
    this.model = config.model;
    this.description = `Ollama · ${config.model} · ${config.endpoint}`;
    this.stopSequences = detectFimTemplateFromName(config.model).template.stopSequences;
  }

  async complete(request: CompletionRequest, signal: AbortSignal): Promise<CompletionResult> {
    const started = performance.now();
    const answer = await postJson({
      serverLabel: "Ollama",
      endpoint: this.config.endpoint,
      path: "/api/generate",
      apiKey: this.config.apiKey,
      timeoutMs: this.config.requestTimeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS,
      signal,
      body: {
        model: this.model,
        prompt: request.prefix,
        suffix: request.suffix,
        raw: false,
        stream: false,
        options: { num_predict: request.maxTokens, temperature: 0 },
      },
    });
    const text = field(answer, "response");
    if (typeof text !== "string") throw malformedAnswer("Ollama", this.config.endpoint, "a \"response\" text");
    const promptEvalNs = numberField(answer, "prompt_eval_duration");
    return {
      text,
      stopSequences: this.stopSequences,
      fromCache: false,
      stoppedBy: field(answer, "done_reason") === "length" ? "max-tokens" : "eos",
      timings: {
        promptTokens: numberField(answer, "prompt_eval_count") ?? 0,
        evaluatedPromptTokens: undefined,
        generatedTokens: numberField(answer, "eval_count") ?? 0,
        firstTokenMs: promptEvalNs === undefined ? undefined : promptEvalNs / 1e6,
        totalMs: performance.now() - started,
      },
    };
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}
