/**
 * Creates the completion engine a configuration names: the local one (node-llama-cpp in a child process) or a remote
 * one (llama-server `/infill`, OpenAI-compatible `/v1/completions`, Ollama `/api/generate`).
 */
import type { CompletionEngine } from "./completionEngine";
import { LocalCompletionEngine } from "./localEngine";
import { createRemoteEngine } from "./remoteEngines";

/** The local engine: a GGUF run by node-llama-cpp in a child process. */
export interface LocalEngineConfig {
  readonly kind: "local";
  readonly modelPath: string;
  /** llama.cpp threads (always explicit: the default oversubscribes small machines). */
  readonly threads: number;
  /** Context size in tokens (prompt + generated). */
  readonly contextSize: number;
  /** Unload the model after this long without a request; default 5 minutes, 0 = never. */
  readonly idleUnloadMs?: number;
  /** Layers offloaded to a GPU; default 0 (CPU). */
  readonly gpuLayers?: number;
}

/** A remote engine reached over HTTP. */
export interface RemoteEngineConfig {
  readonly kind: "llama-server" | "openai" | "ollama";
  /** Base URL, e.g. http://127.0.0.1:8012 (llama-server), http://localhost:8000 (vLLM), http://localhost:11434 (Ollama). */
  readonly endpoint: string;
  /** The model name the server knows (required by Ollama and most OpenAI-compatible servers). */
  readonly model?: string;
  /** Sent as `Authorization: Bearer …` when given. */
  readonly apiKey?: string;
  /** Fail a request that gets no answer in this long; default 30 s. */
  readonly requestTimeoutMs?: number;
}

export type EngineConfig = LocalEngineConfig | RemoteEngineConfig;

/** Creates the engine of a configuration; nothing is loaded or connected until the first request. */
export function createCompletionEngine(config: EngineConfig): CompletionEngine {
  if (config.kind === "local") return new LocalCompletionEngine(config);
  return createRemoteEngine(config);
}
