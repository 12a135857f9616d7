/**
 * Turns the completion settings into an engine configuration (src/core/runtime/engineFactory), or says what is
 * missing. Pure (no `vscode` import). The engine, model and endpoint values come from user settings only
 * (settings.ts reads them so).
 */
import path from "node:path";
import type { EngineConfig } from "../../core/runtime/engineFactory";
import type { CompletionEngine as EngineKind, GpuLayers } from "../settingsSchema";

export interface CompletionEngineSettings {
  readonly engine: EngineKind;
  /** GGUF path (local engine). */
  readonly model: string;
  readonly endpoint: string;
  /** Model name a remote server knows. */
  readonly endpointModel: string;
  readonly contextSize: number;
  /** Explicit llama.cpp threads (never 0). */
  readonly threads: number;
  readonly gpuLayers: GpuLayers;
  readonly apiKey?: string;
}

export type EngineConfigOutcome =
  | { readonly kind: "ok"; readonly config: EngineConfig; readonly engineLabel: string; readonly modelLabel: string }
  | { readonly kind: "no-model" }
  | { readonly kind: "no-endpoint"; readonly engineLabel: string };

/** The configuration to create, or why none can be. */
export function engineConfigFor(settings: CompletionEngineSettings): EngineConfigOutcome {
  if (settings.engine === "local") {
    if (settings.model === "") return { kind: "no-model" };
    return {
      kind: "ok",
      config: {
        kind: "local",
        modelPath: settings.model,
        threads: Math.max(1, settings.threads),
        contextSize: settings.contextSize,
        ...(typeof settings.gpuLayers === "number" ? { gpuLayers: settings.gpuLayers } : {}),
      },
      engineLabel: "local",
      modelLabel: modelLabelOf(settings.model),
    };
  }
  if (settings.endpoint === "") return { kind: "no-endpoint", engineLabel: settings.engine };
  return {
    kind: "ok",
    config: {
      kind: settings.engine,
      endpoint: settings.endpoint,
      ...(settings.endpointModel === "" ? {} : { model: settings.endpointModel }),
      ...(settings.apiKey === undefined || settings.apiKey === "" ? {} : { apiKey: settings.apiKey }),
    },
    engineLabel: settings.engine,
    modelLabel: settings.endpointModel === "" ? hostOf(settings.endpoint) : settings.endpointModel,
  };
}

/** A key that changes whenever the engine must be recreated (the API key is only fingerprinted by presence). */
export function engineConfigKey(config: EngineConfig): string {
  return JSON.stringify(config.kind === "local" ? config : { ...config, apiKey: config.apiKey === undefined ? undefined : `set:${config.apiKey.length}:${simpleHash(config.apiKey)}` });
}

/** A model file's name without `.gguf`: what the status bar shows. */
export function modelLabelOf(modelPath: string): string {
  return path.basename(modelPath).replace(/\.gguf$/i, "");
}

function hostOf(endpoint: string): string {
  try {
    return new URL(endpoint).host;
  } catch {
    return endpoint;
  }
}

function simpleHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193) >>> 0;
  return hash.toString(16);
}
