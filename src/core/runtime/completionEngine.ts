/**
 * What every completion engine offers — the in-process-free local engine (node-llama-cpp in a child process) and the
 * remote ones (llama-server `/infill`, OpenAI-compatible `/v1/completions`, Ollama `/api/generate`). The provider in
 * src/vscode hands each the same request: the prefix/suffix windows already cut to their budgets and the extra
 * context; the engine turns them into its prompt (a FIM template for the local engine, the server's own fields for
 * remote ones), generates, and returns the raw text. Postprocessing is the provider's (src/core/completion/postprocess).
 */
import type { CompletionMode } from "../completion/completionMode";
import type { FimContextFile } from "../completion/fimTemplates";

export type CompletionEngineKind = "local" | "llama-server" | "openai" | "ollama";

export interface CompletionRequest {
  /** Text before the cursor, already cut to its budget. */
  readonly prefix: string;
  /** Text after the cursor, already cut to its budget. */
  readonly suffix: string;
  /** The document's workspace-relative path with `/` separators (the model sees it in repo-level layouts). */
  readonly filePath: string;
  /** The workspace folder's name (`<|repo_name|>`). */
  readonly repoName?: string;
  /** VS Code language id. */
  readonly languageId: string;
  /** Chunks of other files, most relevant last. */
  readonly extraContext: readonly FimContextFile[];
  readonly mode: CompletionMode;
  /** Most tokens to generate. */
  readonly maxTokens: number;
  /** Stop generating after this many milliseconds and return what there is (the time budget). */
  readonly timeBudgetMs?: number;
}

export interface CompletionTimings {
  /** Tokens in the prompt. */
  readonly promptTokens: number;
  /** Prompt tokens actually evaluated (the rest came from the KV cache); undefined when the engine cannot tell. */
  readonly evaluatedPromptTokens: number | undefined;
  readonly generatedTokens: number;
  /** From the request to the first generated token, when known. */
  readonly firstTokenMs: number | undefined;
  /** From the request to the result. */
  readonly totalMs: number;
}

export interface CompletionResult {
  /** The raw generated text (stop sequences may still be in it; the provider postprocesses). */
  readonly text: string;
  /** Stop sequences of the prompt format, for postprocessing. */
  readonly stopSequences: readonly string[];
  /** True when answered from the engine's cache of recent results without generating. */
  readonly fromCache: boolean;
  /** Why generation ended. */
  readonly stoppedBy: "eos" | "stop-sequence" | "max-tokens" | "time-budget" | "aborted";
  readonly timings: CompletionTimings;
  /** A notice to show once (e.g. "this model has no FIM tokens; using plain prefix completion"). */
  readonly notice?: string;
  /** The generated token ids, when the engine reports them (local engine, llama-server): benchmarks compare them. */
  readonly tokens?: readonly number[];
}

export interface CompletionEngine {
  readonly kind: CompletionEngineKind;
  /** For the status bar and log: e.g. "local · qwen2.5-coder-0.5b-q4_0.gguf" or "llama-server · http://host:8012". */
  readonly description: string;
  /**
   * Completes at the cursor. Aborting the signal stops generation at once and rejects with CancelledError.
   * Failures are UserErrors with an action (endpoint down, model too big, corrupt model).
   */
  complete(request: CompletionRequest, signal: AbortSignal): Promise<CompletionResult>;
  /** Frees the model / closes connections; the engine is unusable afterwards. */
  dispose(): Promise<void>;
}
