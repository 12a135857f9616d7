/** Messages between the local completion engine (parent) and its child process (localEngineWorker.ts), over Node's IPC. */
import type { CompletionRequest } from "./completionEngine";

/** How the FIM prompt orders the current file's prefix and suffix (see localEngine.ts for why SPM is the default). */
export type PromptLayout = "psm" | "spm";

/** Parent → child: load the model (once per child). */
export interface LoadMessage {
  readonly type: "load";
  readonly modelPath: string;
  readonly threads: number;
  readonly contextSize: number;
  readonly batchSize: number;
  readonly gpuLayers: number;
  readonly flashAttention: boolean;
  /** "auto": SPM for the families trained with it, PSM otherwise. */
  readonly layout: PromptLayout | "auto";
  /** Benchmarks: never sample an end-of-generation token and ignore stop texts (llama-server's `ignore_eos`). */
  readonly ignoreEos: boolean;
}

/** Parent → child: complete one request. */
export interface CompleteMessage {
  readonly type: "complete";
  readonly id: number;
  readonly request: CompletionRequest;
  /** Absolute `Date.now()` deadline of the time budget, if any. */
  readonly deadline: number | undefined;
}

/** Parent → child: stop request `id` at once (between tokens, or between prompt chunks). */
export interface AbortMessage {
  readonly type: "abort";
  readonly id: number;
}

export type LocalEngineParentMessage = LoadMessage | CompleteMessage | AbortMessage;

/** What the child found out about the model at load. */
export interface LoadedModelInfo {
  readonly templateLabel: string;
  readonly family: string;
  readonly layout: PromptLayout;
  /** `fallbackNotice` of the detection: set when the model has no FIM tokens and completes from the prefix only. */
  readonly fallbackNotice?: string;
  readonly contextSize: number;
  readonly loadMs: number;
}

/** The child's answer to a complete message. */
export interface CompletionReply {
  readonly text: string;
  readonly tokens: readonly number[];
  readonly stopSequences: readonly string[];
  readonly stoppedBy: "eos" | "stop-sequence" | "max-tokens" | "time-budget";
  readonly promptTokens: number;
  readonly evaluatedPromptTokens: number;
  readonly generatedTokens: number;
  /** Milliseconds in the child from receiving the request to the first generated token. */
  readonly firstTokenMs: number | undefined;
}

export type LocalEngineChildMessage =
  | { readonly type: "loaded"; readonly info: LoadedModelInfo }
  | { readonly type: "load-failed"; readonly message: string; readonly action: string | undefined }
  | { readonly type: "result"; readonly id: number; readonly reply: CompletionReply }
  | { readonly type: "aborted"; readonly id: number }
  | { readonly type: "failed"; readonly id: number; readonly message: string; readonly action: string | undefined };

function hasType(value: unknown): value is { readonly type: unknown } {
  return typeof value === "object" && value !== null && "type" in value;
}

/** Whether a value received over IPC is a child message (IPC data is untyped). */
export function isLocalEngineChildMessage(value: unknown): value is LocalEngineChildMessage {
  return hasType(value) && ["loaded", "load-failed", "result", "aborted", "failed"].includes(String(value.type));
}

/** Whether a value received over IPC is a parent message. */
export function isLocalEngineParentMessage(value: unknown): value is LocalEngineParentMessage {
  return hasType(value) && ["load", "complete", "abort"].includes(String(value.type));
}
