/** The architectures SLM Lab converts, found by config.json's `architectures[0]`. */
import { ConvertError } from "../convertErrors";
import { type HfConfig } from "../hfConfig";
import { type ConvertArchitecture } from "./convertArchitecture";
import { gemma3Architecture } from "./gemma3Architecture";
import { llamaArchitecture } from "./llamaArchitecture";
import { phi3Architecture } from "./phi3Architecture";
import { qwen2Architecture, qwen3Architecture } from "./qwen2Architecture";

export const convertArchitectures: readonly ConvertArchitecture[] = [llamaArchitecture, qwen2Architecture, qwen3Architecture, phi3Architecture, gemma3Architecture];

/** "LlamaForCausalLM (Llama 3.x, SmolLM2), …": for error messages and help text. */
export function supportedArchitecturesText(): string {
  return convertArchitectures.map((architecture) => `${architecture.hfArchitectures.filter((name) => name !== "LLaMAForCausalLM").join(" / ")} (${architecture.examples})`).join(", ");
}

/** The module for the config's architecture, or a ConvertError listing the supported ones. */
export function architectureFor(config: HfConfig): ConvertArchitecture {
  const found = convertArchitectures.find((architecture) => architecture.hfArchitectures.includes(config.architecture));
  if (found === undefined) {
    throw new ConvertError("unsupported-architecture", `SLM Lab cannot convert ${config.architecture} models; it converts ${supportedArchitecturesText()}`, {
      file: config.file,
      action: "Download a ready-made GGUF of this model, or use llama.cpp's convert_hf_to_gguf.py.",
    });
  }
  return found;
}
