/** The remote completion engine of a configuration: llama-server, an OpenAI-compatible server, or Ollama. */
import type { CompletionEngine } from "./completionEngine";
import type { RemoteEngineConfig } from "./engineFactory";
import { LlamaServerEngine } from "./llamaServerEngine";
import { OllamaEngine } from "./ollamaEngine";
import { OpenAiCompletionEngine } from "./openAiCompletionEngine";
import { endpointUrl } from "./remoteHttp";

/** Creates the remote engine a configuration names; a malformed endpoint URL is refused at once. */
export function createRemoteEngine(config: RemoteEngineConfig): CompletionEngine {
  switch (config.kind) {
    case "llama-server":
      endpointUrl("llama-server", config.endpoint, "/");
      return new LlamaServerEngine(config);
    case "openai":
      endpointUrl("OpenAI-compatible server", config.endpoint, "/");
      return new OpenAiCompletionEngine(config);
    case "ollama":
      endpointUrl("Ollama", config.endpoint, "/");
      return new OllamaEngine(config);
  }
}
